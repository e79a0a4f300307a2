"""The portal's 目录 and 需求清单 pages, over the snapshot's catalogue and the live demand store.

    /catalog                     search: Chinese / pinyin / initials, facets with counts, paging
    /catalog/entry/{id}          GB/T 21063 metadata, fields, lineage, quality, 供给/需求, sample
    /demands                     the 需求清单 (filter by provider department and status)
    /demands/new, POST /demands  file a demand (CSRF)
    /demands/{id}                one demand; its provider department answers it there (CSRF)

Every catalogue read goes through the viewer's visibility rule (bzdata.catalog.interface), so an
entry hidden from the viewer is neither listed, counted, linked nor opened (404 like an unknown
id). Demands live outside the snapshot (<work>/catalog/demands, append-only), like accounts.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup, escape

from bzdata.catalog import demand as demands
from bzdata.catalog.build import demand_store
from bzdata.catalog.interface import FACETS, Viewer
from bzdata.dimensions import DIMENSIONS

PAGE_SIZE = 20
MAX_QUERY = 100
MAX_PAGE = 10_000
DEMAND_ID = re.compile(r"XQ[0-9A-F]{10}")
FACET_LABELS = {
    "provider": "提供部门",
    "layer": "层级",
    "share": "共享属性",
    "open": "开放属性",
    "security_level": "安全级别",
    "update_cycle": "更新周期",
}
DEMAND_STATES = ("待答复", "同意", "拒绝")
KIND_LABELS = {"dataset": "资源目录", "raw": "原始表", "model": "数据库表"}


@cache
def departments() -> dict[str, str]:
    """code -> name of the registry's departments (the providers a demand may address)."""
    from bzdata.registry import load_registry

    return {d.code: d.name for d in load_registry().departments}


def marked(text: str | None) -> Markup:
    """Escape, then turn the search's 【】 match marks into <mark> (nothing else becomes markup)."""
    safe = str(escape(text or ""))
    return Markup(safe.replace("【", "<mark>").replace("】", "</mark>"))


def viewer_of(user) -> Viewer:
    if user is None:
        return Viewer.public()
    return Viewer(department=user.department, admin=user.is_admin)


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    layer: str


def _nodes(ids, seen: dict[str, tuple[str, str]]) -> tuple[list[Node], int]:
    """Visible neighbours as nodes, and how many neighbours are hidden from the viewer."""
    shown = [Node(i, *seen[i]) for i in ids if i in seen]
    return shown, len(ids) - len(shown)


def _trend(rows: list[dict]) -> tuple[list[str], dict[str, dict[str, float]]]:
    periods = sorted({r["period"] for r in rows})
    by_dim: dict[str, dict[str, float]] = {}
    for r in rows:
        by_dim.setdefault(r["dimension"], {})[r["period"]] = r["rate"]
    ordered = {d: by_dim[d] for d in DIMENSIONS if d in by_dim}
    ordered.update({d: v for d, v in by_dim.items() if d not in ordered})
    return periods, ordered


