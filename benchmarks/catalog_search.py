"""Catalogue search latency on a city-sized catalogue, next to a plain LIKE scan of the same table.

    .venv/bin/python benchmarks/catalog_search.py [--entries 20000] [--repeat 50]
    .venv/bin/python benchmarks/catalog_search.py --catalogue FILE   # an already built one

Prints the rebuild time (tokenise + FTS5 + atomic publish) and p50/p95 per query class. Each
query is repeated: after its first run the segmentation of the query and of the hits' texts is
remembered (bzdata.catalog.search), so the figures are of a warm process.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from bzdata.catalog.build import dataset_entries
from bzdata.catalog.store import load_catalogue, write_catalogue
from bzdata.registry import load_registry
from bzdata.synth.catalogue import city_entries

QUERIES = {
    "1 字": ["税", "人", "证"],
    "2 字": ["人口", "养老", "信用"],
    "4 字": ["施工许可", "养老机构", "户籍人口"],
    "全拼": ["renkou", "yanglao", "xinyong"],
    "首字母": ["rk", "yljg", "sgxk"],
}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--catalogue", type=Path, help="a built catalog.sqlite (no rebuild)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.catalogue:
            path = args.catalogue
            catalogue = load_catalogue(path)
            print(f"目录条目 {catalogue.count():,}（{path}）")
        else:
            registry = load_registry()
            entries = dataset_entries(registry) + city_entries(registry, n=args.entries)
            path = Path(folder) / "catalog.sqlite"
            start = time.perf_counter()
            write_catalogue(path, entries, [])
            rebuild = time.perf_counter() - start
            catalogue = load_catalogue(path)
            print(f"目录条目 {catalogue.count():,}；重建（分词 + FTS5 + 原子发布）{rebuild:.1f} 秒")
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        like = (
            "select e.id from entries e join fts on fts.rowid = e.rowid "
            "where e.name like ?1 or fts.pinyin like ?1 or e.doc like ?1 limit 20"
        )
        print(
            f"{'查询类别':<8}{'FTS5 p50':>10}{'FTS5 p95':>10}{'LIKE p50':>10}{'LIKE p95':>10}  (ms)"
        )
        for label, queries in QUERIES.items():
            fts_times, like_times = [], []
            for _ in range(args.repeat):
                for query in queries:
                    t = time.perf_counter()
                    catalogue.search(query, limit=20)
                    fts_times.append((time.perf_counter() - t) * 1000)
                    t = time.perf_counter()
                    con.execute(like, (f"%{query}%",)).fetchall()
                    like_times.append((time.perf_counter() - t) * 1000)
            print(
                f"{label:<8}{statistics.median(fts_times):>10.2f}{_pct(fts_times, 0.95):>10.2f}"
                f"{statistics.median(like_times):>10.2f}{_pct(like_times, 0.95):>10.2f}"
            )


if __name__ == "__main__":
    main()
