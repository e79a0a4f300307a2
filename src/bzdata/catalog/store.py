"""The embedded catalogue: one SQLite file holding every entry, the lineage edges and the FTS5
search index, published atomically (written beside its final name, fsynced, renamed).

    <work>/catalog/catalog.sqlite

Readers open it read-only; a rebuild swaps in a new file, so an open reader keeps the snapshot it
opened. Query text is always bound as a parameter.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from bzdata.catalog import search as tok
from bzdata.catalog.interface import DEPARTMENT_SHARE, FACETS, PUBLIC_OPEN, SearchPage, Viewer
from bzdata.catalog.model import Entry, LineageEdge, SearchHit
from bzdata.storage import fsync_path

FILE_NAME = "catalog.sqlite"
# Filter name -> column of the entries table (whitelist: filter names never reach SQL unchecked).
FILTERS: dict[str, str] = {
    "provider": "provider",
    "dept": "provider",
    "layer": "layer",
    "kind": "kind",
    "share": "share",
    "open": "open",
    "security_level": "security_level",
    "update_cycle": "update_cycle",
}
# Columns of the matched set `m` a search filters, counts and orders on.
_MATCHED_COLUMNS = tuple(dict.fromkeys(("id", "kind", *FILTERS.values(), "delivered")))
# bm25 column weights: name, name characters, pinyin, fields, abstract.
WEIGHTS = (10.0, 4.0, 6.0, 2.0, 1.0)
# Libraries users come for rank above the intermediate tables built on the way to them.
LAYER_BOOST: dict[str, float] = {
    "基础库": 1.6,
    "主题库": 1.4,
    "专题库": 1.4,
    "指标库": 1.3,
    "资源目录": 1.3,
    "staging": 0.8,
    "质量": 0.8,
    "原始区": 0.7,
    "中间层": 0.6,
}
_BOOST_SQL = (
    "case e.layer "
    + " ".join(f"when '{layer}' then {boost}" for layer, boost in LAYER_BOOST.items())
    + " else 1.0 end"
)

_SCHEMA = """
create table entries (
    rowid integer primary key, id text unique not null, kind text, layer text, name text,
    provider text, share text, open text, security_level text, update_cycle text,
    delivered integer, doc text not null
);
create table edges (
    upstream text, downstream text, upstream_column text, downstream_column text
);
create index edges_up on edges(upstream);
create index edges_down on edges(downstream);
create virtual table fts using fts5(
    name, chars, pinyin, fields, abstract, tokenize = 'unicode61 remove_diacritics 0'
);
"""


def catalogue_path(work_dir: Path | str) -> Path:
    """Where the pipeline publishes the embedded catalogue of a work folder."""
    return Path(work_dir) / "catalog" / FILE_NAME


def write_catalogue(
    path: Path | str, entries: Sequence[Entry], edges: Sequence[LineageEdge]
) -> Path:
    """Write a whole catalogue to `path` atomically; returns the path."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    staging.unlink(missing_ok=True)
    tok.add_terms(e.name for e in entries if e.kind == "dataset")
    con = sqlite3.connect(staging)
    try:
        con.executescript(_SCHEMA)
        rows, fts = [], []
        for rowid, entry in enumerate(sorted(entries, key=lambda e: e.id), start=1):
            rows.append(
                (
                    rowid,
                    entry.id,
                    entry.kind,
                    entry.layer,
                    entry.name,
                    entry.provider,
                    entry.share,
                    entry.open,
                    entry.security_level,
                    entry.update_cycle,
                    int(entry.delivered),
                    json.dumps(entry.to_dict(), ensure_ascii=False),
                )
            )
            headers = " ".join(f.header for f in entry.fields)
            library = entry.library or ""
            fts.append(
                (
                    rowid,
                    tok.index_tokens(f"{entry.name} {library}"),
                    tok.chars_of(entry.name + library),
                    tok.pinyin_tokens(entry.name) + " " + tok.pinyin_tokens(library),
                    tok.index_tokens(headers),
                    tok.index_tokens(entry.abstract),
                )
            )
        con.executemany("insert into entries values (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        con.executemany(
            "insert into fts(rowid, name, chars, pinyin, fields, abstract) values (?,?,?,?,?,?)",
            fts,
        )
        con.executemany(
            "insert into edges values (?,?,?,?)",
            [(e.upstream, e.downstream, e.upstream_column, e.downstream_column) for e in edges],
        )
        con.execute("insert into fts(fts) values ('optimize')")
        con.commit()
    finally:
        con.close()
    fsync_path(staging)
    os.replace(staging, final)
    fsync_path(final.parent)
    return final


