"""Name and label patterns of the facility categories: the text half of :mod:`circles.classify`.

Chinese and English together.  :data:`TEXT_RULES` are regular expressions tried
on names and free labels (include, exclude); :data:`LABEL_EXACT` maps plain
labels straight to categories (or explicitly to none); :data:`AMAP_TOP_LEVEL`
lists Amap first-level POI types too broad to classify.  The functions that
apply them are in :mod:`circles.classify`, which re-exports these names.
"""

from __future__ import annotations

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
    "aed": (r"自动体外除颤|除颤仪|除颤器|(?<![A-Za-z])AED(?![A-Za-z])|\bdefibrillators?\b", None),
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
    "aed": ("aed",),
    "除颤仪": ("aed",),
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
