"""Words on maps and figures, in one language per output (``zh`` or ``en``).

The policy packs carry a Chinese *name* per circle but English clause text, so
the rule line shown on a Chinese map is composed here from the circle's own
fields (threshold per zone, mode, speed, who, required categories, the source
document): nothing English leaks into a Chinese map and nothing is invented.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from circles.errors import InputError
from circles.outputs.palette import STATUS_LABELS, category_label

__all__ = ["LANGS", "TEXT", "check_lang", "circle_label", "rule_text", "document_of",
           "translate_missing", "circle_is_no_data", "fmt_minutes", "fmt_share", "fmt_people", "cause_zh"]

LANGS = ("zh", "en")

#: Map words per language; ``TEXT[lang]["inputs"]`` is itself a dict (input kind -> word).
TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "units": "单元", "isochrones": "等时圈", "facilities": "设施", "districts": "行政区界",
        "roads": "步行路网", "name": "名称", "population": "人口", "population_65plus": "65岁以上人口",
        "minutes": "时间(分钟)", "share": "覆盖率", "status": "状态", "missing": "缺少",
        "rule": "依据", "category": "类别", "source": "来源", "offnet": "路网外(未计入)",
        "district": "区", "zone": "区类型", "legend": "图例", "min": "分钟", "reach": "可达范围",
        "none": "无", "snap": "距路网(米)", "central": "中心城区", "new_urban": "新城区",
        "threshold": "阈值(分钟)", "no_data": "无数据", "circle": "服务圈", "unit_id": "编号",
        "to": "到",
        "info": "数据说明", "input": "输入", "total": "总数", "inside": "区内", "outside": "区外",
        "off_network": "路网外", "nearest_outside_m": "区外最近(米)", "likely_cause": "可能原因",
        "in_area": "研究区内", "all_row": "合计", "layers": "图层", "chosen": "选中站点", "candidates": "候选站点",
        "before": "现状", "after": "新增后", "rank": "排序", "newly": "新增覆盖人口",
        "improved": "时间缩短人口", "reachable": "新可达人口", "saved": "平均节省(分钟)", "flag": "标记",
        "cumulative": "累计新增覆盖", "high": "新增覆盖多", "low": "新增覆盖少",
        "flagged": "未计分", "score_title": "候选站点评分", "everyone": "全体居民",
        "elderly": "65岁及以上老人",
        "inputs": {"facilities": "设施", "units": "单元", "candidates": "候选站点"},
    },
    "en": {
        "units": "units", "isochrones": "isochrones", "facilities": "facilities",
        "districts": "district borders", "roads": "walk network", "name": "name", "population": "population",
        "population_65plus": "population 65+", "minutes": "minutes", "share": "covered share",
        "status": "status", "missing": "missing", "rule": "rule", "category": "category",
        "source": "source", "offnet": "off the network (not counted)", "district": "district",
        "zone": "zone", "legend": "Legend", "min": "min", "reach": "reach", "none": "none",
        "snap": "to network (m)", "central": "central", "new_urban": "new urban",
        "threshold": "limit (min)", "no_data": "no data", "circle": "circle", "unit_id": "id",
        "to": "to",
        "info": "Data notes", "input": "input", "total": "total", "inside": "inside", "outside": "outside",
        "off_network": "off network", "nearest_outside_m": "nearest outside (m)",
        "likely_cause": "likely cause", "in_area": "in the study area", "all_row": "total", "layers": "layers",
        "chosen": "chosen sites", "candidates": "candidate sites", "before": "now", "after": "with new sites",
        "rank": "rank", "newly": "newly covered people", "improved": "people with shorter trips",
        "reachable": "newly reachable people",
        "saved": "mean minutes saved", "flag": "flag", "cumulative": "cumulative newly covered",
        "high": "many newly covered", "low": "few newly covered", "flagged": "not scored",
        "score_title": "Candidate sites", "everyone": "everyone", "elderly": "residents 65+",
        "inputs": {"facilities": "facilities", "units": "units", "candidates": "candidates"},
    },
}

_ZONE_WORDS = {"zh": {"central": "中心城区", "new_urban": "新城区"},
               "en": {"central": "central districts", "new_urban": "new urban districts"}}


def check_lang(lang: str) -> str:
    """``lang`` if it is ``"zh"`` or ``"en"``, else :class:`InputError`.

    Parameters
    ----------
    lang : str
        The language asked for.

    Returns
    -------
    str
        ``lang``.

    Raises
    ------
    InputError
        Any other language.
    """
    if lang not in LANGS:
        raise InputError(f"lang={lang!r}: expected 'zh' (Chinese) or 'en' (English) (CLI: --lang)")
    return lang


def circle_label(circle: Any, lang: str) -> str:
    """The circle's name in ``lang``.

    Parameters
    ----------
    circle : Circle
        A circle of a policy pack.
    lang : {"zh", "en"}
        Language.

    Returns
    -------
    str

    Examples
    --------
    >>> from circles.policies import load_policy
    >>> life = load_policy("wuhan-2022").circle("life_15")
    >>> circle_label(life, "zh"), circle_label(life, "en")
    ('15分钟生活圈', '15-minute life circle')
    """
    return (circle.name_zh or circle.name_en) if lang == "zh" else circle.name_en


def document_of(circle: Any, policy: Any = None) -> str:
    """The source document a circle's clause cites (``"武政〔2022〕2号"``), or ``""``.

    Parameters
    ----------
    circle : Circle
        A circle of a policy pack.
    policy : Policy, optional
        Its pack, whose name is read when the clause names no document.

    Returns
    -------
    str
    """
    clause = str(getattr(circle, "clause", "") or "")
    head = re.split(r"[:：]", clause, maxsplit=1)[0].strip()
    if head and head != clause.strip() and len(head) <= 40:
        return head
    name = str(getattr(policy, "name", "") or "")
    found = re.search(r"[\u4e00-\u9fff]+〔\d{4}〕\d+号", name)
    return found.group(0) if found else ""


def _threshold_words(circle: Any, lang: str) -> str:
    unit = "分钟" if lang == "zh" else " min"
    zones = getattr(circle, "zone_thresholds_min", None) or {}
    if zones:
        words = _ZONE_WORDS[lang]
        sep = "、" if lang == "zh" else ", "
        if lang == "zh":
            text = sep.join(f"{words.get(z, z)} {v:g}{unit}" for z, v in zones.items())
        else:
            text = " / ".join(f"{v:g}{unit} ({words.get(z, z)})" for z, v in zones.items())
    else:
        text = f"{float(circle.threshold_min):g}{unit}"
    allowance = float(getattr(circle, "dispatch_allowance_min", 0) or 0)
    if allowance:
        text += (f"(含调度 {allowance:g} 分钟)" if lang == "zh" else f" (incl. {allowance:g} min dispatch)")
    return text


def _mode_words(circle: Any, lang: str) -> str:
    if circle.mode == "walk":
        speed = getattr(circle, "speed_m_per_min", None)
        if lang == "zh":
            return f"步行(按 {speed:g} 米/分钟)" if speed else "步行"
        return f"walk ({speed:g} m/min)" if speed else "walk"
    if lang == "zh":
        return "车行(救护车从站点到居民)" if getattr(circle, "direction", "to") == "from" else "车行"
    return "drive (ambulance from station to resident)" if getattr(circle, "direction", "to") == "from" \
        else "drive"


def _needs_words(circle: Any, lang: str) -> str:
    groups = []
    for req in getattr(circle, "requirements", ()):
        words = [category_label(c, lang) for c in req.categories]
        group = ("或".join(words) if lang == "zh" else " or ".join(words))
        if req.max_minutes is not None:
            group += f"(≤{req.max_minutes:g}分钟)" if lang == "zh" else f" (≤{req.max_minutes:g} min)"
        groups.append(group)
    if lang == "zh":
        return "、".join(groups)
    return ", ".join(groups[:-1]) + (" and " if len(groups) > 1 else "") + groups[-1] if groups else ""


def rule_text(circle: Any, lang: str, policy: Any = None) -> str:
    """The circle's rule in one line and one language.

    ``"步行(按 60 米/分钟) 15分钟内到达：菜市场/超市、社区卫生/诊所、幼儿园、小学；全体居民。
    依据 武政〔2022〕2号"`` (one line) or, in English, ``"everyone: grocery, … within 15 min,
    walk (60 m/min). Source: 武政〔2022〕2号"``.

    Parameters
    ----------
    circle : Circle
        A circle of a policy pack.
    lang : {"zh", "en"}
        Language.
    policy : Policy, optional
        Its pack (for the source document).

    Returns
    -------
    str

    Examples
    --------
    >>> from circles.policies import load_policy
    >>> pack = load_policy("wuhan-2022")
    >>> rule_text(pack.circle("emergency_medical"), "zh", pack)
    '车行(救护车从站点到居民) 中心城区 10分钟、新城区 12分钟内到达：急救站；全体居民。依据 武政〔2022〕2号'
    """
    lang = check_lang(lang)
    who = TEXT[lang]["elderly"] if getattr(circle, "population", "all") == "65plus" else TEXT[lang]["everyone"]
    doc = document_of(circle, policy)
    mode, limit, needs = _mode_words(circle, lang), _threshold_words(circle, lang), _needs_words(circle, lang)
    if lang == "zh":
        doc = doc.replace("Table ", "表 ")
        return f"{mode} {limit}内到达：{needs}；{who}" + (f"。依据 {doc}" if doc else "")
    text = f"{who}: {needs} within {limit}, {mode}"
    return text + (f". Source: {doc}" if doc else "")


_NUM = r"(?P<{}>[\d,.]+)"
_CRS_ZH = {"WGS84": "WGS84", "GCJ-02": "GCJ-02", "BD-09": "BD-09"}
#: The likely causes of :mod:`circles.inputs` and :mod:`circles.unit_area` (English, the console's and
#: the dq_inputs sheet's wording), each with its faithful Chinese translation (same diagnosis, same numbers).
_CAUSES_ZH: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^none in the input \(no data\)$"), "输入中没有（无数据）"),
    (re.compile(r"^the input covers a larger area than the network$"), "输入覆盖的范围大于路网范围"),
    (re.compile(r"^another city or area \(the nearest point is " + _NUM.format("km") + r" km from the study area\)$"),
     "另一城市或地区（最近的点距研究区 {km} 公里）"),
    (re.compile(r"^coordinates look like (?P<alt>\S+) declared as (?P<kind>\S+) \(≈" + _NUM.format("m")
                + r" m shift here; " + _NUM.format("a") + r" of " + _NUM.format("b") + r" would lie inside\): "
                r"declare them as (?P<fix>\w+) \((?:CLI )?(?P<flag>--[\w-]+) (?P=fix)\)$"),
     "坐标像是 {alt} 却声明为 {kind}（此处偏移约 {m} 米；按 {alt} 读取则 {b} 个中 {a} 个位于研究区内）："
     "请声明为 {fix}（命令行 {flag} {fix}）"),
    (re.compile(r"^most points inside the area lie more than (?P<limit>.+?) from the streets: the network may "
                r"lack streets there, or the coordinates are shifted$"),
     "研究区内大多数点距街道超过 {limit}：路网在该处可能缺少街道，或坐标有偏移"),
    (re.compile(r"^wrong coordinate system: " + _NUM.format("n") + r" units would fall inside if the file were "
                r"(?P<alt>.+?) \(GCJ-02 vs WGS84 is ≈550 m in Wuhan\); (?P<fix>.+)$"),
     "坐标系有误：若文件实为{alt}，会有 {n} 个单元落在研究区内（武汉 GCJ-02 与 WGS84 相差约 550 米）；{fix}"),
    (re.compile(r"^the units are in another place: the nearest is " + _NUM.format("km") + r" km from the study "
                r"area \(another city or district\?\); use units of the area, or a network/area covering them$"),
     "单元位于别处：最近的距研究区 {km} 公里（另一城市或区？）；请使用本研究区的单元，或覆盖这些单元的路网/范围"),
    (re.compile(r"^the list covers a larger area than the study area: fine for a city-wide list, else check "
                r"the coordinate system \(--units-crs\)$"),
     "名单覆盖的范围大于研究区：全市名单属正常，否则请检查坐标系（--units-crs）"),
    (re.compile(r"^the nearest unit is only " + _NUM.format("m") + r" m away: check the coordinate system "
                r"\(GCJ-02 vs WGS84 is ≈550 m in Wuhan; --units-crs\) or widen the study area \(--area\)$"),
     "最近的单元仅 {m} 米远：请检查坐标系（武汉 GCJ-02 与 WGS84 相差约 550 米；--units-crs）或扩大研究区（--area）"),
    (re.compile(r"^no unit lies inside the study area \(nearest " + _NUM.format("m") + r" m\): give a "
                r"network/--area that covers the units, or units of this area$"),
     "没有单元位于研究区内（最近 {m} 米）：请给出覆盖这些单元的路网/--area，或使用本研究区的单元"),
]
_FIX_ZH = {"pass --units-crs gcj02 (crs='gcj02')": "请用 --units-crs gcj02（crs='gcj02'）",
           "pass --units-crs wgs84 (crs='wgs84')": "请用 --units-crs wgs84（crs='wgs84'）",
           "GCJ-02 (Amap/Tencent) numbers declared as WGS84": "被声明为 WGS84 的 GCJ-02（高德/腾讯）坐标",
           "WGS84 numbers declared as GCJ-02": "被声明为 GCJ-02 的 WGS84 坐标"}


def cause_zh(text: Any) -> str:
    """The Chinese translation of an English likely cause (the console's, the ``dq_inputs``
    sheet's and the English map's wording): the same diagnosis, word for word.

    A text with no known translation (not written by circles) is not guessed at: the map
    points to the ``dq_inputs`` sheet, where it stands as written.

    Parameters
    ----------
    text : str or None
        An English likely cause (:mod:`circles.inputs`).

    Returns
    -------
    str
        The Chinese text; ``""`` for no cause.

    Examples
    --------
    >>> cause_zh("the input covers a larger area than the network")
    '输入覆盖的范围大于路网范围'
    """
    cause = str(text or "").strip()
    if not cause or cause.lower() == "nan":
        return ""
    for pattern, template in _CAUSES_ZH:
        found = pattern.match(cause)
        if found:
            parts = {k: _FIX_ZH.get(v, v) for k, v in found.groupdict().items()}
            if "limit" in parts:
                parts["limit"] = re.sub(r"(\d) m$", r"\1 米", parts["limit"])
            return template.format(**parts)
    return "详见数据质量表 dq_inputs 的“可能原因”列"


def unit_labels(frame: Any) -> tuple[list[str], list[str]]:
    """What a map calls each unit: its name (its id when it has none), and its id where that differs.

    Parameters
    ----------
    frame : DataFrame
        Units, with ``unit_id`` and ``name`` columns when the input had them.

    Returns
    -------
    labels, codes : list of str
        ``codes[i]`` is the unit's id, or ``""`` when the label already is the id.

    Examples
    --------
    >>> import pandas as pd
    >>> unit_labels(pd.DataFrame({"unit_id": ["A1", "A2"], "name": ["关山街", None]}))
    (['关山街', 'A2'], ['A1', ''])
    """
    ids = [str(v) for v in (frame["unit_id"] if "unit_id" in frame else frame.index)]
    names = frame["name"] if "name" in frame else ids
    labels = [n if isinstance(n, str) and n.strip() else i for n, i in zip(names, ids)]
    return labels, [i if i != lab else "" for i, lab in zip(ids, labels)]


def district_words(frame: Any, lang: str) -> list[str]:
    """Each unit's district and zone in words of ``lang`` (``"洪山区 · 中心城区"``; ``""`` when unknown).

    Parameters
    ----------
    frame : DataFrame
        Units, with ``district`` and ``zone`` columns when districts were given.
    lang : {"zh", "en"}
        Language of the zone.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import pandas as pd
    >>> district_words(pd.DataFrame({"district": ["洪山区", None], "zone": ["central", None]}), "zh")
    ['洪山区 · 中心城区', '']
    """
    t = TEXT[lang]
    none = [None] * len(frame)
    district = frame["district"] if "district" in frame else none
    zone = frame["zone"] if "zone" in frame else none
    return [" · ".join(x for x in (d if isinstance(d, str) else "", t.get(z, z) if isinstance(z, str) else "") if x)
            for d, z in zip(district, zone)]


def translate_missing(text: Any, lang: str) -> str:
    """The missing categories of a unit in words of ``lang``.

    Parameters
    ----------
    text : str
        A ``<circle>_missing`` value: groups joined by ``;``, alternatives by ``/``.
    lang : {"zh", "en"}
        Language.

    Returns
    -------
    str
        The same list in words (the word for "none" when nothing is missing).

    Examples
    --------
    >>> translate_missing("kindergarten (no data); grocery", "zh")
    '幼儿园 (无数据); 菜市场/超市'
    """
    if not isinstance(text, str) or not text.strip():
        return TEXT[lang]["none"]
    out = []
    for group in text.split(";"):
        cats = []
        for part in group.strip().split("/"):
            part = part.strip()
            no_data = part.endswith("(no data)")
            word = category_label(part.removesuffix("(no data)").strip(), lang)
            cats.append(f"{word} ({TEXT[lang]['no_data']})" if no_data else word)
        out.append(" / ".join(cats))
    return "; ".join(out)


def circle_is_no_data(result: Any, circle_id: str) -> bool:
    """True when the circle has status ``no_data`` (contract 1).

    Parameters
    ----------
    result : CoverageResult
        The analysis.
    circle_id : str
        A circle id.

    Returns
    -------
    bool
        Its summary row says ``status == "no_data"``, or every unit's ``<circle>_status`` is ``no_data``.
    """
    summary = getattr(result, "summary", None)
    if summary is not None and "status" in summary and "circle" in summary:
        row = summary.loc[summary["circle"] == circle_id, "status"]
        if len(row) and str(row.iloc[0]) == "no_data":
            return True
    col = f"{circle_id}_status"
    units = getattr(result, "units", None)
    if units is not None and col in units and len(units):
        return bool((units[col].astype(object) == "no_data").all())
    return False


def status_word(status: Any, lang: str) -> str:
    """A unit status in words of ``lang``; an unknown status as it is.

    Parameters
    ----------
    status : str
        ``"covered"``, ``"partial"``, ``"uncovered"`` ….
    lang : {"zh", "en"}
        Language.

    Returns
    -------
    str

    Examples
    --------
    >>> status_word("uncovered", "zh"), status_word("partial", "en")
    ('未覆盖', 'partly covered')
    """
    return STATUS_LABELS[lang].get(str(status), str(status))


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and math.isnan(v))


def fmt_minutes(v: Any) -> str:
    """Minutes as shown on maps: one decimal, empty when missing.

    Parameters
    ----------
    v : number or None
        Minutes; ``None`` or NaN means no value.

    Returns
    -------
    str
        The text for a popup or table cell.

    Examples
    --------
    >>> fmt_minutes(12.345)
    '12.3'
    >>> fmt_minutes(float("nan"))
    ''
    """
    return "" if _missing(v) else f"{float(v):.1f}"


def fmt_share(v: Any) -> str:
    """A share (0-1) as a whole percentage, empty when missing.

    Parameters
    ----------
    v : number or None
        The share of people covered, 0 to 1; ``None`` or NaN means no value.

    Returns
    -------
    str
        The percentage text.

    Examples
    --------
    >>> fmt_share(0.8349)
    '83%'
    >>> fmt_share(None)
    ''
    """
    return "" if _missing(v) else f"{100 * float(v):.0f}%"


def fmt_people(v: Any) -> str:
    """A number of people, rounded, with thousands separators; empty when missing.

    Parameters
    ----------
    v : number or None
        People (population weights are fractional); ``None`` or NaN means no value.

    Returns
    -------
    str
        The rounded count.

    Examples
    --------
    >>> fmt_people(17303.44)
    '17,303'
    """
    return "" if _missing(v) else f"{float(v):,.0f}"
