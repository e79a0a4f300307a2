"""What the portal reads: the current published snapshot, opened read-only and cached by id.

Parquet files of the snapshot are read into Arrow and registered with an in-memory DuckDB
connection whose external access is then switched off and configuration locked, so no query
text can reach a file (read_text, read_csv) or change a setting. The snapshot's catalogue
(catalog.sqlite) is opened read-only through the embedded catalogue.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import OrderedDict
from functools import cached_property
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from bzdata import snapshot
from bzdata.catalog.interface import Viewer
from bzdata.catalog.search import words
from bzdata.catalog.store import FILE_NAME as CATALOGUE_FILE
from bzdata.catalog.store import EmbeddedCatalogue

log = logging.getLogger(__name__)
SEARCH_CACHE = 2048  # search pages remembered per snapshot (least recently used dropped)
PAGE_CACHE = 512  # rendered public pages remembered per snapshot (~30 KB each)
ISSUE_COLUMNS = (
    "issue_id",
    "dataset",
    "rule_name",
    "dimension",
    "severity",
    "record_key",
    "header",
    "shown_value",
    "authoritative_value",
    "status",
    "first_period",
    "message",
)


class SnapshotView:
    """One snapshot as the portal uses it; immutable, so cached for as long as it is current."""

    def __init__(self, snap: snapshot.Snapshot) -> None:
        self.snap = snap
        self.path = snap.path
        self._lock = threading.Lock()
        self._searches: OrderedDict[tuple, object] = OrderedDict()
        self._pages: OrderedDict[tuple, bytes] = OrderedDict()
        self._local = threading.local()
        self._has_catalogue = (self.path / CATALOGUE_FILE).is_file()
        self._trends: dict[str, list[dict]] = {}
        self._samples: dict[str, list[dict] | None] = {}
        self._con = duckdb.connect(":memory:")
        for p in snap.manifest.get("issue_periods", []):
            table = pq.read_table(self.path / "issues" / f"{p}.parquet")
            self._con.register(f"issues_{p.replace('-', '_')}", table)
        ind = self.path / "indicators.parquet"
        self.indicator_rows: list[dict] = pq.read_table(ind).to_pylist() if ind.is_file() else []
        rules = [
            pq.read_table(self.path / "rule_results" / f"{p}.parquet")
            for p in snap.manifest.get("rule_periods", [])
        ]
        self._has_rules = bool(rules)
        if rules:
            self._con.register("rule_results", pa.concat_tables(rules, promote_options="default"))
        self._con.execute("set enable_external_access = false")
        self._con.execute("set lock_configuration = true")

    def warm(self) -> None:
        """Read what every page needs before the view is put in service."""
        self._scores  # noqa: B018 (cached on first access)
        if self.catalogue is not None:
            self.catalogue.count()
            words("人口")  # the segmenter loads its dictionary on first use (seconds)

    @property
    def period(self) -> str:
        return self.snap.period

    @property
    def periods(self) -> list[str]:
        return self.snap.periods

    def scores(self, period: str) -> dict:
        if period not in self.periods:
            raise KeyError(period)
        return self._scores[period]

    @cached_property
    def _scores(self) -> dict[str, dict]:
        return {
            p: json.loads((self.path / "scorecard" / p / "scores.json").read_text("utf-8"))
            for p in self.periods
        }

    def download(self, period: str, kind: str, department: str | None = None) -> Path | None:
        """A whitelisted file of a period's scorecard (never a path taken from the URL)."""
        if period not in self.periods:
            return None
        doc = self.scores(period)
        folder = self.path / "scorecard" / period
        if kind == "xlsx":
            path = folder / f"数据晾晒台_{doc['period_label']}.xlsx"
        elif kind == "html" and department is None:
            path = folder / "report" / "index.html"
        elif kind == "html" and department in {d["code"] for d in doc["departments"]}:
            path = folder / "report" / f"{department}.html"
        else:
            return None
        return path if path.is_file() else None

    def issues(self, period: str, department: str, *, limit: int, offset: int) -> tuple[int, list]:
        """The department's record-level issues of the period (keys masked at publish)."""
        if period not in self.snap.manifest.get("issue_periods", []):
            return 0, []
        table = f"issues_{period.replace('-', '_')}"  # period is one of the manifest's
        cols = ", ".join(ISSUE_COLUMNS)
        with self._lock:
            cur = self._con  # registered Arrow tables are visible on this connection only
            (total,) = cur.execute(
                f"select count(*) from {table} where department = ?", [department]
            ).fetchone()
            rows = cur.execute(
                f"select {cols} from {table} where department = ? "
                "order by severity, dataset, rule_name, issue_id limit ? offset ?",
                [department, limit, offset],
            ).fetchall()
        return int(total), [dict(zip(ISSUE_COLUMNS, r, strict=True)) for r in rows]

    def search_page(self, query: str, viewer: Viewer, filters: dict, offset: int, limit: int):
        """The catalogue's search page, remembered for this snapshot (it never changes, so a
        repeated search is answered from memory; the viewer's visibility is part of the key)."""
        key = (query, viewer, tuple(sorted(filters.items())), offset, limit)
        with self._lock:
            page = self._searches.get(key)
            if page is not None:
                self._searches.move_to_end(key)
                return page
        page = self.catalogue.search_page(
            query, viewer=viewer, filters=filters, offset=offset, limit=limit
        )
        with self._lock:
            self._searches[key] = page
            while len(self._searches) > SEARCH_CACHE:
                self._searches.popitem(last=False)
        return page

    def page(self, key: tuple) -> bytes | None:
        """A public page rendered before from this snapshot (same path and query)."""
        with self._lock:
            body = self._pages.get(key)
            if body is not None:
                self._pages.move_to_end(key)
            return body

    def keep_page(self, key: tuple, body: bytes) -> None:
        with self._lock:
            self._pages[key] = body
            while len(self._pages) > PAGE_CACHE:
                self._pages.popitem(last=False)

    @property
    def catalogue(self) -> EmbeddedCatalogue | None:
        """The snapshot's catalogue (read-only), or None when the period published none.

        One connection per serving thread: a SQLite connection runs one statement at a time,
        so a shared one made every search wait for the one before it."""
        if not self._has_catalogue:
            return None
        opened = getattr(self._local, "catalogue", None)
        if opened is None:
            opened = self._local.catalogue = EmbeddedCatalogue(self.path / CATALOGUE_FILE)
        return opened

    def quality_trend(self, dataset: str) -> list[dict]:
        """Pass rate per period and GB/T 36344 dimension of a dataset, from the published rule
        results: 1 − failing / checked elements over the rules that ran without error."""
        if not self._has_rules:
            return []
        known = self._trends.get(dataset)
        if known is not None:  # the snapshot never changes: each dataset is computed once
            return known
        with self._lock:
            rows = self._con.execute(
                "select period, dimension, sum(element_count), sum(unexpected_count), count(*), "
                "count(*) filter (where unexpected_count > 0) from rule_results "
                "where dataset = ? and coalesce(error, '') = '' group by all order by all",
                [dataset],
            ).fetchall()
        trend = [
            {
                "period": period,
                "dimension": dimension,
                "rate": (1 - bad / n) if n else 1.0,
                "rules": rules,
                "failed_rules": failed,
            }
            for period, dimension, n, bad, rules, failed in rows
        ]
        self._trends[dataset] = trend
        return trend

    def sample(self, dataset: str) -> list[dict] | None:
        """The masked sample rows published for a dataset (None: none published)."""
        if f"samples/{dataset}.parquet" not in self.snap.manifest.get("files", []):
            return None  # only names the manifest lists ever become a path
        if dataset not in self._samples:
            table = pq.read_table(self.path / "samples" / f"{dataset}.parquet")
            self._samples[dataset] = table.to_pylist()
        return self._samples[dataset]

    def setting(self, name: str) -> str:
        with self._lock:
            return str(self._con.execute("select current_setting(?)", [name]).fetchone()[0])


