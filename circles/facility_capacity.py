"""Capacities of a facility inventory: beds, nursing beds, childcare places, level, medical-care integration, AEDs.

Coverage counts a 10-bed station the same as a 300-bed home; the policy targets
of 武政〔2022〕2号 (beds per 1,000 residents, 三级 hospitals, nursing-bed share …)
need the capacities.  A facility file may carry them in columns with the usual
names of :data:`circles._tables.CAPACITY_COLUMNS` (English or Chinese:
``beds``/``床位数``, ``nursing_beds``/``护理型床位``, ``childcare_places``/``托位数``,
``level``/``等级``, ``medical_care_integrated``/``医养结合``, ``aed_count``/``AED数量``,
``family_elderly_beds``/``家庭养老床位``).  They are read into columns of those
canonical names:

* counts (:data:`NUMBER_COLUMNS`) as floats, NaN when empty, not a number or negative
  (``"1,200"`` and full-width digits are numbers; ``aed_count`` also takes yes/no as 1/0);
* ``level`` as text (``三级甲等``; empty cells NaN);
* ``medical_care_integrated`` as 1.0 / 0.0 / NaN from yes/no, 是/否, 有/无, true/false, 1/0.

A column the file does not have is not added: a target that needs it reports "no data".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from circles import _tables

#: Capacity columns holding counts.
NUMBER_COLUMNS: tuple[str, ...] = ("beds", "nursing_beds", "childcare_places", "aed_count", "family_elderly_beds")
#: Capacity columns holding yes/no flags (read as 1.0 / 0.0 / NaN).
FLAG_COLUMNS: tuple[str, ...] = ("medical_care_integrated",)
#: Capacity columns kept as text.
TEXT_COLUMNS: tuple[str, ...] = ("level",)
#: Every capacity column, in output order.
CAPACITY_COLUMNS: tuple[str, ...] = tuple(_tables.CAPACITY_COLUMNS)

_YES = frozenset({"yes", "y", "true", "t", "1", "是", "有", "√", "✓", "✔", "对"})
_NO = frozenset({"no", "n", "false", "f", "0", "否", "无", "没有", "×", "✗", "不是"})


def flags(values: pd.Series) -> np.ndarray:
    """Yes/no cells as 1.0 / 0.0, NaN when empty or neither.

    Parameters
    ----------
    values : pandas.Series
        Cells as read (text or numbers).

    Returns
    -------
    numpy.ndarray
        Floats.

    Examples
    --------
    >>> flags(pd.Series(["是", "否", "yes", "No", None, "maybe", 1])).tolist()
    [1.0, 0.0, 1.0, 0.0, nan, nan, 1.0]
    """
    text = pd.Series(_tables.text_values(values)).str.lower()
    return np.where(text.isin(_YES), 1.0, np.where(text.isin(_NO), 0.0, np.nan))


def find_capacity_columns(columns: list[str], source: str) -> dict[str, str]:
    """Which column of a file holds each capacity (canonical name -> the file's column).

    Parameters
    ----------
    columns : list of str
        The file's columns.
    source : str
        File name for messages.

    Returns
    -------
    dict of str to str
        Only the capacities the file has.

    Examples
    --------
    >>> find_capacity_columns(["名称", "床位数", "护理型床位", "等级"], "homes.csv")
    {'beds': '床位数', 'nursing_beds': '护理型床位', 'level': '等级'}
    """
    found: dict[str, str] = {}
    for name, usual in _tables.CAPACITY_COLUMNS.items():
        col = _tables.find_column(columns, None, usual, what=name, option=name, source=source)
        if col is not None and col not in found.values():
            found[name] = col
    return found


def read_capacities(table: pd.DataFrame, source: str) -> tuple[pd.DataFrame, list[str]]:
    """The capacity columns of a facility table, parsed, index-aligned with ``table``.

    Parameters
    ----------
    table : pandas.DataFrame
        The file's rows as read by :func:`circles._tables.read_table`.
    source : str
        File name for the notes.

    Returns
    -------
    (pandas.DataFrame, list of str)
        Columns named as :data:`CAPACITY_COLUMNS` (only those present) and
        notes: which columns were read, and how many cells were not usable.
    """
    found = find_capacity_columns([str(c) for c in table.columns], source)
    out = pd.DataFrame(index=table.index)
    notes: list[str] = []
    for name, col in found.items():
        raw = table[col]
        filled = raw.notna() & (pd.Series(_tables.text_values(raw), index=raw.index) != "")
        if name in NUMBER_COLUMNS:
            values = _tables.numbers(raw)
            if name == "aed_count":
                values = np.where(np.isnan(values), flags(raw), values)
            values = np.where(values < 0, np.nan, values)
        elif name in FLAG_COLUMNS:
            values = flags(raw)
        else:
            values = pd.Series(_tables.text_values(raw), index=raw.index).replace("", np.nan).to_numpy(object)
        out[name] = values
        bad = int((filled.to_numpy() & pd.isna(values)).sum())
        notes.append(f"capacity column {col!r} read as {name}"
                     + (f" ({bad} cell(s) not usable, read as missing)" if bad else ""))
    return out, notes
