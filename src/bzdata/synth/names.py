"""Names for the synthetic Binzhou: persons (surname frequencies as in Shandong), 市场主体 names
by organisation form and industry, and plausible wrong copies of both (homophones, variant
organisation forms) for consistency checks.

Every function draws from the `numpy.random.Generator` it is given, so a seed fixes the output.
All text is in GB2312/GBK, which departments' export files use.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from functools import lru_cache

import numpy as np
from pypinyin import Style, lazy_pinyin, pinyin

from bzdata.synth.places import COUNTIES, SHORT_NAMES, TOWNS, cn_number, county_code

__all__ = [
    "BRAND_CHARS",
    "FEMALE_CHARS",
    "MALE_CHARS",
    "SURNAMES",
    "entity_name_variant",
    "entity_names",
    "gbk_safe",
    "homophone_index",
    "homophone_variant",
    "homophone_variants",
    "person_names",
    "split_name",
]

# Relative frequency (per 10 000 people, Shandong-like ordering) of each surname.
_SURNAME_TABLE = """
    王:880 张:800 李:760 刘:620 孙:330 杨:300 赵:290 陈:270 高:240 马:220 徐:200 于:190 宋:170
    韩:160 董:150 吴:150 周:150 郭:140 魏:130 吕:120 田:120 崔:120 朱:120 贾:110 石:110 郑:100
    任:100 丁:100 曹:100 许:95 袁:90 胡:90 范:85 薛:80 程:80 冯:80 邢:75 牛:75 姜:75 侯:70 尹:70
    毕:65 杜:65 盖:60 付:60 何:60 林:60 梁:60 孟:60 商:55 谢:55 白:55 唐:50 苏:50 秦:50 常:50 黄:50
    邓:45 罗:45 卢:45 路:45 武:45 史:45 蒋:40 彭:40 潘:40 庞:40 葛:40 房:40 鲁:40 夏:40 邵:40 姚:40
    耿:40 闫:40 聂:35 解:35 单:35 曲:35 岳:35 蔡:35 齐:35 展:30 颜:30 陶:30 阎:30 申:30 左:30 霍:30
    方:30 宫:30 成:30 贺:30 柴:30 翟:30 安:30 康:30 沈:30 苗:30 纪:30 江:25 殷:25 巩:25 傅:25 尚:25
    汪:20 祝:20 桑:20 仇:20 钟:20 车:20 边:20 代:20 戴:20 隋:20 穆:20 綦:15 卜:15 芦:15 刁:15 信:15
    逯:10 班:10 欧阳:3 司马:2 诸葛:2 上官:2