class Published:
    """Follows the work folder's snapshot pointer; a new snapshot is opened once, on switch.

    The new snapshot is opened whole (tables read, catalogue opened) before it replaces the
    previous one; a snapshot that cannot be opened leaves the previous one in service (it stays
    whole on disk) and is tried again on the next request.
    """

    def __init__(self, work_dir: Path | str) -> None:
        self.work = Path(work_dir)
        # (pointer text, view), replaced as one object so a reader never pairs one snapshot's
        # pointer with another's view
        self._current: tuple[str | None, SnapshotView | None] = (None, None)
        self._opening = threading.Lock()

    def view(self) -> SnapshotView | None:
        try:  # one readlink per request; the manifest is read only when the pointer moved
            target = os.readlink(snapshot.root(self.work) / snapshot.POINTER)
        except OSError:
            return self._current[1]
        held, view = self._current
        if view is not None and held == target:
            return view
        # Requests that see the moved pointer wait while one of them opens the new snapshot, so
        # once a publish has returned no request is answered from the previous one.
        with self._opening:
            held, view = self._current
            if view is not None and held == target:
                return view
            snap = snapshot.current(self.work)
            if snap is None:
                return view
            try:
                opened = SnapshotView(snap)
                opened.warm()
            except Exception:
                if view is None:
                    raise
                log.exception("快照 %s 无法打开，继续使用上一快照 %s", snap.path, view.path)
                return view
            # the pointer's text as publish writes it, so a switch in between is seen next time
            self._current = (str(Path(snapshot.SNAPSHOTS) / snap.path.name), opened)
            return opened
