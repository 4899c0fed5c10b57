"""The notes of :func:`circles.targets.evaluate_targets` in English and Chinese, from one template table.

Each note is built twice from the same numbers — once from the English template,
once from the Chinese one — never by translating an English sentence after the
fact.  Category ids become words (:func:`circles.outputs.palette.category_label`)
in the Chinese notes; the English notes keep the ids, as ``targets.csv`` always had.
"""

from __future__ import annotations

from typing import Any

from circles.outputs.palette import category_label

#: Languages of a note, in the order of a :data:`Note` pair.
NOTE_LANGS: tuple[str, ...] = ("en", "zh")

#: A note in both languages: ``(english, chinese)``.
Note = tuple[str, str]

#: Every note template: key -> (English, Chinese); both take the same named fields.
NOTE_TEMPLATES: dict[str, Note] = {
    "no_usable_facility": ("no usable facility of {missing} (none in the input or none on the network)",
                           "没有可用的{missing}设施（输入中没有，或不在路网上）"),
    "circle_share": ("{value:.1f} % of {people:,.0f} {group} within {limit}; formed = at least {figure:g} %",
                     "{people:,.0f}名{group}中{value:.1f}%在{limit}内；成圈标准为至少{figure:g}%"),
    "group_all": ("residents", "居民"),
    "group_65plus": ("residents 65+", "65岁及以上居民"),
    "required_category": ("a required category", "所需类别"),
    "needs_districts": ("needs a districts layer (--districts)", "需要行政区图层（--districts）"),
    "no_central_district": ("no central district (zone 'central') among the analysis' districts",
                            "分析的行政区中没有中心城区（zone 为 central）"),
    "no_district": ("no district in the analysis", "分析中没有行政区"),
    "units_generated": ("needs community units (a units file of communities); the analysis used {units}",
                        "需要社区单元（社区的单元文件）；本次分析使用的是{units}"),
    "units_grid": ("a {size:g} m {shape} grid over the study area", "研究范围内{size:g}米{shape}网格"),
    "units_landuse": ("OSM landuse=residential polygons (people outside them are reported)",
                      "OSM居住用地（landuse=residential）多边形（其外的人口另行报告）"),
    "units_other": ("{what}", "自动生成的单元（{what}）"),
    "units_points": ("needs community units as polygons (a units file of community boundaries); the units are points",
                     "需要面状社区单元（社区边界的单元文件）；当前单元是点"),
    "no_facilities": ("no {cats} facilities in the input", "输入中没有{cats}设施"),
    "no_column": ("the {cats} facilities have no {column} column (or it is empty)",
                  "{cats}设施没有{column}列（或该列为空）"),
    "needs_population": ("needs a population layer (--population)", "需要人口图层（--population）"),
    "area_inside": ("counted inside the study area", "在研究范围内统计"),
    "area_all": ("counted over the whole input", "在全部输入中统计"),
    "found": ("{n} of the {n_all} {cats} facilities{where} of the input, {area}",
              "输入中{n_all}个{cats}设施{where}中的{n}个，{area}"),
    "where": (" with {conditions}", "（{conditions}）"),
    "flag_yes": ("{column} yes", "{column}为是"),
    "flag_no": ("{column} no", "{column}为否"),
    "at_least": ("{column} >= {value:g}", "{column} ≥ {value:g}"),
    "contains": ("{column} containing {value}", "{column}包含{value}"),
    "sum_unknown_as": ("; {unknown} without {column} counted as {value:g}", "；{unknown}个没有{column}，按{value:g}计"),
    "sum_unknown_nothing": ("; {unknown} without {column} add nothing", "；{unknown}个没有{column}，不计入"),
    "no_population_scope": ("no population in this scope", "此范围内没有人口"),
    "per_1000_unknown": ("; {unknown} without {column} add nothing (an undercount)",
                         "；{unknown}个没有{column}，不计入（偏低）"),
    "per_1000_people": ("; per 1,000 of the analysis' population ({people:,.0f} people, as its population input "
                        "counts them; a layer of adults only, such as the Wuhan WorldPop 20+ raster, makes this a "
                        "rate per 1,000 adults, higher than per 1,000 residents)",
                        "；按分析人口每千人计（{people:,.0f}人，以人口输入为准；若只含成年人，如武汉 WorldPop "
                        "20岁以上栅格，则为每千名成年人的比率，高于每千名居民）"),
    "share_none_both": ("; none gives both {column} and {of_column}", "；没有设施同时给出{column}和{of_column}"),
    "share_both": ("; {n} give both {column} and {of_column}", "；{n}个同时给出{column}和{of_column}"),
    "flag_none": ("; none says yes or no in {column}", "；没有设施在{column}中给出是或否"),
    "flag_neither": ("; {unknown} say neither yes nor no (left out)", "；{unknown}个未给出是或否（未计入）"),
    "no_community_scope": ("no community unit in this scope", "此范围内没有社区单元"),
    "communities_holding": ("{n} of {total} community units hold a {cats} facility",
                            "{total}个社区单元中有{n}个含{cats}设施"),
}