"""
SURNAMES: dict[str, float] = {
    name: float(freq) for name, freq in (item.split(":") for item in _SURNAME_TABLE.split())
}
_COMPOUND_SURNAMES = frozenset(s for s in SURNAMES if len(s) == 2)

# Given-name characters, most common first (weights fall off along each string).
MALE_CHARS = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁亮林峰建国志永俊文浩宇博凯健成海龙东兵新庆利"
    "清春福民光生振兴德胜祥瑞洪江山顺忠义宏昌晨晓子轩睿泽航昊然天一家豪嘉铭旭阳帆毅锋彬"
    "良怀政贵宝全安世树茂奇坤晖亚雷猛冬钢荣金玉学云立松柏岩增长连广友先发书景维继绍承恒"
    "启思源宸皓煜哲朗逸骏凡诚锐鸿远栋梓言硕晋卫彦庭敬功培庚涵聪"
)
FEMALE_CHARS = (
    "芳娜敏静丽艳娟霞秀英华玲红梅兰燕萍雪琳洁倩婷颖慧莉佳晶欣悦怡雯琪璐丹妍蕾薇露月彤馨"
    "涵萱瑶婉淑珍翠凤玉桂春美荣爱素云金香花菊莲荷芬芹琴巧娇媛嫣姗妮嘉雨思梦语诗可晓宁安"
    "文一心紫若子小亚明艺洋楠岚虹青清瑞彩菲蓉珊琼婕晨冰雁蓓茜曼佩卉蕊苗双立晴冉瑾璇琦韵"
    "雅惠秋平莹婧蓝羽凌菁霏妙蕙芸绮舒颜童娅柳依黛沐瑜娴"
)
TWO_CHAR_SHARE = 0.7  # share of given names with two characters

# Brand characters (字号) of company names, most common first.
BRAND_CHARS = (
    "鑫源恒泰华盛博瑞鼎宏昌隆兴达丰通信诚祥和顺利安康宇航天海金润德荣富佳美嘉汇聚众联合"
    "创新益晟锦辉明光远程正大中东方永旺发泽亿万千百星晨阳蓝绿青春秋景林森宝玉鹏龙凤鸿腾"
    "飞跃峰岳山川江河湖滨渤齐鲁沃力强科智慧睿思尚优品卓越立本元亨吉福喜乐悦欣馨怡雅淳厚"
    "仁义礼忠诺邦城都港湾洋帆舟桥驰骏麒麟豪雄威捷迅精工匠艺彩虹霖雨露霞云峻嵘岩石磊淼焱"
    "晶炜烨煜琪璟瑾琦珑瀚浩澜洁清溢涌涛奥亚欧特普健坤乾启铭灿旭硕崇昊晖凯振同舜禾沁雍"
    "伟业"
)

# GB/T 4754 门类 -> industry words of company names.
_INDUSTRY_TEXT: dict[str, str] = {
    "A": "农业科技 生态农业 种植 养殖 农牧 林业 渔业 果蔬 畜牧",
    "B": "矿业 石材 砂石 盐业 油田技术服务",
    "C": "机械制造 纺织 化工 食品 棉业 铝业 家纺 塑料制品 橡胶 钢结构 新材料 汽车配件 "
    "粮油 面粉 木业 包装 服饰 印刷 医疗器械 电子 石化 建材",
    "D": "电力 热力 燃气 供水 新能源 光伏",
    "E": "建筑工程 建设工程 建筑安装工程 装饰工程 路桥工程 市政工程 防水工程",
    "F": "商贸 贸易 经贸 物资 医药 农资 汽车销售 食品销售 五金",
    "G": "物流 运输 货运 仓储 快递",
    "H": "餐饮管理 酒店管理 餐饮服务 宾馆",
    "I": "信息技术 软件 网络科技 电子科技 数据科技 通信技术",
    "J": "投资 融资担保 资产管理 典当",
    "K": "置业 房地产开发 物业管理 房地产经纪",
    "L": "商务信息咨询 企业管理咨询 人力资源 广告 租赁 会展服务",
    "M": "工程技术 检测 环境科技 设计 技术服务 生物技术 勘察设计",
    "N": "环保科技 水务 园林绿化 环境工程 市政设施管理",
    "O": "家政服务 汽车维修 保洁服务 家电维修 美容美发",
    "P": "教育科技 教育咨询 职业培训",
    "Q": "医疗管理 健康管理 养老服务 康复",
    "R": "文化传媒 文化传播 体育发展 影视 娱乐",
    "S": "社区服务 公共服务",
}
INDUSTRY_WORDS = {k: tuple(v.split()) for k, v in _INDUSTRY_TEXT.items()}
# GB/T 4754 门类 -> shop words of 个体工商户 and 个人独资企业 names.
_SHOP_TEXT: dict[str, str] = {
    "A": "家庭农场 养殖场 种植园 果园",
    "B": "石料厂 砂石场",
    "C": "加工坊 面粉加工厂 木器加工厂 服装加工厂 食品加工坊 机械加工部",
    "D": "供暖服务部 液化气站",
    "E": "装修队 建筑工程队 水电安装部",
    "F": "便利店 超市 百货店 五金店 建材经营部 日用品商店 粮油店 水果店 烟酒店 农资经营部",
    "G": "货运部 运输队 物流配送站",
    "H": "饭店 餐馆 小吃店 烧烤店 快餐店 包子铺 旅馆",
    "I": "电脑维修部 网络服务部 手机店",
    "J": "财务咨询部",
    "K": "房产信息部 房屋中介",
    "L": "广告部 劳务服务部 图文设计部",
    "M": "技术服务部 测绘服务部",
    "N": "保洁服务部 绿化工程部",
    "O": "理发店 洗车行 家电维修部 美容店 汽车修理部 干洗店",
    "P": "培训部 辅导班",
    "Q": "诊所 按摩店",
    "R": "文化工作室 摄影工作室 棋牌室 书店",
    "S": "服务部",
}
SHOP_WORDS = {k: tuple(v.split()) for k, v in _SHOP_TEXT.items()}
# 农民专业合作社 products, with the county specialities (沾化冬枣, 阳信鸭梨, 无棣金丝小枣).
_COOP_TEXT = (
    "蔬菜种植 冬枣种植 小麦种植 粮食种植 棉花种植 果蔬种植 中药材种植 食用菌种植 苗木种植 "
    "肉牛养殖 生猪养殖 蛋鸡养殖 肉鸭养殖 肉羊养殖 水产养殖 农机 植保 土地股份 林果种植 鸭梨种植 "
    "金丝小枣种植"
)
COOP_PRODUCTS = tuple(_COOP_TEXT.split())

COMPANY_TYPES = ("1100", "1200")
# Region prefix of company names: city, city with 市, county short name, county name, province.
_PREFIX_P = (0.3, 0.1, 0.3, 0.15, 0.15)
_SOLE_SUFFIXES = ("经营部", "商行", "中心", "厂", "工作室")
_PARTNER_FORMS = (
    "合伙企业（有限合伙）",
    "投资中心（有限合伙）",
    "中心（普通合伙）",
    "合伙企业（普通合伙）",
)
_MAX_ROUNDS = 6


def _weights(n: int, flat: float) -> np.ndarray:
    """Zipf-like weights 1/(rank+flat), normalised: a larger `flat` gives a flatter curve."""
    w = 1.0 / (np.arange(n) + flat)
    return w / w.sum()


def _unique_chars(s: str) -> np.ndarray:
    return np.asarray(list(dict.fromkeys(s)), dtype=object)


_SURNAME_ARR = np.asarray(list(SURNAMES), dtype=object)
_SURNAME_P = np.asarray(list(SURNAMES.values())) / sum(SURNAMES.values())
_BRAND = _unique_chars(BRAND_CHARS)
_BRAND_P = _weights(len(_BRAND), 40)


@lru_cache(maxsize=2)
def _given_table(chars: str) -> tuple[np.ndarray, np.ndarray]:
    """Every given name from a pool: index i*(k+1)+j is chars[i]+chars[j] (j == k: one char)."""
    pool = list(dict.fromkeys(chars))
    k = len(pool)
    table = np.asarray([a + b for a in pool for b in [*pool, ""]], dtype=object)
    return table, _weights(k, 15)


def _draw_given(rng: np.random.Generator, n: int, chars: str) -> np.ndarray:
    table, p = _given_table(chars)
    k = len(p)
    first = rng.choice(k, size=n, p=p)
    second = np.where(rng.random(n) < TWO_CHAR_SHARE, rng.choice(k, size=n, p=p), k)
    return table[first * (k + 1) + second]


def person_names(rng: np.random.Generator, sex: np.ndarray) -> np.ndarray:
    """One name per entry of `sex` (GB/T 2261.1: '1' male, '2' female, other codes draw from
    either pool) as an object array of str."""
    sex = np.asarray(sex)
    n = len(sex)
    male = sex == "1"
    female = sex == "2"
    other = ~(male | female)
    if other.any():  # unknown sex: half from each pool
        coin = rng.random(n) < 0.5
        male |= other & coin
        female |= other & ~coin
    given = np.empty(n, dtype=object)
    given[male] = _draw_given(rng, int(male.sum()), MALE_CHARS)
    given[female] = _draw_given(rng, int(female.sum()), FEMALE_CHARS)
    return _SURNAME_ARR[rng.choice(len(_SURNAME_ARR), size=n, p=_SURNAME_P)] + given


def split_name(name: str) -> tuple[str, str]:
    """(surname, given name), knowing the two-character surnames."""
    cut = 2 if name[:2] in _COMPOUND_SURNAMES and len(name) > 2 else 1
    return name[:cut], name[cut:]


# --- homophones -----------------------------------------------------------------------------


def _gb2312_level1() -> list[str]:
    """The 3755 level-1 characters of GB2312 (rows 0xB0-0xD7, the last row ending at 0xF9)."""
    out = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            if hi == 0xD7 and lo > 0xF9:
                break
            out.append(bytes((hi, lo)).decode("gb2312"))
    return out


@lru_cache(maxsize=1)
def homophone_index() -> dict[str, tuple[str, ...]]:
    """Toneless pinyin -> GB2312 level-1 characters with that single reading (heteronyms left
    out so the homophone is unambiguous). Built once, about 0.1 s."""
    chars = _gb2312_level1()
    index: dict[str, list[str]] = {}
    for c, readings in zip(chars, pinyin(chars, style=Style.NORMAL, heteronym=True), strict=True):
        if len(set(readings)) == 1 and readings[0].isascii() and readings[0].isalpha():
            index.setdefault(readings[0], []).append(c)
    return {k: tuple(v) for k, v in index.items()}


_FAMILIAR = frozenset(MALE_CHARS + FEMALE_CHARS + BRAND_CHARS)
FAMILIAR_SHARE = 0.7  # how often a wrong copy uses a familiar name/brand character if one fits


@lru_cache(maxsize=8192)
def _homophones(char: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(familiar, all) other characters read like `char` (its default reading). Familiar ones
    are name and brand characters: the input method offers those first (晓明 -> 晓铭)."""
    reading = lazy_pinyin(char)[0]
    every = tuple(c for c in homophone_index().get(reading, ()) if c != char)
    return tuple(c for c in every if c in _FAMILIAR), every


