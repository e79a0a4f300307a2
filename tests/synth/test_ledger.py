"""The defect ledger is complete and exact, judged from the delivered files and the true world.

Defective values are found here without the generator's bookkeeping: identifiers with the
identifier library, codes and ranges with the registry, copies against the truth Parquet.
Every value found must be in the ledger, and every ledger entry must be found.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pypinyin import lazy_pinyin
from tests.synth.delivered import parse_date

from bzdata.ids import gbt2260, phone, region, ric, text, uscc
from bzdata.registry import load_registry
from bzdata.registry.placeholders import load_placeholders
from bzdata.synth import generate, writers

SEED = 4242
MONTHS = 3
CONSISTENCY_KINDS = {"homophone_name", "stale_address", "wrong_birth_date", "wrong_legal_rep"}
# Copy columns and the identifier column of the same row that finds the true record.
PERSON_KEY = {
    "person_name": "citizen_id",
    "mother_name": "mother_id",
    "male_name": "male_id",
    "female_name": "female_id",
    "buyer_name": "buyer_id",
    "birth_date": "citizen_id",
    "domicile_address": "citizen_id",
}
ENTITY_KEY = {
    "entity_name": "uscc",
    "account_name": "uscc",
    "holder_name": "holder_uscc",
    "employer_name": "employer_uscc",
    "legal_rep_name": "uscc",
}
TRUTH_COLUMN = {
    "person_name": "name",
    "mother_name": "name",
    "male_name": "name",
    "female_name": "name",
    "buyer_name": "name",
    "birth_date": "birth_date",
    "domicile_address": "domicile_address",
    "entity_name": "name",
    "account_name": "name",
    "holder_name": "name",
    "employer_name": "name",
    "legal_rep_name": "legal_rep_name",
}


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate(out, scale="demo", months=MONTHS, seed=SEED)
    return out


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_bytes_and_another_seed_differs(city, tmp_path):
    again = tmp_path / "again"
    generate(again, scale="demo", months=MONTHS, seed=SEED)
    first, second = _hashes(city), _hashes(again)
    assert len(first) > 40
    assert first == second
    other = tmp_path / "other"
    generate(other, scale="demo", months=1, seed=SEED + 1)
    changed = [f for f, h in _hashes(other).items() if first.get(f) != h]
    assert any(f.startswith("landing/") for f in changed)
    assert any(f.startswith("ledger/") for f in changed)


# ---------------------------------------------------------------- independent detection
def _identifier_kind(value: str, fmt: str) -> str | None:
    if text.has_fullwidth(value):
        return "fullwidth_digits"
    if text.has_stray_space(value):
        return "stray_spaces"
    if fmt == "ric":
        if ric.is_legacy15(value):
            return "legacy_id15"
        check = ric.validate(value)
    elif fmt == "uscc":
        check = uscc.validate(value)
    elif fmt == "mobile":
        return None if phone.is_valid_mobile(value) else "malformed"
    else:  # region: the shape here; whether the code exists is the judge's (unknown_region)
        shaped = len(value) == 6 and value.isdigit() and value[:2] in region.PROVINCES
        return None if shaped else "malformed"
    if check.ok or check.code == "region":  # a well-formed code that does not exist: see below
        return None
    return "check_digit" if check.code == "check_digit" else "malformed"


def _value_kind(value, field, element, registry, ds=None, table=None, i=None, judge=None):
    """The defect a delivered value shows on its own or against the registry's facts about
    its record: the period, the subject's identifiers, the code tables, the placeholders."""
    if value is None or value == "":
        return "missing_value" if field.required else None
    if judge is not None and judge.is_placeholder(value, element):
        return "placeholder"
    if element.format in ("ric", "uscc", "mobile", "region"):
        kind = _identifier_kind(value, element.format)
        if kind or judge is None:
            return kind
        if element.format == "region" and not judge.region_in_force(value, judge.year):
            return "unknown_region"
        if element.format == "ric" and not judge.id_region_existed(value, "ric"):
            return "id_unknown_region"
        if element.format == "uscc" and not judge.id_region_existed(value, "uscc"):
            return "uscc_unknown_region"
        return None
    if element.format == "code_list":
        if value not in registry.code_list(element.code_list).values:
            return "invalid_code"
        if judge is not None and element.encoded_in == "gender":
            facts = judge.subject_facts(ds, table, i)
            if facts is not None and facts[1] != value:
                return "id_gender_mismatch"
        return None
    if element.type == "date":
        parsed = parse_date(value)
        if parsed is None:
            return "malformed"
        if element.min is not None and parsed < element.min:
            return "out_of_range"
        if judge is None:
            return None
        if element.event and parsed > judge.end:
            return "future_event"
        if element.after:
            ref = judge.after_reference(ds, element, table, i)
            if ref is not None and parsed < ref:
                return "before_subject"
        if element.encoded_in == "birth_date" and element.authority == ds.provider:
            facts = judge.subject_facts(ds, table, i)
            if facts is not None and facts[0] != parsed:
                return "id_birth_mismatch"
        return None
    if element.type == "decimal" and (element.min is not None or element.max is not None):
        number = float(value)
        if (element.min is not None and number < element.min) or (
            element.max is not None and number > element.max
        ):
            return "out_of_range"
    return None


