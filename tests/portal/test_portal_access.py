"""Access and security of the portal over a published snapshot (in-process HTTP client)."""

from __future__ import annotations

import contextlib
import re
from collections import Counter

import pytest
from fastapi.testclient import TestClient

from bzdata import snapshot
from bzdata.portal import accounts as acc
from bzdata.portal.app import create_app

from .conftest import PASSWORD

PAYLOADS = (
    "' or 1=1 --",
    "'; select * from read_text('/etc/passwd') --",
    "x') union select content from read_csv('/etc/passwd') --",
    "read_text('/etc/passwd')",
)


def _csrf(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)[1]


def _login(client: TestClient, user: str) -> None:
    token = _csrf(client)
    r = client.post(
        "/login",
        data={"username": user, "password": PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


@pytest.fixture(scope="module")
def app(portal_city):
    store = acc.Accounts(portal_city.work)
    for user, dept in (("gaj_user", "gaj"), ("wjw_user", "wjw"), ("throttled", "wjw")):
        with contextlib.suppress(acc.AccountError):  # the module may run twice
            store.add(user, dept, PASSWORD)
    return create_app(portal_city.work, rate_limit=10_000)


def test_security_headers_on_every_page(app):
    client = TestClient(app)
    for path in ("/scorecard", "/indicators", "/login", "/nope"):
        r = client.get(path)
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"


def test_public_ranking_and_department_pages(app, portal_city):
    client = TestClient(app)
    view = snapshot.current(portal_city.work)
    r = client.get("/scorecard")
    assert r.status_code == 200 and "数据晾晒台" in r.text
    r = client.get(f"/scorecard/{view.period}/dept/gaj")
    assert r.status_code == 200 and "滨州市公安局" in r.text and "得分走势" in r.text
    assert client.get(f"/scorecard/{view.period}/download/xlsx").content[:2] == b"PK"


def test_department_sees_only_its_own_issues_masked(app, portal_city):
    client = TestClient(app)
    period = snapshot.current(portal_city.work).period
    _login(client, "gaj_user")
    lake = portal_city.lake_issues(period).to_pylist()
    expected = Counter(row["department"] for row in lake)
    assert expected["gaj"] > 0 and expected["wjw"] > 0  # the checks found issues for both
    page = client.get(f"/issues?period={period}")
    assert f"共 {expected['gaj']} 条" in page.text
    wjw_datasets = {r["dataset"] for r in lake if r["department"] == "wjw"}
    assert not any(ds in page.text for ds in wjw_datasets)
    # No full ID number (GB 11643: 17 digits + check) reaches the page or the export.
    assert not re.search(r"\d{17}[\dX]", page.text)
    export = client.get(f"/issues/export.xlsx?period={period}")
    assert export.status_code == 200 and export.content[:2] == b"PK"
    # dept is never taken from the URL: asking for another department's list changes nothing
    other = client.get(f"/issues?period={period}&department=wjw&dept=wjw")
    assert f"共 {expected['gaj']} 条" in other.text


def test_anonymous_and_expired_sessions_are_refused(portal_city):
    now = [1_000_000.0]
    app = create_app(portal_city.work, rate_limit=10_000, clock=lambda: now[0])
    client = TestClient(app)
    assert client.get("/issues", follow_redirects=False).status_code == 303
    _login(client, "gaj_user")
    assert client.get("/issues").status_code == 200
    now[0] += acc.SESSION_SECONDS + 1
    r = client.get("/issues", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_forms_without_csrf_are_refused(app):
    client = TestClient(app)
    client.get("/login")
    r = client.post("/login", data={"username": "gaj_user", "password": PASSWORD})
    assert r.status_code == 403
    r = client.post("/login", data={"username": "gaj_user", "password": PASSWORD, "csrf": "0" * 64})
    assert r.status_code == 403
    assert client.post("/logout", data={}).status_code == 403


def test_logout_ends_the_session(app):
    client = TestClient(app)
    _login(client, "wjw_user")
    token = _csrf(client, "/issues")
    assert client.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert client.get("/issues", follow_redirects=False).status_code == 303


def test_failed_logins_are_throttled(app, portal_city):
    app = create_app(portal_city.work, rate_limit=10_000)
    client = TestClient(app, client=("10.0.0.9", 50000))  # its own client address
    for _ in range(acc.MAX_FAILURES):
        token = _csrf(client)
        r = client.post(
            "/login", data={"username": "throttled", "password": "wrong", "csrf": token}
        )
        assert r.status_code == 401
    token = _csrf(client)
    r = client.post("/login", data={"username": "throttled", "password": PASSWORD, "csrf": token})
    assert r.status_code == 429  # even the right password waits out the lock-out


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_payloads_in_every_parameter(app, portal_city, payload):
    client = TestClient(app)
    _login(client, "gaj_user")
    for path, params in (
        ("/scorecard", {"period": payload}),
        ("/issues", {"period": payload}),
        ("/issues/export.xlsx", {"period": payload}),
        (
            f"/scorecard/{snapshot.current(portal_city.work).period}/download/html",
            {"dept": payload},
        ),
        ("/indicators", {"q": payload}),
    ):
        r = client.get(path, params=params)
        assert r.status_code in (200, 404), (path, r.status_code)
        assert "root:" not in r.text and "/bin/" not in r.text


def test_snapshot_connection_is_locked(portal_city):
    from bzdata.portal.data import Published

    view = Published(portal_city.work).view()
    assert view.setting("enable_external_access").lower() == "false"
    assert view.setting("lock_configuration").lower() == "true"


@pytest.mark.parametrize(
    "path",
    (
        "/static/../../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/%252e%252e/etc/passwd",
        "/scorecard/..%2f..%2f/download/html",
        "/scorecard/2023-01/download/..%2Fmanifest.json",
        "/scorecard/2023-01/download/html?dept=../../manifest",
    ),
)
def test_path_traversal_is_refused(app, path):
    r = TestClient(app).get(path)
    assert r.status_code in (400, 404)
    assert "root:" not in r.text and '"files"' not in r.text


def test_request_size_limit(app):
    r = TestClient(app).post("/login", content=b"x" * 70_000)
    assert r.status_code == 413


def test_rate_limit(portal_city):
    client = TestClient(create_app(portal_city.work, rate_limit=5))
    codes = [client.get("/indicators").status_code for _ in range(8)]
    assert codes.count(429) >= 2


def test_secret_key_is_private(portal_city):
    path = portal_city.work / "portal" / "secret.key"
    acc.secret_key(portal_city.work)
    assert path.stat().st_mode & 0o777 == 0o600
