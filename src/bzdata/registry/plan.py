"""What the registry implies for the warehouse, shared by the dbt code generator
(bzdata.build.generate) and the quality checks (bzdata.quality), so neither imports the other:
the model names of each dataset's layers and the 多源校核 plan (for each element held in
copies, the authority's side and every copy's side, each with the column naming its subject).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bzdata.registry.models import DataElement, Dataset, Registry

# ------------------------------------------------------------------ model names


def short_name(ds: Dataset) -> str:
    """`gaj_hjrk` -> `hjrk` (the registry requires ids to start with the provider code)."""
    return ds.id.removeprefix(f"{ds.provider}_")


def staging_model(ds: Dataset) -> str:
    return f"stg_{ds.provider}__{short_name(ds)}"


def census_source(ds: Dataset) -> str:
    """The raw view of a 前置库 dataset's key census (bzdata.ingest.warehouse.census_view)."""
    return f"{ds.id}__census"


def census_model(ds: Dataset) -> str:
    return f"{staging_model(ds)}__census"


def latest_model(ds: Dataset) -> str:
    return f"int_{ds.provider}__{short_name(ds)}__latest"


def consistency_model(element_id: str) -> str:
    return f"int_consistency__{element_id}"


# The GB/T 2260 table (dbt seed `gbt2260`, generated from bzdata.ids.gbt2260): code, name,
# first_year, last_year, in_force. The one list of division codes every SQL check looks up.
GBT2260_TABLE = "reference.gbt2260"


def keeps_delivered(element: DataElement) -> bool:
    """Whether staging keeps `<column>_delivered` beside the normalised value: identifiers,
    codes with a format, dates and numbers (free text is only trimmed)."""
    return element.format in ("ric", "uscc", "mobile", "region") or element.type != "string"


# ------------------------------------------------------------------ consistency (多源校核)


@dataclass(frozen=True)
class Side:
    """Where one department holds an element: dataset, value column and subject key column."""

    dataset: Dataset
    value: str
    key: str

    @property
    def dept(self) -> str:
        return self.dataset.provider


@dataclass(frozen=True)
class ElementCheck:
    element: DataElement
    authority: Side
    holders: tuple[Side, ...]


@dataclass
class ConsistencyPlan:
    checks: list[ElementCheck] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(
        default_factory=list
    )  # (element or element/dataset, why)


def _first_word(column: str) -> str:
    return column.split("_", 1)[0]


def _subject_key(ds: Dataset, value_column: str, key_element: str) -> str | None:
    """The column of `ds` that identifies the subject `value_column` describes.

    A value that is itself the key identifies itself; with one key column it is that one; with
    several (男方/女方, 新生儿/母亲) the one sharing the value column's first word (male_name ->
    male_id), else the one named like the key element (person_name -> citizen_id).
    """
    keys = [item.column for item in ds.fields if item.element == key_element]
    if value_column in keys:
        return value_column
    if len(keys) == 1:
        return keys[0]
    paired = [k for k in keys if _first_word(k) == _first_word(value_column)]
    if len(paired) == 1:
        return paired[0]
    if key_element in keys:
        return key_element
    return None


def consistency_plan(registry: Registry) -> ConsistencyPlan:
    """For each element held in copies: the authority's side and every copy's side."""
    plan = ConsistencyPlan()
    for el in registry.data_elements:
        holders = registry.copy_holders(el.id)
        if not holders:
            continue
        own = [
            (ds, f) for ds, f in registry.fields_of_element(el.id) if ds.provider == el.authority
        ]
        if not own:
            plan.skipped.append((el.id, "权威部门未报送含该数据元的数据集，无法比对"))
            continue
        auth_ds, auth_field = own[0]
        holder_codes = {d.code for d in holders}
        copies = [
            (ds, f) for ds, f in registry.fields_of_element(el.id) if ds.provider in holder_codes
        ]
        key_element = None
        for column in auth_ds.record_key:
            candidate = auth_ds.field(column).element
            if all(any(x.element == candidate for x in ds.fields) for ds, _ in copies):
                key_element = candidate
                break
        if key_element is None:
            plan.skipped.append(
                (el.id, f"权威数据集 {auth_ds.id} 的记录键在副本数据集中没有对应列，无法逐条比对")
            )
            continue
        auth_key = _subject_key(auth_ds, auth_field.column, key_element)
        assert auth_key is not None  # the key element is in the authority's record key
        sides = []
        for ds, item in copies:
            key = _subject_key(ds, item.column, key_element)
            if key is None:
                plan.skipped.append(
                    (f"{el.id}/{ds.id}.{item.column}", "无法确定该列所描述对象的标识列")
                )
                continue
            sides.append(Side(ds, item.column, key))
        if sides:
            plan.checks.append(
                ElementCheck(el, Side(auth_ds, auth_field.column, auth_key), tuple(sides))
            )
    return plan