def _normal_id(value):
    if value is None:
        return None
    v = text.normalize(value)
    return ric.upgrade15(v) if ric.is_legacy15(v) else v


def _consistency_kind(column, delivered, truth_value) -> str | None:
    if truth_value is None or delivered == truth_value:
        return None
    if column == "birth_date":
        return "wrong_birth_date"
    if column == "domicile_address":
        return "stale_address"
    if column == "legal_rep_name":
        return "wrong_legal_rep"
    return "homophone_name"


def _subject_kind(ds, f, element, table, i, judge) -> str | None:
    """一数一源: a copy's identifier the authority does not hold, or a subject shown as active
    after the authority recorded its death."""
    value = table[f.column][i]
    copy = element.id in ("citizen_id", "uscc") and judge.is_copy(ds, element)
    if copy and not judge.known_subject(value, element):
        return "unknown_subject"
    active = ds.active
    if active is not None:
        subject = judge.subject_column(ds, ("citizen_id",))
        if active.present and f.column == subject and judge.dead(value):
            return "death_not_propagated"
        if f.column == active.column and value in active.values and judge.dead(table[subject][i]):
            return "death_not_propagated"
    return None


def _found_defects(city: Path, registry, period: str, judge=None) -> tuple[Counter, Counter]:
    """(period, dataset, field, kind, delivered) of every defective value, and duplicate rows."""
    truth = city / "truth" / period
    persons = pq.read_table(truth / "persons.parquet").to_pydict()
    entities = pq.read_table(truth / "entities.parquet").to_pydict()
    person_of = {cid: i for i, cid in enumerate(persons["citizen_id"])}
    entity_of = {code: i for i, code in enumerate(entities["uscc"])}
    found: Counter = Counter()
    duplicates: Counter = Counter()
    for ds in registry.datasets:
        path = _delivered_path(city, ds, period)
        if path is None:
            continue
        table = writers.read_back(path, ds).to_pydict()
        n = len(table[ds.columns[0]])
        # A 前置库 stamps each inserted row, so a duplicate differs only in the watermark.
        content = [c for c in ds.columns if c != ds.delivery.watermark]
        rows = Counter(tuple(table[c][i] for c in content) for i in range(n))
        duplicates[(period, ds.id)] = sum(k - 1 for k in rows.values())
        for f in ds.fields:
            element = registry.element(f.element)
            copy = element.authority != ds.provider
            for i, value in enumerate(table[f.column]):
                kind = _value_kind(value, f, element, registry, ds, table, i, judge)
                if kind is None and copy and f.column in TRUTH_COLUMN and value not in (None, ""):
                    kind = _truth_mismatch(
                        f.column, value, table, i, persons, person_of, entities, entity_of
                    )
                if kind is None and judge is not None and value not in (None, ""):
                    kind = _subject_kind(ds, f, element, table, i, judge)
                if kind:
                    found[(period, ds.id, f.column, kind, value or "")] += 1
    return found, duplicates


