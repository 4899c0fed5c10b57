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

from .errors import InputError
from .palette import STATUS_LABELS, category_label

__all__ = ["LANGS", "TEXT", "check_lang", "circle_label", "rule_text", "document_of",
           "translate_missing", "circle_is_no_data", "fmt_minutes", "fmt_share", "fmt_people"]

LANGS = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
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
        "in_area": "研究区内", "layers": "图层", "chosen": "选中站点", "candidates": "候选站点",
        "before": "现状", "after": "新增后", "rank": "排序", "newly": "新增覆盖人口",
        "improved": "时间缩短人口", "saved": "平均节省(分钟)", "flag": "标记",
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
        "likely_cause": "likely cause", "in_area": "in the study area", "layers": "layers",
        "chosen": "chosen sites", "candidates": "candidate sites", "before": "now", "after": "with new sites",
        "rank": "rank", "newly": "newly covered people", "improved": "people with shorter trips",
        "saved": "mean minutes saved", "flag": "flag", "cumulative": "cumulative newly covered",
        "high": "many newly covered", "low": "few newly covered", "flagged": "not scored",
        "score_title": "Candidate sites", "everyone": "everyone", "elderly": "residents 65+",
        "inputs": {"facilities": "facilities", "units": "units", "candidates": "candidates"},
    },
}

_ZONE_WORDS = {"zh": {"central": "中心城区", "new_urban": "新城区"},
               "en": {"central": "central districts", "new_urban": "new urban districts"}}


def check_lang(lang: str) -> str:
    """``lang`` if it is ``"zh"`` or ``"en"``, else :class:`InputError`."""
    if lang not in LANGS:
        raise InputError(f"lang={lang!r}: expected 'zh' (Chinese) or 'en' (English) (CLI: --lang)")
    return lang


def circle_label(circle: Any, lang: str) -> str:
    """The circle's name in ``lang``."""
    return (circle.name_zh or circle.name_en) if lang == "zh" else circle.name_en


def document_of(circle: Any, policy: Any = None) -> str:
    """The source document a circle's clause cites (``"武政〔2022〕2号"``), or ``""``."""
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


def translate_missing(text: Any, lang: str) -> str:
    """``"kindergarten (no data); grocery"`` → ``"幼儿园 (无数据); 菜市场/超市"``."""
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
    """True when the circle has status ``no_data`` (contract 1): its summary row says
    ``status == "no_data"``, or every unit's ``<circle>_status`` is ``no_data``."""
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
    return STATUS_LABELS[lang].get(str(status), str(status))


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and math.isnan(v))


def fmt_minutes(v: Any) -> str:
    return "" if _missing(v) else f"{float(v):.1f}"


def fmt_share(v: Any) -> str:
    return "" if _missing(v) else f"{100 * float(v):.0f}%"


def fmt_people(v: Any) -> str:
    return "" if _missing(v) else f"{float(v):,.0f}"
