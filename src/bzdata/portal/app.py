"""The portal: server-rendered Chinese pages over the current published snapshot.

    create_app(work_dir) -> FastAPI        bzdata serve runs it with uvicorn

Public: 目录 (search and dataset pages, as the visibility rule allows), 需求清单, 数据晾晒台
(ranking, department pages, report downloads) and 指标库. Department accounts: their own
record-level issue list (keys masked) and its XLSX export, more of the catalogue, and answers to
the demands addressed to them (bzdata.portal.catalogue). Every form carries a CSRF
token; every response carries the security headers; requests are size- and rate-limited.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import anyio.to_thread
from fastapi import FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser

from bzdata.portal import accounts as acc
from bzdata.portal.data import Published

HERE = Path(__file__).parent
SESSION_COOKIE = "bz_session"
CSRF_COOKIE = "bz_csrf"
MAX_BODY = 64 * 1024
THREADS = max(4, 4 * (os.cpu_count() or 1))
WORK_VARIABLE = "BZDATA_PORTAL_WORK"
RATE_VARIABLE = "BZDATA_PORTAL_RATE_LIMIT"
PAGE_SIZE = 50
PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class RateLimit:
    """At most `limit` requests per client within `window` seconds (sliding window)."""

    def __init__(self, limit: int, window: float = 1.0) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            hits = self._hits[client]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True


class Guard:
    """Size and rate limits, path checks, security headers and the CSRF binding cookie, as plain
    ASGI middleware (Starlette's BaseHTTPMiddleware would cost every request a task and a
    stream wrapper: it was a good part of the floor under load)."""

    def __init__(self, app, limiter: RateLimit) -> None:
        self.app, self.limiter = app, limiter

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        binding = cookie_parser(headers.get("cookie", "")).get(CSRF_COOKIE)
        fresh = None if binding else secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csrf_binding"] = binding or fresh
        client = scope["client"][0] if scope.get("client") else "-"
        length = headers.get("content-length")
        raw = scope.get("raw_path") or scope["path"].encode()
        refusal = None
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            refusal = Response("请求过大", status_code=413)
        elif not self.limiter.allow(client):
            refusal = Response("请求过于频繁，请稍后再试", status_code=429)
        elif ".." in scope["path"] or b".." in raw or b"%2e" in raw.lower():
            refusal = Response("路径无效", status_code=400)

        async def send_guarded(message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in out:
                        out[name] = value
                if fresh is not None:
                    cookie = Response()
                    cookie.set_cookie(CSRF_COOKIE, fresh, httponly=True, samesite="strict")
                    out.append("set-cookie", cookie.headers["set-cookie"])
            await send(message)

        if refusal is not None:
            await refusal(scope, receive, send_guarded)
        else:
            await self.app(scope, receive, send_guarded)


@asynccontextmanager
async def _lifespan(app: FastAPI):
    # Pages are synchronous handlers run in the thread pool: size it to the machine (each thread
    # holds its own catalogue connection), not anyio's fixed 40.
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
    yield


def app_from_environment() -> FastAPI:
    """The app of `bzdata serve --workers N`: each worker process builds its own over the work
    folder named by BZDATA_PORTAL_WORK (every one opens the published snapshot read-only)."""
    return create_app(
        os.environ[WORK_VARIABLE], rate_limit=int(os.environ.get(RATE_VARIABLE, "50"))
    )


def _period_label(period: str) -> str:
    return f"{period[:4]}年{int(period[5:])}月"


def create_app(work_dir: Path | str, *, rate_limit: int = 50, clock=time.time) -> FastAPI:
    work = Path(work_dir).resolve()
    published = Published(work)
    accounts = acc.Accounts(work, clock=clock)
    key = acc.secret_key(work)
    limiter = RateLimit(rate_limit)
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["pct"] = lambda v: "—" if v is None else f"{v * 100:.1f}%"
    templates.env.filters["num"] = lambda v: "—" if v is None else f"{v:g}"
    templates.env.globals["period_label"] = _period_label
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=_lifespan)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    app.add_middleware(Guard, limiter=limiter)

    def view_of(request: Request):
        """The snapshot this request is answered from: chosen once, so a switch while the page
        renders never mixes two snapshots (the footer names the one the content came from)."""
        if not hasattr(request.state, "view"):
            request.state.view = published.view()
        return request.state.view

    def user_of(request: Request) -> acc.User | None:
        if not hasattr(request.state, "user"):  # one session lookup per request
            request.state.user = accounts.user(request.cookies.get(SESSION_COOKIE))
        return request.state.user

    def render(request: Request, name: str, status: int = 200, **ctx) -> HTMLResponse:
        binding = request.state.csrf_binding
        ctx.setdefault("view", view_of(request))
        return templates.TemplateResponse(
            request,
            name,
            {
                "user": user_of(request),
                "csrf": acc.csrf_token(key, binding) if binding else "",
                **ctx,
            },
            status_code=status,
        )

    def no_snapshot(request: Request) -> HTMLResponse:
        return render(request, "message.html", 503, title="尚未发布", text="还没有发布的快照。")

    def pick_period(view, period: str | None) -> str | None:
        if period is None or period == "":
            return view.period
        return period if period in view.periods else None

    def csrf_checked(request: Request, token: str) -> bool:
        return acc.csrf_ok(key, request.cookies.get(CSRF_COOKIE), token)

    @app.get("/", response_class=HTMLResponse)
    def home():
        return RedirectResponse("/scorecard", status_code=303)

    @app.get("/scorecard", response_class=HTMLResponse)
    def ranking(request: Request, period: str | None = None):
        view = view_of(request)
        if view is None:
            return no_snapshot(request)
        chosen = pick_period(view, period)
        if chosen is None:
            return render(
                request, "message.html", 404, title="没有该期", text="没有该期的晾晒结果。"
            )
        return render(request, "ranking.html", doc=view.scores(chosen), period=chosen)

    @app.get("/scorecard/{period}/dept/{code}", response_class=HTMLResponse)
    def department(request: Request, period: str, code: str):
        view = view_of(request)
        if view is None:
            return no_snapshot(request)
        if period not in view.periods:
            return render(
                request, "message.html", 404, title="没有该期", text="没有该期的晾晒结果。"
            )
        doc = view.scores(period)
        dept = next((d for d in doc["departments"] if d["code"] == code), None)
        if dept is None:
            return render(request, "message.html", 404, title="没有该部门", text="没有该部门。")
        return render(request, "department.html", doc=doc, dept=dept, period=period)

    @app.get("/scorecard/{period}/download/{kind}")
    def download(request: Request, period: str, kind: str, dept: str | None = None):
        view = view_of(request)
        path = view.download(period, kind, dept) if view else None
        if path is None:
            return render(request, "message.html", 404, title="没有该文件", text="没有该文件。")
        media = "text/html; charset=utf-8" if kind == "html" else None
        return FileResponse(path, media_type=media, filename=path.name)

    @app.get("/indicators", response_class=HTMLResponse)
    def indicators(request: Request):
        view = view_of(request)
        if view is None:
            return no_snapshot(request)
        groups: dict[str, list[dict]] = {}
        for row in sorted(view.indicator_rows, key=lambda r: r.get("indicator_no") or 0):
            groups.setdefault(row.get("category") or "其他", []).append(row)
        return render(request, "indicators.html", groups=groups, count=len(view.indicator_rows))

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request):
        return render(request, "login.html")

    @app.post("/login")
    def login(
        request: Request,
        username: str = Form(max_length=64),
        password: str = Form(max_length=256),
        csrf: str = Form(""),
    ):
        if not csrf_checked(request, csrf):
            return render(
                request, "message.html", 403, title="请求无效", text="表单已失效，请重新打开页面。"
            )
        client = request.client.host if request.client else "-"
        if accounts.throttled(f"user:{username}", f"client:{client}"):
            return render(request, "login.html", 429, error="登录失败次数过多，请 15 分钟后再试。")
        token = accounts.login(username, password, client)
        if token is None:
            return render(request, "login.html", 401, error="用户名或密码错误。")
        response = RedirectResponse("/issues", status_code=303)
        response.set_cookie(
            SESSION_COOKIE, token, httponly=True, samesite="strict", max_age=acc.SESSION_SECONDS
        )
        return response

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")):
        if not csrf_checked(request, csrf):
            return render(
                request, "message.html", 403, title="请求无效", text="表单已失效，请重新打开页面。"
            )
        accounts.logout(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/scorecard", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    def issue_page(request: Request, period: str | None):
        user = user_of(request)
        if user is None:
            return None, None, RedirectResponse("/login", status_code=303)
        view = view_of(request)
        if view is None:
            return None, None, no_snapshot(request)
        chosen = pick_period(view, period)
        if chosen is None:
            return (
                None,
                None,
                render(request, "message.html", 404, title="没有该期", text="没有该期。"),
            )
        return user, (view, chosen), None

    @app.get("/issues", response_class=HTMLResponse)
    def issues(request: Request, period: str | None = None, page: int = 1):
        user, found, refused = issue_page(request, period)
        if refused is not None:
            return refused
        view, chosen = found
        page = max(1, min(page, 100_000))
        total, rows = view.issues(
            chosen, user.department, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        pages = max(1, -(-total // PAGE_SIZE))
        return render(
            request, "issues.html", rows=rows, total=total, page=page, pages=pages, period=chosen
        )

    @app.get("/issues/export.xlsx")
    def export(request: Request, period: str | None = None):
        user, found, refused = issue_page(request, period)
        if refused is not None:
            return refused
        view, chosen = found
        _, rows = view.issues(chosen, user.department, limit=1_000_000, offset=0)
        return Response(
            _workbook(rows),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={
                "Content-Disposition": "attachment; filename*=UTF-8''"
                + quote(f"问题清单_{user.department}_{chosen}.xlsx")
            },
        )

    from bzdata.portal.catalogue import add_routes

    add_routes(
        app,
        SimpleNamespace(
            render=render,
            view_of=view_of,
            user_of=user_of,
            csrf_checked=csrf_checked,
            no_snapshot=no_snapshot,
            refused=lambda request: render(
                request, "message.html", 403, title="请求无效", text="表单已失效，请重新打开页面。"
            ),
            templates=templates,
            work=work,
            clock=clock,
        ),
    )
    return app


ISSUE_HEADERS = {
    "issue_id": "问题编号",
    "dataset": "数据集",
    "rule_name": "规则",
    "dimension": "维度",
    "severity": "严重程度",
    "record_key": "记录键（已脱敏）",
    "header": "信息项",
    "shown_value": "报送值（已脱敏）",
    "authoritative_value": "权威值（已脱敏）",
    "status": "状态",
    "first_period": "首次发现",
    "message": "说明",
}


def _workbook(rows: list[dict]) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("问题清单")
    bold = book.add_format({"bold": True})
    for col, name in enumerate(ISSUE_HEADERS.values()):
        sheet.write(0, col, name, bold)
    for r, row in enumerate(rows, start=1):
        for col, name in enumerate(ISSUE_HEADERS):
            sheet.write_string(r, col, "" if row.get(name) is None else str(row[name]))
    sheet.freeze_panes(1, 0)
    book.close()
    return buf.getvalue()
