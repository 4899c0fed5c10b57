"""Fast data rows for large Excel sheets (used by :func:`circles.outputs.atomic.write_excel_atomic`).

xlsxwriter spends ~5 µs of Python per cell; a city-wide unit table (140,000 units x
60+ columns, ~9 million cells) would take minutes.  For large sheets xlsxwriter still
writes the workbook — styles, header row, column widths and formats, frozen pane,
autofilter — and this module then streams the data rows into that sheet's XML,
column by column in blocks of rows, with the column's own style index (read back from
the ``<col style=...>`` elements xlsxwriter wrote), so the cells look exactly as if
xlsxwriter had written them: numbers as ``<v>``, text as inline strings, empty cells
omitted.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

#: Rows generated per block (bounds memory: one block of XML at a time).
BLOCK_ROWS = 20_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_COL = re.compile(r'<col min="(\d+)" max="(\d+)"([^>]*)/>')
_STYLE = re.compile(r'\bstyle="(\d+)"')


def column_letter(j: int) -> str:
    """0 -> ``A``, 25 -> ``Z``, 26 -> ``AA``."""
    out = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        out = chr(65 + rem) + out
    return out


def _escape(text: str) -> str:
    text = _CONTROL.sub("", text[:32767])
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Column:
    """One column's values, ready to be turned into ``<c>`` elements for any block of rows."""

    def __init__(self, values: pd.Series, letter: str, style: str | None):
        self.letter = letter
        self.style = f' s="{style}"' if style else ""
        dtype = values.dtype
        if pd.api.types.is_bool_dtype(dtype):
            self.kind = "bool"
            self.ok = ~values.isna().to_numpy()
            self.values = values.fillna(False).to_numpy(bool)
        elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            self.kind = "number"
            arr = pd.to_numeric(values, errors="coerce")
            if pd.api.types.is_integer_dtype(arr.dtype) and not arr.isna().any():
                self.number = arr.to_numpy()
                self.ok = np.ones(len(arr), dtype=bool)
            else:
                self.number = arr.to_numpy(dtype=float, na_value=np.nan)
                self.ok = np.isfinite(self.number)
        else:
            self.kind = "text"
            obj = values.to_numpy(dtype=object)
            try:  # repeated text (statuses, rules) is escaped once per distinct value
                codes, uniques = pd.factorize(obj)
                uniques = [u if isinstance(u, str) else str(u) for u in uniques]
            except TypeError:  # unhashable values (lists, dicts): their text
                missing = pd.isna(values).to_numpy()
                codes, uniques = pd.factorize(pd.Series(
                    [None if m else str(v) for v, m in zip(obj, missing)], dtype=object))
            tail = [f'<is><t xml:space="preserve">{_escape(u)}</t></is></c>' if u != "" else None
                    for u in uniques]
            self.codes = codes
            self.tail = tail

    def cells(self, start: int, stop: int, rows: list[str]) -> list[str]:
        head = f'<c r="{self.letter}'
        if self.kind == "number":
            end = f'"{self.style}><v>'
            # Python's repr of a float is the shortest string that reads back exactly (numpy's
            # astype(str) is ~10x slower)
            return [f"{head}{r}{end}{v!r}</v></c>" if o else ""
                    for r, v, o in zip(rows, self.number[start:stop].tolist(), self.ok[start:stop].tolist())]
        if self.kind == "bool":
            end = f'"{self.style} t="b"><v>'
            return [f"{head}{r}{end}{int(v)}</v></c>" if o else ""
                    for r, v, o in zip(rows, self.values[start:stop].tolist(), self.ok[start:stop].tolist())]
        end = f'"{self.style} t="inlineStr">'
        tail = self.tail
        out = []
        for r, code in zip(rows, self.codes[start:stop].tolist()):
            t = tail[code] if code >= 0 else None
            out.append(f"{head}{r}{end}{t}" if t is not None else "")
        return out


def _column_styles(xml_head: str, n_columns: int) -> list[str | None]:
    styles: list[str | None] = [None] * n_columns
    for lo, hi, rest in _COL.findall(xml_head):
        style = _STYLE.search(rest)
        for j in range(int(lo) - 1, min(int(hi), n_columns)):
            styles[j] = style.group(1) if style else None
    return styles


def fill_sheet_rows(xlsx: Path, sheet_number: int, frame: pd.DataFrame) -> None:
    """Add ``frame``'s rows (from Excel row 2) to worksheet ``sheet_number`` (1-based, in the
    order xlsxwriter added sheets) of ``xlsx``, whose sheet holds only the header row.
    The file is rewritten beside itself and replaced (inside the caller's atomic folder).
    """
    member = f"xl/worksheets/sheet{sheet_number}.xml"
    out_path = xlsx.with_name(xlsx.stem + ".rows" + xlsx.suffix)
    n_rows, n_cols = frame.shape
    with zipfile.ZipFile(xlsx) as zin:
        xml = zin.read(member).decode("utf-8")
        head, sep, tail = xml.partition("</sheetData>")
        if not sep:
            raise RuntimeError(f"{xlsx}: {member} has no sheetData element")
        last = f"{column_letter(max(n_cols, 1) - 1)}{n_rows + 1}"
        head = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', head, count=1)
        styles = _column_styles(head, n_cols)
        columns = [_Column(frame.iloc[:, j], column_letter(j), styles[j]) for j in range(n_cols)]
        with zipfile.ZipFile(out_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
            for info in zin.infolist():
                if info.filename != member:
                    zout.writestr(info, zin.read(info.filename))
                    continue
                target = zipfile.ZipInfo(member, date_time=info.date_time)
                target.compress_type = zipfile.ZIP_DEFLATED
                # level 1: the sheet is ~0.4 GB of XML at city scale; level 6 would double the time
                for attr in ("compress_level", "_compresslevel"):  # Python >= 3.13 / older
                    if hasattr(target, attr):
                        setattr(target, attr, 1)
                with zout.open(target, "w", force_zip64=True) as fh:
                    fh.write(head.encode("utf-8"))
                    for start in range(0, n_rows, BLOCK_ROWS):
                        stop = min(start + BLOCK_ROWS, n_rows)
                        rows = [str(r) for r in range(start + 2, stop + 2)]
                        parts = [c.cells(start, stop, rows) for c in columns]
                        block = "".join(f'<row r="{r}">{"".join(cells)}</row>' for r, *cells in zip(rows, *parts))
                        fh.write(block.encode("utf-8"))
                    fh.write((sep + tail).encode("utf-8"))
    os.replace(out_path, xlsx)
