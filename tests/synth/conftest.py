"""What the registry's facts say about one delivered record, judged from outside the generator:
GB 11643 / GB 32100 with bzdata.ids, GB/T 2260 with gbt2260, the registry's declarations
(event, after, encoded_in, active) and placeholders, and the truth Parquet of the period.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests.synth.delivered import parse_date

from bzdata.ids import gbt2260, ric, text, uscc
from bzdata.registry.placeholders import load_placeholders
from bzdata.synth import writers

IDENTIFIERS = ("citizen_id", "uscc")


def period_end(period: str) -> dt.date:
    y, m = int(period[:4]), int(period[5:])
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def normal_id(value: str | None) -> str | None:
    if value is None:
        return None
    v = text.normalize(value)
    return ric.upgrade15(v) if ric.is_legacy15(v) else v


def encoded(value: str | None) -> tuple[dt.date, str] | None:
    """(birth date, sex code) a GB 11643 number encodes, where its digits can be read."""
    v = normal_id(value)
    if not v:
        return None
    try:
        return ric.birth_date(v), ric.sex(v)
    except ValueError:
        return None


def subject_column(ds, elements=IDENTIFIERS) -> str | None:
    """The record's subject: a record-key column of an identifier element, else the first."""
    cols = [f.column for f in ds.fields if f.element in elements]
    keyed = [c for c in ds.record_key if c in cols]
    return (keyed or cols or [None])[0]


def delivered_path(city: Path, ds, period: str) -> Path | None:
    if ds.delivery.channel == "frontdb":
        path = writers.frontdb_path(city, period, ds.provider)
    else:
        path = writers.file_drop_path(ds, city, period)
    return path if path.exists() else None


@dataclass
class Judge:
    """The truth of one period and the registry, with the facts a record must satisfy."""

    city: Path
    registry: object
    period: str
    persons: dict = field(init=False)
    entities: dict = field(init=False)

    def __post_init__(self) -> None:
        truth = self.city / "truth" / self.period
        persons = pq.read_table(truth / "persons.parquet").to_pydict()
        entities = pq.read_table(truth / "entities.parquet").to_pydict()
        self.persons = {
            cid: {k: persons[k][i] for k in ("hukou_status", "death_date", "birth_date")}
            for i, cid in enumerate(persons["citizen_id"])
        }
        self.persons_raw = persons
        self.person_of = {cid: i for i, cid in enumerate(persons["citizen_id"])}
        self.entities_raw = entities
        self.entity_of = {code: i for i, code in enumerate(entities["uscc"])}
        self.established = dict(zip(entities["uscc"], entities["establish_date"], strict=True))
        self.end = period_end(self.period)
        self.year = int(self.period[:4])
        spellings = load_placeholders()
        self.placeholder_text = set(spellings.text)
        self.placeholder_dates = set(spellings.dates)

    def table(self, ds) -> dict | None:
        path = delivered_path(self.city, ds, self.period)
        return None if path is None else writers.read_back(path, ds).to_pydict()

    # ---------------------------------------------------------------- facts
    def is_placeholder(self, value: str, element) -> bool:
        if element.type == "date":
            return parse_date(value) in self.placeholder_dates
        if element.type != "string":
            return False
        spelling = text.to_halfwidth(value).strip().casefold()
        if element.code_list and value in self.registry.code_list(element.code_list).values:
            return False
        return spelling in self.placeholder_text

    def after_reference(self, ds, element, table, i) -> dt.date | None:
        """The latest date of the record's subject that `element` (with `after:`) must not
        precede: birth dates encoded in every GB 11643 column, the entity's 成立日期 (truth) via
        the uscc column, or the record's own column of the named element."""
        refs: list[dt.date] = []
        for other in element.after:
            if other == "birth_date":
                for f in ds.fields:
                    if self.registry.element(f.element).format == "ric":
                        facts = encoded(table[f.column][i])
                        if facts:
                            refs.append(facts[0])
            elif other == "establish_date":
                code = next(
                    (
                        f.column
                        for f in ds.fields
                        if self.registry.element(f.element).format == "uscc"
                    ),
                    None,
                )
                value = table[code][i] if code else None
                est = self.established.get(text.normalize(value)) if value else None
                if est is not None:
                    refs.append(est)
            else:
                for f in ds.fields:
                    if f.element == other:
                        when = parse_date(table[f.column][i])
                        # A placeholder date is no date: nothing to compare with.
                        if when is not None and when not in self.placeholder_dates:
                            refs.append(when)
        return max(refs) if refs else None

    def subject_facts(self, ds, table, i) -> tuple[dt.date, str] | None:
        column = subject_column(ds, ("citizen_id",))
        return encoded(table[column][i]) if column else None

    # The helpers above, for the test modules (which cannot import this file).
    parse_date = staticmethod(parse_date)
    encoded = staticmethod(encoded)
    normal_id = staticmethod(normal_id)
    subject_column = staticmethod(subject_column)

    @staticmethod
    def region_in_force(code: str, year: int) -> bool:
        return gbt2260.in_force(code, year)

    @staticmethod
    def id_region_existed(value: str, fmt: str) -> bool:
        v = text.normalize(value)
        if fmt == "ric":
            return gbt2260.ever_existed(v[:6])
        return v[2:8] == uscc.NATIONAL_REGION or gbt2260.ever_existed(v[2:8])

    def is_copy(self, ds, element) -> bool:
        return element.authority != ds.provider

    def known_subject(self, value: str, element) -> bool:
        v = normal_id(value)
        return v in self.person_of if element.id == "citizen_id" else v in self.entity_of

    def dead(self, value: str | None) -> bool:
        person = self.persons.get(normal_id(value)) if value else None
        return person is not None and person["hukou_status"] == "2"


@pytest.fixture(scope="session")
def judge_for():
    def make(city: Path, registry, period: str) -> Judge:
        return Judge(city, registry, period)

    return make
