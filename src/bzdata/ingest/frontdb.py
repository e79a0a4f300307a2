"""汇聚 over the 前置库 channel: incremental pulls of a department table by its watermark column.

`pull` reads, through SQLAlchemy Core, the rows of `delivery.table` whose watermark is past the
last one seen, in a fixed order (watermark, then every column, byte order), streamed in batches
with a server-side cursor. Every value arrives as text exactly as stored (typed columns are cast
to text by the database, never guessed), NULL stays null, and columns are renamed from the
table's names (registry `header`) to registry `column` names. It works for PostgreSQL (psycopg)
and SQLite URLs alike.

`load_frontdb` plays the department: it copies a table of the synthetic city's 前置库 (SQLite)
into a database, for tests and demos.

Rows deleted in the 前置库 and rows whose watermark is NULL cannot be seen incrementally: the
first pull (`since=None`) takes every row, later pulls only rows with a larger watermark.
`census` therefore reads the table's record keys with their row counts at each pull: the
merged state keeps only keys the table still holds (deletions become visible).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from bzdata.config import ConfigError
from bzdata.ingest import manifest as mf
from bzdata.ingest.paths import Paths
from bzdata.registry.models import Dataset

__all__ = [
    "FrontdbConnectionError",
    "FrontdbError",
    "FrontdbNotConfigured",
    "PullResult",
    "SchemaDriftError",
    "census",
    "load_frontdb",
    "pull",
    "source_of",
]

_CONNECT_TIMEOUT_S = 10


class FrontdbError(Exception):
    """A 前置库 pull failed; the message is for department staff (Chinese)."""


class FrontdbConnectionError(FrontdbError):
    """The 前置库 could not be reached; names host and port, never the password."""


class SchemaDriftError(FrontdbError):
    """The table's columns differ from the registry fields."""

    def __init__(self, dataset: str, table: str, missing: list[str], extra: list[str]) -> None:
        self.dataset = dataset
        self.table = table
        self.missing = missing  # registry headers absent from the table
        self.extra = extra  # table columns the registry does not know
        parts = []
        if missing:
            parts.append(f"缺少列 {'、'.join(missing)}")
        if extra:
            parts.append(f"多出列 {'、'.join(extra)}")
        super().__init__(
            f"前置库表 {table} 的结构与登记不一致（数据集 {dataset}）：{'；'.join(parts)}。"
            "请部门恢复表结构，或在登记 YAML 的 fields 中更新字段后再抽取。"
        )


@dataclass(frozen=True)
class PullResult:
    """Rows of one pull: string columns named by registry `column`, plus `_row_number`."""

    table: pa.Table
    rows_read: int
    new_watermark: str | None  # largest watermark seen; `since` when nothing was new
    source: str  # URL without password + "#" + table


def _safe_url(url: str | URL) -> URL:
    return make_url(url)._replace(password=None)


def source_of(url: str | URL, table: str) -> str:
    """`<url without password>#<table>`: the lineage value of rows pulled from this table."""
    return f"{_safe_url(url).render_as_string(hide_password=False)}#{table}"


