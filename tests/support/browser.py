"""Playwright driving Debian's Chromium (apt package ``chromium``), for browser tests.

Playwright normally runs browsers it downloads itself (``playwright install``); we never
download browsers.  Instead the system Chromium at ``/usr/bin/chromium`` is launched
through ``executable_path``.  That path is Debian's launcher script: it adds the flags
from ``/etc/chromium.d`` and ``exec``s ``/usr/lib/chromium/chromium``, keeping the pipe
Playwright talks over.

The sandbox is off (``--no-sandbox``): Chromium refuses to start its sandbox as root, and
CI runs as root.  Fine for pages served by our own tests on 127.0.0.1.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Browser, Playwright

__all__ = [
    "APT_PACKAGE",
    "CHROMIUM",
    "DEFAULT_TIMEOUT_MS",
    "find_chromium",
    "launch_chromium",
]

CHROMIUM = Path("/usr/bin/chromium")
APT_PACKAGE = "chromium"
DEFAULT_TIMEOUT_MS = 10_000
"""Default timeout of a test page's actions, waits and navigations (10 s)."""


def find_chromium(path: Path = CHROMIUM) -> Path:
    """``path`` if it is an executable; else ``RuntimeError`` naming the apt package.

    Browser tests must fail loudly, not skip, when the browser is missing.
    """
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise RuntimeError(
            f"Chromium not found at {path}; install the Debian package: "
            f"apt-get install {APT_PACKAGE}  (Playwright's own browser downloads are not used)"
        )
    return path


def launch_chromium(playwright: Playwright, *, headless: bool = True) -> Browser:
    """Launch the system Chromium with Playwright's sync API (headless, no sandbox)."""
    return playwright.chromium.launch(
        executable_path=find_chromium(),
        headless=headless,
        chromium_sandbox=False,
        args=["--no-sandbox"],
    )
