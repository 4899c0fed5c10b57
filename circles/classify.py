"""Facility categories and the rules that assign features to them (STANDARDS §4).

Every rule lives in the data tables at the top of this module; the functions
below only apply them.  A feature may fall into several categories.

Three kinds of input are classified:

* **OSM tags** (:func:`categories_from_tags`): tag rules first; name hints
  (``name``, ``name:zh``, ``name:en``) only when no tag rule matched and the
  feature is not plainly something else (a shop, an office, a restaurant …).
* **Free labels** (:func:`categories_from_label`): a category column of a
  user's file — one of our category ids, a plain Chinese type (``医院``,
  ``图书馆`` …), an Amap type string (``医疗保健服务;综合医院;综合医院``,
  several types joined by ``|``) or an English label (``hospital``, ``park`` …).
* **Names** (:func:`categories_from_name`): the same hints applied to a
  feature's name (used for OSM features and, on request, for unlabelled rows).

Known noise, accepted and documented rather than hidden
-------------------------------------------------------
* ``医院`` (any hospital, including specialist ones) counts as ``primary_care``,
  as STANDARDS §4 says; pet/animal hospitals and cosmetic clinics are excluded.
* ``公园``/``广场`` in names: residential compounds (``华侨城公园里``) and malls
  (``万达广场``) are common false positives.  The obvious patterns are excluded
  (``公园里``, ``公园府``, ``购物广场`` …) but others will slip through; labels
  (``公园``, ``城市广场``) are reliable.
* ``体育`` in ``体育学院``/``体育大学`` (universities), ``体育用品`` (shops) and
  ``体育局`` (an office) is not a sports venue.
* ``中学``: a senior-only ``高级中学``/``高中`` is not a ``middle_school`` (the
  15-minute circle needs a junior middle school, 初中); ``中小学`` and
  ``九年一贯制`` schools are both primary and middle schools.
* OSM ``amenity=school``: the level comes from ``isced:level``, ``school`` /
  ``school:level``, ``grades`` or the name (Chinese, English and common
  European terms: Grundschule, Primarschule, école primaire, ala-aste …).  A
  school whose tags and names say nothing counts as a **primary school**, the
  most common kind — with basis ``"tag amenity=school (no level: assumed
  primary)"`` so every such assumption is counted and reported — unless a
  name or tag says it is something else (中学/高中/大学, secondary, high
  school, Gymnasium, lukio, lycée, Sekundarschule, a music or language school …);
  those stay unclassified (reported).
* ``social_facility``: nursing homes and assisted living are elderly care
  unless ``social_facility:for`` names another group only (``disabled``);
  any social facility ``for=senior`` is elderly care.
* ``120`` marks an ambulance station only as a whole number (not ``1200``,
  not ``120号``).
* ``hospital_as_ambulance``: a hospital tagged ``emergency=yes`` counts as an
  ambulance station only when that flag is passed, and the match says so
  (basis ``"hospital_as_ambulance"``) so callers can report it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: The facility categories (STANDARDS §4), in canonical order, with a short description.
CATEGORY_DESCRIPTIONS: dict[str, str] = {
    "grocery": "supermarket, fresh/vegetable market, convenience store",
    "primary_care": "clinic, community health station/centre, hospital",
    "pharmacy": "pharmacy, drugstore",
    "kindergarten": "kindergarten, nursery, childcare",
    "primary_school": "primary school",
    "middle_school": "junior middle school",
    "culture": "library, culture centre/station, museum, theatre, cinema",
    "sports": "sports centre, pitch, fitness station, stadium, swimming pool",
    "public_space": "park, garden, square, playground",
    "ambulance_station": "ambulance (120) station, emergency centre",
    "elderly_care": "nursing home, elderly day care, elderly service station",
}
#: The valid category ids, in canonical order.
CATEGORIES: tuple[str, ...] = tuple(CATEGORY_DESCRIPTIONS)

# --------------------------------------------------------------------------
# OSM tag rules: (key, values, category).  ``values`` None means any value.
# Schools, social facilities and hospital→ambulance need extra logic below.
# --------------------------------------------------------------------------
TAG_RULES: tuple[tuple[str, frozenset[str] | None, str], ...] = (
    ("shop", frozenset({"supermarket", "greengrocer", "convenience"}), "grocery"),
    ("amenity", frozenset({"marketplace"}), "grocery"),
    ("amenity", frozenset({"clinic", "doctors", "hospital"}), "primary_care"),
    ("healthcare", frozenset({"clinic", "centre", "doctor", "hospital"}), "primary_care"),
    ("amenity", frozenset({"pharmacy"}), "pharmacy"),
    ("healthcare", frozenset({"pharmacy"}), "pharmacy"),
    ("amenity", frozenset({"kindergarten", "childcare"}), "kindergarten"),
    (
        "amenity",
        frozenset({"library", "arts_centre", "community_centre", "theatre", "cinema"}),
        "culture",
    ),
    ("tourism", frozenset({"museum", "gallery"}), "culture"),
    (
        "leisure",
        frozenset({"sports_centre", "pitch", "fitness_centre", "fitness_station", "stadium", "swimming_pool", "track"}),
        "sports",
    ),
    ("leisure", frozenset({"park", "garden", "playground", "common"}), "public_space"),
    ("place", frozenset({"square"}), "public_space"),
    ("emergency", frozenset({"ambulance_station"}), "ambulance_station"),
    ("amenity", frozenset({"nursing_home"}), "elderly_care"),
)
#: ``social_facility`` values that are elderly care when ``social_facility:for``
#: names seniors (nursing homes and assisted living also count when ``for`` is absent).
SOCIAL_FACILITY_ELDERLY: frozenset[str] = frozenset({"nursing_home", "assisted_living", "group_home", "day_care"})
SOCIAL_FACILITY_ELDERLY_WITHOUT_FOR: frozenset[str] = frozenset({"nursing_home", "assisted_living"})
SENIOR_FOR_VALUES: frozenset[str] = frozenset({"senior", "seniors", "elderly", "aged"})
#: ``isced:level`` values → school categories.
ISCED_LEVELS: dict[str, tuple[str, ...]] = {"1": ("primary_school",), "2": ("middle_school",)}
#: ``school`` / ``school:level`` tag values → school categories (other values
#: are read like names).
SCHOOL_LEVEL_VALUES: dict[str, tuple[str, ...]] = {
    "primary": ("primary_school",), "elementary": ("primary_school",),
    "lower_secondary": ("middle_school",), "middle": ("middle_school",), "junior_high": ("middle_school",),
    "secondary": ("middle_school",), "primary;secondary": ("primary_school", "middle_school"),
    "upper_secondary": (), "high": (), "senior_high": (), "sixth_form": (), "vocational": (), "tertiary": (),
    "kindergarten": (), "preschool": (), "special": (), "music": (), "language": (),
}
#: Names (or ``school`` values) saying a school is NOT a primary school: they
#: block the primary-school assumption for an ``amenity=school`` of no level.
NOT_PRIMARY_SCHOOL = re.compile(
    r"中学|高中|大学|学院|职业|职校|技校|技工|中专|高级|培训|补习|驾校|艺术学校|体校|特殊教育|"
    r"\bsecondary\b|high school|\bcolleges?\b|universit|polytechnic|vocational|\badult\b|"
    r"(music|language|dance|driving|art|ballet|sports?|business|nursing|sunday) school|"
    r"gymnasi|lukio|lyc[ée]e|coll[èe]ge|sekundarschule|realschule|hauptschule|mittelschule|oberschule|"
    r"gesamtschule|berufs|kantonsschule|fachschule|hochschule|musikschule|sprachschule|"
    r"yl[äa]-?aste|yl[äa]koulu|h[öo]gstadie|ammatti|opisto|aikuis|kansalais|esikoulu|p[äa]iv[äa]koti|"
    r"folkh[öo]gskola|yrkes",
    re.IGNORECASE,
)
#: The basis of a school counted as primary by assumption.
ASSUMED_PRIMARY_BASIS = "tag amenity=school (no level: assumed primary)"
#: Public spaces with these ``access`` values are skipped (private gardens of compounds).
PRIVATE_ACCESS: frozenset[str] = frozenset({"private", "no", "customers"})
#: Name hints are not used for features whose tags already say what they are, under
#: these keys, when no tag rule made them a facility (a shop called "公园便利店" is a
#: shop, not a park; amenity=bicycle_rental "Senaatintori kaupunkipyöräasema" is a
#: bike station, not a square) ...
NAME_HINT_BLOCKING_KEYS: tuple[str, ...] = (
    "shop", "office", "craft", "railway", "public_transport", "highway", "amenity", "tourism", "leisure",
    "man_made", "aeroway", "power", "emergency", "healthcare",
)
#: ... except these vague amenity values, under which a name may still tell (e.g. an
#: amenity=social_facility named 养老院 without social_facility:for).
NAME_HINT_VAGUE_AMENITIES: frozenset[str] = frozenset(
    {"social_facility", "social_centre", "public_building", "yes", "community_hall"})
#: Kept for callers of the old name: amenity values that always block name hints.
NAME_HINT_BLOCKING_AMENITIES: frozenset[str] = frozenset(
    {
        "restaurant", "fast_food", "cafe", "bar", "pub", "food_court", "bank", "atm", "parking",
        "parking_entrance", "fuel", "toilets", "bus_station", "taxi", "car_wash", "post_office",
        "police", "townhall", "university", "college", "research_institute", "place_of_worship",
        "bicycle_rental",
    }
)
#: Name tags read for hints, in order.
NAME_TAGS: tuple[str, ...] = ("name", "name:zh", "name:zh-Hans", "name:en")

# --------------------------------------------------------------------------
# Text hints for names and labels: category -> (include regex, exclude regex).
# Chinese and English together; English is matched case-insensitively on
# word boundaries.  Exclusions are checked on the whole text.
# --------------------------------------------------------------------------
TEXT_RULES: dict[str, tuple[str, str | None]] = {
    "grocery": (
        r"菜市场|菜场|农贸市场|农副产品市场|生鲜|超市|超级市场|便利店|便民商店|"
        r"\bsupermarkets?\b|\bgrocer(y|ies)\b|\bgreengrocer\b|\bmarketplace\b|\bfresh market\b|"
        r"\bwet market\b|\bconvenience (store|shop)\b",
        r"家电|数码|建材|家具|电器|汽车|电脑|手机",
    ),
    "primary_care": (
        r"社区卫生服务|卫生服务站|卫生服务中心|卫生站|卫生院|卫生室|诊所|医院|门诊部|医务室|"
        r"\bhospitals?\b|\bclinics?\b|\bdoctors?\b|\bhealth (care )?(centre|center|station)s?\b|\bmedical (centre|center)\b",
        r"宠物|动物|兽医|美容|整形|医美|\bpet\b|\bveterinary\b|\banimal\b",
    ),
    "pharmacy": (r"药房|药店|大药房|\bpharmac(y|ies)\b|\bdrug ?stores?\b|\bchemists?\b", r"宠物|\bpet\b"),
    "kindergarten": (r"幼儿园|托儿所|托育|\bkindergartens?\b|\bpre-?schools?\b|\bnursery schools?\b|\bchild ?care\b", None),
    "primary_school": (
        r"小学|中小学|九年一贯|一贯制|\bprimary schools?\b|\belementary schools?\b|"
        r"grundschule|primarschule|volksschule|[ée]cole (primaire|[ée]l[ée]mentaire)|ala-?aste|alakoulu|"
        r"peruskoulu|grundskola|l[åa]gstadie|scuola (primaria|elementare)|escuela primaria|basisschool",
        r"小学生用品|文具",
    ),
    "middle_school": (
        r"(?<!高级)中学|初中|初级中学|中小学|九年一贯|一贯制|\bmiddle schools?\b|\bjunior high\b|"
        r"\b(lower )?secondary schools?\b|yl[äa]-?aste|yl[äa]koulu|peruskoulu|grundskola|h[öo]gstadie|"
        r"sekundarschule|realschule|hauptschule|mittelschule|coll[èe]ge (public|priv[ée]|d'enseignement)|"
        r"scuola (media|secondaria di primo grado)",
        r"中学路|中学街|\b(upper|senior) secondary\b",
    ),
    "culture": (
        r"图书馆|文化中心|文化站|文化馆|文化宫|文化活动|群众艺术馆|群艺馆|博物馆|纪念馆|美术馆|展览馆|科技馆|"
        r"书屋|剧院|剧场|影院|影城|少年宫|艺术中心|"
        r"\blibrar(y|ies)\b|\bmuseums?\b|\btheat(re|er)s?\b|\bcinemas?\b|\bart gallery\b|\bgallery\b|"
        r"\b(community|culture|cultural|arts?) (centre|center)s?\b|\bmemorial hall\b",
        r"书店|文化传媒|文化公司|\bbook ?store\b|\bbookshop\b",
    ),
    "sports": (
        r"体育|健身|运动场|运动馆|运动中心|运动场所|球场|球馆|游泳|羽毛球|篮球|足球|网球|乒乓|田径|"
        r"\bsports? (centre|center|ground|hall|place)s?\b|\bstadiums?\b|\bgym(nasium)?s?\b|\bfitness\b|"
        r"\bswimming\b|\bpitch\b|\b(basketball|football|tennis|badminton) (court|field|ground)s?\b|\bplayfield\b",
        r"体育学院|体育大学|球场街|球场路|体育用品|体育彩票|体彩|体育局|体育类公司|运动用品|运动品牌|运动服|运动鞋|健身器材|"
        r"\bsports? (shop|store|university|college)\b|\bsporting (goods|shop)\b",
    ),
    "public_space": (
        r"公园|广场|绿地|游园|花园广场|游乐场|儿童乐园|口袋公园|"
        r"\bparks?\b|\bsquares?\b|\bplaygrounds?\b|\bgreen ?space\b|\bpark outdoor\b|\bgarden\b",
        r"公园里|公园府|绿地(国际|中心|集团|金融|缤纷|之窗|中央)|公园壹号|公园一号|公园大道|公园道|公园小区|公园城|小区|公寓|大厦|写字楼|酒店|停车场|"
        r"购物广场|商业广场|商务广场|万达广场|国际广场|财富广场|时代广场|动物园|水族馆|"
        r"\bparking\b|\b(industrial|science|technology|tech|business|theme) park\b|\bzoo\b",
    ),
    "ambulance_station": (
        r"急救站|急救中心|急救分站|急救分中心|(?<![0-9])120(?![0-9号米])|\bambulance\b|\bemergency (medical )?(centre|center|station)\b",
        None,
    ),
    "elderly_care": (
        r"养老|敬老|老年|日间照料|颐养|福利院|托老|护理院|"
        r"\bnursing homes?\b|\belderly\b|\bsenior (care|centre|center|home|living)\b|\bretirement home\b|\baged care\b",
        r"养老保险|老年大学|老年病|儿童福利|\bsenior high\b",
    ),
}

#: Plain labels (exact, after trimming; lower-case for English) that map
#: directly to categories or explicitly to none.  Checked before TEXT_RULES.
LABEL_EXACT: dict[str, tuple[str, ...]] = {
    "医院": ("primary_care",),
    "综合医院": ("primary_care",),
    "专科医院": ("primary_care",),
    "诊所": ("primary_care",),
    "急救中心": ("ambulance_station",),
    "药店": ("pharmacy",),
    "幼儿园": ("kindergarten",),
    "小学": ("primary_school",),
    "中学": ("middle_school",),
    "图书馆": ("culture",),
    "电影院": ("culture",),
    "剧场": ("culture",),
    "博物馆": ("culture",),
    "美术馆": ("culture",),
    "纪念馆": ("culture",),
    "体育场馆": ("sports",),
    "综合体育馆": ("sports",),
    "运动场所": ("sports",),
    "健身中心": ("sports",),
    "公园": ("public_space",),
    "公园户外": ("public_space",),
    "城市广场": ("public_space",),
    "超市": ("grocery",),
    "超级市场": ("grocery",),
    "便民商店/便利店": ("grocery",),
    "养老院": ("elderly_care",),
    # labels that look like a hint but are not one of our facilities
    "书店": (),
    "高等院校": (),
    "高校中心点": (),
    "职业技术学校": (),
    "校园生活": (),
    "度假疗养场所": (),
    "体育用品店": (),
    "文化体育类公司": (),
    "动物园": (),
    "水族馆": (),
    "住宅区": (),
    "商场": (),
}
#: Amap (高德) first-level POI types: too broad to classify on their own
#: (体育休闲服务 also covers KTV and bars), so they are skipped.
AMAP_TOP_LEVEL: frozenset[str] = frozenset(
    {
        "汽车服务", "汽车销售", "汽车维修", "摩托车服务", "餐饮服务", "购物服务", "生活服务", "体育休闲服务",
        "医疗保健服务", "住宿服务", "风景名胜", "商务住宅", "政府机构及社会团体", "科教文化服务",
        "交通设施服务", "金融保险服务", "公司企业", "道路附属设施", "地名地址信息", "公共设施",
        "事件活动", "室内设施", "通行设施",
    }
)
#: Separators between the levels of one type (``;``) and between several types (``|``).
LABEL_LEVEL_SEPARATORS = r"[;；]"
LABEL_TYPE_SEPARATORS = r"[|｜]"

_COMPILED: dict[str, tuple[re.Pattern[str], re.Pattern[str] | None]] = {
    cat: (re.compile(inc, re.IGNORECASE), re.compile(exc, re.IGNORECASE) if exc else None)
    for cat, (inc, exc) in TEXT_RULES.items()
}


class Match(NamedTuple):
    """One category assigned to a feature and why.

    ``basis`` is ``"id"`` (the label is a category id), ``"label"``, ``"name"``,
    ``"tag <key>=<value>"`` or ``"hospital_as_ambulance"``.
    """

    category: str
    basis: str


def _ordered(matches: list[Match]) -> list[Match]:
    seen: dict[str, Match] = {}
    for m in matches:
        seen.setdefault(m.category, m)
    return [seen[c] for c in CATEGORIES if c in seen]


def _text_matches(text: str, basis: str) -> list[Match]:
    out = []
    for cat, (inc, exc) in _COMPILED.items():
        if inc.search(text) and not (exc is not None and exc.search(text)):
            out.append(Match(cat, basis))
    return out


def match_name(name: str | None) -> list[Match]:
    """Categories hinted by a feature's name (Chinese or English), with basis ``"name"``.

    Parameters
    ----------
    name : str or None
        A place name.

    Returns
    -------
    list of Match
        In canonical category order; empty when the name hints at nothing.

    Examples
    --------
    >>> match_name("武汉市第一中学")
    [Match(category='middle_school', basis='name')]
    """
    if not isinstance(name, str) or not name.strip():
        return []
    return _ordered(_text_matches(name.strip(), "name"))


def categories_from_name(name: str | None) -> list[str]:
    """Categories hinted by a feature's name, e.g. ``"武汉市第一中学"`` → ``["middle_school"]``.

    Parameters
    ----------
    name : str or None
        A place name in Chinese or English.

    Returns
    -------
    list of str
        Category ids in canonical order (empty if none).
    """
    return [m.category for m in match_name(name)]


def match_label(text: str | None) -> list[Match]:
    """Like :func:`categories_from_label` but also says why (see :class:`Match`).

    Parameters
    ----------
    text : str or None
        A POI type label (``"医疗保健服务;综合医院;综合医院"``) or category ids.

    Returns
    -------
    list of Match
        In canonical category order.
    """
    if not isinstance(text, str):
        return []
    text = text.strip()
    if not text:
        return []
    # 1. category ids, alone or joined by ; , |
    parts = [p.strip().lower() for p in re.split(r"[;,|；，｜]", text) if p.strip()]
    if parts and all(p in CATEGORY_DESCRIPTIONS for p in parts):
        return _ordered([Match(p, "id") for p in parts])
    out: list[Match] = []
    for one_type in re.split(LABEL_TYPE_SEPARATORS, text):
        levels = [p.strip() for p in re.split(LABEL_LEVEL_SEPARATORS, one_type) if p.strip()]
        levels = [p for p in levels if p not in AMAP_TOP_LEVEL]  # too broad on their own
        type_matches: list[Match] = []
        decided = False
        # most specific level first; an exact-table entry decides the whole type
        for level in reversed(levels):
            key = level if level in LABEL_EXACT else level.lower()
            if key in LABEL_EXACT:
                type_matches = [Match(c, "label") for c in LABEL_EXACT[key]]
                decided = True
                break
        if not decided:
            for level in levels:
                type_matches.extend(_text_matches(level, "label"))
            # exclusions apply to the whole type string (宠物 in any level …)
            whole = ";".join(levels)
            type_matches = [m for m in type_matches if not _excluded(m.category, whole)]
        out.extend(type_matches)
    return _ordered(out)


def categories_from_label(text: str | None) -> list[str]:
    """Categories of a free label from a user's category column.

    Accepts one of our category ids (or several joined by ``;``/``,``/``|``),
    a plain Chinese type (``医院``, ``图书馆``, ``公园``, ``中学``, ``超市``,
    ``体育场馆`` …), an Amap type string (``医疗保健服务;综合医院;综合医院``;
    several types joined by ``|``) or an English label (``hospital``,
    ``library``, ``park``, ``supermarket`` …).

    Parameters
    ----------
    text : str or None
        The label.

    Returns
    -------
    list of str
        Category ids in canonical order; empty when the label is not one of
        our facilities (a restaurant, a university …) or is empty.

    Examples
    --------
    >>> categories_from_label("医疗保健服务;综合医院;综合医院")
    ['primary_care']
    >>> categories_from_label("科教文化服务;学校;中学")
    ['middle_school']
    """
    return [m.category for m in match_label(text)]


def _excluded(category: str, text: str) -> bool:
    """True when ``text`` matches the exclusion pattern of ``category`` (宠物 for a hospital …)."""
    exclude = _COMPILED[category][1]
    return bool(exclude and exclude.search(text))


def _tag(tags: Mapping[str, object], key: str) -> str:
    value = tags.get(key)
    return value.strip().lower() if isinstance(value, str) else ""


def _values(tags: Mapping[str, object], key: str) -> set[str]:
    return {v.strip() for v in _tag(tags, key).split(";") if v.strip()}


def _names(tags: Mapping[str, object]) -> list[str]:
    return [v for k in NAME_TAGS if isinstance(v := tags.get(k), str) and v.strip()]


def _social_facility_matches(tags: Mapping[str, object]) -> list[Match]:
    """Elderly care from ``social_facility`` (nursing homes, assisted living; anything for seniors)."""
    sf = _values(tags, "social_facility")
    sf_for = _values(tags, "social_facility:for")
    out = []
    for v in sorted(sf & SOCIAL_FACILITY_ELDERLY):
        if sf_for & SENIOR_FOR_VALUES or (not sf_for and v in SOCIAL_FACILITY_ELDERLY_WITHOUT_FOR):
            out.append(Match("elderly_care", f"tag social_facility={v}"))
    if not out and sf_for & SENIOR_FOR_VALUES and (sf or "social_facility" in _values(tags, "amenity")):
        out.append(Match("elderly_care", "tag social_facility:for=senior"))
    return out


def _levels(text: str) -> set[int]:
    """Numbers in ``"1"``, ``"1;2"``, ``"1-3"``, ``"7-9"`` (ranges expanded); empty if none."""
    out: set[int] = set()
    for part in re.split(r"[;,]", text):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+))?\s*", part)
        if m:
            a, b = int(m.group(1)), int(m.group(2) or m.group(1))
            out.update(range(min(a, b), min(max(a, b), a + 20) + 1))
    return out


def _school_matches(tags: Mapping[str, object]) -> list[Match]:
    """The level of an ``amenity=school``: from its tags, its names, or assumed primary.

    Returns an empty list when tags or names say it is not a primary or
    middle school (a high school, a music school …).
    """
    said_otherwise = False
    isced = _tag(tags, "isced:level")
    if isced:
        levels = _levels(isced)
        cats = [c for lvl in sorted(levels) for c in ISCED_LEVELS.get(str(lvl), ())]
        if cats:
            return [Match(c, f"tag amenity=school+isced:level={isced}") for c in cats]
        said_otherwise = bool(levels)
    for key in ("school:level", "school"):
        value = _tag(tags, key)
        if not value:
            continue
        named = SCHOOL_LEVEL_VALUES.get(value)
        if named is None:  # a free value such as "grundschule" or "gymnasium": read like a name
            named = tuple(m.category for m in match_name(value) if m.category.endswith("_school"))
            said_otherwise |= not named and bool(NOT_PRIMARY_SCHOOL.search(value))
        else:
            said_otherwise |= not named
        if named:
            return [Match(c, f"tag amenity=school+{key}={value}") for c in named]
    grades = _levels(_tag(tags, "grades"))
    if grades:
        cats = [c for c, rng in (("primary_school", range(1, 7)), ("middle_school", range(7, 10)))
                if grades & set(rng)]
        if cats:
            return [Match(c, f"tag amenity=school+grades={_tag(tags, 'grades')}") for c in cats]
        said_otherwise = True
    names = [str(v) for k, v in tags.items() if isinstance(v, str) and v.strip() and (
        k in NAME_TAGS or k.startswith("name:") or k in ("official_name", "alt_name", "short_name"))]
    cats = sorted({m.category for n in names for m in match_name(n) if m.category.endswith("_school")},
                  key=CATEGORIES.index)
    if cats:
        return [Match(c, "tag amenity=school+name") for c in cats]
    if said_otherwise or any(NOT_PRIMARY_SCHOOL.search(n) for n in names):
        return []
    return [Match("primary_school", ASSUMED_PRIMARY_BASIS)]


def _name_hints_blocked(tags: Mapping[str, object]) -> bool:
    """True when a tag identifies the feature as something no tag rule counts as a facility
    (any shop, office, amenity other than a vague one, tourism, leisure …): its name must not
    override that.  A pedestrian area (highway=pedestrian) may still be named a square.
    """
    amenity = _values(tags, "amenity")
    if amenity & NAME_HINT_BLOCKING_AMENITIES or (amenity and not amenity <= NAME_HINT_VAGUE_AMENITIES):
        return True
    for key in NAME_HINT_BLOCKING_KEYS:
        if key == "amenity" or not _tag(tags, key):
            continue
        if key == "highway" and _tag(tags, key) == "pedestrian":
            continue
        return True
    return False


def match_tags(tags: Mapping[str, object], *, hospital_as_ambulance: bool = False) -> list[Match]:
    """Like :func:`categories_from_tags` but also says why (see :class:`Match`).

    Parameters
    ----------
    tags : mapping
        OSM tags of one feature.
    hospital_as_ambulance : bool, default False
        As for :func:`categories_from_tags`.

    Returns
    -------
    list of Match
        In canonical category order; the basis names the tag that decided.

    Examples
    --------
    >>> match_tags({"amenity": "pharmacy"})
    [Match(category='pharmacy', basis='tag amenity=pharmacy')]
    """
    out: list[Match] = []
    for key, values, cat in TAG_RULES:
        vals = _values(tags, key)
        hit = vals if values is None else vals & values
        for v in sorted(hit):
            if cat == "public_space" and _tag(tags, "access") in PRIVATE_ACCESS:
                continue
            out.append(Match(cat, f"tag {key}={v}"))
    # pedestrian areas are squares
    if _tag(tags, "highway") == "pedestrian" and _tag(tags, "area") == "yes":
        out.append(Match("public_space", "tag highway=pedestrian+area=yes"))
    out.extend(_social_facility_matches(tags))
    school_unresolved = False
    if "school" in _values(tags, "amenity"):
        school = _school_matches(tags)
        out.extend(school)
        school_unresolved = not school
    # hospital with an emergency department, only on request
    if hospital_as_ambulance and (
        "hospital" in _values(tags, "amenity") | _values(tags, "healthcare")
    ) and _tag(tags, "emergency") == "yes":
        out.append(Match("ambulance_station", "hospital_as_ambulance"))
    if out or school_unresolved:
        return _ordered(out)
    # name hints only when the tags do not say the feature is something else
    if _name_hints_blocked(tags):
        return []
    for n in _names(tags):
        out.extend(match_name(n))
    return _ordered(out)


def categories_from_tags(tags: Mapping[str, object], *, hospital_as_ambulance: bool = False) -> list[str]:
    """Categories of an OSM feature from its tags, then from its name.

    Tag rules (STANDARDS §4) come first.  Name hints (``name``, ``name:zh``,
    ``name:en``) are used only when no tag rule matched and the feature
    carries no tag saying it is something else (``shop``, ``office``, a
    restaurant, a road …).  ``amenity=school`` takes its level from
    ``isced:level`` (1 → primary, 2 → middle), ``school``/``school:level``,
    ``grades`` or its names; a school that says nothing counts as primary
    (assumed, see the module notes) unless a name says otherwise
    (中学, Gymnasium, lukio, high school …).

    Parameters
    ----------
    tags : mapping of str to str
        The feature's OSM tags.
    hospital_as_ambulance : bool, default False
        Count ``amenity=hospital`` with ``emergency=yes`` as an
        ``ambulance_station`` too (a fallback when no stations are mapped;
        use :func:`match_tags` to see which matches came from it).

    Returns
    -------
    list of str
        Category ids in canonical order (empty if none).

    Examples
    --------
    >>> categories_from_tags({"amenity": "school", "name": "武汉市光谷第十七小学"})
    ['primary_school']
    """
    return [m.category for m in match_tags(tags, hospital_as_ambulance=hospital_as_ambulance)]


def osm_query_tags(categories: Iterable[str] | None = None) -> dict[str, list[str]]:
    """The OSM tags to download for ``categories`` (default all), for osmnx
    ``features_from_polygon(tags=...)``: every tag the rules above read.

    Features recognised by their name only (untagged named nodes, common in
    China) cannot be selected by tag and are not included.

    Examples
    --------
    >>> osm_query_tags(["pharmacy"])
    {'amenity': ['pharmacy'], 'healthcare': ['pharmacy']}
    """
    wanted = set(CATEGORIES if categories is None else categories)
    unknown = wanted - set(CATEGORIES)
    if unknown:
        raise ValueError(f"unknown categories {sorted(unknown)}; expected some of {', '.join(CATEGORIES)}")
    tags: dict[str, set[str]] = {}
    for key, values, cat in TAG_RULES:
        if cat in wanted and values is not None:
            tags.setdefault(key, set()).update(values)
    if wanted & {"primary_school", "middle_school"}:
        tags.setdefault("amenity", set()).add("school")
    if "elderly_care" in wanted:
        tags.setdefault("amenity", set()).add("social_facility")
        tags.setdefault("social_facility", set()).update(SOCIAL_FACILITY_ELDERLY)
    if "public_space" in wanted:
        tags.setdefault("highway", set()).add("pedestrian")
    if "ambulance_station" in wanted:  # hospitals with emergency=yes (the reported fallback)
        tags.setdefault("amenity", set()).add("hospital")
    return {k: sorted(v) for k, v in sorted(tags.items())}


def classification_counts(facilities: pd.DataFrame, unclassified: pd.DataFrame | None = None) -> pd.DataFrame:
    """How many facilities each rule classified: the ``classification`` data-quality table.

    Parameters
    ----------
    facilities : DataFrame
        One row per (feature, category) with ``category``, ``basis`` and
        (optionally) ``source`` columns, as in :class:`circles.facilities.FacilitySet`.
    unclassified : DataFrame, optional
        Rows no rule matched (counted as rule ``"(no rule matched)"``).

    Returns
    -------
    pandas.DataFrame
        ``source, rule, category, count, assumed`` (``"yes"`` for guesses such
        as schools of no level counted as primary, and hospitals counted as
        ambulance stations), most frequent first within each source.
    """
    import pandas as pd

    columns = ["source", "rule", "category", "count", "assumed"]
    n = len(facilities)
    def text(column: str) -> list[str]:
        if column not in facilities:
            return [""] * n
        return ["" if v is None or v != v else str(v) for v in facilities[column]]

    frame = pd.DataFrame({"source": text("source"), "rule": text("basis"), "category": text("category")},
                         dtype=object)
    frame["rule"] = frame["rule"].replace("", "(given)")
    counts = frame.groupby(["source", "rule", "category"], sort=False).size().rename("count").reset_index()
    assumed = counts["rule"].map(lambda r: "assumed" in r or r == "hospital_as_ambulance").astype(bool)
    counts["assumed"] = np.where(assumed, "yes", "no")
    if unclassified is not None and len(unclassified):
        source = (unclassified["source"].fillna("").astype(str) if "source" in unclassified
                  else pd.Series([""] * len(unclassified)))
        extra = source.value_counts(sort=False).rename("count").rename_axis("source").reset_index()
        extra["rule"], extra["category"], extra["assumed"] = "(no rule matched)", "", "no"
        counts = pd.concat([counts, extra[columns]], ignore_index=True)
    counts = counts.sort_values(["source", "count"], ascending=[True, False], kind="stable")
    return counts[columns].reset_index(drop=True).astype({"count": int})
