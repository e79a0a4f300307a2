"""Run Great Expectations rules against a DuckDB table or query, computed inside DuckDB.

Each call builds an ephemeral GX context (nothing written to disk), opens the file read-only
through `bzdata.quality.gx_duckdb`, validates the whole table or query as one batch and returns
one plain dict per expectation. A rule that GX could not compute raises `ValidationError`: an
error of the platform is never reported as a pass or a fail. GX caps unexpected values at 200
even with "COMPLETE"; collect every failing key with a query of your own.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from bzdata.config import disable_telemetry

Expectations = Iterable[Any | Mapping[str, Any]]
_POSITION = "bzdata_position"


class ValidationError(RuntimeError):
    """A rule could not be evaluated; `errors` holds one dict (type, kwargs, error) per rule."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


def validate(
    db_path: str | Path,
    schema: str,
    table: str,
    expectations: Expectations,
    result_format: str = "COMPLETE",
) -> list[dict[str, Any]]:
    """Validate `schema.table` of a DuckDB file; expectations are GX objects or dicts
    ``{"type": "expect_...", "kwargs": {...}}``. Returns results in the order given."""
    return _run(db_path, expectations, result_format, lambda ds: _table_asset(ds, schema, table))


def validate_query(
    db_path: str | Path,
    query: str,
    expectations: Expectations,
    result_format: str = "COMPLETE",
) -> list[dict[str, Any]]:
    """Validate the rows of a SELECT over a DuckDB file, like `validate`."""
    return _run(db_path, expectations, result_format, lambda ds: ds.add_query_asset("query", query))


def _table_asset(datasource: Any, schema: str, table: str) -> Any:
    """A table asset with its schema always named; a generic SQL source has no schema setting."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`schema_name` is deprecated", DeprecationWarning)
        return datasource.add_table_asset(name=table, table_name=table, schema_name=schema)


def _run(
    db_path: str | Path,
    expectations: Expectations,
    result_format: str,
    add_asset: Callable[[Any], Any],
) -> list[dict[str, Any]]:
    path = Path(db_path)
    if not path.is_file():
        raise ValidationError(f"质量校验无法执行：数据库文件不存在：{path}")
    disable_telemetry()  # before GX is imported: it reads the switch at import
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from bzdata.quality.gx_duckdb import url_for

    rules = [_expectation(e, i) for i, e in enumerate(expectations)]
    suite = gx.ExpectationSuite(name="bzdata", expectations=rules)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    datasource = None
    try:
        datasource = context.data_sources.add_sql(name="duckdb", connection_string=url_for(path))
        batch = add_asset(datasource).add_batch_definition_whole_table("whole").get_batch()
        run = batch.validate(suite, result_format=result_format)
    except Exception as exc:  # GX wraps DuckDB errors in many types; each is a platform error
        raise ValidationError(f"质量校验无法执行：{exc}") from exc
    finally:
        if datasource is not None:
            _release(datasource)

    ordered = sorted(run.results, key=lambda r: r.expectation_config.meta[_POSITION])
    results = [_plain(r) for r in ordered]
    errors = [r for r in results if r["error"]]
    if errors:
        lines = "\n".join(f"- {e['type']} {e['kwargs']}：{e['error']}" for e in errors)
        raise ValidationError(f"质量校验执行出错，结果不算通过也不算不通过：\n{lines}", errors)
    for r in results:
        del r["error"]
    return results


def _expectation(item: Any, position: int) -> Any:
    """A fresh GX expectation from a GX object or a ``{"type", "kwargs"}`` dict, tagged with its
    position: GX evaluates a suite grouped by column and returns results in that order."""
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    if isinstance(item, Mapping):
        config = ExpectationConfiguration(type=item["type"], kwargs=dict(item.get("kwargs", {})))
    else:
        config = item.configuration  # a copy, so the caller's object is never stamped
    config.meta = {**(config.meta or {}), _POSITION: position}
    return config.to_domain_obj()


def _error_text(info: Mapping[str, Any] | None) -> str | None:
    """The exception message(s) in `exception_info`, flat or keyed by metric, else None."""
    if not info:
        return None
    if "raised_exception" in info:
        return (info.get("exception_message") or "未知错误") if info["raised_exception"] else None
    found = (_error_text(v) for v in info.values() if isinstance(v, Mapping))
    return "；".join(dict.fromkeys(t for t in found if t)) or None


def _plain(result: Any) -> dict[str, Any]:
    details = result.result or {}
    kwargs = {k: v for k, v in result.expectation_config.kwargs.items() if k != "batch_id"}
    return {
        "type": result.expectation_config.type,
        "kwargs": kwargs,
        "success": bool(result.success),
        "unexpected_count": details.get("unexpected_count"),
        "element_count": details.get("element_count"),
        "partial_unexpected_list": details.get("partial_unexpected_list"),
        "unexpected_list": details.get("unexpected_list"),
        "observed_value": details.get("observed_value"),
        "error": _error_text(result.exception_info),
    }


def _release(datasource: Any) -> None:
    """Close every pooled DuckDB connection so the file lock is gone when we return."""
    engines = [datasource.get_engine(), datasource.get_execution_engine().engine]
    for engine in engines:
        engine.dispose()
