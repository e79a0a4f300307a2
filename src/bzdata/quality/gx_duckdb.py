"""A SQLAlchemy dialect that lets Great Expectations 1.x validate a DuckDB file by SQL pushdown.

Importing this module registers the URL scheme ``duckdb_gx://`` (see `url_for`). The dialect is
duckdb-engine's with three changes, each needed and each proven in tests/quality:

1. Transactions are no-ops, and the file is always opened read-only.
   GX's ``SqlAlchemyExecutionEngine.execute_query`` returns the result after its
   ``with engine.connect()`` block has closed; SQLAlchemy then rolls back, duckdb-engine sends a
   real ROLLBACK on the single DuckDB connection, and the unread result set is gone. GX hides the
   resulting IndexError in ``exception_info`` and reports success=False (GX issues #10738,
   #11579). With no BEGIN/ROLLBACK sent, DuckDB runs in autocommit, which is only safe because
   nothing is ever written: read-only is forced here, not left to the URL.

2. It calls itself "postgresql" to GX.
   GX picks regex and LIKE operators and column types by dialect. For an unknown name it keeps
   no dialect module: regex and LIKE expectations then end in "Regex is not supported for dialect
   duckdb" and type expectations compare generic SQLAlchemy types and fail without any error.
   Under the PostgreSQL name GX emits ``col ~ pattern`` / ``col !~ pattern`` and resolves types
   through ``sqlalchemy.dialects.postgresql``, which matches duckdb-engine's PostgreSQL base.
   Cost: duckdb-engine's ``@compiles(..., "duckdb")`` hooks (TRY_CAST, UINT/STRUCT/UNION/MAP
   DDL) no longer apply; read-only validation queries do not use them.

3. ``~`` and ``!~`` are rendered as ``regexp_matches(col, pattern)``, a partial search.
   That is what PostgreSQL's operator means and what GX's pandas engine does, so a pattern means
   the same on every engine. DuckDB's own ``~`` was a full match up to 1.5 and is a search from
   2.0, switchable back per session (``SET regex_match_operator_semantics = 'FULL'``); naming the
   function keeps results independent of both. Anchor rules explicitly (``^...$``) when the whole
   value must match.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from duckdb_engine import Dialect as DuckDBDialect
from sqlalchemy.dialects import registry

SCHEME = "duckdb_gx"

_REGEX_OPS = {"~": "{}", "!~": "(NOT {})"}


class RegexSearchCompiler(DuckDBDialect.statement_compiler):  # type: ignore[misc,name-defined]
    """PostgreSQL compiler that spells the regex operators as DuckDB's search function."""

    def visit_custom_op_binary(self, element: Any, operator: Any, **kw: Any) -> str:
        shape = _REGEX_OPS.get(operator.opstring)
        if shape is None:
            return super().visit_custom_op_binary(element, operator, **kw)
        left = self.process(element.left, **kw)
        right = self.process(element.right, **kw)
        return shape.format(f"regexp_matches({left}, {right})")


class DuckDBGXDialect(DuckDBDialect):
    """duckdb-engine for read-only validation: no transactions, PostgreSQL name, search regex."""

    name = "postgresql"
    statement_compiler = RegexSearchCompiler
    supports_statement_cache = False

    def create_connect_args(self, url: Any) -> tuple[tuple, dict]:
        from bzdata import duck

        args, kwargs = super().create_connect_args(url)
        kwargs["read_only"] = True
        limits = duck.limits()  # the machine's DuckDB limits, as every platform connection
        config = dict(kwargs.get("config") or {})
        config.setdefault("memory_limit", limits.memory)
        config.setdefault("threads", limits.threads)
        kwargs["config"] = config
        return args, kwargs

    def do_begin(self, dbapi_connection: Any) -> None:
        """No BEGIN: autocommit on a read-only file."""

    def do_rollback(self, dbapi_connection: Any) -> None:
        """No ROLLBACK: it would discard the result GX has not fetched yet."""

    def do_commit(self, dbapi_connection: Any) -> None:
        """Nothing to commit on a read-only file."""


registry.register(SCHEME, __name__, "DuckDBGXDialect")


def url_for(db_path: str | Path) -> str:
    """The SQLAlchemy URL that opens `db_path` read-only through this dialect."""
    return f"{SCHEME}:///{Path(db_path).resolve()}"