def _truth_mismatch(column, value, table, i, persons, person_of, entities, entity_of):
    if column in PERSON_KEY:
        row = person_of.get(_normal_id(table[PERSON_KEY[column]][i]))
        source = persons
    else:
        key = table[ENTITY_KEY[column]][i]
        row = entity_of.get(text.normalize(key) if key else None)
        source = entities
    if row is None:
        return None
    truth_value = source[TRUTH_COLUMN[column]][row]
    if column == "birth_date":
        return None if parse_date(value) == truth_value else "wrong_birth_date"
    kind = _consistency_kind(column, value, truth_value)
    if kind == "homophone_name" and column in PERSON_KEY:
        # A person's name copy that differs must sound the same: otherwise it is no typo.
        assert lazy_pinyin(value) == lazy_pinyin(truth_value), (value, truth_value)
    return kind


def _delivered_path(city: Path, ds, period: str) -> Path | None:
    if ds.delivery.channel == "frontdb":
        path = writers.frontdb_path(city, period, ds.provider)
    else:
        path = writers.file_drop_path(ds, city, period)
    return path if path.exists() else None


def _ledger(city: Path, period: str) -> list[dict]:
    return pq.read_table(city / "ledger" / period / "defects.parquet").to_pylist()


@pytest.mark.parametrize("month", range(MONTHS))
def test_every_defective_value_is_in_the_ledger_and_every_entry_is_delivered(
    city, registry, judge_for, month
):
    period = f"2023-{month + 1:02d}"
    found, duplicates = _found_defects(city, registry, period, judge_for(city, registry, period))
    ledger = _ledger(city, period)
    record_level = [e for e in ledger if e["field"] is not None]
    booked = Counter(
        (e["period"], e["dataset"], e["field"], e["defect_kind"], e["delivered_value"] or "")
        for e in record_level
    )
    missing_from_ledger = found - booked
    not_delivered = booked - found
    assert not missing_from_ledger, list(missing_from_ledger)[:10]
    assert not not_delivered, list(not_delivered)[:10]
    booked_dups = Counter(
        (e["period"], e["dataset"]) for e in ledger if e["defect_kind"] == "duplicate_record"
    )
    assert +duplicates == +booked_dups
    # Enough of each kind was injected for the check to mean something.
    kinds = Counter(e["defect_kind"] for e in ledger)
    for kind in (
        "check_digit",
        "malformed",
        "legacy_id15",
        "fullwidth_digits",
        "stray_spaces",
        "invalid_code",
        "missing_value",
        "out_of_range",
        "duplicate_record",
        "homophone_name",
        "stale_address",
        "wrong_birth_date",
    ):
        assert kinds[kind] >= 5, (kind, kinds)


def test_consistency_entries_carry_the_authoritative_value(city, registry):
    period = f"2023-{MONTHS:02d}"
    persons = pq.read_table(city / "truth" / period / "persons.parquet").to_pydict()
    names = set(persons["name"])
    addresses = set(persons["domicile_address"])
    entries = [e for e in _ledger(city, period) if e["defect_kind"] in CONSISTENCY_KINDS]
    assert entries
    for e in entries:
        assert e["true_value"] != e["delivered_value"]
        if e["defect_kind"] == "homophone_name" and e["field"] in PERSON_KEY:
            assert e["true_value"] in names
        if e["defect_kind"] == "stale_address":
            assert e["true_value"] in addresses


