"""The offline score map (``scores.html``): coverage now and with the chosen
sites, every candidate scored, the chosen sites numbered by rank.

Per circle one radio button shows the units *now* and one *with the new
sites* (recomputed by :func:`circles.scoring.select.coverage_with_sites`), in the
status palette of the coverage map (:mod:`circles.outputs.palette`).  Candidates are
blue dots (darker = more people newly covered; white = not scored), chosen
sites black badges with their rank — colours no status uses, so a strong
candidate never vanishes on a red cell.  Title, legend, tooltips and popups are
in one language (``lang``); geometry is simplified in the analysis' own metric
CRS (any city), and the page needs no internet.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from circles.outputs import mapui, webmap
from circles.outputs.coverage_map import _light, _metric_crs, _share_line, map_attribution
from circles.outputs.maptext import (
    TEXT,
    check_lang,
    circle_is_no_data,
    circle_label,
    fmt_minutes,
    fmt_people,
    fmt_share,
    rule_text,
    translate_missing,
)
from circles.outputs.palette import (
    CANDIDATE_COLOURS,
    CANDIDATE_FLAGGED,
    CHOSEN_COLOUR,
    CHOSEN_TEXT,
    STATUS_COLOURS,
    STATUS_LABELS,
    STATUSES,
    category_label,
)

if TYPE_CHECKING:  # pragma: no cover
    import folium

    from circles.scoring.select import SiteSelection

__all__ = ["score_map", "MAP_MAX_CANDIDATES"]

MAP_MAX_CANDIDATES = 3000
_GENERATED_NAME = re.compile(r"^\s*node\s+-?\d+\s*$")
_BILINGUAL = re.compile(r"^\s*(?P<zh>[^/]*[\u3400-\u9fff][^/]*?)\s+/\s+(?P<en>[^\u3400-\u9fff/]+?)\s*$")
_METHOD_WORDS = {"zh": {"greedy": "贪心选址", "exact": "精确求解"}, "en": {"greedy": "greedy", "exact": "exact"}}


def _status_layer(parent, units, status_col: str, share_col: str, circle, lang: str, name: str) -> list[str]:
    """Units coloured by ``status_col``; returns the legend rows of the statuses present.

    The tooltip says status and share; the click popup (copyable) adds the unit's people (65+
    for elderly care), its minutes now, the categories it misses now and its district.
    """
    t = TEXT[lang]
    words = STATUS_LABELS[lang]
    status = units[status_col].astype(object).where(units[status_col].notna(), "empty")
    ids = units["unit_id"].astype(str) if "unit_id" in units else pd.Series(units.index.astype(str), index=units.index)
    names = units["name"] if "name" in units else ids
    nan = pd.Series(np.nan, index=units.index)
    elderly = getattr(circle, "population", "all") == "65plus"
    pop_col = "population_65plus" if elderly else "population"
    disp = units[[units.geometry.name]].copy()
    disp["label"] = [n if isinstance(n, str) and n.strip() else i for n, i in zip(names, ids)]
    disp["status_word"] = [words.get(s, s) for s in status]
    disp["share"] = [t["no_data"] if s == "no_data" else fmt_share(v) for s, v in zip(status, units[share_col])]
    disp["people"] = [fmt_people(v) for v in units.get(pop_col, nan)]
    disp["minutes"] = [fmt_minutes(v) for v in units.get(f"{circle.id}_minutes", nan)]
    disp["missing"] = [translate_missing(v, lang) for v in units.get(f"{circle.id}_missing", nan)]
    disp["district_word"] = [d if isinstance(d, str) else "" for d in units.get("district", nan)]
    fill = {words[s]: (mapui.NO_DATA_FILL if s == "no_data" else STATUS_COLOURS[s]) for s in STATUSES}

    def style(feature, _fill=fill):
        colour = _fill.get(feature["properties"].get("status_word"), STATUS_COLOURS["empty"])
        return {"color": "#555555", "weight": 0.5, "fillColor": colour,
                "fillOpacity": 0.85 if colour == mapui.NO_DATA_FILL else 0.45,
                "className": f"circles-units circles-units-{circle.id}"}

    now = f" ({t['before']})" if status_col.endswith("_after") else ""
    pop_fields = ["status_word", "share", "people", "minutes", "missing", "district_word"]
    pop_aliases = [t["status"], t["share"], t["population_65plus"] if elderly else t["population"],
                   t["minutes"] + now, t["missing"] + now, t["district"]]
    webmap.add_polygons(parent, disp, name=name, label="label", fields=["status_word", "share"],
                        aliases=[t["status"], t["share"]], popup=pop_fields, popup_aliases=pop_aliases,
                        style=style, control=False)
    return mapui.status_swatches(pd.unique(status), lang)


def _candidate_label(row: Any, lang: str) -> str:
    """``"<id> <name>"``; a ``"中文 / English"`` name gives the map language's half; a generated
    ``"node -372"`` gives the category instead.
    """
    name = row.get("name")
    both = _BILINGUAL.match(name) if isinstance(name, str) else None
    if both:
        name = both.group("zh") if lang == "zh" else both.group("en")
    if isinstance(name, str) and name.strip() and not _GENERATED_NAME.match(name):
        return f"{row['candidate_id']} {name.strip()}"
    return f"{row['candidate_id']} ({category_label(str(row['category']), lang)})"


def _candidates_layer(m, rows: pd.DataFrame, vmax: float, *, lang: str, name: str, unscored: frozenset,
                      show: bool = True):
    import folium

    t = TEXT[lang]
    group = folium.FeatureGroup(name=webmap.escape_html(name), show=show)
    for r in rows.to_dict("records"):
        v = float(r["newly_covered_population"])
        frac = v / vmax if vmax > 0 else 0.0
        colour = CANDIDATE_COLOURS[min(int(frac * len(CANDIDATE_COLOURS)), len(CANDIDATE_COLOURS) - 1)]
        if r.get("flag") and set(str(r["flag"]).split(";")) & unscored:
            colour = CANDIDATE_FLAGGED
        # the scores.csv columns, under their own names: newly covered, faster (already in reach,
        # now sooner) with the minutes they save, newly reachable (none in reach before)
        info = {t["category"]: category_label(str(r["category"]), lang), t["newly"]: fmt_people(v)}
        if "faster_population" in r:
            info[t["improved"]] = fmt_people(r["faster_population"])
        saved = fmt_minutes(r.get("mean_minutes_saved"))
        if saved:
            info[t["saved"]] = saved
        if "newly_reachable_population" in r:
            info[t["reachable"]] = fmt_people(r["newly_reachable_population"])
        if r.get("flag"):
            info[t["flag"]] = r["flag"]
        info["lon, lat (WGS84)"] = f"{r['lon']:.6f}, {r['lat']:.6f}"
        label = _candidate_label(r, lang)
        folium.CircleMarker([r["lat"], r["lon"]], radius=4 + 6 * np.sqrt(max(frac, 0.0)), color="#08306b",
                            weight=1, fill=True, fill_color=colour, fill_opacity=0.95,
                            tooltip=webmap.make_tooltip(label, info), popup=webmap.make_popup(label, info)
                            ).add_to(group)
    group.add_to(m)
    return group


def _chosen_layer(m, sel, *, lang: str, name: str, show: bool = True):
    import folium

    t = TEXT[lang]
    group = folium.FeatureGroup(name=webmap.escape_html(name), show=show)
    for r in sel.table.to_dict("records"):
        rank = int(r["rank"])
        info = {t["rank"]: rank, t["category"]: category_label(str(r["category"]), lang),
                t["newly"]: fmt_people(r.get("newly_covered_population")),
                t["cumulative"]: fmt_people(r.get("cumulative_newly_covered")),
                "lon, lat (WGS84)": f"{r['lon']:.6f}, {r['lat']:.6f}"}
        for sys_ in ("gcj02", "bd09"):
            if f"lon_{sys_}" in r and pd.notna(r[f"lon_{sys_}"]):
                info[f"lon, lat ({sys_.upper()})"] = f"{r[f'lon_{sys_}']:.6f}, {r[f'lat_{sys_}']:.6f}"
        label = _candidate_label(r, lang)
        icon = folium.DivIcon(
            html=(f'<div style="background:{CHOSEN_COLOUR};color:{CHOSEN_TEXT}">{rank}</div>'),
            icon_size=(26, 26), icon_anchor=(13, 13), class_name="circles-rank")
        folium.Marker([r["lat"], r["lon"]], icon=icon, z_index_offset=1000,
                      tooltip=webmap.make_tooltip(f"#{rank} {label}", info),
                      popup=webmap.make_popup(f"#{rank} {label}", info)).add_to(group)
    group.add_to(m)
    return group


def _after_panel(m, result, sel, circle, metric, *, lang: str, show: bool):
    """The "with the new sites" base layer of one circle: ``(layer, title, legend)``."""
    import folium

    from circles.scoring.select import coverage_with_sites

    t = TEXT[lang]
    cid, cname = circle.id, circle_label(circle, lang)
    after_units = coverage_with_sites(result, sel.table, circle=cid)
    after = folium.FeatureGroup(name=webmap.escape_html(f"{cname} · {t['after']}"), overlay=False, show=show)
    rows = _status_layer(after, _light(after_units, metric, 3.0), f"{cid}_status_after",
                         f"{cid}_covered_share_after", circle, lang, f"{cname} · {t['after']}")
    after.add_to(m)
    total = float(getattr(sel, "total_population", 0) or 0)
    cov = float(after_units.attrs.get("covered_population_after", np.nan))
    base = float(getattr(sel, "baseline_population", np.nan) or np.nan)
    before = t["no_data"] if circle_is_no_data(result, cid) or not np.isfinite(base) else fmt_share(base / total)
    share = f"{t['share']}: {before} → {fmt_share(cov / total)}" if total > 0 else ""
    n = len(sel.table)
    head = f"{cname} · {t['after']} ({n})" if lang == "en" else f"{cname} · {t['after']}（{n} 处）"
    rule = rule_text(circle, lang, getattr(result, "policy", None))
    return after, mapui.title_block(head, rule, share), mapui.legend_block(f"{cname} · {t['after']}", rows)


def score_map(result: Any, scores: pd.DataFrame, selected: SiteSelection | Sequence[SiteSelection] | None = None,
              *, circles: Sequence[str] | None = None,
              roads: bool = True, max_candidates: int = MAP_MAX_CANDIDATES, lang: str = "zh",
              basemap: str | None = None) -> folium.Map:
    """An offline map of scored candidate sites, in one language.

    Parameters
    ----------
    result : CoverageResult
    scores : ScoreTable
        From :func:`circles.scoring.score.score`.
    selected : SiteSelection or list of them, optional
        From :func:`circles.scoring.select.select_sites`: drawn as numbered badges, with a
        "with the new sites" coverage layer per circle.
    circles : sequence of str, optional
        Circles to draw (default: the selected ones, else every scored circle).
    roads : bool
        Draw the walk network as a backdrop.
    max_candidates : int
        Draw at most this many candidates (the highest scores).
    lang : {"zh", "en"}
    basemap : str, optional
        Online basemap (see :func:`circles.outputs.webmap.resolve_basemap`); default none.

    Returns
    -------
    folium.Map
        Save it with :func:`circles.outputs.webmap.save_map`.
    """
    import folium

    from circles.scoring.prepared import UNSCORED_FLAGS
    from circles.scoring.select import as_selections

    lang = check_lang(lang)
    t = TEXT[lang]
    selections = as_selections(selected)
    if circles is None:
        circles = list(dict.fromkeys(s.circle for s in selections)) or \
            [c.id for c in result.policy.circles if c.id in set(scores["circle"].dropna())]
    metric = _metric_crs(result)
    units = result.units.to_crs(4326)
    m = webmap.offline_map(units.total_bounds, tiles=basemap, prefer_canvas=False, control_scale=True,
                          map_title_space=80)
    mapui.add_page_style(m)
    overlays = []
    if roads and "walk" in (result.networks or {}):
        backdrop = webmap.add_backdrop(m, result.networks["walk"].edges_gdf(), name=t["roads"],
                                       metric_crs=metric, tolerance_m=2.0)
        overlays.append((backdrop, mapui.legend_block(None, [mapui.swatch("#8c8c8c", t["roads"], kind="road")])))
    frame = _light(units, metric, 3.0)
    by_circle = {s.circle: s for s in selections}
    circles = [cid for cid in circles if f"{cid}_status" in frame]
    sub = scores[scores["circle"].isin(circles)] if len(circles) else scores
    sub = sub.sort_values("newly_covered_population", ascending=False).head(int(max_candidates))
    opening = _opening_circle(circles, by_circle, sub)
    panels: list[tuple] = []
    panel_of: dict[str, list[int]] = {}
    for cid in circles:
        circle = result.circle(cid)
        cname = circle_label(circle, lang)
        rule = rule_text(circle, lang, getattr(result, "policy", None))
        no_data = bool((frame[f"{cid}_status"] == "no_data").all())
        has_after = cid in by_circle and len(by_circle[cid].table) > 0
        before = folium.FeatureGroup(name=webmap.escape_html(f"{cname} · {t['before']}"), overlay=False,
                                     show=cid == opening and not has_after)
        rows = _status_layer(before, frame, f"{cid}_status", f"{cid}_covered_share", circle, lang,
                             f"{cname} · {t['before']}")
        before.add_to(m)
        share = _share_line(result, cid, lang, no_data)
        panel_of[cid] = [len(panels)]
        panels.append((before, mapui.title_block(f"{cname} · {t['before']}", rule, share),
                       mapui.legend_block(f"{cname} · {t['before']}", rows)))
        if has_after:
            panel_of[cid].append(len(panels))
            panels.append(_after_panel(m, result, by_circle[cid], circle, metric, lang=lang, show=cid == opening))

    # each circle's candidates and chosen sites are shown with that circle's layers only
    follows = []
    vmax = float(sub["newly_covered_population"].max()) if len(sub) else 0.0
    cand_rows = [mapui.swatch(CANDIDATE_COLOURS[-1], f"{t['candidates']}: {t['high']}", kind="dot"),
                 mapui.swatch(CANDIDATE_COLOURS[0], f"{t['candidates']}: {t['low']}", kind="dot"),
                 mapui.swatch(CANDIDATE_FLAGGED, f"{t['candidates']}: {t['flagged']}", kind="dot")]
    for cid in circles:
        rows = sub[sub["circle"] == cid]
        if rows.empty:
            continue
        name = f"{t['candidates']}: {circle_label(result.circle(cid), lang)} ({len(rows)})"
        layer = _candidates_layer(m, rows, vmax, lang=lang, name=name, unscored=UNSCORED_FLAGS,
                                  show=cid == opening)
        overlays.append((layer, mapui.legend_block(None, cand_rows)))
        follows.append((layer, panel_of[cid]))
    for s in selections:
        if s.table.empty or s.circle not in panel_of:
            continue
        method = _METHOD_WORDS[lang].get(s.method, s.method)
        name = f"{t['chosen']}: {circle_label(result.circle(s.circle), lang)} ({method})"
        layer = _chosen_layer(m, s, lang=lang, name=name, show=s.circle == opening)
        overlays.append((layer, mapui.legend_block(None, [mapui.swatch(CHOSEN_COLOUR, f"{t['chosen']} (1, 2, 3 …)",
                                                                       kind="badge")])))
        follows.append((layer, panel_of[s.circle]))
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    mapui.add_panels(m, panels, overlays, legend_title=t["legend"], follows=follows)
    mapui.add_info_box(m, mapui.info_box_html((getattr(result, "data_quality", None) or {}).get("inputs"), lang))
    webmap.add_attribution(m, map_attribution(result))
    shown = [circle_label(result.circle(c), lang) for c in circles]
    webmap.set_page_meta(m, title=f"{t['score_title']}" + (f" · {'、'.join(shown) if lang == 'zh' else ', '.join(shown)}"
                                                          if shown else ""), lang=lang)
    return m


def _opening_circle(circles: Sequence[str], by_circle: dict, scores: pd.DataFrame) -> str | None:
    """The circle shown when the page opens: the first with chosen sites, else the first with
    scored candidates, else the first drawn (never none, so the page never opens blank).
    """
    for cid in circles:
        if cid in by_circle and len(by_circle[cid].table):
            return cid
    scored = set(scores["circle"]) if "circle" in scores else set()
    for cid in circles:
        if cid in scored:
            return cid
    return circles[0] if circles else None
