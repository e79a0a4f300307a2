"""一数一源 on a real 3-month demo run: every copy record is matched to its register or raised,
a certified death is raised wherever the person is still active, and a placeholder in the
authority is the authority's 完整性 issue, never a copy's. The facts compared with are
recomputed here from the registry's own definitions, bzdata.ids and plain queries on the
warehouse, and the synthetic ledger; not from the rules' compiled SQL."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from bzdata.ids import ric, uscc
from bzdata.ids.text import normalize
from bzdata.quality import outputs
from bzdata.quality.rules import load_rules

pytestmark = pytest.mark.slow

_VALID = {"ric": ric.is_valid, "uscc": uscc.is_valid}


def _issues(city) -> list[dict]:
    rules = {r.id: r for r in load_rules(registry=city.registry).rules}
    rows = pq.read_table(outputs.output_file(city.work, outputs.ISSUES, city.period)).to_pylist()
    for row in rows:
        row["template"] = rules[row["rule_id"]].template
    return rows


def _ledger(city, kind: str) -> list[dict]:
    path = city.synth / "ledger" / city.period / "defects.parquet"
    return [e for e in pq.read_table(path).to_pylist() if e["defect_kind"] == kind]


def _registers(registry) -> dict[str, tuple]:
    """Identifier element -> (register dataset, key column): the authority's dataset whose
    single record key carries the element (the registry's definition of a register)."""
    found = {}
    for ds in registry.datasets:
        if len(ds.record_key) == 1:
            element = registry.element(ds.field(ds.record_key[0]).element)
            if element.format in _VALID and element.authority == ds.provider:
                found[element.id] = (ds, ds.record_key[0])
    return found


def test_every_copy_record_is_matched_to_its_register_or_raised(quality_city):
    city, registry = quality_city, quality_city.registry
    raised = {
        (i["dataset"], i["field"], i["record_key"])
        for i in _issues(city)
        if i["template"] in ("known_to_authority", "authority_behind")
    }
    registers = _registers(registry)
    checked = unmatched = 0
    with city.connect() as con:
        for ds in registry.datasets:
            if ds.is_frontdb:
                continue  # the registers themselves
            for field in ds.fields:
                element = registry.element(field.element)
                if element.id not in registers or registers[element.id][0].id == ds.id:
                    continue
                register, key = registers[element.id]
                known = {
                    row[0]
                    for row in con.execute(
                        f"select {key} from intermediate.int_{register.provider}__"
                        f"{register.id.removeprefix(register.provider + '_')}__latest"
                    ).fetchall()
                }
                keys = ", ".join(f"cast({k} as varchar)" for k in ds.record_key)
                rows = con.execute(
                    f"select concat_ws('|', {keys}), {field.column}_delivered "
                    f"from staging.stg_{ds.provider}__{ds.id.removeprefix(ds.provider + '_')} "
                    "where period = ?",
                    [city.period],
                ).fetchall()
                for record_key, delivered in rows:
                    value = normalize(delivered or "")
                    if not _VALID[element.format](value):
                        continue  # its own identifier rule reports it
                    checked += 1
                    if value not in known:
                        unmatched += 1
                        assert (ds.id, field.column, record_key) in raised, (ds.id, record_key)
    assert checked > 10_000
    ghosts = _ledger(city, "unknown_subject")
    assert ghosts and unmatched >= len(ghosts)
    for entry in ghosts:  # a subject nobody holds is the copy holder's issue
        hit = [
            i
            for i in _issues(city)
            if i["template"] == "known_to_authority"
            and (i["dataset"], i["record_key"]) == (entry["dataset"], entry["record_key"])
        ]
        assert hit and hit[0]["department"] == entry["department"], entry


def test_a_certified_death_is_raised_wherever_the_person_is_still_active(quality_city):
    city = quality_city
    raised = {
        (i["dataset"], i["record_key"]) for i in _issues(city) if i["template"] == "subject_ended"
    }
    end = f"last_day(cast('{city.period}-01' as date))"
    with city.connect() as con:
        dead = (
            "select citizen_id from intermediate.int_wjw__swyxzm__latest "
            f"where death_date >= date '1990-01-01' and death_date <= {end}"
        )
        still_active = {
            "gaj_hjrk": "select citizen_id from intermediate.int_gaj__hjrk__latest "
            f"where hukou_status = '1' and citizen_id in ({dead})",
            "rsj_shbx": "select citizen_id || '|' || insurance_type from staging.stg_rsj__shbx "
            f"where period = '{city.period}' and insurance_status in ('1', '2') "
            f"and citizen_id in ({dead})",
            "mzj_shjz": "select citizen_id from staging.stg_mzj__shjz "
            f"where period = '{city.period}' and citizen_id in ({dead})",
        }
        found = {}
        for dataset, sql in still_active.items():
            found[dataset] = {row[0] for row in con.execute(sql).fetchall()}
            for record_key in found[dataset]:
                assert (dataset, record_key) in raised, (dataset, record_key)
        living_dead = con.execute(
            f"select count(*) from base.lib_population where citizen_id in ({dead}) "
            "or death_date is not null"
        ).fetchone()[0]
    assert living_dead == 0
    truth = _ledger(city, "death_not_propagated")
    assert truth and {e["dataset"] for e in truth} <= set(still_active)
    for entry in truth:  # each recorded lag is among the active rows found independently
        assert entry["record_key"] in found[entry["dataset"]], entry


def test_a_placeholder_in_the_authority_is_its_gap_and_no_copy_is_blamed(quality_city):
    city = quality_city
    issues = _issues(city)
    entries = [e for e in _ledger(city, "placeholder") if e["dataset"] == "gaj_hjrk"]
    names = [e for e in entries if e["field"] == "person_name"]
    assert names, "the demo city has placeholder names in 户籍"
    for entry in names:
        own = [
            i
            for i in issues
            if (i["dataset"], i["record_key"], i["field"])
            == ("gaj_hjrk", entry["record_key"], "person_name")
        ]
        assert [(i["template"], i["dimension"], i["department"]) for i in own] == [
            ("not_null", "完整性", "gaj")
        ], entry
    subjects = {e["record_key"] for e in names}
    with city.connect() as con:
        copies = con.execute(
            "select holder_dataset, holder_column, record_key, subject_key "
            "from quality.consistency_checks where element = 'person_name'"
        ).fetchall()
    blamed = {
        (i["dataset"], i["field"], i["record_key"])
        for i in issues
        if i["template"] == "consistency"
    }
    compared = [row for row in copies if row[3] in subjects]
    assert compared, "the placeholder names' subjects have copies elsewhere"
    for holder, column, record_key, _ in compared:
        assert (holder, column, record_key) not in blamed, (holder, column, record_key)
