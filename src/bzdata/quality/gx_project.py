"""Run the compiled suites as one GX checkpoint and keep GX's Data Docs, under <work>/quality/gx.

The GX project holds one SQL datasource on the period's materialised relations
(<work>/quality/relations.duckdb, written by bzdata.quality.checks, opened read-only through
bzdata.quality.gx_duckdb), a table asset per dataset and asset, the committed suites
(expectations/suites), a validation definition binding each pair, and one checkpoint
`bzdata_quality` running them all; the Data Docs site is rebuilt once per run. Validation
results accumulate in the project, so Data Docs show every period checked.

GX is imported and the project set up once per process: a later run (the next period, or the
demo's months in one process) reuses the context, and rebuilds the datasource, suites and
checkpoint only when the suites changed.

Every expectation result comes back as a plain `Outcome`. A column-map result carries GX's
full `unexpected_index_list` of `__rowid`s (partial_unexpected_count lifted, values excluded):
that is the listing of every failing record. One that carries an exception has `error` set and
must fail the run (bzdata.quality.checks does), never count as a pass or fail.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bzdata.config import disable_telemetry

DATASOURCE = "bzdata_warehouse"
CHECKPOINT = "bzdata_quality"
BATCH = "period"
ROW_ID = "__rowid"
# GX's unexpected_index_list is cut at partial_unexpected_count: lift the cut so GX lists every
# failing row (checks.py still asserts, each run, that it listed as many as it counted).
_ALL = 2**31 - 1
RESULT_FORMAT = {
    "result_format": "SUMMARY",
    "unexpected_index_column_names": [ROW_ID],
    "partial_unexpected_count": _ALL,
    "exclude_unexpected_values": True,
    "return_unexpected_index_query": False,
}


class ValidationError(RuntimeError):
    """A rule could not be evaluated; `errors` holds one dict (rule_id, error) per rule."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


@dataclass(frozen=True)
class AssetRun:
    """One suite to run on one materialised relation."""

    name: str  # suite and validation definition name: "<dataset>.<asset>"
    table: str  # its table in the relations file (schema main)
    suite: dict[str, Any]  # the committed suite JSON


@dataclass(frozen=True)
class Outcome:
    """One expectation's result, keyed by the rule id in its meta."""

    rule_id: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    observed_value: Any
    error: str | None
    rowids: tuple[int, ...] | None = None  # every failing row (column-map expectations)


def project_dir(work_dir: Path) -> Path:
    """The GX project root; GX keeps its files in `<root>/gx`."""
    return Path(work_dir) / "quality"


def data_docs_dir(work_dir: Path) -> Path:
    return data_docs_dir_of(project_dir(work_dir))


def data_docs_dir_of(root: Path) -> Path:
    return root / "gx" / "uncommitted" / "data_docs" / "local_site"


def data_docs_index(work_dir: Path) -> Path:
    return data_docs_dir(work_dir) / "index.html"


@dataclass
class _Project:
    context: Any
    key: str | None = None  # the suites and file the checkpoint was built for


_PROJECTS: dict[Path, _Project] = {}


