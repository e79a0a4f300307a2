"""PNG pictures of SVG charts and HTML pages, taken with headless Chromium (Debian's `chromium`).

One short-lived browser per picture, with its own throwaway profile and no network features, so
nothing is kept between runs and the same input gives the same pixels.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bzdata.scorecard import svg

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_SECONDS = 120
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--default-background-color=ffffffff",
)


class RenderError(RuntimeError):
    """Chromium did not produce the picture; the message is Chinese."""


def chromium() -> str | None:
    """The browser to use: $BZDATA_CHROMIUM, else the first candidate on PATH."""
    named = os.environ.get("BZDATA_CHROMIUM", "").strip()
    if named:
        return named
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(
    source: Path, png: Path, width: int, height: int, browser: str | None = None
) -> Path:
    """Render a local file (SVG or HTML) at width × height CSS pixels into `png`."""
    browser = browser or chromium()
    if browser is None:
        raise RenderError("未找到 Chromium：请安装 Debian 软件包 chromium")
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bzdata-chromium-") as profile:
        command = [
            browser,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={width},{height}",
            Path(source).resolve().as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
            )
        except subprocess.TimeoutExpired:
            raise RenderError(f"Chromium 截图超时（{TIMEOUT_SECONDS} 秒）：{source}") from None
    if done.returncode != 0 or not png.is_file():
        tail = (done.stderr or "").strip().splitlines()[-3:]
        raise RenderError(
            f"Chromium 截图失败（退出码 {done.returncode}）：{source}；{' '.join(tail)}"
        )
    return png


def svgs_to_png(paths: Sequence[Path], workers: int = 2) -> list[Path] | None:
    """A PNG beside each SVG, at the SVG's own size; None when no Chromium is installed."""
    browser = chromium()
    if browser is None:
        return None

    def one(path: Path) -> Path:
        width, height = svg.size_of(path.read_text(encoding="utf-8"))
        return screenshot(path, path.with_suffix(".png"), width, height, browser)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(one, paths))
