"""A scorecard from a hand-made manifest with no quality outputs yet: collection figures by hand,
sections that cannot be computed are left out of the composite, and bad periods are refused."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bzdata.ingest.manifest import MANIFEST_SCHEMA, manifest_file, manifest_table
from bzdata.scorecard import build_scorecard
from bzdata.scorecard.compute import ScorecardError

PERIOD = "2023-01"


def _row(dataset: str, department: str, status: str, **values) -> dict:
    row = dict.fromkeys(MANIFEST_SCHEMA.names)
    row.update(
        delivery_id=f"{dataset}/{PERIOD}/{status}",
        dataset=dataset,
        department=department,
        period=PERIOD,
        channel="file",
        status=status,
        late=False,
        rows_read=0,
        rows_accepted=0,
        rows_rejected=0,
        due_at=datetime(2023, 2, 10, 23, 59, 59),
        arrived_at=datetime(2023, 2, 3, 9, 0),
    )
    row.update(values)
    return row


@pytest.fixture
def lake_work(tmp_path: Path) -> Path:
    lake = tmp_path / "lake"
    rows = {
        "gaj_hjrk": [_row("gaj_hjrk", "gaj", "loaded", rows_read=100, rows_accepted=100)],
        "rsj_shbx": [
            _row(
                "rsj_shbx",
                "rsj",
                "loaded",
                late=True,
                rows_read=10,
                rows_accepted=9,
                rows_rejected=1,
            )
        ],
        "mzj_hydj": [_row("mzj_hydj", "mzj", "quarantined", reason="无法读取")],
        "wjw_csyxzm": [
            _row("wjw_csyxzm", "wjw", "loaded", rows_read=5, rows_accepted=5),
            _row("wjw_csyxzm", "wjw", "duplicate", delivery_id="wjw_csyxzm/dup"),
        ],
    }
    for dataset, items in rows.items():
        path = manifest_file(lake, dataset, PERIOD)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(manifest_table(items), path)
    return tmp_path


def test_collection_by_hand_and_missing_sections_left_out(lake_work):
    folder = build_scorecard(lake_work, PERIOD, png=False)
    document = json.loads((folder / "scores.json").read_text(encoding="utf-8"))
    assert len(document["notes"]) == 2  # no quality results, no issue status
    depts = {d["code"]: d for d in document["departments"]}
    figures = {code: d["sections"]["collection"]["figures"] for code, d in depts.items()}
    assert figures["gaj"]["deliveries_on_time"] == 1
    assert depts["gaj"]["sections"]["collection"]["score"] == 100.0
    # late (half credit) and 1 of 10 rows rejected: 100 × 0.5 × 0.9
    assert figures["rsj"]["deliveries_late"] == 1 and figures["rsj"]["rows_rejected"] == 1
    assert depts["rsj"]["sections"]["collection"]["score"] == 45.0
    # a quarantined file is no delivery; both of 市民政局's datasets are missing, minus 5 points
    assert figures["mzj"]["deliveries_missing"] == 2 and figures["mzj"]["files_quarantined"] == 1
    assert depts["mzj"]["sections"]["collection"]["score"] == 0.0
    # one of two 市卫健委 datasets delivered; the duplicate file is counted, not credited
    assert figures["wjw"]["files_duplicate"] == 1 and figures["wjw"]["deliveries_on_time"] == 1
    assert depts["wjw"]["sections"]["collection"]["score"] == 50.0
    for dept in depts.values():
        assert dept["sections"]["quality"]["score"] is None
        assert dept["sections"]["rectification"]["score"] is None
        assert dept["sections"]["quality"]["figures"]["issues_open"] is None
        catalog = dept["sections"]["catalog"]["score"]
        collection = dept["sections"]["collection"]["score"]
        assert dept["composite"] == pytest.approx(
            (0.2 * catalog + 0.3 * collection) / 0.5, abs=0.01
        )
        assert dept["prev_rank"] is None and dept["rank_change"] is None
    assert depts["gaj"]["rank"] == 1
    assert (folder / "report" / "index.html").is_file()
    assert not (folder / "charts" / "ranking.png").exists()  # png=False


def test_a_period_without_manifest_is_refused(lake_work):
    with pytest.raises(ScorecardError, match="没有归集清单"):
        build_scorecard(lake_work, "2023-02", png=False)
    with pytest.raises(ScorecardError, match="YYYY-MM"):
        build_scorecard(lake_work, "2023-2", png=False)
    assert not (lake_work / "scorecard" / "2023-02").exists()
