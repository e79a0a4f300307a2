"""The 整改 rate per department matches what the synthetic city knows it did: of last month's
open defects, the share the departments fixed (rectified ÷ (rectified + still open))."""

from __future__ import annotations

import duckdb
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.slow

TOLERANCE_PP = 0.5


@pytest.mark.parametrize("period", ["2023-02", "2023-03"])
def test_rectification_rate_within_half_a_point_of_truth(scored_city, period):
    truth = dict(
        duckdb.connect()
        .execute(
            f"""
            select department,
                   count(*) filter (where outcome = 'rectified')
                   / count(*) filter (where outcome in ('rectified', 'open')) as rate
            from read_parquet('{scored_city.synth}/ledger/{period}/rectifications.parquet')
            -- the fixture's issues are record issues only (see quality_fixture.py)
            where defect_kind not in ('late_delivery', 'missing_delivery')
            group by department
            having count(*) filter (where outcome in ('rectified', 'open')) > 0
            """
        )
        .fetchall()
    )
    rows = {
        r["department"]: r
        for r in pq.read_table(scored_city.scorecard(period) / "scores.parquet").to_pylist()
        if r["period"] == period
    }
    assert len(truth) >= 5  # enough departments had defects to make the comparison mean something
    for department, rate in truth.items():
        got = rows[department]["rectification_rate"]
        assert got is not None, department
        assert abs(got * 100 - rate * 100) <= TOLERANCE_PP, (department, got, rate)
    for department, row in rows.items():
        if department not in truth:  # nothing open last month: nothing to rectify
            assert row["prev_open_issues"] == 0, department
            assert row["rectification_score"] == 100.0
