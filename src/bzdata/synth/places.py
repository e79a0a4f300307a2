"""Places of the synthetic Binzhou: counties with population shares, their real 乡镇/街道,
roads, standard addresses (标准地址), hospitals with maternity services and the authorities
that issue documents.

Town codes follow GB/T 10114 numbering (街道 001-099, 镇 100-199, 乡 200-399) and community
codes the 居委会/村委会 split (社区 001-199, 村 200-399), so the 18-digit address codes look like
real ones: county (6) + town (3) + community (3) + door sequence (6).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bzdata.ids.region import CITY_CODE, CITY_NAME, COUNTIES, current_code

__all__ = [
    "COUNTIES",
    "POPULATION_SHARE",
    "SHORT_NAMES",
    "TOWNS",
    "build_addresses",
    "civil_affairs",
    "county_code",
    "health_authority",
    "hospital_names",
    "human_resources",
    "issuing_authorities",
    "market_regulator",
    "public_security",
    "roads",
    "town_codes",
]

PROVINCE = "山东省"
_STRING = pa.string()

# 7th census (2020-11-01), 393.1 万 residents. 邹平 77.4 万 (19.7 %); the 经济技术开发区 and
# 高新区 (about 22 万) were carved out of 滨城区 and are counted with it here.
POPULATION_SHARE: dict[str, float] = {
    "371602": 0.217,
    "371603": 0.086,
    "371621": 0.152,
    "371622": 0.111,
    "371623": 0.112,
    "371625": 0.125,
    "371681": 0.197,
}

SHORT_NAMES: dict[str, str] = {code: name[:-1] for code, name in COUNTIES.items()}


def _split(s: str) -> tuple[str, ...]:
    return tuple(s.split())


TOWNS: dict[str, tuple[str, ...]] = {
    "371602": _split(
        "市中街道 市东街道 市西街道 北镇街道 滨北街道 杜店街道 沙河街道 彭李街道 小营街道 "
        "梁才街道 里则街道 三河湖镇 杨柳雪镇 秦皇台乡"
    ),
    "371603": _split(
        "富国街道 富源街道 下洼镇 古城镇 冯家镇 泊头镇 大高镇 黄升镇 滨海镇 下河乡 利国乡"
    ),
    "371621": _split(
        "孙武街道 武定府街道 何坊街道 石庙镇 桑落墅镇 淄角镇 胡集镇 李庄镇 麻店镇 魏集镇 "
        "清河镇 姜楼镇 辛店镇 大年陈镇 皂户李镇"
    ),
    "371622": _split(
        "信城街道 金阳街道 商店镇 温店镇 河流镇 翟王镇 流坡坞镇 水落坡镇 劳店镇 洋湖乡"
    ),
    "371623": _split(
        "棣丰街道 海丰街道 水湾镇 碣石山镇 小泊头镇 埕口镇 马山子镇 车王镇 柳堡镇 佘家镇 "
        "信阳镇 西小王镇"
    ),
    "371625": _split(
        "城东街道 锦秋街道 博昌街道 曹王镇 兴福镇 陈户镇 湖滨镇 店子镇 吕艺镇 纯化镇 庞家镇 乔庄镇"
    ),
    "371681": _split(
        "黛溪街道 黄山街道 高新街道 好生街道 西董街道 长山镇 魏桥镇 临池镇 焦桥镇 韩店镇 "
        "孙镇 九户镇 青阳镇 明集镇 台子镇 码头镇"
    ),
}

_CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """Chinese numeral for 1..99 as used in road and ordinal names (十二, 二十四)."""
    if not 0 < n < 100:
        raise ValueError(f"仅支持1到99的数字：{n}")
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")
    return head + (_CN_DIGITS[ones] if ones else "")


def _series(stem: str, last: int, suffix: str = "路") -> list[str]:
    return [f"{stem}{cn_number(i)}{suffix}" for i in range(1, last + 1)]


# Numbered grids as the county seats have them (滨州's 黄河X路 run east-west, 渤海X路
# north-south) plus named streets; enough of them that a town's communities rarely share one.
_ROADS: dict[str, tuple[str, ...]] = {
    "371602": (
        *_series("黄河", 22),
        *_series("渤海", 28),
        *_series("长江", 8),
        *_series("梧桐", 8),
        *_series("东海", 3),
        *_split(
            "新立河东路 新立河西路 黄河大道 渤海大道 中海路 滨北路 杜店路 沙河路 彭李路 "
            "北海路 凤凰路 青田路 永莘路 东外环路 西外环路 南海路 秦台路 里则路"
        ),
    ),
    "371603": (
        *_series("富源", 6),
        *_series("金海", 6),
        *_series("富国", 4),
        *_split("恒业路 胜利路 沾化大街 昌平路 新城路 滨海路 徒骇河路 冬枣大道 利民路"),
    ),
    "371621": (
        *_series("孙武", 6),
        *_series("武定府", 4),
        *_split(
            "鼓楼街 乐安大街 中心大街 南外环路 北外环路 何坊路 历山路 滨惠大道 文化路 "
            "开元路 永安路 建设街 兴业路"
        ),
    ),
    "371622": (
        *_series("阳城", 8),
        *_series("信城", 4),
        *_split("金阳路 工业路 商贸街 幸福路 鸭梨大道 河流路 温店路 文化路 青年路 兴阳路"),
    ),
    "371623": (
        *_series("棣新", 6),
        *_series("海丰", 6),
        *_split("新城路 碣石山路 无棣大街 古城路 车镇路 棣州路 埕口路 文昌路 兴业路"),
    ),
    "371625": (
        *_series("博城", 6),
        *_series("兴博", 4),
        *_split(
            "乐安大街 新博路 锦秋路 博昌路 胜利路 湖滨路 吕剧大街 城东路 京博路 纯化路 "
            "清河路 樱花路"
        ),
    ),
    "371681": (
        *_series("鹤伴", 4),
        *_series("黛溪", 6),
        *_series("醴泉", 8),
        *_series("会仙", 6),
        *_split(
            "月河路 城北路 东外环路 西外环路 好生路 魏桥大道 长山大街 鲁中大道 范公路 "
            "礼参路 孝妇河路 九户路 开发区大道"
        ),
    ),
}

# Two-character words of urban community names (社区).
_COMMUNITY_WORDS = _split(
    "渤海 黄河 新立 彩虹 东城 锦华 滨河 明珠 福苑 丽园 康居 幸福 和平 翠苑 兴华 阳光 "
    "花园 嘉和 怡景 富源 金海 银河 春晖 秀水 龙城 凤凰 鹤鸣 安泰 瑞丰 宏达 永安 民和 "
    "新城 北海 南苑 西苑 东苑 中心 文苑 书香 御景 世纪 时代 盛世 华府 紫荆 玉兰 海棠 "
    "桂花 梧桐 银杏 樱花 清怡 锦绣 万象 恒大 绿洲 湖畔 水岸 河畔 广场 新华 建设 胜利 "
    "工人 育才 博文 学府 政通 人和 康宁 德润 惠民 利民 乐安 武定 海丰 信城 金阳 锦秋 "
    "博昌 黛溪 醴泉 会仙 鹤伴 长山 孙武 棣州 滨城 富国 三河 秦台 杜店 沙河 彭李 梁才 "
    "里则 小营 杨柳 青田 中海 华庭 雅居 嘉园 丽景 尚城 泰和 顺和 祥和 瑞和 盛和 安和"
)
# Surnames that name villages (张家村, 前李村); weights follow how common the surname is.
_VILLAGE_SURNAMES = (
    "王张李刘孙杨赵高马徐陈于宋韩董吴周郭魏吕田崔朱贾石郑任丁曹许袁胡范薛程冯邢牛姜"
    "侯尹毕盖商付杜何林梁谢唐白苏卢秦常孟路庞葛房解鲁单夏曲邵武姚史耿闫霍宫贺柴岳齐"
)
_VILLAGE_WORDS = _split(
    "新立 太平 三里庄 八里庄 五里堡 十里铺 红旗 前进 东风 新民 新兴 兴隆 永丰 丰收 "
    "富强 双庙 大营 小营 北街 南街 东关 西关 槐树 柳树 枣园 梨园 杏林 桑园 双河 河口 "
    "堤口 大洼 小洼 高坡 土城 古城 官庄 朱家寨 三义 五合"
)
_VILLAGE_PATTERNS = _split(
    "{s}家村 前{s}村 后{s}村 东{s}村 西{s}村 南{s}村 北{s}村 大{s}村 小{s}村 {s}家庄村 {s}集村 "
    "{s}庄村 {s}家洼村 {s}家坊村 {s}家店村 {s}家寨村 {s}家桥村"
)

URBAN_MEAN_SIZE = 1800  # addresses per 社区
VILLAGE_MEAN_SIZE = 260  # addresses per 村
MAX_COMMUNITIES = 199  # villages per town: codes 200-398 (社区 use 001-112, one per word)
_TOWN_WEIGHT = {"街道": 2.5, "镇": 1.0, "乡": 0.6}


def _kind(town: str) -> str:
    return "街道" if town.endswith("街道") else town[-1]


def county_code(county: str) -> str:
    """Current code of a county given as code (retired codes too), full name or short name."""
    code = current_code(county)
    if code in COUNTIES:
        return code
    for c, name in COUNTIES.items():
        if county in (name, SHORT_NAMES[c]):
            return c
    raise ValueError(f"不是滨州市的县（市、区）：{county}")


def _county_name(county: str | None) -> str:
    """Name of a county, or of the city for None, 371600, 滨州市 or 滨州."""
    if county is None or county in (CITY_CODE, CITY_NAME, CITY_NAME[:-1]):
        return CITY_NAME
    return COUNTIES[county_code(county)]


def town_codes(county: str) -> dict[str, str]:
    """Town name -> 9-digit code (county + GB/T 10114 sequence) for one county."""
    code = county_code(county)
    seq = {"街道": 0, "镇": 100, "乡": 200}
    out: dict[str, str] = {}
    for town in TOWNS[code]:
        kind = _kind(town)
        seq[kind] += 1
        out[town] = f"{code}{seq[kind]:03d}"
    return out


def roads(county: str) -> tuple[str, ...]:
    """Road and street names of a county's seat, used in urban standard addresses."""
    return _ROADS[county_code(county)]


