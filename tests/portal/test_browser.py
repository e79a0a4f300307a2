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