def _project(root: Path) -> _Project:
    """The GX context of `root`, set up once per process (import included)."""
    found = _PROJECTS.get(root)
    if found is not None:
        return found
    disable_telemetry()  # before GX is imported: it reads the switch at import
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    import bzdata.quality.gx_expectations  # noqa: F401  (registers the custom expectations)

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    # Suites, validation definitions and the checkpoint are rebuilt from the committed suites,
    # so they live in memory (GX re-reads and re-checks file-backed ones on every access, ~8 s
    # a run on the demo); validation results and Data Docs are files, kept across runs.
    defaults = InMemoryStoreBackendDefaults(init_temp_docs_sites=True)
    defaults.stores[defaults.validation_results_store_name]["store_backend"] = {
        "class_name": "TupleFilesystemStoreBackend",
        "base_directory": str(root / "gx" / "uncommitted" / "validations"),
    }
    site = defaults.data_docs_sites[next(iter(defaults.data_docs_sites))]
    site["store_backend"]["base_directory"] = str(data_docs_dir_of(root))
    config = DataContextConfig(
        store_backend_defaults=defaults,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    _PROJECTS[root] = project = _Project(context)
    return project


def run_checkpoint(
    relations_db: Path,
    work_dir: Path,
    runs: list[AssetRun],
    period: str,
    parameters: dict[str, Any],
    data_docs: bool = True,
) -> list[Outcome]:
    """Validate every AssetRun in one checkpoint run; raises ValidationError when GX itself
    could not run (e.g. the relations file is missing or locked)."""
    if not Path(relations_db).is_file():
        raise ValidationError(f"质量校验无法执行：数据库文件不存在：{relations_db}")
    from great_expectations.core.run_identifier import RunIdentifier

    project = _project(project_dir(work_dir))
    context = project.context
    key = json.dumps(
        [str(Path(relations_db).resolve()), [(r.name, r.table, r.suite) for r in runs]],
        ensure_ascii=False,
        sort_keys=True,
    )
    datasource = None
    try:
        if project.key != key:
            project.key = None
            _reset(context)
            _build(context, relations_db, runs)
            project.key = key
        datasource = context.data_sources.get(DATASOURCE)
        checkpoint = context.checkpoints.get(CHECKPOINT)
        result = checkpoint.run(
            expectation_parameters=parameters, run_id=RunIdentifier(run_name=f"质量校核 {period}")
        )
        if data_docs:
            # Once for the whole run: GX's UpdateDataDocsAction rebuilds the site per validation.
            context.build_data_docs(resource_identifiers=list(result.run_results))
    except ValidationError:
        raise
    except Exception as exc:  # GX wraps DuckDB errors in many types; each is a platform error
        project.key = None
        raise ValidationError(f"质量校验无法执行：{exc}") from exc
    finally:
        if datasource is not None:
            _release(datasource)
    return [
        _outcome(item) for validation in result.run_results.values() for item in validation.results
    ]


def _build(context: Any, relations_db: Path, runs: list[AssetRun]) -> None:
    import great_expectations as gx
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.datasource.fluent import SQLDatasource
    from great_expectations.datasource.fluent.sql_datasource import TableAsset
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    from bzdata.quality.gx_duckdb import url_for

    # Built whole, then added once: adding assets one by one rewrites the project file each time.
    assets = [
        TableAsset(
            name=run.name,
            table_name=run.table,
            schema_name="main",
            batch_definitions=[BatchDefinition(name=BATCH)],
        )
        for run in runs
    ]
    datasource = context.add_datasource(
        datasource=SQLDatasource(
            name=DATASOURCE, connection_string=url_for(relations_db), assets=assets
        )
    )
    definitions = []
    for run in runs:
        batch = datasource.get_asset(run.name).get_batch_definition(BATCH)
        expectations = [
            ExpectationConfiguration(
                type=item["type"],
                kwargs=item["kwargs"],
                meta=item.get("meta"),
                description=item.get("description"),
                severity=item.get("severity", "critical"),
            ).to_domain_obj()
            for item in run.suite["expectations"]
        ]
        suite = context.suites.add(
            gx.ExpectationSuite(
                name=run.name, expectations=expectations, meta=run.suite.get("meta")
            )
        )
        definitions.append(
            context.validation_definitions.add(
                gx.ValidationDefinition(name=run.name, data=batch, suite=suite)
            )
        )
    context.checkpoints.add(
        gx.Checkpoint(
            name=CHECKPOINT, validation_definitions=definitions, result_format=RESULT_FORMAT
        )
    )


def _outcome(item: Any) -> Outcome:
    details = item.result or {}
    config = item.expectation_config
    rowids = None
    listed = details.get("partial_unexpected_index_list")
    if listed is not None:
        # exclude_unexpected_values: one {"__rowid": [...]} entry (none when nothing failed)
        rowids = tuple(i for entry in listed for i in entry.get(ROW_ID, ()))
    elif "unexpected_count" in details:
        rowids = ()
    return Outcome(
        rule_id=str((config.meta or {}).get("rule_id")),
        success=bool(item.success),
        element_count=details.get("element_count"),
        unexpected_count=details.get("unexpected_count"),
        observed_value=details.get("observed_value"),
        error=error_text(item.exception_info),
        rowids=rowids,
    )


def error_text(info: Mapping[str, Any] | None) -> str | None:
    """The exception message(s) in `exception_info`, flat or keyed by metric, else None."""
    if not info:
        return None
    if "raised_exception" in info:
        return (info.get("exception_message") or "未知错误") if info["raised_exception"] else None
    found = (error_text(v) for v in info.values() if isinstance(v, Mapping))
    return "；".join(dict.fromkeys(t for t in found if t)) or None


def _reset(context: Any) -> None:
    """Drop the checkpoint, validation definitions, suites and datasource of an earlier set-up.
    Validation results and Data Docs stay."""
    for name in [c.name for c in context.checkpoints.all()]:
        context.checkpoints.delete(name)
    for name in [v.name for v in context.validation_definitions.all()]:
        context.validation_definitions.delete(name)
    for name in [s.name for s in context.suites.all()]:
        context.suites.delete(name)
    if DATASOURCE in context.data_sources.all():
        context.data_sources.delete(DATASOURCE)


def _release(datasource: Any) -> None:
    """Close every pooled DuckDB connection so the file is free when we return."""
    for engine in (datasource.get_engine(), datasource.get_execution_engine().engine):
        engine.dispose()