def hospital_names(county: str) -> list[str]:
    """助产机构 (hospitals with maternity services) located in a county, city hospitals first."""
    code = county_code(county)
    name = COUNTIES[code]
    own = [f"{name}人民医院", f"{name}妇幼保健院", f"{name}中医院"]
    if code == "371602":
        return ["滨州医学院附属医院", "滨州市人民医院", "滨州市妇幼保健院", *own]
    if code == "371622":  # 滨州市中心医院 sits in 阳信
        return ["滨州市中心医院", *own]
    return own


def market_regulator(county: str | None = None) -> str:
    """Registration authority of 市场主体: a county's bureau, or the city's for None/371600."""
    return f"{_county_name(county)}市场监督管理局"


def public_security(county: str | None = None) -> str:
    """Issuing authority of ID cards: districts have a branch (分局) of the city bureau."""
    name = _county_name(county)
    if name.endswith("区"):
        return f"{CITY_NAME}公安局{name[:-1]}分局"
    return f"{name}公安局"


def civil_affairs(county: str | None = None) -> str:
    """Marriage registration authority (民政局)."""
    return f"{_county_name(county)}民政局"


def health_authority(county: str | None = None) -> str:
    """Health authority: the city has a commission (委员会), counties a bureau (局)."""
    name = _county_name(county)
    return f"{name}卫生健康{'委员会' if name == CITY_NAME else '局'}"


