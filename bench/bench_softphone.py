"""The softphone's timings in Debian's headless Chromium against the embedded Asterisk.

One private Asterisk (a WebRTC endpoint, ICE on 127.0.0.1 only), the widget's test page
(the rig of ``tests/voice/test_softphone_webrtc.py``) with a fake microphone (a 1 kHz
tone from sox). Then ``--calls`` times: an ARI originate to the agent, answer in the
page, hang up from the page. Printed per step, median and max over the calls:

- ``register``: ``mount()`` until the widget shows "registered" (one, at the start);
- ``ring``: the originate's POST until the page shows the call ringing;
- ``answer→Up``: the click on Answer until ARI's ``StasisStart`` (the 200 OK acked);
- ``answer→media``: the click until the page's RTCPeerConnection is ``connected``
  (ICE and DTLS-SRTP done);
- ``answer→audio``: the click until the page's inbound RTP has carried packets
  (``getStats`` ``packetsReceived`` > 0 while ARI plays a prompt);
- ``hang-up``: the click on Hang up until ARI's ``ChannelDestroyed``.

Run:  .venv/bin/python bench/bench_softphone.py [--calls 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.browser import find_chromium  # noqa: E402
from tests.voice.softphone_rig import (  # noqa: E402
    CHROMIUM_FLAGS,
    AriEvents,
    ari,
    ari_events,
    endpoint_conf,
    new_password,
    page_server,
)

from callcenter.settings import Settings  # noqa: E402
from callcenter.voice.asterisk import find_install, start_asterisk  # noqa: E402

PACKETS_JS = """async () => {
  const pc = window.phone.connection; if (!pc) return 0; let n = 0;
  (await pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp') n += r.packetsReceived; });
  return n;
}"""


def _until(page: Page, js: str, timeout_s: float = 10.0) -> None:
    """Poll ``js`` every ~5 ms (``wait_for_function`` would eval a string: the CSP forbids)."""
    deadline = time.perf_counter() + timeout_s
    while not page.evaluate(f"() => Boolean({js})"):
        if time.perf_counter() > deadline:
            raise SystemExit(f"not true within {timeout_s} s: {js}")
        time.sleep(0.005)


CALL = "document.getElementById('phone').dataset.call"


def one_call(page: Page, client: object, events: AriEvents, out: dict[str, list[float]]) -> None:
    import httpx

    assert isinstance(client, httpx.Client)
    t0 = time.perf_counter()
    r = client.post("/channels", params={"endpoint": "PJSIP/agent1", "app": "callcenter"})
    r.raise_for_status()
    channel = r.json()["id"]
    _until(page, f"{CALL} === 'ringing'")
    out["ring"].append(time.perf_counter() - t0)
    t1 = time.perf_counter()
    page.click(".phone-answer")
    events.wait(lambda e: e["type"] == "StasisStart" and e["channel"]["id"] == channel)
    out["answer→Up"].append(time.perf_counter() - t1)
    client.post(f"/channels/{channel}/play", params={"media": "sound:hello-world"})
    _until(
        page, "window.phone.connection && window.phone.connection.connectionState === 'connected'"
    )
    out["answer→media"].append(time.perf_counter() - t1)
    while page.evaluate(PACKETS_JS) == 0:
        if time.perf_counter() - t1 > 10:
            raise SystemExit("no audio reached the page within 10 s")
        time.sleep(0.005)
    out["answer→audio"].append(time.perf_counter() - t1)
    t2 = time.perf_counter()
    page.click(".phone-hangup")
    events.wait(lambda e: e["type"] == "ChannelDestroyed" and e["channel"]["id"] == channel)
    out["hang-up"].append(time.perf_counter() - t2)
    _until(page, f"{CALL} === 'ended'")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()
    password = new_password()
    out: dict[str, list[float]] = {
        k: [] for k in ("register", "ring", "answer→Up", "answer→media", "answer→audio", "hang-up")
    }
    with tempfile.TemporaryDirectory() as tmp:
        mic = Path(tmp) / "tone.wav"
        subprocess.run(
            ["sox", "-n", "-r", "48000", "-c", "1", "-b", "16", str(mic),
             "synth", "10", "sine", "1000", "vol", "0.5"],
            check=True,
        )  # fmt: skip
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
                page = browser.new_page()
                page.goto(f"{base}/phone.html")
                t0 = time.perf_counter()
                page.evaluate(
                    "(cfg) => { window.phone = CallcenterPhone.mount("
                    "document.getElementById('phone'), cfg); }",
                    {"wsUrl": ws_url, "uri": "sip:agent1@127.0.0.1", "password": password,
                     "authorizationUser": "agent1"},
                )  # fmt: skip
                _until(
                    page, "document.getElementById('phone').dataset.registration === 'registered'"
                )
                out["register"].append(time.perf_counter() - t0)
                for _ in range(args.calls):
                    one_call(page, client, events, out)
                browser.close()
        finally:
            asterisk.stop()
    print(f"softphone, {args.calls} calls (Chromium headless, Asterisk 22.10.1, 127.0.0.1)")
    print(f"{'step':<14}{'median ms':>10}{'max ms':>10}")
    for step, values in out.items():
        ms = [v * 1000 for v in values]
        print(f"{step:<14}{statistics.median(ms):>10.0f}{max(ms):>10.0f}")


if __name__ == "__main__":
    main()
