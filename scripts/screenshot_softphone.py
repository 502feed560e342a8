"""The screenshot of the desk's phone widget in ``docs/voice.md`` (``docs/img/softphone.png``).

Starts a private Asterisk with a WebRTC endpoint, serves the widget's test page on
127.0.0.1 (the rig of ``tests/voice/test_softphone_webrtc.py``), registers it in
Debian's Chromium with a fake microphone, rings it with an ARI originate, answers, and
photographs the widget in the call (status, caller, mute, hang-up, dial pad).

    .venv/bin/python scripts/screenshot_softphone.py [--out docs/img] [--rtl]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.browser import find_chromium  # noqa: E402
from tests.voice.softphone_rig import (  # noqa: E402
    CHROMIUM_FLAGS,
    ari,
    ari_events,
    endpoint_conf,
    new_password,
    page_server,
)

from callcenter.settings import Settings  # noqa: E402
from callcenter.voice.asterisk import find_install, start_asterisk  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--rtl", action="store_true", help="the page right-to-left (Persian)")
    args = parser.parse_args()
    password = new_password()
    with tempfile.TemporaryDirectory() as tmp:
        mic = Path(tmp) / "voice.wav"
        subprocess.run(["espeak-ng", "-w", str(mic), "Hello, this is the agent."], check=True)
        asterisk = start_asterisk(
            find_install(Settings.load().cache_dir), extra=endpoint_conf({"agent1": password})
        )
        ws_url = f"ws://127.0.0.1:{asterisk.config.http_port}/ws"
        try:
            with (
                page_server(ws_url) as base,
                ari_events(asterisk) as events,
                ari(asterisk) as client,
                sync_playwright() as pw,
            ):
                browser = pw.chromium.launch(
                    executable_path=find_chromium(),
                    args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={mic}"],
                )
                page = browser.new_page(viewport={"width": 420, "height": 520})
                page.goto(f"{base}/phone.html" + ("?rtl=1" if args.rtl else ""))
                page.evaluate(
                    "(cfg) => CallcenterPhone.mount(document.getElementById('phone'), cfg)",
                    {"wsUrl": ws_url, "uri": "sip:agent1@127.0.0.1", "password": password,
                     "authorizationUser": "agent1", "displayName": "Ann"},
                )  # fmt: skip
                page.wait_for_selector("#phone[data-registration='registered']")
                r = client.post(
                    "/channels",
                    params={"endpoint": "PJSIP/agent1", "app": "callcenter",
                            "callerId": "Jonas Petraitis <+37060012345>"},
                )  # fmt: skip
                r.raise_for_status()
                channel = r.json()["id"]
                page.wait_for_selector("#phone[data-call='ringing']")
                page.click(".phone-answer")
                events.wait(lambda e: e["type"] == "StasisStart" and e["channel"]["id"] == channel)
                page.wait_for_selector("#phone[data-call='in call']")
                args.out.mkdir(parents=True, exist_ok=True)
                name = "softphone-rtl.png" if args.rtl else "softphone.png"
                page.locator("#phone").screenshot(path=str(args.out / name))
                client.delete(f"/channels/{channel}")
                browser.close()
                print(args.out / name)
        finally:
            asterisk.stop()


if __name__ == "__main__":
    main()
