"""The screenshot of the desk on a call in ``docs/voice.md`` (``docs/img/desk-call.png``).

Runs the real end-to-end test (``tests/voice/test_deskphone_browser.py``: a server with
voice on, its Asterisk, a SIPp carrier, the ``/agent`` page in Chromium over WebRTC),
which photographs the page as the call rings, once it is answered and while a call is
on hold, then puts the three side by side (laid out by Chromium itself: no image library needed).

    .venv/bin/python scripts/screenshot_desk_call.py [--out docs/img/desk-call.png]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.browser import find_chromium  # noqa: E402

PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body {{ margin:0; font:14px sans-serif; background:#fff; display:flex; gap:12px; padding:12px; }}
figure {{ margin:0; width:640px; }} img {{ width:640px; border:1px solid #ccc; }}
figcaption {{ padding:4px 0; color:#333; }}
</style></head><body>
<figure><figcaption>1. A call rings on the desk: caller's number, countdown, Accept / Decline
</figcaption><img src="{ringing}"></figure>
<figure><figcaption>2. Accepted on the softphone: mute, recording, End, the DTMF pad,
the caller's card</figcaption><img src="{incall}"></figure>
<figure><figcaption>3. On hold: music to the caller, nothing to the agent; Resume call, and
the transfer row</figcaption><img src="{onhold}"></figure>
</body></html>"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "desk-call.png")
    out = parser.parse_args().out
    with tempfile.TemporaryDirectory(prefix="desk-call-") as tmp:
        shots = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
             "tests/voice/test_deskphone_browser.py", "-k", "accept or hold_and_resume"],
            cwd=ROOT, env={**os.environ, "DESK_CALL_SHOTS": str(shots)}, check=True,
        )  # fmt: skip
        page_file = shots / "both.html"
        ringing, incall = (shots / "ringing.png").as_uri(), (shots / "incall.png").as_uri()
        onhold = (shots / "onhold.png").as_uri()
        page_file.write_text(PAGE.format(ringing=ringing, incall=incall, onhold=onhold))
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=find_chromium(), headless=True, chromium_sandbox=False,
                args=["--no-sandbox"],
            )  # fmt: skip
            try:
                page = browser.new_page(viewport={"width": 1980, "height": 520})
                page.goto(page_file.as_uri())
                page.screenshot(path=str(out), full_page=True)
            finally:
                browser.close()
    print(out)


if __name__ == "__main__":
    main()
