"""The SQL relations rules are evaluated on, one per dataset, asset and period.

- records: what the dataset holds for the period, with the staged columns (dbt staging:
  normalised values, delivered text, validity flags). For a file delivery that is the period's
  rows; for a 前置库 table, pulled incrementally, it is the table's state as of the period
  (dbt's int_<dept>__<name>__latest: every record's latest version, a version whose key was
  corrected dropped) plus this period's rows whose key is incomplete (the state has no place for
  them). Added columns:

  `__record_key`   the record key as text (key columns joined by '|', as in consistency_checks;
                   a row with a null key column gets a row-unique placeholder instead),
  `__content`      a hash of every column but the record key and the 前置库 watermark, as
                   delivered where staging keeps the delivered text (identifiers, dates,
                   numbers), so a record re-sent with only its spelling changed still differs,
  `__row`          the same over the record key too: equal rows are copies of one another,
  and the columns the period's checks derive (`Check.derived`);
- pulls: (前置库 only) the rows pulled this period, with `__live_row`: the `__row` of the
  record's latest earlier version still in the table. A pull only brings changed rows, so a
  re-inserted copy of a row shows only against what was pulled before; a version is gone when
  a later row with a different key has the same content (its key was changed);
- consistency: the dataset's rows of quality.consistency_checks compared in this period, with
  `__authority_comparable` (see `templates.comparable_authority`);
- delivery: the dataset's rows of the ingest manifest (raw.manifest) for the period.

Everything is pushed down into DuckDB; nothing here reads rows into Python.
"""

from __future__ import annotations

from collections.abc import Iterable

from bzdata.quality.templates import PERIOD_TOKEN, Check, comparable_authority, lit
from bzdata.registry import Dataset, Registry
from bzdata.registry.plan import keeps_delivered, latest_model, staging_model


def staging_table(ds: Dataset) -> str:
    return f"staging.{staging_model(ds)}"


def watermark(ds: Dataset) -> str | None:
    field = ds.watermark_field if ds.is_frontdb else None
    return field.column if field is not None else None


def content_columns(ds: Dataset) -> list[str]:
    """Columns that make up a record's content: all but the record key and the watermark."""
    skip = {*ds.record_key, watermark(ds)}
    return [c for c in ds.columns if c not in skip]


def record_key_sql(ds: Dataset, alias: str) -> str:
    """The record key as text, like quality.consistency_checks.record_key; rows with a null key
    column cannot be identified and get a placeholder unique to the row."""
    parts = ", ".join(f"cast({alias}.{k} as varchar)" for k in ds.record_key)
    complete = key_complete_sql(ds, alias)
    placeholder = f"'#' || {alias}._source || '#' || cast({alias}._row_number as varchar)"
    return f"case when {complete} then concat_ws('|', {parts}) else {placeholder} end"


def key_complete_sql(ds: Dataset, alias: str) -> str:
    return " and ".join(f"{alias}.{k} is not null" for k in ds.record_key)


def _as_delivered(ds: Dataset, registry: Registry, alias: str, columns: list[str]) -> list[str]:
    return [
        f"{alias}.{c}_delivered"
        if keeps_delivered(registry.element(ds.field(c).element))
        else f"{alias}.{c}"
        for c in columns
    ]


def content_hash_sql(ds: Dataset, registry: Registry, alias: str, with_key: bool = False) -> str:
    columns = content_columns(ds)
    return content_hash_sql_of(
        ds, registry, alias, [*ds.record_key, *columns] if with_key else columns
    )


def content_hash_sql_of(ds: Dataset, registry: Registry, alias: str, columns: list[str]) -> str:
    """A hash of the columns as delivered (where staging keeps the delivered text)."""
    if not columns:
        return "hash(null)"
    return "hash(" + ", ".join(_as_delivered(ds, registry, alias, columns)) + ")"


def _derived(checks: Iterable[Check], period: str) -> list[str]:
    seen: dict[str, str] = {}
    for check in checks:
        for name, sql in check.derived:
            seen.setdefault(name, sql.replace(PERIOD_TOKEN, period))
    return [f"{sql} as {name}" for name, sql in seen.items()]


def _indent(sql: str, spaces: int = 4) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else line for line in sql.splitlines())


def _with(ctes: list[tuple[str, str]], final: str) -> str:
    parts = ",\n".join(f"{name} as (\n{_indent(body)}\n)" for name, body in ctes)
    return f"with\n{parts}\n{final}"


