"""The portal keeps answering from the previous snapshot while a new period is published, and
shows the new period after the switch (the 晾晒台 and the catalogue search alike)."""

from __future__ import annotations

import threading
import time

import httpx

from bzdata import snapshot


def test_requests_during_publish_succeed_then_new_period_shows(portal_city, served):
    old, new = portal_city.periods
    if snapshot.current(portal_city.work).period != old:  # a rerun in the same session
        snapshot.publish(portal_city.work, old)
    seen: list[tuple[int, str]] = []
    stop = threading.Event()

    def hammer(path: str) -> None:
        with httpx.Client(base_url=served.url, timeout=10) as client:
            while not stop.is_set():
                r = client.get(path)
                label = "new" if "2023年2月" in r.text.split("<footer>")[-1] else "old"
                seen.append((r.status_code, label))

    paths = ("/scorecard", "/catalog?q=%E4%BA%BA%E5%8F%A3", "/catalog/entry/tjj_zyjjzb")
    workers = [threading.Thread(target=hammer, args=(path,)) for path in paths]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 30
    while len(seen) < 3 and time.monotonic() < deadline:  # the old snapshot is being served
        time.sleep(0.01)
    snap = snapshot.publish(portal_city.work, new)
    after = httpx.get(served.url + "/scorecard", timeout=10)
    stop.set()
    for w in workers:
        w.join()
    assert snap.period == new
    assert seen and all(code == 200 for code, _ in seen)
    assert {label for _, label in seen} <= {"old", "new"}
    assert seen[0][1] == "old"
    assert len(seen) > 3  # requests really ran while the snapshot was written
    assert after.status_code == 200 and "2023年2月" in after.text
    # the previous snapshot is still whole on disk for readers that hold it
    assert len(list((snapshot.root(portal_city.work) / "snapshots").iterdir())) >= 2
