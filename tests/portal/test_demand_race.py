"""Two answers to the same demand arriving at once: exactly one wins, the other is told in Chinese
that the demand was already answered, and the store holds exactly one answer.

Real concurrency: two logged-in department sessions post their answers to the portal served on
loopback (uvicorn's thread pool) at the same moment, released together by a barrier.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
from datetime import date

import httpx

from bzdata.catalog import demand as demands
from bzdata.catalog.build import demand_store
from bzdata.portal import accounts as acc

from .conftest import PASSWORD

ROUNDS = 12


def _session(base: str, user: str, fresh: bool) -> httpx.Client:
    # fresh: a new connection per request, so requests spread over `serve --workers` processes
    limits = httpx.Limits(max_keepalive_connections=0) if fresh else httpx.Limits()
    client = httpx.Client(base_url=base, timeout=30, limits=limits)
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/login").text)[1]
    r = client.post("/login", data={"username": user, "password": PASSWORD, "csrf": token})
    assert r.status_code == 303, r.text
    return client


def _token(client: httpx.Client, path: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(path).text)[1]


def _together(clients, demand_id: str, answers) -> dict[int, httpx.Response]:
    """Each client posts its answer; a barrier releases both requests at the same moment."""
    tokens = [_token(c, f"/demands/{demand_id}") for c in clients]
    barrier = threading.Barrier(len(clients))
    results: dict[int, httpx.Response] = {}

    def answer(i: int) -> None:
        barrier.wait()
        results[i] = clients[i].post(
            f"/demands/{demand_id}/answer", data={**answers[i], "csrf": tokens[i]}
        )

    threads = [threading.Thread(target=answer, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def race(
    base: str, work, users: tuple[str, str], rounds: int = ROUNDS, fresh: bool = False
) -> None:
    """File `rounds` demands to gaj, answer each from two sessions at once, check the outcome."""
    from bzdata import snapshot
    from bzdata.catalog.store import EmbeddedCatalogue

    store = demand_store(work)
    catalogue = EmbeddedCatalogue(snapshot.current(work).path / "catalog.sqlite")
    ids, run = [], secrets.token_hex(3)  # fresh demands on every run
    for n in range(rounds):
        item = demands.file_demand(
            store,
            catalogue,
            title=f"户籍人口基本信息（并发答复 {run}-{n}）",
            fields=["公民身份号码", "姓名"],
            purpose="社会救助对象核查",
            requester="市民政局",
            provider="gaj",
            filed=date(2023, 2, 1),
        )
        assert item.status == "待答复"
        ids.append(item.id)
    catalogue.close()
    clients = [_session(base, user, fresh) for user in users]
    answers = ({"answer": "同意"}, {"answer": "拒绝", "reason": "涉及个人隐私，依法不予共享"})
    try:
        for demand_id in ids:
            results = _together(clients, demand_id, answers)
            codes = sorted(r.status_code for r in results.values())
            assert codes == [303, 409], (demand_id, codes)
            winner = next(i for i, r in results.items() if r.status_code == 303)
            loser = results[1 - winner]
            assert "该需求已经答复" in loser.text and "不能重复答复" in loser.text
            history = [
                line
                for line in (store / demands.STORE_FILE).read_text("utf-8").splitlines()
                if f'"id": "{demand_id}"' in line
            ]
            assert len(history) == 2, history  # filed once, answered once
            item = demands.load_demands(store)[demand_id]
            assert item.version == 2 and item.status == answers[winner]["answer"]
    finally:
        for c in clients:
            c.close()


def test_two_answers_at_once_one_wins(portal_city, served):
    accounts = acc.Accounts(portal_city.work)
    for user in ("gaj_race_a", "gaj_race_b"):
        with contextlib.suppress(acc.AccountError):
            accounts.add(user, "gaj", PASSWORD)
    race(served.url, portal_city.work, ("gaj_race_a", "gaj_race_b"))