def add_routes(app: FastAPI, portal: SimpleNamespace) -> None:
    """Register the 目录 and 需求清单 routes on the portal app (helpers from create_app)."""
    render = portal.render
    store = demand_store(portal.work)
    on_file = DemandCache(store)
    portal.templates.env.filters["marked"] = marked
    portal.templates.env.globals["dept_name"] = lambda code: departments().get(code, code or "—")

    def catalogue_or_none(request: Request):
        view = portal.view_of(request)
        return view, (view.catalogue if view is not None else None)

    def not_found(request: Request, what: str = "没有该目录条目"):
        return render(request, "message.html", 404, title=what, text=f"{what}。")

    @app.get("/catalog", response_class=HTMLResponse)
    def search(
        request: Request,
        q: str = "",
        page: int = 1,
        provider: str = "",
        layer: str = "",
        share: str = "",
        open: str = "",
        security_level: str = "",
        update_cycle: str = "",
    ):
        view, catalogue = catalogue_or_none(request)
        if catalogue is None:
            return portal.no_snapshot(request)
        q = q.strip()[:MAX_QUERY]
        chosen = {
            "provider": provider,
            "layer": layer,
            "share": share,
            "open": open,
            "security_level": security_level,
            "update_cycle": update_cycle,
        }
        chosen = {k: v[:MAX_QUERY] for k, v in chosen.items() if v}
        page = max(1, min(page, MAX_PAGE))
        user = portal.user_of(request)
        # A public search page depends on the snapshot and the query string only: rendered once.
        key = ("catalog", request.url.query)
        if user is None and (body := view.page(key)) is not None:
            return HTMLResponse(body)
        viewer = viewer_of(user)
        result = view.search_page(q, viewer, chosen, (page - 1) * PAGE_SIZE, PAGE_SIZE)

        def url(**changes) -> str:
            params = {"q": q, **chosen, "page": page} | changes
            return "/catalog?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

        response = render(
            request,
            "catalog.html",
            q=q,
            result=result,
            chosen=chosen,
            page=page,
            url=url,
            facet_labels={k: FACET_LABELS[k] for k in FACETS},
            first=(page - 1) * PAGE_SIZE + 1,
            last=(page - 1) * PAGE_SIZE + len(result.hits),
        )
        if user is None and b'name="csrf"' not in response.body:  # nothing bound to a visitor
            view.keep_page(key, response.body)
        return response

    @app.get("/catalog/entry/{entry_id}", response_class=HTMLResponse)
    def entry_page(request: Request, entry_id: str):
        view, catalogue = catalogue_or_none(request)
        if catalogue is None:
            return portal.no_snapshot(request)
        user = portal.user_of(request)
        viewer = viewer_of(user)
        entry = catalogue.entry(entry_id[:200], viewer)
        if entry is None:
            return not_found(request)
        edges = catalogue.lineage(entry.id)
        seen = catalogue.visible({*entry.upstream, *entry.downstream}, viewer)
        upstream, hidden_up = _nodes(entry.upstream, seen)
        downstream, hidden_down = _nodes(entry.downstream, seen)
        columns = [
            e for e in edges if e.upstream_column and (e.upstream in seen or e.downstream in seen)
        ]
        dataset = entry.id.removeprefix("raw.") if entry.kind in ("dataset", "raw") else None
        periods, trend = _trend(view.quality_trend(dataset)) if dataset else ([], {})
        sample = None
        if dataset and viewer.may_sample(entry):
            sample = view.sample(dataset)
        wanted = [d for d in on_file.current().values() if d.matched_entry == entry.id]
        return render(
            request,
            "entry.html",
            entry=entry,
            upstream=upstream,
            downstream=downstream,
            hidden_up=hidden_up,
            hidden_down=hidden_down,
            columns=columns,
            periods=periods,
            trend=trend,
            dimensions=DIMENSIONS,
            sample=sample,
            sample_allowed=viewer.may_sample(entry),
            demand_counts=Counter(d.status for d in wanted),
            demands=sorted(wanted, key=lambda d: d.filed, reverse=True)[:20],
            kind_label=KIND_LABELS.get(entry.kind, entry.kind),
        )

    def visible_match(catalogue, item, viewer: Viewer) -> str | None:
        """The matched entry's id when the viewer may see it (else it is not linked)."""
        if catalogue is None or not item.matched_entry:
            return None
        return item.matched_entry if catalogue.visible([item.matched_entry], viewer) else None

    @app.get("/demands", response_class=HTMLResponse)
    def demand_list(request: Request, provider: str = "", status: str = "", mine: str = ""):
        user = portal.user_of(request)
        items = list(on_file.current().values())
        if mine and user is not None:
            provider = user.department
        if provider:
            items = [d for d in items if d.provider == provider]
        if status:
            items = [d for d in items if d.status == status]
        items.sort(key=lambda d: (d.filed, d.id), reverse=True)
        return render(
            request,
            "demands.html",
            items=items[:500],
            total=len(items),
            provider=provider if provider in departments() else "",
            chosen_status=status if status in DEMAND_STATES else "",
            states=DEMAND_STATES,
            departments=departments(),
        )

    @app.get("/demands/new", response_class=HTMLResponse)
    def demand_form(request: Request, provider: str = "", title: str = ""):
        return render(
            request,
            "demand_new.html",
            departments=departments(),
            form={"provider": provider, "title": title[:MAX_QUERY]},
        )

    @app.post("/demands")
    def demand_file(
        request: Request,
        title: str = Form("", max_length=200),
        fields: str = Form("", max_length=1000),
        purpose: str = Form("", max_length=1000),
        requester: str = Form("", max_length=200),
        provider: str = Form("", max_length=64),
        csrf: str = Form(""),
    ):
        if not portal.csrf_checked(request, csrf):
            return portal.refused(request)
        _, catalogue = catalogue_or_none(request)
        if catalogue is None:
            return portal.no_snapshot(request)
        user = portal.user_of(request)
        if user is not None and not user.is_admin:
            requester = departments().get(user.department, user.department)
        form = {
            "title": title,
            "fields": fields,
            "purpose": purpose,
            "requester": requester,
            "provider": provider,
        }
        error = None
        if provider not in departments():
            error = "请选择提供部门"
        else:
            try:
                item = demands.file_demand(
                    store,
                    catalogue,
                    title=title.strip(),
                    fields=re.split(r"[、，,；;\s]+", fields),
                    purpose=purpose.strip(),
                    requester=requester.strip(),
                    provider=provider,
                    filed=date.fromtimestamp(portal.clock()),
                )
            except demands.DemandError as exc:
                error = str(exc)
        if error is not None:
            return render(
                request,
                "demand_new.html",
                400,
                departments=departments(),
                form=form,
                error=error,
            )
        return RedirectResponse(f"/demands/{item.id}", status_code=303)

    def find(demand_id: str):
        """The demand with this id (ids are checked against their form before any lookup)."""
        return on_file.current().get(demand_id) if DEMAND_ID.fullmatch(demand_id) else None

    def demand_page(request: Request, demand_id: str, status: int = 200, error: str | None = None):
        item = on_file.current().get(demand_id) if DEMAND_ID.fullmatch(demand_id) else None
        if item is None:
            return not_found(request, "没有该需求")
        user = portal.user_of(request)
        _, catalogue = catalogue_or_none(request)
        return render(
            request,
            "demand.html",
            status,
            item=item,
            matched=visible_match(catalogue, item, viewer_of(user)),
            may_answer=user is not None and user.department == item.provider,
            error=error,
        )

    @app.get("/demands/{demand_id}", response_class=HTMLResponse)
    def demand_show(request: Request, demand_id: str):
        return demand_page(request, demand_id)

    @app.post("/demands/{demand_id}/answer")
    def demand_answer(
        request: Request,
        demand_id: str,
        answer: str = Form("", max_length=8),
        reason: str = Form("", max_length=1000),
        csrf: str = Form(""),
    ):
        if not portal.csrf_checked(request, csrf):
            return portal.refused(request)
        user = portal.user_of(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        item = (
            demands.load_demands(store).get(demand_id) if DEMAND_ID.fullmatch(demand_id) else None
        )
        if item is None:
            return not_found(request, "没有该需求")
        if user.department != item.provider:
            return render(
                request,
                "message.html",
                403,
                title="无权答复",
                text="只有被提出需求的提供部门可以答复该需求。",
            )
        try:
            demands.answer_demand(
                store, item.id, answer, reason, date.fromtimestamp(portal.clock())
            )
        except demands.AlreadyAnswered as exc:
            return demand_page(request, demand_id, 409, str(exc))
        except demands.DemandError as exc:
            return demand_page(request, demand_id, 400, str(exc))
        return RedirectResponse(f"/demands/{item.id}", status_code=303)


class DemandCache:
    """The store's demands, read again only when the append-only file has changed (pages read
    them on every request; answers read the file itself, under the lock)."""

    def __init__(self, store: Path) -> None:
        self.path = store / demands.STORE_FILE
        self._seen: tuple[tuple[int, int, int] | None, dict] = (None, {})

    def current(self) -> dict:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return {}
        key = (st.st_ino, st.st_size, st.st_mtime_ns)  # taken before reading: never newer
        seen, items = self._seen
        if seen != key:
            items = demands.load_demands(self.path.parent)
            self._seen = (key, items)
        return items
