"""The 数据晾晒台 on the real pipeline (ingest → dbt → checks), not a fixture: each department's
整改 rate equals what the synthetic departments really fixed, timeliness included."""

from __future__ import annotations

import duckdb
import pyarrow.parquet as pq
import pytest

from bzdata.scorecard import build_scorecard

pytestmark = pytest.mark.slow


def test_rectification_rates_match_the_synthetic_truth(quality_city):
    compared = 0
    # A defect superseded by a new value of its record is gone as far as the department and
    # the platform can tell: counted with the rectified ones.
    for period in quality_city.periods[1:]:
        folder = build_scorecard(quality_city.work, period, png=False)
        truth = dict(
            duckdb.connect()
            .execute(
                f"""
                select department,
                       count(*) filter (where outcome in ('rectified', 'superseded'))
                       / count(*) filter (where outcome in ('rectified', 'superseded', 'open'))
                from read_parquet('{quality_city.synth}/ledger/{period}/rectifications.parquet')
                group by department
                having count(*) filter (where outcome in ('rectified', 'superseded', 'open')) > 0
                """
            )
            .fetchall()
        )
        rows = {
            r["department"]: r
            for r in pq.read_table(folder / "scores.parquet").to_pylist()
            if r["period"] == period
        }
        for department, rate in truth.items():
            got = rows[department]["rectification_rate"]
            assert got is not None, (period, department)
            assert abs(got - rate) * 100 <= 0.5, (period, department, got, rate)
            compared += 1
    assert compared >= 10
