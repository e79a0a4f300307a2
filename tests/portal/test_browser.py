"""The portal in Debian's headless Chromium: ranking, department page, login, own issues only,
logout; screenshots kept in tests/artifacts/ and checked for real Chinese glyphs (no tofu)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[1] / "artifacts" / "portal"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]

# Draws characters with the page's own font and returns their pixels: a font without CJK
# glyphs draws the same box (tofu) for every character, including a private-use one.
GLYPHS = """
(chars) => {
  const font = getComputedStyle(document.querySelector('h1')).fontFamily;
  return chars.map((ch) => {
    const c = document.createElement('canvas'); c.width = 48; c.height = 48;
    const g = c.getContext('2d'); g.fillStyle = '#fff'; g.fillRect(0, 0, 48, 48);
    g.fillStyle = '#000'; g.font = `40px ${font}`; g.fillText(ch, 2, 40);
    return Array.from(g.getImageData(0, 0, 48, 48).data).join(',');
  });
}
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not CHROMIUM.is_file():
        pytest.fail("需要 Debian 的 chromium：apt-get install -y chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=FLAGS, headless=True
        )
        yield context
        context.close()


@pytest.mark.integration
def test_ranking_department_login_issues_logout(browser, served, portal_city):
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    page = browser.new_page()
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(served.url + "/scorecard")
    assert "数据晾晒台" in page.locator("h1").inner_text()
    page.screenshot(path=str(ARTIFACTS / "ranking.png"), full_page=True)
    a, b, tofu = page.evaluate(GLYPHS, ["晾", "晒", "\ue000"])
    assert a != b and a != tofu and b != tofu, "中文字形缺失（豆腐块）"

    page.get_by_role("link", name="滨州市公安局").click()
    assert "滨州市公安局" in page.locator("h1").inner_text()
    assert page.locator("svg.trend circle").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "department.png"), full_page=True)

    page.goto(served.url + "/login")
    page.fill("input[name=username]", "gaj_web")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/issues")
    period = page.url  # the current snapshot's period is shown in the heading
    heading = page.locator("h1").inner_text()
    assert "gaj" in heading and period
    datasets = {
        t.strip() for t in page.locator("table.issues tbody td:first-child").all_inner_texts()
    }
    assert datasets and all(ds.startswith("gaj_") for ds in datasets)
    page.screenshot(path=str(ARTIFACTS / "issues.png"), full_page=True)

    phone = browser.new_page()
    phone.set_viewport_size({"width": 390, "height": 800})
    phone.goto(served.url + "/scorecard")
    phone.screenshot(path=str(ARTIFACTS / "ranking_phone.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400  # no sideways scroll
    phone.close()

    page.click("text=退出")
    page.wait_for_url("**/scorecard")
    page.goto(served.url + "/issues")
    assert page.url.endswith("/login")
    page.close()


def _open_ids(portal_city) -> set[str]:
    """Ids of 资源目录 entries the public may see, from the registry and the city's jsonl."""
    import json

    from bzdata.registry import load_registry

    path = portal_city.work / "synth" / "catalogue" / "catalogue.jsonl"
    ids = {
        row["id"]
        for row in map(json.loads, path.read_text("utf-8").splitlines())
        if row["open"] in ("无条件开放", "有条件开放")
    }
    return ids | {ds.id for ds in load_registry().datasets if ds.open.type != "不予开放"}


def _search(page, query: str) -> list[str]:
    page.fill("input[name=q]", query)
    page.click("form.searchbox button[type=submit]")
    page.wait_for_url("**/catalog?q=*")
    return [
        href.rsplit("/", 1)[1]
        for href in page.locator("li.hit a.name").evaluate_all("els => els.map(e => e.href)")
    ]


@pytest.mark.integration
def test_catalogue_search_dataset_lineage_and_demand(browser, served, portal_city):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened = _open_ids(portal_city)
    page = browser.new_page()
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(served.url + "/catalog")
    assert "公共数据资源目录" in page.locator("h1").inner_text()
    for query in ("人口", "rk"):
        ids = _search(page, query)
        assert ids, query
        assert all(i in opened for i in ids if not i.startswith(("lib_", "stg_", "raw.")))
        assert "lib_population" not in ids  # 不予开放: not in the public's results
        assert page.locator("li.hit mark").count() > 0
        assert int(page.locator("#total").inner_text()) >= len(ids)
    page.screenshot(path=str(ARTIFACTS / "catalog_public.png"), full_page=True)

    page.goto(served.url + "/login")
    page.fill("input[name=username]", "gaj_web")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/issues")
    page.goto(served.url + "/catalog")
    assert "lib_population" in _search(page, "人口")[:3]
    assert "lib_population" in _search(page, "rk")[:3]
    page.screenshot(path=str(ARTIFACTS / "catalog_search.png"), full_page=True)
    page.click("li.hit a.name[href='/catalog/entry/lib_population']")
    page.wait_for_url("**/catalog/entry/lib_population")
    assert page.locator("h2", has_text="数据血缘").count() == 1
    assert page.locator("svg.lineage a").count() >= 2
    page.screenshot(path=str(ARTIFACTS / "entry.png"), full_page=True)
    link = page.locator("ul.upstream a").first
    target = link.get_attribute("href")
    link.click()
    page.wait_for_url("**" + target)
    assert page.locator("ul.downstream a[href='/catalog/entry/lib_population']").count() == 1

    page.goto(served.url + "/demands/new")
    page.fill("input[name=title]", "流动人口居住登记信息")
    page.fill("input[name=fields]", "姓名、居住地址、登记日期")
    page.fill("textarea[name=purpose]", "网格化服务管理")
    page.select_option("select[name=provider]", "gaj")
    page.click("main button[type=submit]")
    page.wait_for_url("**/demands/XQ*")
    demand_id = page.locator("#demand-id").inner_text().strip()
    assert page.locator("#status").inner_text().startswith("待答复")
    page.goto(served.url + "/demands")
    assert page.locator(f"table.demands a[href='/demands/{demand_id}']").count() == 1
    page.screenshot(path=str(ARTIFACTS / "demands.png"), full_page=True)

    phone = browser.new_page()
    phone.set_viewport_size({"width": 390, "height": 800})
    phone.goto(served.url + "/catalog?q=%E4%BA%BA%E5%8F%A3")
    phone.screenshot(path=str(ARTIFACTS / "catalog_phone.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400
    phone.close()
    page.click("text=退出")
    page.wait_for_url("**/scorecard")
    page.close()