def human_resources(county: str | None = None) -> str:
    """Social insurance and employment authority (人力资源和社会保障局)."""
    return f"{_county_name(county)}人力资源和社会保障局"


def issuing_authorities(county: str | None = None) -> dict[str, str]:
    """All issuing authorities of a county (or the city) by role."""
    return {
        "market_regulator": market_regulator(county),
        "public_security": public_security(county),
        "civil_affairs": civil_affairs(county),
        "health": health_authority(county),
        "human_resources": human_resources(county),
    }


def _village_pool() -> tuple[np.ndarray, np.ndarray]:
    names = [p.format(s=s) for s in _VILLAGE_SURNAMES for p in _VILLAGE_PATTERNS]
    # Earlier surnames are more common: Zipf-like weights, then plain-word villages.
    w = [1.0 / (i + 8) for i, _ in enumerate(_VILLAGE_SURNAMES) for _ in _VILLAGE_PATTERNS]
    names += [f"{w_}村" for w_ in _VILLAGE_WORDS]
    w += [0.02] * len(_VILLAGE_WORDS)
    p = np.asarray(w)
    return np.asarray(names, dtype=object), p / p.sum()


def _community_names(rng: np.random.Generator, k: int, urban: bool, pool) -> list[str]:
    if urban:
        words = rng.choice(len(_COMMUNITY_WORDS), size=k, replace=False)
        return [f"{_COMMUNITY_WORDS[i]}社区" for i in words]
    names, p = pool
    return list(names[rng.choice(len(names), size=k, replace=False, p=p)])