def records_source(ds: Dataset, period: str) -> str:
    """FROM-able SQL of the rows the records asset holds (see the module docstring)."""
    p = lit(period)
    if not ds.is_frontdb:
        return f"(select * from {staging_table(ds)} where period = {p})"
    incomplete = f"not ({key_complete_sql(ds, 's')})"
    return (
        f"(select * from intermediate.{latest_model(ds)} union all by name "
        f"select s.* from {staging_table(ds)} as s where s.period = {p} and {incomplete})"
    )


def _rows_cte(ds: Dataset, registry: Registry, source: str) -> tuple[str, str]:
    return (
        "rows",
        f"select\n    s.*,\n    {record_key_sql(ds, 's')} as __record_key,\n"
        f"    ({key_complete_sql(ds, 's')}) as __key_complete,\n"
        f"    {content_hash_sql(ds, registry, 's')} as __content,\n"
        f"    {content_hash_sql(ds, registry, 's', with_key=True)} as __row\n"
        f"from {source} as s",
    )


def _final(ctes: list[tuple[str, str]], checks: Iterable[Check], period: str, name: str) -> str:
    derived = _derived(checks, period)
    select = ",\n    ".join(["r.*", *derived])
    ctes.append(("final", f"select\n    {select}\nfrom based as r"))
    # GX takes only a query that starts with SELECT.
    return f"select * from (\n{_with(ctes, 'select * from final')}\n) as {name}"


def records_sql(ds: Dataset, checks: Iterable[Check], period: str, registry: Registry) -> str:
    """The records asset of `ds` for `period` (see the module docstring)."""
    ctes = [
        _rows_cte(ds, registry, records_source(ds, period)),
        ("based", "select rows.*, cast(null as ubigint) as __live_row from rows"),
    ]
    return _final(ctes, checks, period, "records")


def pulls_sql(ds: Dataset, checks: Iterable[Check], period: str, registry: Registry) -> str:
    """The pulls asset of a 前置库 dataset for `period` (see the module docstring)."""
    table = staging_table(ds)
    p = lit(period)
    wm = watermark(ds)
    ctes = [
        _rows_cte(ds, registry, f"(select * from {table} where period = {p})"),
        (
            "earlier",
            f"select\n    {record_key_sql(ds, 's')} as __record_key,\n"
            f"    {content_hash_sql(ds, registry, 's')} as __content,\n"
            f"    {content_hash_sql(ds, registry, 's', with_key=True)} as __row,\n"
            f"    s.{wm} as __wm,\n    s.period as __period,\n    s._row_number as __line\n"
            f"from {table} as s\nwhere s.period < {p}",
        ),
        (
            "latest_earlier",
            "select e.*\nfrom earlier as e\n"
            "where e.__record_key in (select rows.__record_key from rows)\n"
            "qualify row_number() over (\n"
            "    partition by e.__record_key\n"
            "    order by e.__wm desc nulls last, e.__period desc, e.__line desc\n) = 1",
        ),
        (
            "live",
            "select l.__record_key, l.__row\nfrom latest_earlier as l\n"
            "where not exists (\n    select 1 from earlier as n\n"
            "    where n.__content = l.__content and n.__record_key <> l.__record_key\n"
            "        and (n.__wm, n.__period) > (l.__wm, l.__period)\n)",
        ),
        (
            "based",
            "select rows.*, live.__row as __live_row\n"
            "from rows\nleft join live on live.__record_key = rows.__record_key",
        ),
    ]
    return _final(ctes, checks, period, "pulls")


def consistency_sql(ds: Dataset, checks: Iterable[Check], period: str, registry: Registry) -> str:
    """The consistency asset of `ds` for `period`: its copies compared with the authority."""
    columns = [c.rule.column for c in checks if c.rule.template == "consistency" and c.rule.column]
    comparable = comparable_authority(registry, ds, list(dict.fromkeys(columns)), period)
    return (
        f"select\n    r.*,\n    {comparable} as __authority_comparable\n"
        "from quality.consistency_checks as r\n"
        f"where r.holder_dataset = {lit(ds.id)} and r.holder_period = {lit(period)}"
    )


def delivery_sql(ds: Dataset, period: str) -> str:
    """The delivery asset of `ds` for `period`: its manifest rows (files or pulls)."""
    return (
        "select r.*\nfrom raw.manifest as r\n"
        f"where r.dataset = {lit(ds.id)} and r.period = {lit(period)}"
    )


def asset_sql(asset: str, ds: Dataset, checks: list[Check], period: str, registry: Registry) -> str:
    if asset == "records":
        return records_sql(ds, checks, period, registry)
    if asset == "pulls":
        return pulls_sql(ds, checks, period, registry)
    if asset == "consistency":
        return consistency_sql(ds, checks, period, registry)
    return delivery_sql(ds, period)