def test_timeliness_matches_file_times(city, registry):
    deliveries = Counter()
    for period in (f"2023-{m + 1:02d}" for m in range(MONTHS)):
        booked = {
            (e["dataset"], e["defect_kind"])
            for e in _ledger(city, period)
            if e["defect_kind"] in ("late_delivery", "missing_delivery")
        }
        y, m = int(period[:4]), int(period[5:])
        following = dt.date(y + m // 12, m % 12 + 1, 1)
        for ds in registry.datasets:
            if ds.delivery.channel != "file" or (ds.update_cycle == "每季" and m % 3):
                continue
            path = writers.file_drop_path(ds, city, period)
            if not path.exists():
                assert (ds.id, "missing_delivery") in booked
                deliveries["missing"] += 1
                continue
            arrived = dt.datetime.fromtimestamp(os.stat(path).st_mtime).date()
            due = following + dt.timedelta(days=ds.delivery.due_day - 1)
            late = arrived > due
            assert late == ((ds.id, "late_delivery") in booked), (ds.id, period, arrived, due)
            deliveries["late" if late else "on_time"] += 1
    assert deliveries["on_time"] > 20


def test_rectification_outcomes_follow_the_ledger(city, registry):
    snapshot = {ds.id for ds in registry.datasets if ds.extract == "snapshot"}
    earlier: set[str] = {e["defect_id"] for e in _ledger(city, "2023-01")}
    reopened = 0
    for month in range(2, MONTHS + 1):
        period = f"2023-{month:02d}"
        outcomes = pq.read_table(city / "ledger" / period / "rectifications.parquet").to_pylist()
        now = {e["defect_id"]: e["status"] for e in _ledger(city, period)}
        by_outcome = Counter(o["outcome"] for o in outcomes)
        assert by_outcome["rectified"] > 0 and by_outcome["open"] > 0
        late_now = {
            (e["dataset"], e["defect_kind"])
            for e in _ledger(city, period)
            if e["defect_kind"] in ("late_delivery", "missing_delivery")
        }
        for o in outcomes:
            assert o["defect_id"] in earlier
            if o["defect_kind"] in ("late_delivery", "missing_delivery"):
                # The same problem again leaves it open; anything else rectifies it.
                again = (o["dataset"], o["defect_kind"]) in late_now
                assert (o["outcome"] == "open") == again, o
            if o["outcome"] == "rectified":
                assert o["defect_id"] not in now  # delivered clean (a reopen waits a month)
            elif (
                o["outcome"] == "open"
                and o["dataset"] in snapshot
                and o["field"] is not None
                and (o["dataset"], "missing_delivery") not in late_now
            ):
                assert now[o["defect_id"]] == "open"  # still delivered broken
        for defect_id, status in now.items():
            if status == "reopened":
                assert defect_id in earlier
                reopened += 1
            elif status == "new":
                assert defect_id not in earlier or defect_id not in {
                    o["defect_id"] for o in outcomes if o["outcome"] == "open"
                }
        earlier |= set(now)
    assert reopened > 0


def test_every_frontdb_change_is_visible_to_a_watermark_pull(city, registry):
    for ds in (d for d in registry.datasets if d.is_frontdb):
        wm = ds.delivery.watermark
        for month in range(2, MONTHS + 1):
            before = writers.read_back(
                writers.frontdb_path(city, f"2023-{month - 1:02d}", ds.provider), ds
            ).to_pylist()
            period = f"2023-{month:02d}"
            now = writers.read_back(writers.frontdb_path(city, period, ds.provider), ds).to_pylist()
            old_rows = Counter(tuple(sorted(r.items())) for r in before)
            new_rows = [r for r in now if old_rows[tuple(sorted(r.items()))] == 0]
            assert new_rows, (ds.id, period)
            assert all(r[wm] >= f"{period}-01" for r in new_rows), ds.id
            # Nothing is stamped after the month it was delivered in.
            assert max(r[wm] for r in now) < f"2023-{month + 1:02d}-01", ds.id


# ---------------------------------------------------------------- the kinds the registry implies
NEW_KINDS = {
    "future_event": "准确性",
    "before_subject": "准确性",
    "id_birth_mismatch": "一致性",
    "id_gender_mismatch": "一致性",
    "unknown_region": "规范性",
    "id_unknown_region": "规范性",
    "uscc_unknown_region": "规范性",
    "placeholder": "完整性",
    "unknown_subject": "一致性",
    "death_not_propagated": "一致性",
}


def _all_entries(city: Path) -> list[dict]:
    return [e for month in range(MONTHS) for e in _ledger(city, f"2023-{month + 1:02d}")]


def test_each_new_kind_is_injected_often_in_authorities_and_copies(city, registry):
    entries = [e for e in _all_entries(city) if e["defect_kind"] in NEW_KINDS]
    by_kind = Counter(e["defect_kind"] for e in entries)
    for kind, dimension in NEW_KINDS.items():
        assert by_kind[kind] >= 30, (kind, by_kind)
        assert {e["dimension"] for e in entries if e["defect_kind"] == kind} == {dimension}
    datasets = {k: {e["dataset"] for e in entries if e["defect_kind"] == k} for k in NEW_KINDS}
    assert datasets["id_birth_mismatch"] == {"gaj_hjrk"}  # the authority of birth_date
    assert "gaj_hjrk" in datasets["id_gender_mismatch"]
    assert datasets["id_gender_mismatch"] & {"wjw_csyxzm", "wjw_swyxzm"}  # and copies
    assert {"gaj_hjrk", "rsj_shbx"} <= datasets["death_not_propagated"]
    for kind in NEW_KINDS.keys() - {
        "id_birth_mismatch",
        "id_gender_mismatch",
        "death_not_propagated",
    }:
        assert len(datasets[kind]) >= 4, (kind, datasets[kind])
    # Every delivery format carries the new kinds.
    formats = Counter(registry.dataset(e["dataset"]).delivery.format or "frontdb" for e in entries)
    assert all(formats[f] >= 10 for f in ("csv", "xlsx", "jsonl", "frontdb")), formats
    # Authorities and copies both.
    for kind in ("placeholder", "unknown_region", "id_unknown_region", "uscc_unknown_region"):
        sides = {
            registry.element(e["element"]).authority == e["department"]
            for e in entries
            if e["defect_kind"] == kind
        }
        assert sides == {True, False}, kind


def test_placeholders_are_registry_spellings_and_never_a_valid_code(city, registry):
    spellings = load_placeholders()
    seen = set()
    for e in _all_entries(city):
        if e["defect_kind"] != "placeholder":
            continue
        element = registry.element(e["element"])
        value = e["delivered_value"]
        seen.add(value)
        assert e["true_value"] not in (None, "")
        if element.type == "date":
            assert parse_date(value) in spellings.dates, value
        else:
            assert text.to_halfwidth(value).strip().casefold() in spellings.text, value
            if element.code_list:
                assert value not in registry.code_list(element.code_list).values
    # Written the way departments write them: full-width, padded, in either case.
    assert any(text.has_fullwidth(v) for v in seen)
    assert any(v != v.strip() for v in seen)
    assert len(seen) >= 10


def test_unknown_subjects_are_valid_identifiers_no_authority_holds(city, registry):
    entries = [e for e in _all_entries(city) if e["defect_kind"] == "unknown_subject"]
    assert entries
    for e in entries:
        period, ds = e["period"], registry.dataset(e["dataset"])
        element = registry.element(e["element"])
        value = e["delivered_value"]
        assert e["true_value"] is None
        assert element.id in ("citizen_id", "uscc") and element.authority != ds.provider
        check = ric.validate(value) if element.id == "citizen_id" else uscc.validate(value)
        assert check.ok, (value, check)
        code = value[:6] if element.id == "citizen_id" else value[2:8]
        assert gbt2260.ever_existed(code)
        authority = registry.dataset("gaj_hjrk" if element.id == "citizen_id" else "scjgj_sczt")
        held = writers.read_back(_delivered_path(city, authority, period), authority)
        assert value not in set(held.column(authority.record_key[0]).to_pylist())
        # A record of its own: its key is delivered once.
        table = writers.read_back(_delivered_path(city, ds, period), ds).to_pydict()
        keys = Counter(
            "|".join(str(table[c][i]) for c in ds.record_key)
            for i in range(len(table[ds.columns[0]]))
        )
        assert keys[e["record_key"]] == 1, e


def test_deaths_not_propagated_were_recorded_by_the_authority(city, registry):
    deaths_ds = registry.dataset("wjw_swyxzm")
    recorded: dict[str, str] = {}
    checked = 0
    for month in range(MONTHS):
        period = f"2023-{month + 1:02d}"
        path = _delivered_path(city, deaths_ds, period)
        if path is not None:
            for row in writers.read_back(path, deaths_ds).to_pylist():
                recorded.setdefault(row["citizen_id"], period)
        for e in _ledger(city, period):
            if e["defect_kind"] != "death_not_propagated":
                continue
            ds = registry.dataset(e["dataset"])
            person = e["record_key"].split("|")[0]
            assert recorded.get(person, "9999") <= period, e
            if ds.active.present:
                assert e["field"] == "citizen_id" and e["delivered_value"] == person
            else:
                assert e["field"] == ds.active.column
                assert e["delivered_value"] in ds.active.values
            checked += 1
    assert checked >= 30