def _sizes(rng: np.random.Generator, n: int, mean: int, cap: int) -> np.ndarray:
    """Split n addresses over at most `cap` communities of about `mean`, none below a third of
    it (CV about 0.5 above that floor); no empty ones."""
    k = int(np.clip(round(n / mean), 1, cap))
    floor = min(mean // 3, n // k)
    sizes = floor + rng.multinomial(n - floor * k, rng.dirichlet(np.full(k, 3.0)))
    return sizes[sizes > 0]


def build_addresses(rng: np.random.Generator, counts: dict[str, int]) -> pa.Table:
    """Standard addresses per county code, `counts[code]` of them, as a pyarrow Table with string
    columns address_code (18 digits, unique), admin_region, town_name, community_name and
    standard_address (unique). Rows are ordered by county, town, community, door."""
    for code, n in counts.items():
        if code not in COUNTIES:
            raise ValueError(f"不是滨州市现行县（市、区）代码：{code}")
        if n < 0:
            raise ValueError(f"地址数量不能为负：{code} {n}")
    village_pool = _village_pool()
    comm: dict[str, list] = {
        k: []
        for k in (
            "code",
            "county",
            "town",
            "name",
            "size",
            "urban",
            "road",
            "number",
            "units",
            "floors",
        )
    }
    for code in COUNTIES:  # fixed order keeps the output independent of the dict's order
        n = int(counts.get(code, 0))
        if n == 0:
            continue
        towns = town_codes(code)
        w = np.array([_TOWN_WEIGHT[_kind(t)] for t in towns]) * rng.lognormal(0, 0.35, len(towns))
        county_roads = _ROADS[code]
        for (town, tcode), tn in zip(towns.items(), rng.multinomial(n, w / w.sum()), strict=True):
            if tn == 0:
                continue
            urban = _kind(town) == "街道"
            sizes = (
                _sizes(rng, int(tn), URBAN_MEAN_SIZE, len(_COMMUNITY_WORDS))
                if urban
                else _sizes(rng, int(tn), VILLAGE_MEAN_SIZE, MAX_COMMUNITIES)
            )
            k = len(sizes)
            first = 1 if urban else 200
            comm["code"] += [f"{tcode}{first + i:03d}" for i in range(k)]
            comm["county"] += [code] * k
            comm["town"] += [town] * k
            comm["name"] += _community_names(rng, k, urban, village_pool)
            comm["size"] += sizes.tolist()
            comm["urban"] += [urban] * k
            comm["road"] += [county_roads[i] for i in rng.integers(0, len(county_roads), k)]
            comm["number"] += rng.integers(1, 400, k).tolist()
            comm["units"] += rng.integers(2, 5, k).tolist()
            comm["floors"] += rng.choice([5, 6, 6, 7, 11, 18, 26], k).tolist()
    return _expand(comm)


def _expand(comm: dict[str, list]) -> pa.Table:
    """One row per address from per-community facts, built with Arrow kernels (no Python loop
    per address)."""
    sizes = np.asarray(comm["size"], dtype=np.int64)
    n = int(sizes.sum())
    which = np.repeat(np.arange(len(sizes)), sizes)
    starts = np.r_[0, np.cumsum(sizes)[:-1]] if len(sizes) else np.zeros(0, np.int64)
    local = np.arange(n, dtype=np.int64) - np.repeat(starts, sizes)
    take = pa.array(which, pa.int64())

    def per_address(values: list, typ: pa.DataType = _STRING) -> pa.Array:
        return pa.array(values, typ).take(take)

    def text(values: np.ndarray) -> pa.Array:
        return pc.cast(pa.array(values), pa.string())

    address_code = pc.binary_join_element_wise(
        per_address(comm["code"]), pc.utf8_lpad(text(local + 1), 6, "0"), ""
    )
    prefix = [
        f"{PROVINCE}{CITY_NAME}{COUNTIES[c]}{t}{m}"
        for c, t, m in zip(comm["county"], comm["town"], comm["name"], strict=True)
    ]

    # Urban door: compounds of up to 24 buildings of units x floors x 2 flats.
    units = np.asarray(comm["units"], dtype=np.int64)[which]
    floors = np.asarray(comm["floors"], dtype=np.int64)[which]
    per_floor = 2
    per_building = units * floors * per_floor
    building, rest = np.divmod(local, per_building)
    unit, rest = np.divmod(rest, floors * per_floor)
    floor, flat = np.divmod(rest, per_floor)
    compound, building = np.divmod(building, 24)
    number = np.asarray(comm["number"], dtype=np.int64)[which] * 2 - 1 + 2 * compound
    room = (floor + 1) * 100 + flat + 1
    urban_door = pc.binary_join_element_wise(
        per_address(comm["road"]),
        text(number),
        "号",
        text(building + 1),
        "号楼",
        text(unit + 1),
        "单元",
        text(room),
        "室",
        "",
    )
    village_door = pc.binary_join_element_wise(text(local + 1), "号", "")
    door = pc.if_else(per_address(comm["urban"], pa.bool_()), urban_door, village_door)
    return pa.table(
        {
            "address_code": address_code,
            "admin_region": per_address(comm["county"]),
            "town_name": per_address(comm["town"]),
            "community_name": per_address(comm["name"]),
            "standard_address": pc.binary_join_element_wise(per_address(prefix), door, ""),
        }
    )
