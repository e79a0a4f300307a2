"""What the registry's facts about an element mean for one dataset's columns: the pieces the
derived rules are built from (expectations/README.md, "由定义推出的规则").

- `id_columns(ds, fmt)`: the columns holding a GB 11643 number (`ric`) or a GB 32100 code;
- `register_of(registry, element)`: the authority's dataset that lists the subjects an
  identifier element names (its record key is that element: 户籍人口 for 公民身份号码,
  市场主体 for 统一社会信用代码);
- `references(registry, ds, column)`: for a date with `after:`, where each earlier date of the
  same subject is read — from the identifier when the standard encodes it (出生日期 in a GB 11643
  number), from the same record, or from the register that holds it for the record's subject;
- `subject_column(registry, ds)`: the column naming the person a record is about (the first
  GB 11643 column), for the `encoded_in` and `active` facts;
- `ending_events(registry)`: the datasets in which an event that ends its subject (a death) is
  recorded by the element's authority, with their subject column.
"""

from __future__ import annotations

from dataclasses import dataclass

from bzdata.registry import DataElement, Dataset, Registry


def id_columns(registry: Registry, ds: Dataset, fmt: str) -> list[str]:
    return [f.column for f in ds.fields if registry.element(f.element).format == fmt]


def subject_column(registry: Registry, ds: Dataset) -> str | None:
    """The person a record is about: its first GB 11643 column."""
    columns = id_columns(registry, ds, "ric")
    return columns[0] if columns else None


def register_of(registry: Registry, element: DataElement) -> Dataset | None:
    """The authority's dataset whose record key is the identifier element (or None)."""
    for ds in registry.datasets_of(element.authority):
        if len(ds.record_key) == 1 and ds.field(ds.record_key[0]).element == element.id:
            return ds
    return None


@dataclass(frozen=True)
class Reference:
    """Where an earlier date of the record's subject is read."""

    element: DataElement
    kind: str  # "encoded" (from a GB 11643 column), "column" (same record), "register"
    column: str  # the id column (encoded, register) or the date column (column)
    register: Dataset | None = None
    register_key: str | None = None
    register_column: str | None = None


def references(registry: Registry, ds: Dataset, column: str) -> list[Reference]:
    element = registry.element(ds.field(column).element)
    found: list[Reference] = []
    for other_id in element.after:
        other = registry.element(other_id)
        if other.encoded_in is not None:
            found += [Reference(other, "encoded", c) for c in id_columns(registry, ds, "ric")]
            continue
        same = [f.column for f in ds.fields if f.element == other_id]
        if same:
            found += [Reference(other, "column", c) for c in same]
            continue
        for ds_other in registry.datasets_of(other.authority):
            held = [f.column for f in ds_other.fields if f.element == other_id]
            if not held or len(ds_other.record_key) != 1 or ds_other.id == ds.id:
                continue
            key = ds_other.record_key[0]
            key_element = ds_other.field(key).element
            for f in ds.fields:
                if f.element == key_element:
                    found.append(Reference(other, "register", f.column, ds_other, key, held[0]))
            break
    return found


@dataclass(frozen=True)
class EndingEvent:
    element: DataElement
    dataset: Dataset
    column: str  # the event's date column
    subject: str  # the dataset's GB 11643 column naming who it happened to


def ending_events(registry: Registry) -> list[EndingEvent]:
    found = []
    for element in registry.data_elements:
        if not element.ends_subject:
            continue
        for ds in registry.datasets_of(element.authority):
            subject = subject_column(registry, ds)
            held = [f.column for f in ds.fields if f.element == element.id]
            if subject and held:
                found.append(EndingEvent(element, ds, held[0], subject))
    return found


def known_register(registry: Registry, ds: Dataset, column: str) -> Dataset | None:
    """For an identifier column of a copy dataset: the register that must know its subject."""
    element = registry.element(ds.field(column).element)
    if element.format not in ("ric", "uscc"):
        return None
    register = register_of(registry, element)
    if register is None or register.id == ds.id:
        return None
    return register
