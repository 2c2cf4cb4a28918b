"""Headless Chromium for tests: the Debian ``chromium`` package driven through
``chromium-driver`` with selenium (nothing is downloaded at run time).

:func:`chromium` yields a driver started with a fresh profile and every background
network feature off; :func:`console_errors` reads the browser's console;
:func:`full_page_screenshot` saves the whole page as PNG.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def find_chromium() -> tuple[str | None, str | None]:
    """Paths of the Chromium binary and its driver (None when missing)."""
    browser = os.environ.get("RELSIM_CHROMIUM") or next(
        (p for p in CHROMIUM_CANDIDATES if Path(p).exists()), None
    )
    driver = os.environ.get("RELSIM_CHROMEDRIVER") or next(
        (p for p in DRIVER_CANDIDATES if Path(p).exists()), shutil.which("chromedriver")
    )
    return browser, driver


@contextmanager
def chromium(width: int = 1280, height: int = 1000) -> Iterator[Any]:
    """A headless Chromium driven by selenium, with a throw-away profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = find_chromium()
    assert browser and driver_path, "no Chromium installed"
    profile = tempfile.mkdtemp(prefix="relsim-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver: Any) -> list[str]:
    """Console messages of level SEVERE (errors, failed loads, CSP violations)."""
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def full_page_screenshot(driver: Any, path: Path) -> tuple[int, int]:
    """Save the whole page (not only the window) as a PNG; returns its CSS size."""
    w = int(driver.execute_script("return document.documentElement.scrollWidth"))
    h = int(driver.execute_script("return document.documentElement.scrollHeight"))
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 1},
        },
    )
    Path(path).write_bytes(base64.b64decode(shot["data"]))
    return w, h
