"""Synthetic Binzhou: a deterministic true city, each department's monthly extracts derived
from it in that department's own habits, and a ledger of every defect injected.

    generate(out, scale="demo", months=3, seed=20230101)

writes, under `out`:

    landing/<dept>/<dataset>/<YYYY-MM>/<file>   file drops (CSV GBK/UTF-8/BOM, XLSX, JSONL)
    frontdb/<YYYY-MM>/<dept>.sqlite            前置库 tables as they stand at the end of the month
    truth/<YYYY-MM>/*.parquet                  the true world: persons, entities, estates, addresses
    ledger/<YYYY-MM>/defects.parquet           every defective value delivered that month
    ledger/<YYYY-MM>/rectifications.parquet    what became of each defect open the month before
    ledger/<YYYY-MM>/files/<dataset>.json      file-level artefacts of a delivery (when enabled)
    landing/<dept>/indicators/<YYYY-MM>/*.xlsx  指标 reports (bzdata.synth.indicators)
    ledger/<YYYY-MM>/indicators.parquet        every injected 指标 report defect
    synth.json                                 parameters and per-delivery counts
    catalogue/catalogue.jsonl                  the city's registered 资源目录 (not delivered)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from bzdata import progress
from bzdata.registry import load_registry
from bzdata.storage import fsync_path, write_parquet
from bzdata.synth import views, writers
from bzdata.synth.defects import LEDGER_COLUMNS, Injector, Rates
from bzdata.synth.world import SCALES, World, month_end

__all__ = ["Rates", "Summary", "generate"]

_OUTCOME_COLUMNS = (
    "period",
    "department",
    "dataset",
    "record_key",
    "field",
    "defect_kind",
    "defect_id",
    "first_period",
    "outcome",
)


@dataclass(frozen=True)
class Summary:
    out_dir: Path
    periods: list[str]
    deliveries: list[dict]
    defects: int


def generate(
    out_dir: Path | str,
    scale: str = "demo",
    months: int = 3,
    seed: int = 20230101,
    start_period: str = "2023-01",
    rates: Rates | None = None,
    file_artefacts: float = 0.0,
) -> Summary:
    """Generate `months` monthly periods of synthetic Binzhou starting at `start_period`.

    `file_artefacts` is the share of file deliveries that carry what spreadsheets and editors do
    to files (UTF-16, empty trailing columns, a cut last record …; `writers.ARTEFACTS`), each
    recorded in `ledger/<period>/files/`; off by default so the value-level truth stays simple.
    """
    out = Path(out_dir)
    registry = load_registry()
    rates = rates or Rates()
    if scale not in SCALES:
        raise ValueError(f"未知的规模 {scale}：应为 {'、'.join(SCALES)}")
    with progress.step(f"构建真实世界（{scale}，{SCALES[scale].persons:,} 人）"):
        world = World.create(SCALES[scale], seed, start_period)
    injector = Injector(registry, rates, seed)
    # The authority's record of deaths first: the datasets that must follow it see this month's.
    datasets = sorted(registry.datasets, key=lambda d: (not injector.records_endings(d), d.id))
    deliveries: list[dict] = []
    n_defects = 0
    periods: list[str] = []
    with progress.task("生成月度数据", total=months * len(datasets)) as advance:
        for _ in range(months):
            world.advance()
            period = world.period
            periods.append(period)
            _write_truth(world, out / "truth" / period)
            injector.begin_period(
                period,
                world.persons["citizen_id"],
                world.entities["uscc"],
                world.entities["established"],
            )
            ledger: list[dict] = []
            outcomes: list[dict] = []
            for ds in datasets:
                if ds.is_due(period):
                    artefacts = writers.choose_artefacts(ds, period, file_artefacts, seed)
                    entry, rows, outs = _deliver(ds, world, injector, out, period, artefacts)
                    deliveries.append(entry)
                    ledger += rows
                    outcomes += outs
                advance()
            n_defects += len(ledger)
            _write_rows(ledger, LEDGER_COLUMNS, out / "ledger" / period / "defects.parquet")
            _write_rows(
                outcomes, _OUTCOME_COLUMNS, out / "ledger" / period / "rectifications.parquet"
            )
    meta = {
        "scale": scale,
        "persons": SCALES[scale].persons,
        "seed": seed,
        "months": months,
        "periods": periods,
        "rates": rates.kinds,
        "fix_rate": rates.fix,
        "reopen_rate": rates.reopen,
        "file_artefacts": file_artefacts,
        "deliveries": deliveries,
    }
    _atomic_bytes(
        out / "synth.json", json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True).encode()
    )
    from bzdata.synth.catalogue import generate_catalogue
    from bzdata.synth.indicators import write_reports

    with progress.step("生成部门指标填报"):
        write_reports(out, registry, periods, seed)

    generate_catalogue(out / "catalogue" / "catalogue.jsonl", registry, seed=seed)
    return Summary(out, periods, deliveries, n_defects)


def _deliver(ds, world: World, injector: Injector, out: Path, period: str, artefacts=()):
    clean = views.build(ds.id, world)
    status = injector.delivery(ds, period)
    due = (
        (month_end(period) + ds.delivery.due_day) if ds.delivery.due_day else month_end(period) + 5
    )
    entry = {"period": period, "dataset": ds.id, "department": ds.provider, "status": status}
    timeliness = injector.delivery_outcomes(ds, period, status)
    if status == "missing":
        # Nothing arrives; open defects stay as they were.
        row = injector.delivery_entry(ds, period, "missing_delivery", str(due), None)
        return (
            {**entry, "rows": 0, "file": None},
            [row],
            timeliness + injector.still_open(ds, period),
        )
    applied = injector.apply(ds, period, clean, month_end(period))
    table = pa.table({c: pa.array(applied.columns[c], pa.string()) for c in ds.columns})
    rows = list(applied.ledger)
    if ds.delivery.channel == "frontdb":
        table = injector.stamp_changes(ds, table, period)
        path = writers.write_frontdb(ds, table, out, period, ds.provider)
    else:
        rng = injector.rng("arrival", ds.id, period)
        if status == "late":
            arrival = due + int(rng.integers(1, 16))
        else:
            arrival = month_end(period) + int(rng.integers(1, ds.delivery.due_day + 1))
        seconds = int(rng.integers(8 * 3600, 18 * 3600))
        delivered_at = (arrival.astype("datetime64[s]") + seconds).astype(object)
        if artefacts:
            path, truth = writers.write_artefact_drop(
                ds, table, out, period, delivered_at, artefacts
            )
            entry["artefacts"] = truth["artefacts"]
        else:
            path = writers.write_file_drop(ds, table, out, period, delivered_at)
        if status == "late":
            rows.append(
                injector.delivery_entry(
                    ds, period, "late_delivery", str(due), str(np.datetime64(delivered_at, "s"))
                )
            )
    return (
        {**entry, "rows": table.num_rows, "file": str(path.relative_to(out))},
        rows,
        timeliness + applied.outcomes,
    )


def _write_truth(world: World, folder: Path) -> None:
    for name, table in world.truth_tables().items():
        write_parquet(table, folder / f"{name}.parquet")


def _write_rows(rows: list[dict], columns: tuple[str, ...], path: Path) -> None:
    table = pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in columns})
    write_parquet(table, path)


def _atomic_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    fsync_path(tmp)
    os.replace(tmp, path)
