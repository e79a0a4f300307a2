"""Run the compiled suites as one GX checkpoint and keep GX's Data Docs, under <work>/quality/gx.

Per period the file-based GX project gets, for every dataset and asset, a query asset holding
that period's relation (bzdata.quality.relations), the committed suite (expectations/suites),
a validation definition binding the two, and one checkpoint `bzdata_quality` running them all;
the Data Docs site is then rebuilt once. Validation results accumulate in the project, so Data
Docs show every period checked. The warehouse is opened read-only through bzdata.quality.gx_duckdb.

Every expectation result comes back as a plain `Outcome`; one that carries an exception has
`error` set and must fail the run (bzdata.quality.checks does), never count as a pass or fail.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bzdata.config import disable_telemetry
from bzdata.quality.gx_runner import ValidationError, _error_text

DATASOURCE = "bzdata_warehouse"
CHECKPOINT = "bzdata_quality"
BATCH = "period"


@dataclass(frozen=True)
class AssetRun:
    """One suite to run on one relation."""

    name: str  # suite, asset and validation definition name: "<dataset>.<asset>"
    query: str
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


def project_dir(work_dir: Path) -> Path:
    """The GX project root; GX keeps its files in `<root>/gx`."""
    return Path(work_dir) / "quality"


def data_docs_index(work_dir: Path) -> Path:
    return project_dir(work_dir) / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def run_checkpoint(
    db_path: Path,
    work_dir: Path,
    runs: list[AssetRun],
    period: str,
    parameters: dict[str, Any],
    data_docs: bool = True,
) -> list[Outcome]:
    """Validate every AssetRun in one checkpoint run; raises ValidationError when GX itself
    could not run (e.g. the warehouse is locked by a writer)."""
    if not Path(db_path).is_file():
        raise ValidationError(f"质量校验无法执行：数据库文件不存在：{db_path}")
    disable_telemetry()  # before GX is imported: it reads the switch at import
    import great_expectations as gx
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.datasource.fluent import SQLDatasource
    from great_expectations.datasource.fluent.sql_datasource import QueryAsset
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    from bzdata.quality.gx_duckdb import url_for

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    root = project_dir(work_dir)
    root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    _reset(context)
    # Built whole, then added once: adding assets one by one rewrites the project file each time.
    assets = [
        QueryAsset(name=run.name, query=run.query, batch_definitions=[BatchDefinition(name=BATCH)])
        for run in runs
    ]
    datasource = context.add_datasource(
        datasource=SQLDatasource(name=DATASOURCE, connection_string=url_for(db_path), assets=assets)
    )
    try:
        definitions = []
        for run in runs:
            batch = datasource.get_asset(run.name).get_batch_definition(BATCH)
            expectations = [
                ExpectationConfiguration(
                    type=item["type"],
                    kwargs=item["kwargs"],
                    meta=item.get("meta"),
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
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=CHECKPOINT,
                validation_definitions=definitions,
                result_format={"result_format": "SUMMARY"},
            )
        )
        result = checkpoint.run(
            expectation_parameters=parameters, run_id=RunIdentifier(run_name=f"质量校核 {period}")
        )
        if data_docs:
            # Once for the whole run: GX's UpdateDataDocsAction rebuilds the site per validation.
            context.build_data_docs(resource_identifiers=list(result.run_results))
    except ValidationError:
        raise
    except Exception as exc:  # GX wraps DuckDB errors in many types; each is a platform error
        raise ValidationError(f"质量校验无法执行：{exc}") from exc
    finally:
        _release(datasource)
    outcomes = []
    for validation in result.run_results.values():
        for item in validation.results:
            details = item.result or {}
            config = item.expectation_config
            outcomes.append(
                Outcome(
                    rule_id=str((config.meta or {}).get("rule_id")),
                    success=bool(item.success),
                    element_count=details.get("element_count"),
                    unexpected_count=details.get("unexpected_count"),
                    observed_value=details.get("observed_value"),
                    error=_error_text(item.exception_info),
                )
            )
    return outcomes


def _reset(context: Any) -> None:
    """Drop last run's checkpoint, validation definitions, suites and datasource: each run
    binds the suites to that period's relations. Validation results and Data Docs stay."""
    for name in [c.name for c in context.checkpoints.all()]:
        context.checkpoints.delete(name)
    for name in [v.name for v in context.validation_definitions.all()]:
        context.validation_definitions.delete(name)
    for name in [s.name for s in context.suites.all()]:
        context.suites.delete(name)
    if DATASOURCE in context.data_sources.all():
        context.data_sources.delete(DATASOURCE)


def _release(datasource: Any) -> None:
    """Close every pooled DuckDB connection so the file lock is gone when we return."""
    for engine in (datasource.get_engine(), datasource.get_execution_engine().engine):
        engine.dispose()


def remove_project(work_dir: Path) -> None:
    """Forget the GX project (results and Data Docs included)."""
    shutil.rmtree(project_dir(work_dir) / "gx", ignore_errors=True)
