"""The true synthetic Binzhou: persons, households, addresses, market entities, real estate,
social insurance, tax, electricity, credit, licences, projects and county statistics.

State lives in column arrays (numpy) so a whole city fits and evolves quickly; `advance`
moves the world one month (births, deaths, moves, marriages, new and closed entities …) and
records that month's events, from which the department extracts are derived (`views`).
Every random draw comes from a generator seeded by (seed, month, purpose), so the same seed
always gives the same world.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from bzdata.ids import ric, uscc
from bzdata.synth import names, places

# Realistic-looking shares; ID numbers of older residents carry the code valid at issue.
RETIRED_BEFORE = {
    "371603": ("371624", np.datetime64("2014-10-01")),
    "371681": ("371626", np.datetime64("2018-06-01")),
}
# Residents whose ID was issued elsewhere (migrants): valid codes outside Binzhou.
OUTSIDE_REGIONS = np.array(["370102", "370302", "370502", "371402", "371502", "130102", "410102"])
NATION_CODES = np.array(["01", "03", "11", "02", "10", "08"])
NATION_P = np.array([0.992, 0.004, 0.002, 0.001, 0.0005, 0.0005])
ENTITY_TYPES = np.array(["1100", "1200", "4100", "4200", "9100", "9600"])
ENTITY_TYPE_P = np.array([0.26, 0.01, 0.03, 0.01, 0.03, 0.66])
INDUSTRIES = np.array(list("ABCDEFGHIJKLMNOPQRS"))
INDUSTRY_P = np.array(
    [
        0.05,
        0.005,
        0.12,
        0.01,
        0.06,
        0.38,
        0.05,
        0.09,
        0.03,
        0.005,
        0.02,
        0.05,
        0.02,
        0.005,
        0.07,
        0.01,
        0.01,
        0.01,
        0.005,
    ]
)
LICENCE_EXTRA = {"02": ("FH", 0.08), "03": ("C", 0.05), "04": ("E", 0.6), "05": ("G", 0.5)}
STAT_ITEMS = ("A01", "A02", "A03", "A04", "A05", "A06", "A07")


@dataclass(frozen=True)
class Scale:
    """How big the city is."""

    name: str
    persons: int
    entities_per_person: float = 450_000 / 3_930_000

    @property
    def entities(self) -> int:
        return round(self.persons * self.entities_per_person)


SCALES = {"demo": Scale("demo", 20_000), "city": Scale("city", 3_930_000)}


def month_start(period: str) -> np.datetime64:
    return np.datetime64(period, "M").astype("datetime64[D]")


def month_end(period: str) -> np.datetime64:
    return (np.datetime64(period, "M") + 1).astype("datetime64[D]") - 1


def next_period(period: str) -> str:
    return str(np.datetime64(period, "M") + 1)


def zpad(values, width: int) -> np.ndarray:
    """Integers as zero-padded text (np.char.zfill fails on empty arrays)."""
    v = np.asarray(values, dtype=np.int64)
    if v.size == 0:
        return np.empty(0, dtype=f"<U{width}")
    return np.char.zfill(v.astype(str), width)


def _age_years(birth: np.ndarray, on: np.datetime64) -> np.ndarray:
    return (on - birth).astype(np.int64) / 365.25


@dataclass
class Table:
    """A growable set of equal-length column arrays."""

    cols: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.cols.values()))) if self.cols else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]

    def __setitem__(self, name: str, values: np.ndarray) -> None:
        self.cols[name] = values

    def append(self, rows: dict[str, np.ndarray]) -> np.ndarray:
        """Append rows; returns the indices they got."""
        start = len(self)
        for k, v in rows.items():
            self.cols[k] = np.concatenate([self.cols[k], np.asarray(v, dtype=self.cols[k].dtype)])
        return np.arange(start, len(self))

    def to_arrow(self, columns: list[str] | None = None) -> pa.Table:
        out = {}
        for k in columns or list(self.cols):
            v = self.cols[k]
            if v.dtype.kind == "M":
                out[k] = pa.array(v.astype("datetime64[D]"), type=pa.date32())
            elif v.dtype.kind == "O":
                out[k] = pa.array(v, type=pa.string())
            else:
                out[k] = pa.array(v)
        return pa.table(out)


@dataclass
class Events:
    """What happened in one month (indices into the world tables)."""

    births: np.ndarray
    deaths: np.ndarray
    marriages: np.ndarray  # (k, 2) male, female person index
    divorces: np.ndarray  # (k, 2)
    decisions: Table  # 双公示 of the month
    estate_regs: np.ndarray  # estate indices registered this month (new or transferred)
    contracts: Table  # 网签 of the month


class World:
    """The true state of the synthetic city at the end of `period`."""

    def __init__(self, scale: Scale, seed: int, period: str):
        self.scale = scale
        self.seed = seed
        self.period = period
        self.counter = 0  # month ordinal since start
        self.addresses: Table
        self.persons: Table
        self.entities: Table
        self.estates: Table
        self.projects: Table
        self.licences: Table
        self.relief: Table
        self.events: Events | None = None
        self._seq = {
            "cert": 0,
            "decision": 0,
            "project": 0,
            "licence": 0,
            "contract": 0,
            "household": 0,
            "estate": 0,
            "power": 0,
        }

    # ---------------------------------------------------------------- randomness
    def rng(self, purpose: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.counter, zlib.crc32(purpose.encode())])

    def _next(self, kind: str, n: int) -> np.ndarray:
        start = self._seq[kind]
        self._seq[kind] += n
        return np.arange(start, start + n)

    # ---------------------------------------------------------------- creation
    @classmethod
    def create(cls, scale: Scale, seed: int, period: str) -> World:
        """The world as it stands at the end of the month before `period`."""
        w = cls(scale, seed, str(np.datetime64(period, "M") - 1))
        w._make_addresses()
        w._make_persons()
        w._make_entities()
        w._make_employment()
        w._make_estates()
        w._make_licences()
        w._make_projects()
        w._make_relief()
        w.monthly = w._monthly_figures()
        return w

    def _make_addresses(self) -> None:
        rng = self.rng("addresses")
        shares = np.array(list(places.POPULATION_SHARE.values()))
        counties = list(places.COUNTIES)
        # Households average 2.6 persons; entities and growth need spare addresses.
        total = int(self.scale.persons / 2.6 * 1.25 + self.scale.entities * 0.4) + 50
        counts = dict(zip(counties, np.maximum(rng.multinomial(total, shares), 10), strict=True))
        t = places.build_addresses(rng, {k: int(v) for k, v in counts.items()})
        self.addresses = Table(
            {c: np.asarray(t.column(c).to_pylist(), dtype=object) for c in t.column_names}
        )
        self.addresses["used"] = np.zeros(len(t), dtype=bool)

    def _free_addresses(self, rng: np.random.Generator, county: np.ndarray) -> np.ndarray:
        """Unused addresses in the given counties (one per entry), marked used."""
        out = np.empty(len(county), dtype=np.int64)
        region = self.addresses["admin_region"]
        for c in np.unique(county):
            want = np.flatnonzero(county == c)
            free = np.flatnonzero((region == c) & ~self.addresses["used"])
            if len(free) < len(want):  # city grew past the pool: reuse (shared addresses exist)
                free = np.flatnonzero(region == c)
            pick = rng.choice(free, size=len(want), replace=len(free) < len(want))
            out[want] = pick
            self.addresses["used"][pick] = True
        return out

    def _make_persons(self) -> None:
        rng = self.rng("persons")
        n = self.scale.persons
        end = month_end(self.period)
        counties = np.array(list(places.COUNTIES))
        county = counties[
            rng.choice(len(counties), size=n, p=list(places.POPULATION_SHARE.values()))
        ]
        # Age pyramid: a smooth mix that puts the median near 42.
        age_days = (rng.gamma(3.2, 13.5, n) * 365.25).astype(np.int64)
        too_old = age_days >= 100 * 365  # redraw rather than clip: a clip piles them on one day
        age_days[too_old] = rng.integers(0, 90 * 365, int(too_old.sum()))
        birth = end - age_days
        sex = np.where(rng.random(n) < 0.505, "1", "2").astype(object)
        nation = NATION_CODES[rng.choice(len(NATION_CODES), size=n, p=NATION_P / NATION_P.sum())]
        id_region = county.copy()
        for cur, (old, until) in RETIRED_BEFORE.items():
            older = (county == cur) & (birth < until - np.timedelta64(16 * 365, "D"))
            id_region[older & (rng.random(n) < 0.8)] = old
        migrant = rng.random(n) < 0.05
        id_region[migrant] = OUTSIDE_REGIONS[rng.integers(0, len(OUTSIDE_REGIONS), migrant.sum())]
        ids = self._unique_ids(rng, id_region, birth, sex)
        # Households: consecutive runs of sizes 1..5 within a county.
        order = np.argsort(county, kind="stable")
        sizes = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.2, 0.3, 0.25, 0.17, 0.08])
        hh_of_sorted = np.repeat(np.arange(n), sizes)[:n]
        # New household where the county changes within the sorted order.
        county_sorted = county[order]
        breaks = np.r_[True, county_sorted[1:] != county_sorted[:-1]]
        hh_sorted = np.cumsum(breaks | np.r_[True, hh_of_sorted[1:] != hh_of_sorted[:-1]]) - 1
        household = np.empty(n, dtype=np.int64)
        household[order] = hh_sorted
        n_hh = int(hh_sorted.max()) + 1
        self._seq["household"] = n_hh
        hh_county = np.empty(n_hh, dtype=object)
        hh_county[hh_sorted] = county_sorted
        hh_address = self._free_addresses(rng, hh_county)
        # Within a household the oldest member is the head (position 0).
        by_age = np.lexsort((birth, household))
        hh_by_age = household[by_age]
        starts = np.r_[0, np.flatnonzero(np.diff(hh_by_age)) + 1]
        position = np.empty(n, dtype=np.int64)
        position[by_age] = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
        self.persons = Table(
            {
                "citizen_id": ids,
                "name": names.person_names(rng, sex),
                "gender": sex,
                "birth_date": birth,
                "nation": nation.astype(object),
                "county": county.astype(object),
                "household": household,
                "position": position,
                "address": hh_address[household],
                "prev_address": np.full(n, -1, dtype=np.int64),
                "status": np.full(n, "1", dtype=object),
                "death_date": np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
                "spouse": np.full(n, -1, dtype=np.int64),
                "mobile": self._mobiles(rng, n),
                "employer": np.full(n, -1, dtype=np.int64),
                "updated": np.full(n, month_start(self.period) - 400, dtype="datetime64[D]"),
            }
        )
        # Some adults moved in the past: keep a former address for them.
        movers = np.flatnonzero(rng.random(n) < 0.08)
        self.persons["prev_address"][movers] = rng.integers(0, len(self.addresses), len(movers))
        self._marry_initial(rng)

    def _unique_ids(self, rng, region, birth, sex) -> np.ndarray:
        """Valid 18-digit numbers, unique by giving each (region, birth, sex) group seq 0,1,2…"""
        n = len(region)
        key = np.char.add(np.char.add(region.astype(str), birth.astype(str)), sex.astype(str))
        order = np.argsort(key, kind="stable")
        sk = key[order]
        starts = np.r_[0, np.flatnonzero(sk[1:] != sk[:-1]) + 1]
        rank = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
        offset = rng.integers(0, 30)
        seq = np.empty(n, dtype=np.int64)
        seq[order] = (rank + offset) % 100
        if rank.max() >= 100:
            raise ValueError("同一地区同日出生同性别人数超过100，无法编制唯一身份号码")
        return ric.make_np(region.astype(str), birth, seq, sex.astype(str)).astype(object)

    @staticmethod
    def _mobiles(rng, n: int) -> np.ndarray:
        prefixes = np.array(
            [
                "133",
                "135",
                "136",
                "138",
                "139",
                "150",
                "153",
                "155",
                "158",
                "176",
                "177",
                "180",
                "186",
                "187",
                "189",
                "199",
            ]
        )
        body = rng.integers(0, 100_000_000, n)
        mob = np.char.add(prefixes[rng.integers(0, len(prefixes), n)], zpad(body, 8))
        mob = mob.astype(object)
        mob[rng.random(n) < 0.1] = None  # not everyone registered a number
        return mob

    def _marry_initial(self, rng) -> None:
        p = self.persons
        age = _age_years(p["birth_date"], month_end(self.period))
        # Household heads and second members of the opposite sex are spouses.
        n_hh = self._seq["household"]
        head_of = np.full(n_hh, -1, dtype=np.int64)
        second_of = np.full(n_hh, -1, dtype=np.int64)
        head_of[p["household"][p["position"] == 0]] = np.flatnonzero(p["position"] == 0)
        second_of[p["household"][p["position"] == 1]] = np.flatnonzero(p["position"] == 1)
        both = (head_of >= 0) & (second_of >= 0)
        head, second = head_of[both], second_of[both]
        ok = (
            (p["gender"][second] != p["gender"][head])
            & (np.abs(age[head] - age[second]) < 15)
            & (age[head] >= 22)
            & (age[second] >= 22)
        )
        head, second = head[ok], second[ok]
        p["spouse"][head] = second
        p["spouse"][second] = head

    def _make_entities(self) -> None:
        rng = self.rng("entities")
        n = self.scale.entities
        p = self.persons
        end = month_end(self.period)
        adults = np.flatnonzero(_age_years(p["birth_date"], end) >= 22)
        rep = adults[rng.integers(0, len(adults), n)]
        county = p["county"][rep].astype(object)
        etype = ENTITY_TYPES[
            rng.choice(len(ENTITY_TYPES), n, p=ENTITY_TYPE_P / ENTITY_TYPE_P.sum())
        ]
        industry = INDUSTRIES[rng.choice(len(INDUSTRIES), n, p=INDUSTRY_P / INDUSTRY_P.sum())]
        ages = np.clip(rng.exponential(7 * 365, n).astype(np.int64), 30, 40 * 365)
        established = end - ages
        self.entities = Table(
            {
                "uscc": self._usccs(rng, etype, county),
                "name": names.entity_names(
                    rng, county, industry.astype(object), etype.astype(object), p["name"][rep]
                ),
                "type": etype.astype(object),
                "legal_rep": rep,
                "prev_legal_rep": np.full(n, -1, dtype=np.int64),
                "capital": self._capital(rng, etype),
                "established": established,
                "status": np.where(rng.random(n) < 0.06, "3", "1").astype(object),
                "industry": industry.astype(object),
                "county": county,
                "address": self._free_addresses(rng, county),
                "size": np.where(
                    etype == "9600",
                    rng.integers(0, 3, n),
                    np.minimum(rng.pareto(1.2, n) * 3, 5000).astype(np.int64) + 1,
                ),
                "power_account": np.full(n, None, dtype=object),
                "tax_grade": np.array(list("ABMCD"))[
                    rng.choice(5, n, p=[0.25, 0.45, 0.22, 0.06, 0.02])
                ].astype(object),
                "credit_grade": np.array(list("ABCD"))[
                    rng.choice(4, n, p=[0.3, 0.6, 0.08, 0.02])
                ].astype(object),
                "updated": established.copy(),
            }
        )
        self.entities["status"][(self.entities["status"] == "1") & (rng.random(n) < 0.01)] = "2"
        has_power = rng.random(n) < 0.8
        self.entities["power_account"][has_power] = self._power_accounts(int(has_power.sum()))

    def _usccs(self, rng, etype: np.ndarray, county: np.ndarray) -> np.ndarray:
        """Valid, unique codes: 92 个体工商户, 93 农民专业合作社, 91 other enterprises."""
        n = len(etype)
        kind = np.where(etype == "9600", "2", np.where(etype == "9100", "3", "1"))
        alphabet = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))
        # Unique organisation bodies: distinct draws from a block of the code space per call.
        block = self._seq.get("uscc", 0)
        self._seq["uscc"] = block + 1
        body_int = rng.choice(31**6, size=n, replace=False) + block * 31**6
        digits = np.stack([(body_int // 31**i) % 31 for i in range(7, -1, -1)], axis=1)
        body = ["".join(r) for r in alphabet[digits]]
        return uscc.make_np("9", kind, county.astype(str), np.array(body)).astype(object)

    @staticmethod
    def _capital(rng, etype: np.ndarray) -> np.ndarray:
        base = np.round(rng.lognormal(4.5, 1.4, len(etype)), 2)
        return np.where(etype == "9600", np.round(base / 20, 2), base)

    def _power_accounts(self, n: int) -> np.ndarray:
        seq = self._next("power", n)
        return zpad((3716000000 + seq * 7 % 9_999_999), 10).astype(object)

    def _make_employment(self) -> None:
        rng = self.rng("employment")
        p, e = self.persons, self.entities
        age = _age_years(p["birth_date"], month_end(self.period))
        working = np.flatnonzero((age >= 18) & (age < 60) & (rng.random(len(p)) < 0.5))
        active = np.flatnonzero(e["status"] == "1")
        weights = e["size"][active].astype(float) + 0.01
        p["employer"][working] = active[
            rng.choice(len(active), len(working), p=weights / weights.sum())
        ]

    def _make_estates(self) -> None:
        rng = self.rng("estates")
        p = self.persons
        heads = np.flatnonzero(p["position"] == 0)
        owners = heads[rng.random(len(heads)) < 0.85]
        n = len(owners)
        region = p["county"][owners]
        self.estates = Table(
            {
                "unit_no": np.empty(0, dtype=object),
                "cert_no": np.empty(0, dtype=object),
                "owner": np.empty(0, dtype=np.int64),
                "address": np.empty(0, dtype=np.int64),
                "region": np.empty(0, dtype=object),
                "area": np.empty(0, dtype=float),
                "use": np.empty(0, dtype=object),
                "reg_date": np.empty(0, dtype="datetime64[D]"),
            }
        )
        self._add_estates(
            rng,
            owners,
            p["address"][owners],
            region,
            month_end(self.period) - rng.integers(30, 20 * 365, n),
        )

    def _add_estates(self, rng, owners, address, region, reg_date) -> np.ndarray:
        n = len(owners)
        seq = self._next("estate", n)
        year = reg_date.astype("datetime64[Y]").astype(np.int64) + 1970
        unit_no = np.char.add(
            np.char.add(region.astype(str), zpad((seq // 1000 % 1_000_000), 6)),
            np.char.add("GB", np.char.add(zpad((seq % 100_000_000), 8), "F00010001")),
        )
        cert_no = np.char.add(
            np.char.add(np.char.add("鲁（", year.astype(str)), "）滨州市不动产权第"),
            np.char.add(zpad(seq, 7), "号"),
        )
        return self.estates.append(
            {
                "unit_no": unit_no.astype(object),
                "cert_no": cert_no.astype(object),
                "owner": owners,
                "address": address,
                "region": region,
                "area": np.round(rng.normal(110, 30, n).clip(35, 400), 2),
                "use": np.full(n, "10", dtype=object),
                "reg_date": reg_date,
            }
        )

    def _make_licences(self) -> None:
        rng = self.rng("licences")
        e = self.entities
        self.licences = Table(
            {
                "licence_no": np.empty(0, dtype=object),
                "type": np.empty(0, dtype=object),
                "holder": np.empty(0, dtype=np.int64),
                "issued": np.empty(0, dtype="datetime64[D]"),
                "expires": np.empty(0, dtype="datetime64[D]"),
                "status": np.empty(0, dtype=object),
            }
        )
        # Electronic licences were issued from the 2016 licence reform on, or at establishment.
        reform = np.datetime64("2016-10-01") + rng.integers(0, 700, len(e))
        self._issue_licences(rng, np.arange(len(e)), np.maximum(e["established"], reform))
        closed = np.isin(self.licences["holder"], np.flatnonzero(e["status"] != "1"))
        self.licences["status"][closed] = "2"

    def _issue_licences(self, rng, holders: np.ndarray, when: np.ndarray) -> None:
        e = self.entities
        parts = [
            (
                holders,
                np.full(len(holders), "01", dtype=object),
                when,
                np.full(len(holders), "NaT", dtype="datetime64[D]"),
            )
        ]
        for code, (industries, share) in LICENCE_EXTRA.items():
            ok = np.isin(e["industry"][holders], list(industries)) & (
                rng.random(len(holders)) < share
            )
            issued = when[ok] + rng.integers(10, 200, ok.sum())
            parts.append(
                (holders[ok], np.full(ok.sum(), code, dtype=object), issued, issued + 5 * 365)
            )
        h = np.concatenate([x[0] for x in parts])
        seq = self._next("licence", len(h))
        self.licences.append(
            {
                "licence_no": np.char.add("371600-ZZ-", zpad(seq, 9)).astype(object),
                "type": np.concatenate([x[1] for x in parts]),
                "holder": h,
                "issued": np.concatenate([x[2] for x in parts]),
                "expires": np.concatenate([x[3] for x in parts]),
                "status": np.full(len(h), "1", dtype=object),
            }
        )

    def _make_projects(self) -> None:
        rng = self.rng("projects")
        e = self.entities
        cand = np.flatnonzero((e["status"] == "1") & np.isin(e["type"], ["1100", "1200"]))
        owners = cand[rng.random(len(cand)) < 0.02]
        self.projects = Table(
            {
                "code": np.empty(0, dtype=object),
                "name": np.empty(0, dtype=object),
                "owner": np.empty(0, dtype=np.int64),
                "region": np.empty(0, dtype=object),
                "investment": np.empty(0, dtype=float),
                "status": np.empty(0, dtype=object),
                "start": np.empty(0, dtype="datetime64[D]"),
            }
        )
        approved = month_end(self.period) - rng.integers(30, 3 * 365, len(owners))
        # A project is approved for an entity that exists.
        self._add_projects(rng, owners, np.maximum(approved, e["established"][owners]))

    def _add_projects(self, rng, owners, approved) -> None:
        e = self.entities
        n = len(owners)
        seq = self._next("project", n)
        year = (approved.astype("datetime64[Y]").astype(np.int64) + 1970).astype(str)
        industry_no = zpad(rng.integers(1, 99, n), 2)
        code = np.char.add(
            np.char.add(np.char.add(year, "-"), np.char.add(e["county"][owners].astype(str), "-")),
            np.char.add(np.char.add(industry_no, "-03-"), zpad((seq % 1_000_000), 6)),
        )
        kinds = np.array(["年产", "智能化改造", "新建厂房", "技术改造", "仓储物流中心", "综合体"])
        pname = np.char.add(e["name"][owners].astype(str), kinds[rng.integers(0, len(kinds), n)])
        pname = np.char.add(pname, "项目")
        status = np.where(approved < month_end(self.period) - 365, "2", "1").astype(object)
        start = np.where(status == "2", approved + 60, np.datetime64("NaT")).astype("datetime64[D]")
        self.projects.append(
            {
                "code": code.astype(object),
                "name": pname.astype(object),
                "owner": owners,
                "region": e["county"][owners],
                "investment": np.round(rng.lognormal(8, 1.2, n), 2),
                "status": status,
                "start": start,
            }
        )

    def _make_relief(self) -> None:
        rng = self.rng("relief")
        p = self.persons
        alive = np.flatnonzero(p["status"] == "1")
        elderly = _age_years(p["birth_date"][alive], month_end(self.period)) >= 70
        # 特困供养 and 低保 reach many elderly people living alone.
        who = alive[rng.random(len(alive)) < np.where(elderly, 0.1, 0.015)]
        n = len(who)
        rtype = np.array(["1", "2", "3"])[rng.choice(3, n, p=[0.8, 0.12, 0.08])]
        self.relief = Table(
            {
                "person": who,
                "type": rtype.astype(object),
                "amount": np.where(rtype == "2", 1100.0, np.round(rng.uniform(300, 800, n), 0)),
                # Relief for a child is granted after its birth.
                "start": np.maximum(
                    month_end(self.period) - rng.integers(30, 8 * 365, n), p["birth_date"][who]
                ),
            }
        )

    # ---------------------------------------------------------------- monthly figures
    def _monthly_figures(self) -> dict[str, np.ndarray]:
        """Tax, electricity and statistics of the current month (not state: redrawn monthly)."""
        rng = self.rng("monthly")
        e = self.entities
        month = int(str(self.period)[5:7])
        season = 1.0 + 0.15 * np.cos((month - 1) / 12 * 2 * np.pi)
        active = e["status"] == "1"
        # Capped well inside the registry's plausible ranges: outliers there are defects.
        revenue = np.round(
            np.minimum(rng.lognormal(11, 1.3, len(e)) * (e["size"] + 1), 5e9) * active, 2
        )
        tax = np.round(revenue * rng.uniform(0.01, 0.06, len(e)), 2)
        kwh = np.round(
            np.minimum(rng.lognormal(7, 1.1, len(e)) * (e["size"] + 1) * season, 2e8) * active, 1
        )
        return {"revenue": revenue, "tax": tax, "kwh": kwh}

    def county_stats(self) -> Table:
        rng = self.rng("stats")
        e = self.entities
        counties = np.array(list(places.COUNTIES))
        rows = {"region": [], "item": [], "value": []}
        kwh = self.monthly["kwh"]
        for c in counties:
            in_c = e["county"] == c
            base = float(kwh[in_c].sum())
            values = {
                "A01": round(base / 2.0e6 * rng.uniform(0.95, 1.05), 2),
                "A02": round(rng.normal(6.5, 2.0), 1),
                "A03": round(rng.normal(5.0, 4.0), 1),
                "A04": round(base / 6.0e6 * rng.uniform(0.9, 1.1), 2),
                "A05": round(float(self.monthly["tax"][in_c].sum()) / 1e8 * 0.4, 2),
                "A06": round(rng.normal(3800, 400), 0),
                "A07": round(base / 1e4, 1),
            }
            for item in STAT_ITEMS:
                rows["region"].append(c)
                rows["item"].append(item)
                rows["value"].append(values[item])
        return Table(
            {k: np.array(v, dtype=object if k != "value" else float) for k, v in rows.items()}
        )

    # ---------------------------------------------------------------- evolution
    def advance(self) -> Events:
        """Move the world on by one month and return what happened in it."""
        self.period = next_period(self.period)
        self.counter += 1
        start, end = month_start(self.period), month_end(self.period)
        days = int((end - start).astype(np.int64)) + 1
        p = self.persons
        rng = self.rng("deaths")
        alive = np.flatnonzero(p["status"] == "1")
        age = _age_years(p["birth_date"][alive], end)
        # About 7 deaths per 1000 residents a year, as in Shandong.
        hazard = np.clip(0.000035 * np.exp(age / 11.5), 0, 0.2) / 12
        dead = alive[rng.random(len(alive)) < hazard]
        p["status"][dead] = "2"
        p["death_date"][dead] = start + rng.integers(0, days, len(dead))
        p["updated"][dead] = p["death_date"][dead] + rng.integers(1, 10, len(dead))
        widowed = p["spouse"][dead]
        p["spouse"][widowed[widowed >= 0]] = -1
        p["spouse"][dead] = -1
        p["employer"][dead] = -1

        births = self._births(start, days)
        marriages, divorces = self._marriages(start, days)
        self._moves(start, days)
        self._entities_month(start, days)
        decisions = self._decisions(start, days)
        estate_regs, contracts = self._estates_month(start, days)
        self._projects_month(start, days)
        self._relief_month(start, days)
        # A record is stamped when the department keys it in: never after the month it is in.
        p["updated"] = np.minimum(p["updated"], end)
        self.entities["updated"] = np.minimum(self.entities["updated"], end)
        self.monthly = self._monthly_figures()
        self.events = Events(births, dead, marriages, divorces, decisions, estate_regs, contracts)
        return self.events

    def _births(self, start, days) -> np.ndarray:
        rng = self.rng("births")
        p = self.persons
        alive = p["status"] == "1"
        age = _age_years(p["birth_date"], start)
        mothers = np.flatnonzero(alive & (p["gender"] == "2") & (age >= 22) & (age < 40))
        n = rng.binomial(int(alive.sum()), 0.0055 / 12)
        mothers = rng.choice(mothers, size=min(n, len(mothers)), replace=False)
        n = len(mothers)
        sex = np.where(rng.random(n) < 0.52, "1", "2").astype(object)
        birth = start + rng.integers(0, days, n)
        county = p["county"][mothers]
        # Newborn IDs: a birth date inside the month no earlier person has; seq by rank.
        ids = self._unique_ids(rng, county.astype(str), birth, sex)
        idx = p.append(
            {
                "citizen_id": ids,
                "name": names.person_names(rng, sex),
                "gender": sex,
                "birth_date": birth,
                "nation": p["nation"][mothers],
                "county": county,
                "household": p["household"][mothers],
                "position": np.full(n, 9),
                "address": p["address"][mothers],
                "prev_address": np.full(n, -1),
                "status": np.full(n, "1", dtype=object),
                "death_date": np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
                "spouse": np.full(n, -1),
                "mobile": np.full(n, None, dtype=object),
                "employer": np.full(n, -1),
                "updated": birth + rng.integers(5, 25, n),
            }
        )
        self.newborn_mothers = mothers
        self.newborn_cert = self._next("cert", n)
        return idx

    def _marriages(self, start, days):
        rng = self.rng("marriages")
        p = self.persons
        alive = p["status"] == "1"
        age = _age_years(p["birth_date"], start)
        single = alive & (p["spouse"] < 0) & (age >= 22) & (age < 60)
        men = np.flatnonzero(single & (p["gender"] == "1"))
        women = np.flatnonzero(single & (p["gender"] == "2"))
        k = min(rng.binomial(int(alive.sum()), 0.0006 / 12 * 6), len(men), len(women))
        m = rng.choice(men, k, replace=False)
        f = rng.choice(women, k, replace=False)
        p["spouse"][m], p["spouse"][f] = f, m
        married_men = np.flatnonzero(alive & (p["gender"] == "1") & (p["spouse"] >= 0))
        married_men = married_men[~np.isin(married_men, m)]
        d = rng.choice(
            married_men, min(len(married_men), rng.binomial(len(married_men), 0.002)), replace=False
        )
        dw = p["spouse"][d]
        p["spouse"][d] = -1
        p["spouse"][dw] = -1
        self.marriage_dates = start + rng.integers(0, days, k + len(d))
        self.marriage_cert = self._next("cert", k + len(d))
        return np.stack([m, f], axis=1), np.stack([d, dw], axis=1)

    def _moves(self, start, days) -> None:
        rng = self.rng("moves")
        p = self.persons
        n_hh = self._seq["household"]
        moving = np.flatnonzero(rng.random(n_hh) < 0.003)
        members = np.flatnonzero(np.isin(p["household"], moving) & (p["status"] == "1"))
        if len(members) == 0:
            return
        hh = np.unique(p["household"][members])
        counties = np.array(list(places.COUNTIES))
        cur = {h: c for h, c in zip(p["household"][members], p["county"][members], strict=True)}
        new_county = np.array(
            [cur[h] if rng.random() < 0.8 else counties[rng.integers(0, 7)] for h in hh],
            dtype=object,
        )
        new_addr = self._free_addresses(rng, new_county)
        pos = np.searchsorted(hh, p["household"][members])
        p["prev_address"][members] = p["address"][members]
        p["address"][members] = new_addr[pos]
        p["county"][members] = new_county[pos]
        p["updated"][members] = start + rng.integers(0, days, len(members))
        out = np.flatnonzero((p["status"] == "1") & (rng.random(len(p)) < 0.0003))
        p["status"][out] = "3"
        p["updated"][out] = start + rng.integers(0, days, len(out))

    def _entities_month(self, start, days) -> None:
        rng = self.rng("entity-month")
        e, p = self.entities, self.persons
        active = np.flatnonzero(e["status"] == "1")
        closing = active[rng.random(len(active)) < 0.004]
        e["status"][closing] = np.where(rng.random(len(closing)) < 0.9, "3", "2")
        e["updated"][closing] = start + rng.integers(0, days, len(closing))
        p["employer"][np.isin(p["employer"], closing)] = -1
        self.licences["status"][np.isin(self.licences["holder"], closing)] = "2"
        # A change of legal representative: the copy holders are slow to follow.
        alive_adults = np.flatnonzero(
            (p["status"] == "1") & (_age_years(p["birth_date"], start) >= 22)
        )
        change = active[rng.random(len(active)) < 0.002]
        change = change[~np.isin(change, closing)]
        e["prev_legal_rep"][change] = e["legal_rep"][change]
        e["legal_rep"][change] = alive_adults[rng.integers(0, len(alive_adults), len(change))]
        e["updated"][change] = start + rng.integers(0, days, len(change))
        # Reps who died are replaced too.
        dead_rep = np.flatnonzero((e["status"] == "1") & (p["status"][e["legal_rep"]] != "1"))
        e["prev_legal_rep"][dead_rep] = e["legal_rep"][dead_rep]
        e["legal_rep"][dead_rep] = alive_adults[rng.integers(0, len(alive_adults), len(dead_rep))]
        e["updated"][dead_rep] = start + rng.integers(0, days, len(dead_rep))
        # New entities.
        n = rng.binomial(len(active), 0.008)
        rep = alive_adults[rng.integers(0, len(alive_adults), n)]
        county = p["county"][rep]
        etype = ENTITY_TYPES[
            rng.choice(len(ENTITY_TYPES), n, p=ENTITY_TYPE_P / ENTITY_TYPE_P.sum())
        ]
        industry = INDUSTRIES[rng.choice(len(INDUSTRIES), n, p=INDUSTRY_P / INDUSTRY_P.sum())]
        est = start + rng.integers(0, days, n)
        power = np.full(n, None, dtype=object)
        has_power = rng.random(n) < 0.6
        power[has_power] = self._power_accounts(int(has_power.sum()))
        idx = e.append(
            {
                "uscc": self._usccs(rng, etype, county),
                "name": names.entity_names(
                    rng,
                    county,
                    industry.astype(object),
                    etype.astype(object),
                    p["name"][rep],
                    taken=set(e["name"]),
                ),
                "type": etype.astype(object),
                "legal_rep": rep,
                "prev_legal_rep": np.full(n, -1),
                "capital": self._capital(rng, etype),
                "established": est,
                "status": np.full(n, "1", dtype=object),
                "industry": industry.astype(object),
                "county": county,
                "address": self._free_addresses(rng, county),
                "size": np.where(etype == "9600", rng.integers(0, 3, n), rng.integers(1, 20, n)),
                "power_account": power,
                "tax_grade": np.full(n, "M", dtype=object),
                "credit_grade": np.full(n, "B", dtype=object),
                "updated": est,
            }
        )
        self._issue_licences(rng, idx, est)
        # Job changes: a few workers move to another active entity.
        workers = np.flatnonzero(p["employer"] >= 0)
        switch = workers[rng.random(len(workers)) < 0.01]
        active = np.flatnonzero(e["status"] == "1")
        p["employer"][switch] = active[rng.integers(0, len(active), len(switch))]

    def _decisions(self, start, days) -> Table:
        rng = self.rng("decisions")
        e = self.entities
        active = np.flatnonzero(e["status"] == "1")
        who = active[rng.random(len(active)) < 0.012]
        n = len(who)
        dtype = np.where(rng.random(n) < 0.8, "1", "2").astype(object)
        seq = self._next("decision", n)
        year = str(self.period)[:4]
        doc = np.where(dtype == "1", "滨审批许字〔" + year + "〕", "滨市监处罚〔" + year + "〕")
        doc = np.char.add(np.char.add(doc.astype(str), (seq % 100_000 + 1).astype(str)), "号")
        contents = np.array(
            [
                "食品经营许可",
                "建设工程规划许可",
                "道路运输经营许可",
                "排污许可",
                "未按规定公示年度报告",
                "销售不合格产品",
                "违反安全生产规定",
            ]
        )
        content = np.where(
            dtype == "1", contents[rng.integers(0, 4, n)], contents[rng.integers(4, 7, n)]
        )
        amount = np.where(dtype == "2", np.round(rng.uniform(0.1, 20, n), 2), 0.0)
        return Table(
            {
                "doc_no": doc.astype(object),
                "type": dtype,
                "entity": who,
                "content": content.astype(object),
                "amount": amount,
                # No decision on an entity before it was established (this month's new ones).
                "date": np.maximum(start + rng.integers(0, days, n), e["established"][who]),
            }
        )

    def _estates_month(self, start, days):
        rng = self.rng("estate-month")
        p, est = self.persons, self.estates
        adults = np.flatnonzero((p["status"] == "1") & (_age_years(p["birth_date"], start) >= 25))
        # New homes: a 网签 contract and the first registration in the same month.
        n_new = rng.binomial(len(adults), 0.0004)
        buyers = rng.choice(adults, n_new, replace=False)
        county = p["county"][buyers]
        date = start + rng.integers(0, days, n_new)
        new_idx = self._add_estates(rng, buyers, self._free_addresses(rng, county), county, date)
        contracts = Table(
            {
                "contract_no": np.char.add(
                    "WQ" + str(self.period).replace("-", ""), zpad(self._next("contract", n_new), 7)
                ).astype(object),
                "estate": new_idx,
                "buyer": buyers,
                "amount": np.round(est["area"][new_idx] * rng.uniform(0.6, 1.4, n_new), 2),
                "date": date - rng.integers(0, 5, n_new),
            }
        )
        # Transfers of existing units to a new owner.
        old = np.arange(len(est) - n_new)
        # Sales, and inheritance of the homes of owners who died.
        sold = rng.random(len(old)) < 0.0015
        inherited = p["status"][est["owner"][old]] == "2"
        moved = old[sold | inherited]
        est["owner"][moved] = rng.choice(adults, len(moved))
        est["reg_date"][moved] = start + rng.integers(0, days, len(moved))
        return np.concatenate([new_idx, moved]), contracts

    def _projects_month(self, start, days) -> None:
        rng = self.rng("project-month")
        pr, e = self.projects, self.entities
        begin = np.flatnonzero((pr["status"] == "1") & (rng.random(len(pr)) < 0.08))
        pr["status"][begin] = "2"
        pr["start"][begin] = start + rng.integers(0, days, len(begin))
        done = np.flatnonzero((pr["status"] == "2") & (rng.random(len(pr)) < 0.03))
        pr["status"][done] = "3"
        cand = np.flatnonzero((e["status"] == "1") & np.isin(e["type"], ["1100", "1200"]))
        owners = cand[rng.random(len(cand)) < 0.001]
        self._add_projects(rng, owners, start + rng.integers(0, days, len(owners)))

    def _relief_month(self, start, days) -> None:
        rng = self.rng("relief-month")
        r, p = self.relief, self.persons
        keep = (p["status"][r["person"]] == "1") & (rng.random(len(r)) > 0.01)
        for k in list(r.cols):
            r[k] = r[k][keep]
        alive = np.flatnonzero(p["status"] == "1")
        new = alive[rng.random(len(alive)) < 0.0003]
        new = new[~np.isin(new, r["person"])]
        rtype = np.array(["1", "3"])[rng.integers(0, 2, len(new))]
        r.append(
            {
                "person": new,
                "type": rtype.astype(object),
                "amount": np.round(rng.uniform(300, 800, len(new)), 0),
                "start": np.maximum(start + rng.integers(0, days, len(new)), p["birth_date"][new]),
            }
        )

    # ---------------------------------------------------------------- truth output
    def truth_tables(self) -> dict[str, pa.Table]:
        """The true state at the end of the month, in readable form, for the truth Parquet."""
        p, e, a = self.persons, self.entities, self.addresses
        addr = a["standard_address"]
        persons = pa.table(
            {
                "citizen_id": pa.array(p["citizen_id"], pa.string()),
                "name": pa.array(p["name"], pa.string()),
                "gender": pa.array(p["gender"], pa.string()),
                "birth_date": pa.array(p["birth_date"], pa.date32()),
                "nation": pa.array(p["nation"], pa.string()),
                "domicile_region": pa.array(p["county"], pa.string()),
                "domicile_address": pa.array(addr[p["address"]], pa.string()),
                "address_code": pa.array(a["address_code"][p["address"]], pa.string()),
                "household_no": pa.array(self.household_numbers(), pa.string()),
                "household_relation": pa.array(self.relations(), pa.string()),
                "hukou_status": pa.array(p["status"], pa.string()),
                "death_date": pa.array(p["death_date"], pa.date32()),
                "mobile": pa.array(p["mobile"], pa.string()),
                "spouse_id": pa.array(
                    np.where(p["spouse"] >= 0, p["citizen_id"][p["spouse"]], None), pa.string()
                ),
                "employer_uscc": pa.array(
                    np.where(p["employer"] >= 0, e["uscc"][p["employer"]], None), pa.string()
                ),
            }
        )
        entities = pa.table(
            {
                "uscc": pa.array(e["uscc"], pa.string()),
                "name": pa.array(e["name"], pa.string()),
                "entity_type": pa.array(e["type"], pa.string()),
                "legal_rep_name": pa.array(p["name"][e["legal_rep"]], pa.string()),
                "legal_rep_id": pa.array(p["citizen_id"][e["legal_rep"]], pa.string()),
                "registered_capital": pa.array(e["capital"]),
                "establish_date": pa.array(e["established"], pa.date32()),
                "entity_status": pa.array(e["status"], pa.string()),
                "industry_code": pa.array(e["industry"], pa.string()),
                "entity_region": pa.array(e["county"], pa.string()),
                "entity_address": pa.array(addr[e["address"]], pa.string()),
                "power_account": pa.array(e["power_account"], pa.string()),
                "employees": pa.array(
                    np.bincount(p["employer"][p["employer"] >= 0], minlength=len(e))
                ),
            }
        )
        estates = pa.table(
            {
                "estate_unit_no": pa.array(self.estates["unit_no"], pa.string()),
                "estate_cert_no": pa.array(self.estates["cert_no"], pa.string()),
                "owner_id": pa.array(p["citizen_id"][self.estates["owner"]], pa.string()),
                "owner_name": pa.array(p["name"][self.estates["owner"]], pa.string()),
                "estate_location": pa.array(addr[self.estates["address"]], pa.string()),
                "estate_region": pa.array(self.estates["region"], pa.string()),
                "estate_area": pa.array(self.estates["area"]),
                "estate_reg_date": pa.array(self.estates["reg_date"], pa.date32()),
            }
        )
        addresses = a.to_arrow(
            ["address_code", "admin_region", "town_name", "community_name", "standard_address"]
        )
        return {
            "persons": persons,
            "entities": entities,
            "estates": estates,
            "addresses": addresses,
        }

    def household_numbers(self) -> np.ndarray:
        p = self.persons
        county = np.char.ljust(p["county"].astype(str), 6)
        return np.char.add(county, zpad(p["household"], 9)).astype(object)

    def relations(self) -> np.ndarray:
        p = self.persons
        pos = p["position"]
        rel = np.where(pos == 0, "02", "99").astype(object)
        spouse = p["spouse"]
        head_mask = pos == 0
        heads = np.flatnonzero(head_mask)
        rel[spouse[heads][spouse[heads] >= 0]] = "10"
        # Children: members other than head and spouse younger than the head by 16+ years.
        hh_head = np.full(self._seq["household"], -1, dtype=np.int64)
        hh_head[p["household"][heads]] = heads
        head_of = hh_head[p["household"]]
        has_head = head_of >= 0
        younger = np.zeros(len(p), dtype=bool)
        younger[has_head] = (p["birth_date"][has_head] - p["birth_date"][head_of[has_head]]).astype(
            np.int64
        ) > 16 * 365
        child = (rel == "99") & younger
        rel[child & (p["gender"] == "1")] = "20"
        rel[child & (p["gender"] == "2")] = "30"
        return rel