def _where(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return f"SQLite 文件 {url.database}"
    port = url.port or {"postgresql": 5432}.get(url.get_backend_name(), "默认端口")
    return f"{url.host or 'localhost'}:{port}/{url.database or ''}"


def _split(table: str) -> tuple[str | None, str]:
    schema, _, name = table.rpartition(".")
    return (schema or None), name


def _engine(url: URL) -> sa.Engine:
    args = {"connect_timeout": _CONNECT_TIMEOUT_S} if url.get_backend_name() == "postgresql" else {}
    return sa.create_engine(url, connect_args=args, poolclass=sa.pool.NullPool)


def _connect(engine: sa.Engine, url: URL) -> sa.Connection:
    database = url.database or ""
    # SQLite would silently create an empty file, then report a missing table.
    local_file = database not in ("", ":memory:") and not database.startswith("file:")
    if url.get_backend_name() == "sqlite" and local_file and not Path(database).is_file():
        raise FrontdbConnectionError(f"无法连接前置库 {_where(url)}：文件不存在")
    try:
        return engine.connect()
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        user = f"（用户 {url.username}）" if url.username else ""
        raise FrontdbConnectionError(
            f"无法连接前置库 {_where(url)}{user}：{_reason(exc, url)}"
        ) from None


def _reason(exc: sa.exc.DBAPIError, url: URL) -> str:
    """The driver's first message line, password masked should a driver ever echo it."""
    lines = str(exc.orig or exc).strip().splitlines()
    text = lines[0] if lines else type(exc.orig).__name__
    return text.replace(url.password, "***") if url.password else text


def _as_text(column: sa.ColumnClause) -> sa.ColumnElement:
    # Text stays as stored; other types are rendered by the database itself, never guessed here.
    return column if isinstance(column.type, sa.String) else sa.cast(column, sa.Text)


def _byte_order(expr: sa.ColumnElement, dialect: str) -> sa.ColumnElement:
    # Byte order on every backend, whatever the server's default collation.
    return sa.collate(expr, "C") if dialect == "postgresql" else expr


def _watermark_column(ds: Dataset) -> str:
    field = ds.watermark_field
    if field is None:
        raise FrontdbError(f"数据集 {ds.id}：登记的水印列 {ds.delivery.watermark} 不是它的字段")
    return field.column


def _match_columns(ds: Dataset, found: list[str]) -> dict[str, str]:
    """registry column -> table column (by header, also accepting the column name)."""
    names = set(found)
    mapping: dict[str, str] = {}
    missing = []
    for field in ds.fields:
        if field.header in names:
            mapping[field.column] = field.header
        elif field.column in names:
            mapping[field.column] = field.column
        else:
            missing.append(field.header)
    extra = [name for name in found if name not in set(mapping.values())]
    if missing or extra:
        raise SchemaDriftError(ds.id, ds.delivery.table or "", missing, extra)
    return mapping


def pull(
    ds: Dataset,
    url: str | URL,
    since: str | None,
    batch_rows: int = 50_000,
    *,
    inclusive: bool = False,
) -> PullResult:
    """Rows of the dataset's 前置库 table with watermark > `since` (>= when `inclusive`).

    `since=None` pulls every row. Rows come ordered by watermark, then every column, NULL first,
    in byte order, so two pulls of the same state give identical tables; `_row_number` is the
    1-based position in that order. No connection is opened before the call.
    """
    if not ds.delivery.table:
        raise FrontdbError(f"数据集 {ds.id} 未登记前置库表（delivery.table）")
    table_name = ds.delivery.table
    wm_column = _watermark_column(ds)
    url = make_url(url)
    engine = _engine(url)
    dialect = engine.dialect.name
    schema, name = _split(table_name)
    batches: list[pa.RecordBatch] = []
    columns = ds.columns
    arrow_schema = pa.schema([(c, pa.string()) for c in columns] + [("_row_number", pa.int64())])
    new_watermark = since
    rows_read = 0
    try:
        with _connect(engine, url) as conn:
            try:
                reflected = sa.inspect(conn).get_columns(name, schema=schema)
            except sa.exc.NoSuchTableError:
                reflected = []
            if not reflected:
                raise FrontdbError(f"前置库 {_where(url)} 中没有表 {table_name}（数据集 {ds.id}）")
            mapping = _match_columns(ds, [c["name"] for c in reflected])
            found = sa.table(
                name, *[sa.column(c["name"], c["type"]) for c in reflected], schema=schema
            )
            text = {col: _as_text(found.c[mapping[col]]) for col in columns}
            watermark = text[wm_column]
            stmt = sa.select(*[text[col].label(col) for col in columns])
            if since is not None:
                # Compared in the same byte order as the ORDER BY, so `new_watermark` is the max.
                bound = _byte_order(watermark, dialect)
                stmt = stmt.where(bound >= since if inclusive else bound > since)
            order = [wm_column] + [col for col in columns if col != wm_column]
            stmt = stmt.order_by(
                *[_byte_order(text[col], dialect).asc().nulls_first() for col in order]
            )
            wm_index = columns.index(wm_column)
            result = conn.execution_options(stream_results=True, yield_per=batch_rows).execute(stmt)
            for rows in result.partitions():
                arrays = [pa.array(values, pa.string()) for values in zip(*rows, strict=True)]
                numbers = pa.array(range(rows_read + 1, rows_read + len(rows) + 1), pa.int64())
                batches.append(pa.RecordBatch.from_arrays([*arrays, numbers], schema=arrow_schema))
                rows_read += len(rows)
                last = rows[-1][wm_index]  # ascending, NULL first: the last row holds the max
                if last is not None:
                    new_watermark = last
    except sa.exc.DBAPIError as exc:
        raise FrontdbError(
            f"读取前置库表 {table_name}（{_where(url)}）失败：{_reason(exc, url)}"
        ) from None
    finally:
        engine.dispose()
    return PullResult(
        table=pa.Table.from_batches(batches, schema=arrow_schema),
        rows_read=rows_read,
        new_watermark=new_watermark,
        source=source_of(url, table_name),
    )


def census(ds: Dataset, url: str | URL, batch_rows: int = 50_000) -> pa.Table:
    """The table's record keys (as text, registry column names) with their row counts,
    `select <keys>, count(*) ... group by <keys>`, streamed; ordered by key in byte order."""
    if not ds.delivery.table:
        raise FrontdbError(f"数据集 {ds.id} 未登记前置库表（delivery.table）")
    table_name = ds.delivery.table
    url = make_url(url)
    engine = _engine(url)
    dialect = engine.dialect.name
    schema, name = _split(table_name)
    arrow_schema = mf.census_schema(ds)
    batches: list[pa.RecordBatch] = []
    try:
        with _connect(engine, url) as conn:
            try:
                reflected = sa.inspect(conn).get_columns(name, schema=schema)
            except sa.exc.NoSuchTableError:
                reflected = []
            if not reflected:
                raise FrontdbError(f"前置库 {_where(url)} 中没有表 {table_name}（数据集 {ds.id}）")
            mapping = _match_columns(ds, [c["name"] for c in reflected])
            found = sa.table(
                name, *[sa.column(c["name"], c["type"]) for c in reflected], schema=schema
            )
            keys = [_as_text(found.c[mapping[col]]) for col in ds.record_key]
            stmt = (
                sa.select(*[k.label(col) for k, col in zip(keys, ds.record_key, strict=True)])
                .add_columns(sa.func.count().label(mf.CENSUS_ROWS))
                .group_by(*keys)
                .order_by(*[_byte_order(k, dialect).asc().nulls_first() for k in keys])
            )
            result = conn.execution_options(stream_results=True, yield_per=batch_rows).execute(stmt)
            for rows in result.partitions():
                columns = list(zip(*rows, strict=True))
                arrays = [pa.array(v, pa.string()) for v in columns[:-1]]
                arrays.append(pa.array(columns[-1], pa.int64()))
                batches.append(pa.RecordBatch.from_arrays(arrays, schema=arrow_schema))
    except sa.exc.DBAPIError as exc:
        raise FrontdbError(
            f"统计前置库表 {table_name}（{_where(url)}）的记录键失败：{_reason(exc, url)}"
        ) from None
    finally:
        engine.dispose()
    return pa.Table.from_batches(batches, schema=arrow_schema)


URL_ENV_PREFIX = "BZDATA_FRONTDB_URL_"
CONNECTION_PREFIX = "bzdata_frontdb_"


def connection_id(department: str) -> str:
    """The Airflow Connection id of a department's 前置库, e.g. bzdata_frontdb_gaj."""
    return f"{CONNECTION_PREFIX}{department.lower()}"


def env_var(department: str) -> str:
    """The environment-variable fallback of a department's 前置库 URL."""
    return f"{URL_ENV_PREFIX}{department.upper()}"


class FrontdbNotConfigured(ConfigError):
    """Outside the demo, a 前置库 dataset whose department has no connection configured."""


def frontdb_url(ds: Dataset, period: str | None, where: Paths | Path | None) -> str | None:
    """Where the provider's 前置库 is, in this order:

    1. the URL resolved from the Airflow Connection `bzdata_frontdb_<dept>` (`where.frontdb_urls`);
    2. `BZDATA_FRONTDB_URL_<DEPT>` (a SQLAlchemy URL, e.g. a department's PostgreSQL);
    3. for the synthetic city only, its SQLite file of `period` (the latest one when None).

    Real sources (`where.synthetic` False) with neither 1 nor 2 raise FrontdbNotConfigured naming
    both settings; the synthetic city without a file gives None (not delivered).
    """
    paths = where if isinstance(where, Paths) else None
    configured = dict(paths.frontdb_urls).get(ds.provider) if paths else None
    configured = configured or os.environ.get(env_var(ds.provider), "").strip()
    if configured:
        return configured
    if paths is not None and not paths.synthetic:
        raise FrontdbNotConfigured(
            f"数据集 {ds.id} 的前置库未配置：请建立 Airflow 连接 {connection_id(ds.provider)}"
            f"（如 airflow connections add {connection_id(ds.provider)} --conn-uri "
            f"postgresql://用户@主机:5432/库），或设置环境变量 {env_var(ds.provider)}"
            "（SQLAlchemy URL）"
        )
    root = paths.frontdb if paths else where
    if root is None or not Path(root).is_dir():
        return None
    if period is None:
        periods = sorted(
            p.name for p in Path(root).iterdir() if (p / f"{ds.provider}.sqlite").is_file()
        )
        if not periods:
            return None
        period = periods[-1]
    database = Path(root) / period / f"{ds.provider}.sqlite"
    return f"sqlite:///{database.resolve()}" if database.is_file() else None


def load_frontdb(sqlite_path: Path | str, table: str, url: str | URL) -> int:
    """Replace the rows of `table` in the database at `url` with the same table of a synthetic
    前置库 SQLite file; an absent table is created like the SQLite one (TEXT columns, its indexes).

    Returns the number of rows copied. PostgreSQL is filled with COPY, others by batched inserts;
    all in one transaction, so readers see the old month or the new one, never a mix.
    """
    source = sqlite3.connect(f"{Path(sqlite_path).resolve().as_uri()}?mode=ro", uri=True)
    url = make_url(url)
    engine = _engine(url)
    schema, name = _split(table)
    try:
        quoted = '"' + table.replace('"', '""') + '"'
        cursor = source.execute(f"SELECT * FROM {quoted} ORDER BY rowid")
        headers = [d[0] for d in cursor.description]
        target = sa.Table(
            name, sa.MetaData(), *[sa.Column(h, sa.Text) for h in headers], schema=schema
        )
        for _seq, index, *_ in source.execute(f"PRAGMA index_list({quoted})").fetchall():
            quoted_index = '"' + index.replace('"', '""') + '"'
            info = source.execute(f"PRAGMA index_info({quoted_index})").fetchall()
            sa.Index(index, *[target.c[row[2]] for row in info])
        count = 0
        with _connect(engine, url) as conn, conn.begin():
            target.create(conn, checkfirst=True)
            conn.execute(target.delete())
            if engine.dialect.name == "postgresql":
                full = conn.dialect.identifier_preparer.format_table(target)
                cols = ", ".join(conn.dialect.identifier_preparer.quote(h) for h in headers)
                raw = conn.connection.driver_connection
                with raw.cursor() as cur, cur.copy(f"COPY {full} ({cols}) FROM STDIN") as copy:
                    for row in cursor:
                        copy.write_row(row)
                        count += 1
            else:
                while rows := cursor.fetchmany(10_000):
                    conn.execute(
                        target.insert(), [dict(zip(headers, r, strict=True)) for r in rows]
                    )
                    count += len(rows)
        return count
    finally:
        source.close()
        engine.dispose()