def _swap_one(text: str, lo: int, u: list[float]) -> str | None:
    """`text` with one character at position >= lo replaced by a homophone, chosen by three
    uniform numbers; None if no character there has one."""
    positions = [i for i in range(lo, len(text)) if _homophones(text[i])[1]]
    if not positions:
        return None
    i = positions[int(u[0] * len(positions))]
    familiar, every = _homophones(text[i])
    options = familiar if familiar and u[1] < FAMILIAR_SHARE else every
    return text[:i] + options[int(u[2] * len(options))] + text[i + 1 :]


def homophone_variant(name: str, rng: np.random.Generator) -> str | None:
    """The person name with one given-name character replaced by a homophone (王晓明 -> 王小明),
    surname untouched; None when no given-name character has a homophone."""
    return _swap_one(name, len(split_name(name)[0]), rng.random(3).tolist())


def homophone_variants(names: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`homophone_variant` over an array (object array, None where impossible)."""
    names = np.asarray(names, dtype=object)
    u = rng.random((len(names), 3)).tolist()
    out = np.empty(len(names), dtype=object)
    out[:] = [
        _swap_one(s, len(split_name(s)[0]), r) if isinstance(s, str) and s else None
        for s, r in zip(names, u, strict=True)
    ]
    return out


# --- entity names ---------------------------------------------------------------------------


def _pick(rng: np.random.Generator, options: tuple[str, ...], n: int) -> np.ndarray:
    arr = np.asarray(options, dtype=object)
    return arr[rng.integers(0, len(arr), n)]


class _Choices:
    """Word lists keyed by index, flattened so one draw picks a word for every row's key."""

    def __init__(self, lists: list[tuple[str, ...]]) -> None:
        self.words = np.asarray([w for ws in lists for w in ws], dtype=object)
        self.size = np.asarray([len(ws) for ws in lists])
        self.start = np.r_[0, np.cumsum(self.size)[:-1]]

    def draw(self, rng: np.random.Generator, keys: np.ndarray) -> np.ndarray:
        offset = (rng.random(len(keys)) * self.size[keys]).astype(np.int64)
        return self.words[self.start[keys] + offset]


_COUNTY_CODES = list(COUNTIES)
_INDUSTRIES = list(INDUSTRY_WORDS)
_INDUSTRY_CHOICES = _Choices([INDUSTRY_WORDS[k] for k in _INDUSTRIES])
_SHOP_CHOICES = _Choices([SHOP_WORDS[k] for k in _INDUSTRIES])
_TOWN_CHOICES = _Choices([TOWNS[c] for c in _COUNTY_CODES])
# Region prefix of company names per county (rows) and kind (columns, as in _PREFIX_P).
_PREFIXES = np.asarray(
    [["滨州", "滨州市", SHORT_NAMES[c], COUNTIES[c], "山东"] for c in _COUNTY_CODES], dtype=object
)
_FULL = np.asarray([COUNTIES[c] for c in _COUNTY_CODES], dtype=object)
ENTITY_TYPES = ("1100", "1200", "4100", "4200", "9100", "9600")


def _brands(rng: np.random.Generator, n: int) -> np.ndarray:
    a = rng.choice(len(_BRAND), size=n, p=_BRAND_P)
    b = rng.choice(len(_BRAND), size=n, p=_BRAND_P)
    same = a == b  # 鑫鑫 happens, but rarely: redraw once, uniformly
    b[same] = rng.integers(0, len(_BRAND), int(same.sum()))
    return _BRAND[a] + _BRAND[b]


def _parts(
    rng: np.random.Generator,
    county: np.ndarray,
    industry: np.ndarray,
    etype: np.ndarray,
    owner: np.ndarray,
    attempt: int,
) -> tuple[np.ndarray, ...]:
    """(head, mid, tail) of names from county and industry indexes; the mid part is where
    disambiguation goes."""
    n = len(county)
    head = _PREFIXES[county, rng.choice(len(_PREFIX_P), size=n, p=_PREFIX_P)]
    mid = _brands(rng, n)
    words = _INDUSTRY_CHOICES.draw(rng, industry)
    u = rng.random(n)
    tail = np.empty(n, dtype=object)

    m = etype == "1100"
    # Most limited-liability companies register as 有限公司, some spell out 有限责任公司.
    tail[m] = words[m] + np.where(u[m] < 0.85, "有限公司", "有限责任公司").astype(object)
    m = etype == "1200"
    tail[m] = words[m] + "股份有限公司"
    m = etype == "4100"
    tail[m] = words[m] + _pick(rng, _SOLE_SUFFIXES, int(m.sum())) + "（个人独资）"
    m = etype == "4200"
    tail[m] = words[m] + _pick(rng, _PARTNER_FORMS, int(m.sum()))

    m = etype == "9100"
    head[m] = _FULL[county[m]] + _TOWN_CHOICES.draw(rng, county[m])
    tail[m] = _pick(rng, COOP_PRODUCTS, int(m.sum())) + "专业合作社"

    m = np.flatnonzero(etype == "9600")
    owners = owner[m]
    head[m] = _FULL[county[m]] + owners
    # A shop carries the owner's name alone until that name is taken in the county.
    if attempt == 0:
        mid[m[owners != ""]] = ""
    tail[m] = _SHOP_CHOICES.draw(rng, industry[m])
    return head, mid, tail


def _later_duplicates(names: np.ndarray, taken: set[str]) -> np.ndarray:
    seen = set(taken)
    dup = []
    for i, s in enumerate(names.tolist()):
        if s in seen:
            dup.append(i)
        else:
            seen.add(s)
    return np.asarray(dup, dtype=np.int64)


def _index(values: np.ndarray, keys: list[str], convert, what: str) -> np.ndarray:
    """Positions of `values` in `keys` after `convert`, converting each distinct value once."""
    uniq, inverse = np.unique(np.asarray(values).astype(str), return_inverse=True)
    pos = {k: i for i, k in enumerate(keys)}
    lookup = []
    for v in uniq.tolist():
        key = convert(v)
        if key not in pos:
            raise ValueError(f"未知的{what}：{v}")
        lookup.append(pos[key])
    return np.asarray(lookup, dtype=np.int64)[inverse].reshape(-1)


def _county_key(code: str) -> str:
    try:
        return county_code(code)
    except ValueError:
        return code


def entity_names(
    rng: np.random.Generator,
    county_codes: np.ndarray,
    industry_codes: np.ndarray,
    entity_types: np.ndarray,
    owner_names: np.ndarray,
    taken: Collection[str] | None = None,
) -> np.ndarray:
    """Unique 市场主体 names (object array of str), also unique against `taken`.

    county_codes are GB/T 2260 codes (retired Binzhou codes are mapped to current ones),
    industry_codes GB/T 4754 门类 letters (longer codes use their first letter), entity_types
    the registry's 市场主体类型 codes and owner_names the operators' names (used for 个体工商户
    only; None or '' gives a brand name instead).
    """
    n = len(county_codes)
    if not n == len(industry_codes) == len(entity_types) == len(owner_names):
        raise ValueError("行政区划、行业、类型、经营者姓名的数量应一致")
    if n == 0:
        return np.empty(0, dtype=object)
    county = _index(county_codes, _COUNTY_CODES, _county_key, "滨州市县（市、区）代码")
    industry = _index(industry_codes, _INDUSTRIES, lambda v: v[:1], "行业门类")
    etype = np.asarray(entity_types).astype(str)
    unknown = ~np.isin(etype, ENTITY_TYPES)
    if unknown.any():
        raise ValueError(f"未知的市场主体类型：{etype[unknown][0]}")
    owner = np.asarray([o if isinstance(o, str) else "" for o in owner_names], dtype=object)
    taken_set = set(taken or ())
    head, mid, tail = _parts(rng, county, industry, etype, owner, 0)
    names = head + mid + tail
    for attempt in range(1, _MAX_ROUNDS + 1):
        dup = _later_duplicates(names, taken_set)
        if len(dup) == 0:
            return names
        h, m, t = _parts(rng, county[dup], industry[dup], etype[dup], owner[dup], attempt)
        head[dup], mid[dup], tail[dup] = h, m, t
        names[dup] = h + m + t
    # Still taken after fresh draws: number them 第二, 第三 … as registries do for branches.
    seen = set(taken_set)
    for i, s in enumerate(names.tolist()):
        k = 1
        while s in seen:
            k += 1
            s = f"{head[i]}{mid[i]}第{cn_number(k)}{tail[i]}"
        names[i] = s
        seen.add(s)
    return names


def _region_prefixes() -> list[str]:
    """Region words that open entity names, longest first so 滨州市 wins over 滨州."""
    words = {"山东", "滨州市", "滨州", *COUNTIES.values(), *SHORT_NAMES.values()}
    return sorted(words, key=len, reverse=True)


_FORM_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "专业合作社",
    "（个人独资）",
    "（有限合伙）",
    "（普通合伙）",
)