class EmbeddedCatalogue:
    """The embedded CatalogueBackend over one catalog.sqlite file (read-only unless publishing)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._con: sqlite3.Connection | None = None

    # --- CatalogueBackend ----------------------------------------------------------------------

    def publish(self, entries: Sequence[Entry], edges: Sequence[LineageEdge]) -> None:
        self.close()
        write_catalogue(self.path, entries, edges)

    def entries(self) -> Iterable[Entry]:
        for (doc,) in self._db().execute("select doc from entries order by id"):
            yield Entry.from_dict(json.loads(doc))

    def entry(self, entry_id: str, viewer: Viewer | None = None) -> Entry | None:
        """One entry; with a viewer, None also when the viewer may not see it."""
        clause, params = visibility(viewer or Viewer.everyone())
        sql = f"select e.doc from entries e where e.id = ? and {clause}"
        row = self._db().execute(sql, (entry_id, *params)).fetchone()
        return Entry.from_dict(json.loads(row[0])) if row else None

    def lineage(self, entry_id: str) -> list[LineageEdge]:
        rows = self._db().execute(
            "select upstream, downstream, upstream_column, downstream_column from edges "
            "where upstream = ? or downstream = ? order by upstream, downstream, "
            "coalesce(upstream_column, ''), coalesce(downstream_column, '')",
            (entry_id, entry_id),
        )
        return [LineageEdge(*row) for row in rows]

    def edges(self) -> list[LineageEdge]:
        """Every lineage edge of the catalogue, in a stable order (what a publisher sends)."""
        rows = self._db().execute(
            "select upstream, downstream, upstream_column, downstream_column from edges "
            "order by upstream, downstream, coalesce(upstream_column, ''), "
            "coalesce(downstream_column, '')"
        )
        return [LineageEdge(*row) for row in rows]

    def search(
        self,
        query: str,
        *,
        filters: Mapping[str, str] | None = None,
        limit: int = 20,
        viewer: Viewer | None = None,
    ) -> list[SearchHit]:
        """Ranked hits (no paging, no facets). Without a viewer every entry is searched: for
        trusted callers only (the CLI, demand matching); the portal passes its viewer."""
        if not (query or "").strip() and not any((filters or {}).values()):
            return []
        page = self.search_page(
            query,
            viewer=viewer or Viewer.everyone(),
            filters=filters,
            limit=limit,
            facets=False,
        )
        return list(page.hits)

    def search_page(
        self,
        query: str,
        *,
        viewer: Viewer,
        filters: Mapping[str, str] | None = None,
        offset: int = 0,
        limit: int = 20,
        facets: bool = True,
    ) -> SearchPage:
        """One page of hits the viewer may see, their total and facet counts, all in SQL.

        An empty query browses: every visible entry, delivered ones and libraries first.
        Facet counts for one facet apply the filters of every other facet (so a chosen value's
        alternatives keep their counts); the total applies them all.
        """
        offset, limit = max(0, int(offset)), max(0, int(limit))
        conditions = self._filters(filters)
        matched, params = self._matched(query, viewer)
        if matched is None:
            return SearchPage(query, 0, offset, limit, ())
        where = " and ".join(c for c, _ in conditions.values()) or "1"
        where_params = [v for _, v in conditions.values()]
        # One statement, so the match and its bm25 are computed once for hits, total and facets.
        hits_sql = (
            "select 'hit', e.doc, h.score, h.pos from (select m.rid, m.score, row_number() over "
            "(order by m.score desc, m.delivered desc, m.boost desc, m.id) as pos from m "
            f"where {where} order by pos limit ? offset ?) h join entries e on e.rowid = h.rid"
        )
        counts_sql, counts_params = self._counts(conditions, facets)
        try:
            result = self._db().execute(
                f"{matched} {hits_sql} union all {counts_sql}",
                (*params, *where_params, limit, offset, *counts_params),
            )
            total, counts, rows = 0, {name: [] for name in FACETS} if facets else {}, []
            for label, value, score, n in result:
                if label == "hit":
                    rows.append((n, value, score))
                elif label == "":
                    total = int(n)
                else:
                    counts[label].append((str(value), int(n)))
        except sqlite3.OperationalError:
            return SearchPage(query, 0, offset, limit, ())  # a MATCH text FTS5 cannot parse
        for items in counts.values():
            items.sort(key=lambda kv: (-kv[1], kv[0]))
        rows = [(doc, score) for _, doc, score in sorted(rows)]
        hits = []
        for doc, score in rows:
            entry = Entry.from_dict(json.loads(doc))
            hits.append(
                SearchHit(
                    id=entry.id,
                    name=entry.name,
                    layer=entry.layer,
                    provider=entry.provider,
                    score=round(float(score), 4),
                    snippet=tok.highlight(entry.abstract, query),
                    name_highlighted=tok.highlight(entry.name, query, width=200),
                )
            )
        return SearchPage(query, total, offset, limit, tuple(hits), counts)

    def visible(self, entry_ids: Iterable[str], viewer: Viewer) -> dict[str, tuple[str, str]]:
        """id -> (name, layer) of those of `entry_ids` the viewer may see."""
        clause, params = visibility(viewer)
        rows = self._db().execute(
            "select e.id, e.name, e.layer from entries e "
            f"where e.id in (select value from json_each(?)) and {clause}",
            (json.dumps(list(entry_ids)), *params),
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    def count(self) -> int:
        return int(self._db().execute("select count(*) from entries").fetchone()[0])

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    # --- internals -----------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._con is None:
            if not self.path.is_file():
                raise FileNotFoundError(
                    f"找不到目录文件 {self.path}：请先运行流程或 bzdata catalog build"
                )
            self._con = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False
            )
            # Read-only and immutable once published: map it, so joins read pages, not syscalls.
            self._con.execute("pragma mmap_size = 268435456")
            self._con.execute("pragma cache_size = -65536")
        return self._con

    @staticmethod
    def _filters(filters: Mapping[str, str] | None) -> dict[str, tuple[str, str]]:
        """column -> (condition on the matched set m, bound value); names from FILTERS only."""
        out: dict[str, tuple[str, str]] = {}
        for key, value in (filters or {}).items():
            if value in (None, ""):
                continue
            column = FILTERS.get(key)
            if column is None:
                raise ValueError(f"未知的筛选条件 {key}：可用 {'、'.join(FILTERS)}")
            out[column] = (f"m.{column} = ?", str(value))
        return out

    @staticmethod
    def _matched(query: str, viewer: Viewer) -> tuple[str | None, list]:
        """The `with m as (...)` clause: entries matching the query that the viewer may see."""
        clause, params = visibility(viewer)
        columns = ", ".join(f"e.{c}" for c in _MATCHED_COLUMNS)
        if not (query or "").strip():
            return (
                f"with m as materialized (select e.rowid as rid, {columns}, 0.0 as score, "
                f"{_BOOST_SQL} as boost from entries e where {clause})",
                params,
            )
        expr, _ = tok.match_expression(query)
        if expr is None:
            return None, []
        weights = ", ".join(str(w) for w in WEIGHTS)
        return (
            f"with m as materialized (select e.rowid as rid, {columns}, "
            f"-bm25(fts, {weights}) * {_BOOST_SQL} as score, {_BOOST_SQL} as boost "
            f"from fts join entries e on e.rowid = fts.rowid where fts match ? and {clause})",
            [expr, *params],
        )

    @staticmethod
    def _counts(conditions: dict[str, tuple[str, str]], facets: bool) -> tuple[str, list[str]]:
        """The total's and the facets' branches of the search statement, and their values."""
        parts, values = [], []

        def branch(label: str, column: str | None) -> None:
            others = [(c, v) for col, (c, v) in conditions.items() if col != column]
            where = " and ".join(c for c, _ in others) or "1"
            if column:
                parts.append(
                    f"select '{label}', m.{column}, 0, count(*) from m where {where} "
                    f"and m.{column} is not null group by m.{column}"
                )
            else:
                parts.append(f"select '', '', 0, count(*) from m where {where}")
            values.extend(v for _, v in others)

        branch("", None)
        if facets:
            for name in FACETS:
                branch(name, FILTERS[name])
        return " union all ".join(parts), values


def visibility(viewer: Viewer) -> tuple[str, list[str]]:
    """The SQL condition on entries `e` for what `viewer` may see (see interface.py)."""
    if viewer.admin:
        return "1", []
    opened = ", ".join("?" for _ in PUBLIC_OPEN)
    if viewer.department is None:
        return f"e.open in ({opened})", list(PUBLIC_OPEN)
    shared = ", ".join("?" for _ in DEPARTMENT_SHARE)
    return (
        f"(e.open in ({opened}) or e.share in ({shared}) or e.provider = ?)",
        [*PUBLIC_OPEN, *DEPARTMENT_SHARE, viewer.department],
    )


def load_catalogue(folder: Path | str) -> EmbeddedCatalogue:
    """Open a built catalogue: a work folder, its catalog/ folder, a snapshot folder holding
    catalog.sqlite, or the file itself. Raises FileNotFoundError (Chinese) when none is there."""
    base = Path(folder)
    for candidate in (base, base / FILE_NAME, base / "catalog" / FILE_NAME):
        if candidate.is_file():
            return EmbeddedCatalogue(candidate)
    raise FileNotFoundError(
        f"在 {base} 下找不到目录文件 {FILE_NAME}：请先运行流程或 bzdata catalog build"
    )