def note(key: str, **fields: Any) -> Note:
    """One note in both languages, from its template and the same fields.

    A field given as a :data:`Note` pair is filled in its own language in each
    template (a note inside a note).

    Parameters
    ----------
    key : str
        A key of :data:`NOTE_TEMPLATES`.
    **fields
        The template's fields: numbers and ids, or :data:`Note` pairs.

    Returns
    -------
    Note
        ``(english, chinese)``.

    Examples
    --------
    >>> note("no_facilities", cats=categories(("grocery",)))
    ('no grocery facilities in the input', '输入中没有菜市场/超市设施')
    """
    out = []
    for i, template in enumerate(NOTE_TEMPLATES[key]):
        own = {k: (v[i] if isinstance(v, tuple) else v) for k, v in fields.items()}
        out.append(template.format(**own))
    return out[0], out[1]


def categories(cats: tuple[str, ...] | list[str], sep: tuple[str, str] = ("/", "、")) -> Note:
    """Category ids as a :data:`Note` pair: the ids in English, their words in Chinese.

    Parameters
    ----------
    cats : sequence of str
        Category ids.
    sep : (str, str)
        Separator in English and in Chinese.

    Returns
    -------
    Note
    """
    return sep[0].join(cats), sep[1].join(category_label(c, "zh").removesuffix("设施") for c in cats)


def text(en: str, zh: str = "") -> Note:
    """A fixed text as a :data:`Note` pair (the Chinese falls back to the English when empty).

    Parameters
    ----------
    en, zh : str
        The text in English and in Chinese.

    Returns
    -------
    Note
    """
    return en, zh or en


def join(*notes: Note, sep: tuple[str, str] = ("; ", "；")) -> Note:
    """The non-empty notes one after the other, in each language.

    Parameters
    ----------
    *notes : Note
        Pairs to join (empty texts are skipped).
    sep : (str, str)
        Separator in English and in Chinese.

    Returns
    -------
    Note
    """
    return (sep[0].join(n[0] for n in notes if n[0]), sep[1].join(n[1] for n in notes if n[1]))


def concat(*notes: Note) -> Note:
    """The notes run together (no separator), in each language.

    Parameters
    ----------
    *notes : Note
        Pairs.

    Returns
    -------
    Note
    """
    return "".join(n[0] for n in notes), "".join(n[1] for n in notes)


_GRID_SHAPES_ZH = {"square": "方形", "hex": "六边形", "hexagon": "六边形"}


def generated_units(kind: str, *, grid_m: float | None = None, grid_shape: str = "") -> Note:
    """What units the analysis generated (not the user's communities), as a :data:`Note` pair.

    Parameters
    ----------
    kind : {"grid", "landuse", ...}
        ``"grid"`` (a grid of ``grid_m`` metres), ``"landuse"`` (OSM residential polygons), or any
        other text, shown as it is.
    grid_m : float, optional
        Cell size of a grid.
    grid_shape : str
        Cell shape of a grid (``square``, ``hex``).

    Returns
    -------
    Note
    """
    if kind == "grid" and grid_m is not None:
        return note("units_grid", size=grid_m, shape=(grid_shape, _GRID_SHAPES_ZH.get(grid_shape, grid_shape)))
    if kind == "landuse":
        return note("units_landuse")
    return note("units_other", what=kind)


def threshold_zh(circle: Any) -> str:
    """A circle's travel-time limit in Chinese (:meth:`circles.policies.Circle.describe_threshold` in English).

    Parameters
    ----------
    circle : Circle
        The circle.

    Returns
    -------
    str
        E.g. ``"15分钟"`` or ``"中心城区10 / 新城区12分钟（默认中心城区）"``.
    """
    zones = {"central": "中心城区", "new_urban": "新城区"}
    if circle.zone_thresholds_min:
        words = " / ".join(f"{zones.get(z, z)}{v:g}" for z, v in circle.zone_thresholds_min.items()) + "分钟"
        if circle.default_zone:
            words += f"（默认{zones.get(circle.default_zone, circle.default_zone)}）"
    else:
        words = f"{circle.threshold_min:g}分钟"
    if circle.dispatch_allowance_min:
        words += f"，扣除{circle.dispatch_allowance_min:g}分钟出车时间"
    return words
