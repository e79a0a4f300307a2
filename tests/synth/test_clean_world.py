"""A city delivered without defects satisfies every fact the registry declares, judged from the
delivered files, the truth Parquet and the registry alone: otherwise the quality rules derived
from those facts would flag correct data.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bzdata.registry import load_registry
from bzdata.synth import Rates, generate
from bzdata.synth.defects import DEFAULT_RATES

SEED = 777
MONTHS = 3
PERIODS = [f"2023-{m + 1:02d}" for m in range(MONTHS)]


@pytest.fixture(scope="module")
def clean_city(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate(
        out, scale="demo", months=MONTHS, seed=SEED, rates=Rates(dict.fromkeys(DEFAULT_RATES, 0.0))
    )
    return out


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def _violations(city: Path, registry, judge) -> tuple[Counter, list, set]:
    """(values each fact was checked on, the values that break one, deaths delivered)."""
    checked: Counter = Counter()
    broken: list = []
    deaths_recorded: set[str] = set()
    endings = [
        d
        for d in registry.datasets
        if any(
            registry.element(f.element).ends_subject
            and registry.element(f.element).authority == d.provider
            for f in d.fields
        )
    ]

    def fact(name: str, ok: bool, where) -> None:
        checked[name] += 1
        if not ok:
            broken.append((name, *where))

    for ds in registry.datasets:
        table = judge.table(ds)
        if not ds.is_due(judge.period):
            continue
        assert table is not None, (ds.id, judge.period)
        n = len(table[ds.columns[0]])
        subject = judge.subject_column(ds, ("citizen_id",))
        for f in ds.fields:
            el = registry.element(f.element)
            for i, value in enumerate(table[f.column]):
                where = (judge.period, ds.id, f.column, value)
                if value in (None, ""):
                    continue
                if el.type in ("string", "date"):
                    fact("no placeholder", not judge.is_placeholder(value, el), where)
                if el.event:
                    when = judge.parse_date(value[:10] if el.type == "datetime" else value)
                    fact("event", when is not None and when <= judge.end, where)
                if el.after:
                    ref = judge.after_reference(ds, el, table, i)
                    if ref is not None:
                        fact("after", judge.parse_date(value) >= ref, (*where, ref))
                if el.encoded_in and subject:
                    facts = judge.subject_facts(ds, table, i)
                    assert facts is not None, where
                    want = facts[0] if el.encoded_in == "birth_date" else facts[1]
                    got = judge.parse_date(value) if el.encoded_in == "birth_date" else value
                    fact(f"encoded {el.encoded_in}", got == want, where)
                if el.format == "region":
                    fact("region in force", judge.region_in_force(value, judge.year), where)
                if el.format in ("ric", "uscc"):
                    fact(
                        "identifier region existed",
                        judge.id_region_existed(value, el.format),
                        where,
                    )
                if el.id in ("citizen_id", "uscc") and judge.is_copy(ds, el):
                    fact("subject known to the authority", judge.known_subject(value, el), where)
        if ds.active is not None:
            column = ds.active.column or subject
            for i in range(n):
                shown = ds.active.present or table[column][i] in ds.active.values
                if shown:
                    fact(
                        "active subject alive",
                        not judge.dead(table[subject][i]),
                        (judge.period, ds.id, column, table[subject][i]),
                    )
        if ds in endings:
            deaths_recorded.update(table[subject])
    return checked, broken, deaths_recorded


@pytest.mark.parametrize("period", PERIODS)
def test_clean_city_satisfies_every_registry_fact(clean_city, registry, judge_for, period):
    judge = judge_for(clean_city, registry, period)
    checked, broken, deaths = _violations(clean_city, registry, judge)
    assert not broken, broken[:10]
    for name in (
        "no placeholder",
        "event",
        "after",
        "encoded birth_date",
        "encoded gender",
        "region in force",
        "identifier region existed",
        "subject known to the authority",
        "active subject alive",
    ):
        assert checked[name] > 100, (name, checked)
    # The deaths the authority delivered are deaths of the truth, and none is shown as active.
    assert deaths and all(judge.dead(cid) for cid in deaths)
