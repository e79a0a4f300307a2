"""Each department's clean extract of the true world, in that department's own habits.

One function per registry dataset turns the world at the end of a period into text columns
named like the dataset's fields (dates in the department's usual format, amounts as plain
decimals). Defects are added afterwards (`defects`); these views are what a department that
made no mistakes would deliver. Columns starting with `_alt_` are not delivered: they carry
plausible wrong values (a former address, a former legal representative) for the defects that
copy holders really make.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

from bzdata.synth import places
from bzdata.synth.world import World, month_end, zpad

Columns = dict[str, np.ndarray]

# How each department writes dates; staging has to understand all of these.
DATE_STYLE = {
    "gaj_hjrk": "compact",
    "scjgj_sczt": "iso",
    "wjw_csyxzm": "iso",
    "wjw_swyxzm": "slash",
    "rsj_shbx": "compact",
    "mzj_hydj": "iso",
    "mzj_shjz": "cn",
    "fgw_sgs": "iso",
    "fgw_xypj": "slash",
    "fgw_tzxm": "iso",
    "zrzyj_bdcdj": "cn",
    "zjj_wqba": "slash",
    "dsj_dzzz": "iso",
}
_STYLE_SEP = {
    "iso": ("-", "-", ""),
    "compact": ("", "", ""),
    "slash": ("/", "/", ""),
    "cn": ("年", "月", "日"),
}


def format_date_parts(year: str, month: str, day: str, style: str) -> str:
    a, b, c = _STYLE_SEP[style]
    return f"{year}{a}{month}{b}{day}{c}"


def fmt_dates(values: np.ndarray, style: str) -> np.ndarray:
    """datetime64[D] → text in the given style; NaT → None."""
    values = np.asarray(values, dtype="datetime64[D]")
    iso = np.datetime_as_string(values, unit="D").astype(object)
    out = np.empty(len(values), dtype=object)
    ok = ~np.isnat(values)
    a, b, c = _STYLE_SEP[style]
    out[ok] = [f"{s[:4]}{a}{s[5:7]}{b}{s[8:10]}{c}" for s in iso[ok]]
    return out


def fmt_datetimes(values: np.ndarray, salt: np.ndarray) -> np.ndarray:
    """A date plus a working-hours time derived from `salt`, as 'YYYY-MM-DD HH:MM:SS'."""
    secs = 8 * 3600 + (np.asarray(salt, dtype=np.int64) * 7919) % (10 * 3600)
    stamps = np.asarray(values, dtype="datetime64[D]").astype("datetime64[s]") + secs
    return np.char.replace(np.datetime_as_string(stamps, unit="s"), "T", " ").astype(object)


def fmt_decimal(values: np.ndarray, places_: int = 2) -> np.ndarray:
    return np.char.mod(f"%.{places_}f", np.asarray(values, dtype=float)).astype(object)


def _month(period: str) -> str:
    return period.replace("-", "")


def _stable(values: np.ndarray, purpose: str) -> np.ndarray:
    """A stable pseudo-random integer per value (does not change from month to month)."""
    salt = purpose.encode()
    return np.array([zlib.crc32(salt + str(v).encode()) for v in values], dtype=np.int64)


def _obj(values) -> np.ndarray:
    return np.asarray(values, dtype=object)


# ------------------------------------------------------------------ 人口
def gaj_hjrk(w: World) -> Columns:
    p = w.persons
    style = DATE_STYLE["gaj_hjrk"]
    return {
        "citizen_id": p["citizen_id"],
        "person_name": p["name"],
        "gender": p["gender"],
        "nation": p["nation"],
        "birth_date": fmt_dates(p["birth_date"], style),
        "domicile_region": p["county"],
        "domicile_address": w.addresses["standard_address"][p["address"]],
        "household_no": w.household_numbers(),
        "household_relation": w.relations(),
        "hukou_status": p["status"],
        "gxsj": fmt_datetimes(p["updated"], np.arange(len(p))),
    }


def wjw_csyxzm(w: World) -> Columns:
    p, b = w.persons, w.events.births
    mothers = w.newborn_mothers
    letters = np.array(list("PQRSTU"))
    cert = np.char.add(
        letters[int(w.period[:4]) % 6], zpad((371600000 + w.newborn_cert), 9)
    ).astype(object)
    hospitals = {c: places.hospital_names(c) for c in places.COUNTIES}
    pick = _stable(p["citizen_id"][b], "hospital")
    hosp = _obj(
        [hospitals[c][k % len(hospitals[c])] for c, k in zip(p["county"][b], pick, strict=True)]
    )
    return {
        "birth_cert_no": cert,
        "citizen_id": p["citizen_id"][b],
        "person_name": p["name"][b],
        "gender": p["gender"][b],
        "birth_date": fmt_dates(p["birth_date"][b], DATE_STYLE["wjw_csyxzm"]),
        "mother_id": p["citizen_id"][mothers],
        "mother_name": p["name"][mothers],
        "hospital_name": hosp,
    }


def wjw_swyxzm(w: World) -> Columns:
    p, d = w.persons, w.events.deaths
    seq = np.arange(len(d))
    cert = np.char.add(f"{_month(w.period)}", zpad((seq + 1), 6))
    return {
        "death_cert_no": np.char.add("371600", cert).astype(object),
        "citizen_id": p["citizen_id"][d],
        "person_name": p["name"][d],
        "gender": p["gender"][d],
        "death_date": fmt_dates(p["death_date"][d], DATE_STYLE["wjw_swyxzm"]),
        "domicile_region": p["county"][d],
    }


def rsj_shbx(w: World) -> Columns:
    p, e = w.persons, w.entities
    end = month_end(w.period)
    alive = p["status"] == "1"
    age = (end - p["birth_date"]).astype(np.int64) / 365.25
    employed = np.flatnonzero(alive & (p["employer"] >= 0))
    resident = np.flatnonzero(
        alive & (p["employer"] < 0) & (age >= 18) & (_stable(p["citizen_id"], "resident") % 10 < 6)
    )
    who = np.concatenate([employed, employed, resident])
    itype = np.concatenate(
        [
            np.full(len(employed), "110"),
            np.full(len(employed), "310"),
            np.full(len(resident), "170"),
        ]
    ).astype(object)
    order = np.lexsort((itype.astype(str), who))
    who, itype = who[order], itype[order]
    emp = p["employer"][who]
    has_emp = emp >= 0
    start = p["birth_date"][who] + 18 * 365 + (_stable(p["citizen_id"][who], "ins") % 3000)
    # Contributions are recorded from the 1992 pension reform on.
    start = np.clip(
        start, np.datetime64("1992-01-01") + _stable(p["citizen_id"][who], "ins92") % 2000, end - 1
    )
    base = np.where(has_emp, 3500 + _stable(p["citizen_id"][who], "base") % 9000, np.nan)
    addr = w.addresses["standard_address"]
    prev = p["prev_address"][who]
    style = DATE_STYLE["rsj_shbx"]
    return {
        "citizen_id": p["citizen_id"][who],
        "person_name": p["name"][who],
        "birth_date": fmt_dates(p["birth_date"][who], style),
        "domicile_address": addr[p["address"][who]],
        "mobile": p["mobile"][who],
        "insurance_type": itype,
        "insurance_status": np.full(len(who), "1", dtype=object),
        "insurance_start_date": fmt_dates(start, style),
        "employer_uscc": np.where(has_emp, e["uscc"][emp], None),
        "employer_name": np.where(has_emp, e["name"][emp], None),
        "contribution_base": np.where(has_emp, fmt_decimal(np.nan_to_num(base)), None),
        "_alt_domicile_address": np.where(prev >= 0, addr[np.maximum(prev, 0)], None),
    }


def mzj_hydj(w: World) -> Columns:
    p = w.persons
    pairs = np.concatenate([w.events.marriages, w.events.divorces])
    kinds = np.concatenate(
        [np.full(len(w.events.marriages), "1"), np.full(len(w.events.divorces), "2")]
    )
    region = p["county"][pairs[:, 0]] if len(pairs) else np.empty(0, dtype=object)
    prefix = np.where(kinds == "1", "J", "L")
    cert = np.char.add(
        np.char.add(prefix, region.astype(str)),
        np.char.add(f"-{w.period[:4]}-", zpad(w.marriage_cert, 6)),
    )
    return {
        "marriage_cert_no": cert.astype(object),
        "marriage_type": kinds.astype(object),
        "marriage_date": fmt_dates(w.marriage_dates, DATE_STYLE["mzj_hydj"]),
        "male_id": p["citizen_id"][pairs[:, 0]],
        "male_name": p["name"][pairs[:, 0]],
        "female_id": p["citizen_id"][pairs[:, 1]],
        "female_name": p["name"][pairs[:, 1]],
        "admin_region": _obj(region),
    }


def mzj_shjz(w: World) -> Columns:
    p, r = w.persons, w.relief
    who = r["person"]
    return {
        "citizen_id": p["citizen_id"][who],
        "person_name": p["name"][who],
        "domicile_region": p["county"][who],
        "mobile": p["mobile"][who],
        "relief_type": r["type"],
        "relief_amount": fmt_decimal(r["amount"]),
        "relief_start_date": fmt_dates(r["start"], DATE_STYLE["mzj_shjz"]),
    }


# ------------------------------------------------------------------ 法人
def scjgj_sczt(w: World) -> Columns:
    e, p = w.entities, w.persons
    style = DATE_STYLE["scjgj_sczt"]
    return {
        "uscc": e["uscc"],
        "entity_name": e["name"],
        "entity_type": e["type"],
        "legal_rep_name": p["name"][e["legal_rep"]],
        "legal_rep_id": p["citizen_id"][e["legal_rep"]],
        "registered_capital": fmt_decimal(e["capital"], 4),
        "establish_date": fmt_dates(e["established"], style),
        "entity_status": e["status"],
        "industry_code": e["industry"],
        "entity_region": e["county"],
        "entity_address": w.addresses["standard_address"][e["address"]],
        "gxsj": fmt_datetimes(e["updated"], np.arange(len(e))),
    }


def swj_nssb(w: World) -> Columns:
    e = w.entities
    who = np.flatnonzero(w.monthly["revenue"] > 0)
    return {
        "uscc": e["uscc"][who],
        "entity_name": e["name"][who],
        "report_month": np.full(len(who), _month(w.period), dtype=object),
        "sales_revenue": fmt_decimal(w.monthly["revenue"][who]),
        "tax_amount": fmt_decimal(w.monthly["tax"][who]),
        "tax_credit_grade": e["tax_grade"][who],
    }


def gdgs_ydl(w: World) -> Columns:
    e = w.entities
    who = np.flatnonzero((e["status"] == "1") & (e["power_account"] != None))  # noqa: E711
    return {
        "power_account": e["power_account"][who],
        "account_name": e["name"][who],
        "uscc": e["uscc"][who],
        "report_month": np.full(len(who), _month(w.period), dtype=object),
        "power_kwh": fmt_decimal(w.monthly["kwh"][who], 1),
    }


# ------------------------------------------------------------------ 信用
def _rep_alternatives(w: World, ent: np.ndarray) -> np.ndarray:
    """A wrong legal representative: the former one where there was a change, else anyone."""
    e, p = w.entities, w.persons
    prev = e["prev_legal_rep"][ent]
    other = _stable(e["uscc"][ent], "other-rep") % len(p)
    who = np.where(prev >= 0, prev, other)
    alt = p["name"][who]
    return np.where(alt == p["name"][e["legal_rep"][ent]], None, alt)


def fgw_sgs(w: World) -> Columns:
    d, e, p = w.events.decisions, w.entities, w.persons
    ent = d["entity"]
    return {
        "decision_doc_no": d["doc_no"],
        "decision_type": d["type"],
        "uscc": e["uscc"][ent],
        "entity_name": e["name"][ent],
        "legal_rep_name": p["name"][e["legal_rep"][ent]],
        "decision_content": d["content"],
        "penalty_amount": np.where(d["type"] == "2", fmt_decimal(d["amount"]), "0.00").astype(
            object
        ),
        "decision_date": fmt_dates(d["date"], DATE_STYLE["fgw_sgs"]),
        "_alt_legal_rep_name": _rep_alternatives(w, ent),
    }


def fgw_xypj(w: World) -> Columns:
    e, p = w.entities, w.persons
    evaluated = month_end(w.period) - 5
    # Entities established after the evaluation date are evaluated next time.
    ent = np.flatnonzero((e["status"] == "1") & (e["established"] <= evaluated))
    when = np.full(len(ent), evaluated)
    return {
        "uscc": e["uscc"][ent],
        "entity_name": e["name"][ent],
        "legal_rep_name": p["name"][e["legal_rep"][ent]],
        "public_credit_grade": e["credit_grade"][ent],
        "evaluation_date": fmt_dates(when, DATE_STYLE["fgw_xypj"]),
        "_alt_legal_rep_name": _rep_alternatives(w, ent),
    }


def fgw_tzxm(w: World) -> Columns:
    pr, e = w.projects, w.entities
    own = pr["owner"]
    return {
        "project_code": pr["code"],
        "project_name": pr["name"],
        "uscc": e["uscc"][own],
        "entity_name": e["name"][own],
        "industry_code": e["industry"][own],
        "project_region": pr["region"],
        "total_investment": fmt_decimal(pr["investment"]),
        "project_status": pr["status"],
        "start_date": fmt_dates(pr["start"], DATE_STYLE["fgw_tzxm"]),
    }


# ------------------------------------------------------------------ 自然资源和空间地理
def zrzyj_bdcdj(w: World) -> Columns:
    est, p = w.estates, w.persons
    idx = w.events.estate_regs
    owner = est["owner"][idx]
    return {
        "estate_unit_no": est["unit_no"][idx],
        "estate_cert_no": est["cert_no"][idx],
        "owner_name": p["name"][owner],
        "owner_id": p["citizen_id"][owner],
        "estate_location": w.addresses["standard_address"][est["address"][idx]],
        "estate_region": est["region"][idx],
        "estate_area": fmt_decimal(est["area"][idx]),
        "estate_use": est["use"][idx],
        "estate_reg_date": fmt_dates(est["reg_date"][idx], DATE_STYLE["zrzyj_bdcdj"]),
    }


def zrzyj_bzdz(w: World) -> Columns:
    a = w.addresses
    return {
        "address_code": a["address_code"],
        "admin_region": a["admin_region"],
        "town_name": a["town_name"],
        "community_name": a["community_name"],
        "standard_address": a["standard_address"],
    }


def zjj_wqba(w: World) -> Columns:
    c, est, p = w.events.contracts, w.estates, w.persons
    idx = c["estate"]
    return {
        "contract_no": c["contract_no"],
        "estate_unit_no": est["unit_no"][idx],
        "buyer_id": p["citizen_id"][c["buyer"]],
        "buyer_name": p["name"][c["buyer"]],
        "estate_location": w.addresses["standard_address"][est["address"][idx]],
        "estate_area": fmt_decimal(est["area"][idx]),
        "contract_amount": fmt_decimal(c["amount"]),
        "contract_date": fmt_dates(c["date"], DATE_STYLE["zjj_wqba"]),
    }


# ------------------------------------------------------------------ 电子证照、宏观经济
LICENCE_AUTHORITY = {
    "01": "市场监督管理局",
    "02": "市场监督管理局",
    "03": "生态环境局",
    "04": "住房和城乡建设局",
    "05": "交通运输局",
}


def dsj_dzzz(w: World) -> Columns:
    lic, e = w.licences, w.entities
    # Licences the world has scheduled after the period end are not issued yet.
    issued = np.flatnonzero(lic["issued"] <= month_end(w.period))
    lic = {k: v[issued] for k, v in lic.cols.items()}
    h = lic["holder"]
    county_names = np.array([places.COUNTIES[c] for c in e["county"][h]], dtype=object)
    auth = _obj(
        [
            f"滨州市{LICENCE_AUTHORITY[t]}" if t in ("03", "05") else f"{cn}{LICENCE_AUTHORITY[t]}"
            for t, cn in zip(lic["type"], county_names, strict=True)
        ]
    )
    return {
        "licence_no": lic["licence_no"],
        "licence_type": lic["type"],
        "holder_uscc": e["uscc"][h],
        "holder_name": e["name"][h],
        "issuing_authority": auth,
        "issue_date": fmt_dates(lic["issued"], DATE_STYLE["dsj_dzzz"]),
        "expiry_date": fmt_dates(lic["expires"], DATE_STYLE["dsj_dzzz"]),
        "licence_status": lic["status"],
    }


def tjj_zyjjzb(w: World) -> Columns:
    s = w.county_stats()
    return {
        "admin_region": s["region"],
        "report_month": np.full(len(s), _month(w.period), dtype=object),
        "stat_item": s["item"],
        "stat_value": fmt_decimal(s["value"]),
    }


VIEWS: dict[str, Callable[[World], Columns]] = {
    f.__name__: f
    for f in (
        gaj_hjrk,
        wjw_csyxzm,
        wjw_swyxzm,
        rsj_shbx,
        mzj_hydj,
        mzj_shjz,
        scjgj_sczt,
        swj_nssb,
        gdgs_ydl,
        fgw_sgs,
        fgw_xypj,
        fgw_tzxm,
        zrzyj_bdcdj,
        zrzyj_bzdz,
        zjj_wqba,
        dsj_dzzz,
        tjj_zyjjzb,
    )
}


def build(dataset_id: str, world: World) -> Columns:
    """The clean extract of `dataset_id` for the world's current period."""
    try:
        view = VIEWS[dataset_id]
    except KeyError:
        raise KeyError(
            f"合成数据没有数据集 {dataset_id} 的生成规则：请在 bzdata.synth.views 中补充"
        ) from None
    return {k: _obj(v) for k, v in view(world).items()}