def entity_name_variant(name: str, rng: np.random.Generator) -> str | None:
    """A plausible wrong copy of an entity name: a homophone in the brand or words, 有限公司 <->
    有限责任公司, 滨州市 -> 滨州 (or a county's 市/县/区 dropped), or half-width brackets.
    Never equal to `name`; None if none applies."""
    options: list[str] = []
    if name.endswith("有限责任公司"):
        options.append(name[: -len("有限责任公司")] + "有限公司")
    elif name.endswith("有限公司") and not name.endswith("股份有限公司"):
        options.append(name[: -len("有限公司")] + "有限责任公司")
    start = 0
    for prefix in _region_prefixes():
        if name.startswith(prefix):
            start = len(prefix)
            if prefix == "滨州市" or prefix in COUNTIES.values():
                options.append(prefix[:-1] + name[start:])
            break
    if "（" in name:
        options.append(name.replace("（", "(").replace("）", ")"))
    end = len(name)
    for suffix in _FORM_SUFFIXES:
        if suffix in name:
            end = min(end, name.index(suffix))
    u = rng.random(4).tolist()
    swapped = _swap_one(name[:end], start, u)
    if swapped is not None:
        options.append(swapped + name[end:])
    options = [o for o in options if o != name]
    if not options:
        return None
    return options[int(u[3] * len(options))]


def gbk_safe(texts: Iterable[str]) -> bool:
    """True if every text encodes in GBK (the departments' export encoding)."""
    try:
        "\n".join(texts).encode("gbk")
    except UnicodeEncodeError:
        return False
    return True
