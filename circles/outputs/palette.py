"""One palette for every output: coverage map, score map and static figures.

Status colours follow the traffic-light reading planners expect (covered green,
partial amber, uncovered red); statuses that are *not* a verdict on service —
no population, off the network, no data — are neutral (greys, purple), and
``no_data`` is additionally hatched so it can never be read as "uncovered".
Candidate sites and chosen sites use blues and black, which no status uses, so
a high-scoring candidate never disappears on a red cell.
"""

from __future__ import annotations

__all__ = [
    "STATUSES",
    "STATUS_COLOURS",
    "STATUS_LABELS",
    "NO_DATA_HATCH",
    "NO_DATA_CSS",
    "CANDIDATE_COLOURS",
    "CANDIDATE_FLAGGED",
    "CHOSEN_COLOUR",
    "CHOSEN_TEXT",
    "CATEGORY_LABELS",
    "CATEGORY_ICONS",
    "OTHER_ICON",
    "OFFNET_ICON",
    "status_colour",
    "category_colour",
    "category_label",
]

#: Unit statuses in display order (contract 1).
STATUSES: tuple[str, ...] = ("covered", "partial", "uncovered", "empty", "off_network", "no_data")

#: Fill colour per unit status.
STATUS_COLOURS: dict[str, str] = {
    "covered": "#1a9850",
    "partial": "#f6a623",
    "uncovered": "#d73027",
    "empty": "#d9d9d9",
    "off_network": "#7b3294",
    "no_data": "#9e9e9e",
}

#: Status words per language.
STATUS_LABELS: dict[str, dict[str, str]] = {
    "zh": {"covered": "已覆盖", "partial": "部分覆盖", "uncovered": "未覆盖", "empty": "无人口",
           "off_network": "路网外", "no_data": "无数据"},
    "en": {"covered": "covered", "partial": "partly covered", "uncovered": "not covered",
           "empty": "no population", "off_network": "off the network", "no_data": "no data"},
}

#: ``no_data`` hatching: matplotlib hatch pattern, and the stripe colour on the grey fill.
NO_DATA_HATCH: str = "///"
NO_DATA_STRIPE: str = "#ffffff"
#: CSS background for a ``no_data`` legend swatch (grey with white diagonal stripes).
NO_DATA_CSS: str = (f"repeating-linear-gradient(45deg,{STATUS_COLOURS['no_data']} 0 4px,"
                    f"{NO_DATA_STRIPE} 4px 6px)")

#: Candidate sites, low → high score (blues: no status uses blue).
CANDIDATE_COLOURS: tuple[str, ...] = ("#c6dbef", "#6baed6", "#2171b5", "#08306b")
#: Candidates that were not scored (flagged, e.g. off the network).
CANDIDATE_FLAGGED: str = "#ffffff"
#: Chosen sites: a black badge with the rank in white.
CHOSEN_COLOUR: str = "#111111"
CHOSEN_TEXT: str = "#ffffff"

#: Category names (zh, en).
CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "grocery": ("菜市场/超市", "grocery"),
    "primary_care": ("社区卫生/诊所", "primary care"),
    "pharmacy": ("药店", "pharmacy"),
    "kindergarten": ("幼儿园", "kindergarten"),
    "primary_school": ("小学", "primary school"),
    "middle_school": ("初中", "middle school"),
    "culture": ("文化设施", "culture"),
    "sports": ("体育设施", "sports"),
    "public_space": ("公园广场", "parks and squares"),
    "ambulance_station": ("急救站", "ambulance station"),
    "elderly_care": ("养老设施", "elderly care"),
    "aed": ("公共场所AED", "public AED"),
}

#: Font Awesome icon, awesome-markers colour name and its hex, per facility category.
CATEGORY_ICONS: dict[str, tuple[str, str, str]] = {
    "grocery": ("basket-shopping", "orange", "#f69730"),
    "primary_care": ("house-medical", "red", "#d63e2a"),
    "pharmacy": ("pills", "lightred", "#ff8e7f"),
    "kindergarten": ("child", "pink", "#ff91ea"),
    "primary_school": ("school", "blue", "#38aadd"),
    "middle_school": ("graduation-cap", "darkblue", "#0067a3"),
    "culture": ("book", "purple", "#d252b9"),
    "sports": ("futbol", "cadetblue", "#436978"),
    "public_space": ("tree", "green", "#72b026"),
    "ambulance_station": ("truck-medical", "darkred", "#a23336"),
    "elderly_care": ("person-cane", "darkpurple", "#5b396b"),
    "aed": ("heart-pulse", "lightred", "#ff8e7f"),
}
OTHER_ICON: tuple[str, str, str] = ("location-dot", "black", "#303030")
#: Facilities off the network: awesome-markers colour name and hex.
OFFNET_ICON: tuple[str, str] = ("lightgray", "#a3a3a3")


def status_colour(status: object) -> str:
    """Fill colour of a status (unknown or missing: the ``empty`` grey).

    Parameters
    ----------
    status : str or None
        ``"covered"``, ``"partial"``, ``"uncovered"``, ``"off_network"``, ``"no_data"`` ….

    Returns
    -------
    str
        A hex colour from :data:`STATUS_COLOURS`.

    Examples
    --------
    >>> status_colour("covered"), status_colour(None)
    ('#1a9850', '#d9d9d9')
    """
    return STATUS_COLOURS.get(str(status), STATUS_COLOURS["empty"])


def category_colour(category: str) -> str:
    """Hex colour of a facility category (unknown: the "other" dark grey).

    Parameters
    ----------
    category : str
        A facility category id.

    Returns
    -------
    str
        The hex colour of :data:`CATEGORY_ICONS` (maps, figures and the scenario editor use the same).

    Examples
    --------
    >>> category_colour("public_space"), category_colour("spaceport")
    ('#72b026', '#303030')
    """
    return CATEGORY_ICONS.get(category, OTHER_ICON)[2]


def category_label(category: str, lang: str) -> str:
    """A category id in words; an unknown id is shown as it is.

    Parameters
    ----------
    category : str
        A facility category id.
    lang : {"zh", "en"}
        Language of the words.

    Returns
    -------
    str

    Examples
    --------
    >>> category_label("public_space", "zh"), category_label("public_space", "en")
    ('公园广场', 'parks and squares')
    """
    zh, en = CATEGORY_LABELS.get(category, (category, category))
    return zh if lang == "zh" else en
