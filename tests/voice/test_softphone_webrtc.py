"""The softphone in a real Chromium against a real Asterisk, over WebRTC; nothing mocked.

A test page (served on 127.0.0.1 with the desk's voice CSP) loads the committed JsSIP
bundle, ``softphone.js`` and the ``phone.js`` widget, which registers to an Asterisk
WebRTC endpoint over its ``/ws``. Checked against outside truth:

- registration: ARI's own endpoint state (``GET /endpoints/PJSIP/<name>``);
- ringing and answering: an ARI originate rings the page with the caller number and a
  SIP header we set; the answered channel enters our Stasis app (ARI ``StasisStart``);
- the page hears Asterisk: while ARI plays Debian's ``hello-world`` recording, the
  page's remote audio (a WebAudio analyser on the received stream) is well above the
  level before it, and back down after it;
- Asterisk hears the page: Chromium's fake microphone plays a WAV we generate with sox,
  a 1000 Hz tone; an ARI snoop recording of what the channel receives has that tone
  (Goertzel power at 1000 Hz far above 700 Hz and 1400 Hz) in nearly every 100 ms
  frame; muted, the same recording is silence;
- DTMF: pad clicks arrive as ARI ``ChannelDtmfReceived`` with those digits, in order;
- hang-up from the page: ARI ``ChannelDestroyed`` for the channel;
- a wrong password: the endpoint stays offline and the widget says "failed".
"""

from __future__ import annotations

import json
import math
import struct
import subprocess
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page
from tests.support.browser import DEFAULT_TIMEOUT_MS, find_chromium
from tests.voice.softphone_rig import (
    CHROMIUM_FLAGS,
    AriEvents,
    CuttableProxy,
    ari,
    ari_events,
    endpoint_conf,
    new_password,
    page_server,
)

from callcenter.settings import Settings
from callcenter.voice.asterisk import RunningAsterisk, find_install, start_asterisk

ROOT = Path(__file__).resolve().parents[2]
AGENT = "agent7"
OTHER = "agent8"  # registered by nobody: the wrong-password page tries it
THIRD = "agent9"  # registered through a proxy whose connections the test cuts
FOURTH = "agent10"  # the widget that mounts itself from its config URL
TONE_HZ = 1000.0
TONE_AMPLITUDE = 0.5
CALLER = "+37060012345"


@dataclass
class Rig:
    asterisk: RunningAsterisk
    password: str
    ws_url: str
    base_url: str
    events: AriEvents
    ari: httpx.Client
    browser: Browser


@pytest.fixture(scope="module")
def tone_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake microphone: a steady 1000 Hz tone, amplitude 0.5, 48 kHz mono (sox)."""
    path = tmp_path_factory.mktemp("mic") / "tone.wav"
    subprocess.run(
        ["sox", "-n", "-r", "48000", "-c", "1", "-b", "16", str(path),
         "synth", "10", "sine", str(TONE_HZ), "vol", str(TONE_AMPLITUDE)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def rig(chromium_browser: Browser, tone_wav: Path) -> Iterator[Rig]:
    password = new_password()
    install = find_install(Settings.load().cache_dir)
    asterisk = start_asterisk(
        install,
        extra=endpoint_conf(
            {AGENT: password, OTHER: new_password(), THIRD: password, FOURTH: password}
        ),
    )
    try:
        # ARI records into <spool>/recording, which Asterisk does not make by itself.
        (asterisk.config.base_dir / "spool" / "recording").mkdir(exist_ok=True)
        ws_url = f"ws://127.0.0.1:{asterisk.config.http_port}/ws"
        browser = chromium_browser.browser_type.launch(
            executable_path=find_chromium(),
            headless=True,
            chromium_sandbox=False,
            args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={tone_wav}"],
        )
        try:
            with page_server(ws_url) as base, ari_events(asterisk) as events, ari(asterisk) as c:
                yield Rig(asterisk, password, ws_url, base, events, c, browser)
        finally:
            browser.close()
    finally:
        asterisk.stop()


def _open(
    rig: Rig, agent: str, password: str, *, rtl: bool = False, base: str = "", ws_url: str = ""
) -> Page:
    context = rig.browser.new_context()
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base or rig.base_url}/phone.html" + ("?rtl=1" if rtl else ""))
    page.evaluate(
        """(cfg) => {
          const el = document.getElementById('phone');
          window.__csp = [];  // what the page's CSP (the desk's, voice on) refused
          document.addEventListener('securitypolicyviolation',
            (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
          el.addEventListener('phone:incoming', (e) => { window.__incoming = {
            number: e.detail.number, name: e.detail.displayName,
            contact: e.detail.header('X-Callcenter-Contact')}; });
          window.phone = CallcenterPhone.mount(el, cfg);
        }""",
        {
            "wsUrl": ws_url or rig.ws_url,
            "uri": f"sip:{agent}@127.0.0.1",
            "authorizationUser": agent,
            "password": password,
            "displayName": "Agent Seven",
            # Raw microphone: the fake mic's tone is the truth the recording is held to,
            # and the browser's noise suppressor fades a steady tone out (seen here).
            "audio": {
                "echoCancellation": False,
                "noiseSuppression": False,
                "autoGainControl": False,
            },
        },
    )
    page.errors = errors  # type: ignore[attr-defined]
    return page


@pytest.fixture(scope="module")
def phone_page(rig: Rig) -> Iterator[Page]:
    page = _open(rig, AGENT, rig.password)
    try:
        page.wait_for_selector("#phone[data-registration='registered']")
        yield page
    finally:
        page.context.close()


def _endpoint_state(rig: Rig, name: str = AGENT) -> str:
    r = rig.ari.get(f"/endpoints/PJSIP/{name}")
    r.raise_for_status()
    state: str = r.json()["state"]
    return state


def _originate(rig: Rig, endpoint: str) -> str:
    r = rig.ari.post(
        "/channels",
        params={"endpoint": f"PJSIP/{endpoint}", "app": "callcenter", "timeout": 20,
                "callerId": f"Test Caller <{CALLER}>"},
        json={"variables": {"PJSIP_HEADER(add,X-Callcenter-Contact)": "c-42"}},
    )  # fmt: skip
    r.raise_for_status()
    channel: str = r.json()["id"]
    return channel


@dataclass
class Call:
    channel: str
    page: Page


@pytest.fixture
def call(rig: Rig, phone_page: Page) -> Iterator[Call]:
    """An ARI originate to the agent's endpoint, answered on the page."""
    channel = _originate(rig, AGENT)
    try:
        phone_page.wait_for_selector("#phone[data-call='ringing']")
        phone_page.click(".phone-answer")
        rig.events.wait(lambda e: e["type"] == "StasisStart" and e["channel"]["id"] == channel)
        phone_page.wait_for_selector("#phone[data-call='in call']")
        yield Call(channel, phone_page)
    finally:
        rig.ari.delete(f"/channels/{channel}")
        phone_page.wait_for_selector("#phone[data-call='ended']")


# --- helpers: audio truth ------------------------------------------------------------------


def _samples(path: Path) -> tuple[list[float], int]:
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        rate = w.getframerate()
        raw = w.readframes(w.getnframes())
    count = len(raw) // 2
    return [s / 32768.0 for s in struct.unpack(f"<{count}h", raw)], rate


def _goertzel(frame: list[float], rate: int, hz: float) -> float:
    """Power of ``frame`` at ``hz`` (the Goertzel algorithm: one DFT bin)."""
    coeff = 2.0 * math.cos(2.0 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in frame:
        s1, s2 = x + coeff * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (len(frame) ** 2)


def _is_tone(frame: list[float], rate: int) -> bool:
    """The fake microphone's tone: loud, and its power at 1000 Hz at least 50 times that
    at 700 Hz and at 1400 Hz (speech or noise spreads; G.711 keeps a sine's bin)."""
    others = max(_goertzel(frame, rate, 700.0), _goertzel(frame, rate, 1400.0))
    return _rms(frame) > 0.05 and _goertzel(frame, rate, TONE_HZ) > 50 * others


def _rms(frame: list[float]) -> float:
    return math.sqrt(sum(x * x for x in frame) / len(frame)) if frame else 0.0


def _record_in(rig: Rig, channel: str, name: str, seconds: float) -> Path:
    """What the channel receives from the page, for ``seconds``: an ARI snoop (spy=in),
    recorded; returns the WAV (8 kHz mono, Asterisk's recording format)."""
    r = rig.ari.post(f"/channels/{channel}/snoop", params={"spy": "in", "app": "callcenter"})
    r.raise_for_status()
    snoop = r.json()["id"]
    # A snoop records only once in Stasis (vendor README: 409 before its StasisStart).
    rig.events.wait(lambda e: e["type"] == "StasisStart" and e["channel"]["id"] == snoop)
    r = rig.ari.post(
        f"/channels/{snoop}/record", params={"name": name, "format": "wav", "ifExists": "overwrite"}
    )
    assert r.status_code == 201, (r.text, rig.asterisk.log_tail(10))
    time.sleep(seconds)
    rig.ari.post(f"/recordings/live/{name}/stop").raise_for_status()
    # the file is whole (its WAV header written) once Asterisk says the recording finished
    rig.events.wait(lambda e: e["type"] == "RecordingFinished" and e["recording"]["name"] == name)
    rig.ari.delete(f"/channels/{snoop}")
    path = rig.asterisk.config.base_dir / "spool" / "recording" / f"{name}.wav"
    assert path.is_file(), f"no recording at {path}"
    return path


def _frames(samples: list[float], rate: int, ms: int = 100) -> list[list[float]]:
    n = rate * ms // 1000
    return [samples[i : i + n] for i in range(0, len(samples) - n + 1, n)]


LEVEL_JS = """async (ms) => {
  const stream = window.phone.remoteStream;
  if (!stream) return -1;
  const ctx = window.__ctx || (window.__ctx = new AudioContext());
  await ctx.resume();
  const an = ctx.createAnalyser(); an.fftSize = 2048;
  const src = ctx.createMediaStreamSource(stream); src.connect(an);
  const buf = new Float32Array(an.fftSize); let peak = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    an.getFloatTimeDomainData(buf);
    let sum = 0; for (const x of buf) sum += x * x;
    peak = Math.max(peak, Math.sqrt(sum / buf.length));
    await new Promise((r) => setTimeout(r, 50));
  }
  src.disconnect();
  return peak;
}"""


# --- the tests -------------------------------------------------------------------------------


def test_registration_puts_the_endpoint_online(rig: Rig, phone_page: Page) -> None:
    assert _endpoint_state(rig) == "online"
    pinned = json.loads((ROOT / "web-src" / "package.json").read_text())["dependencies"]["jssip"]
    assert phone_page.evaluate("() => JsSIP.version") == pinned
    assert phone_page.text_content("[data-testid=phone-status]") == "Ready"
    assert phone_page.errors == []  # type: ignore[attr-defined]


def test_an_originate_rings_the_page_with_the_caller_and_headers(rig: Rig, call: Call) -> None:
    page = call.page
    assert page.text_content("[data-testid=phone-caller]") == f"From: Test Caller {CALLER}"
    seen = page.evaluate("() => window.__incoming")
    assert seen == {"number": CALLER, "name": "Test Caller", "contact": "c-42"}
    r = rig.ari.get(f"/channels/{call.channel}")
    assert r.json()["state"] == "Up"


def test_the_page_hears_asterisk(rig: Rig, call: Call) -> None:
    before = call.page.evaluate(LEVEL_JS, 600)
    r = rig.ari.post(f"/channels/{call.channel}/play", params={"media": "sound:hello-world"})
    r.raise_for_status()
    playback = r.json()["id"]
    during = call.page.evaluate(LEVEL_JS, 800)
    rig.events.wait(lambda e: e["type"] == "PlaybackFinished" and e["playback"]["id"] == playback)
    after = call.page.evaluate(LEVEL_JS, 600)
    assert before < 0.005 and after < 0.005, (before, after)
    assert during > 0.05, (before, during, after)
    # The widget's <audio> plays the call under the desk's CSP (srcObject: no media-src).
    playing = "() => { const a = document.querySelector('[data-testid=phone-audio]');"
    playing += " return [a.srcObject instanceof MediaStream, a.paused, a.currentTime > 0]; }"
    assert call.page.evaluate(playing) == [True, False, True]
    assert call.page.evaluate("() => window.__csp") == []


def test_asterisk_hears_the_page_and_mute_silences_it(rig: Rig, call: Call) -> None:
    samples, rate = _samples(_record_in(rig, call.channel, "unmuted", 2.0))
    frames = _frames(samples, rate)[2:]  # the first 200 ms: the recorder starting
    assert len(frames) >= 15
    toned = [f for f in frames if _is_tone(f, rate)]
    # A sine of amplitude 0.5 has an RMS of 0.5/sqrt(2) = 0.354; G.711 keeps it to ~1 %.
    level = sorted(_rms(f) for f in frames)[len(frames) // 2]
    assert abs(level - TONE_AMPLITUDE / math.sqrt(2)) < 0.03, level
    assert len(toned) >= 0.9 * len(frames), (len(toned), len(frames))

    call.page.click(".phone-mute")
    call.page.wait_for_selector(".phone-mute[aria-pressed='true']")
    time.sleep(0.3)
    samples, rate = _samples(_record_in(rig, call.channel, "muted", 1.5))
    frames = _frames(samples, rate)[2:]
    assert max(_rms(f) for f in frames) < 0.01
    call.page.click(".phone-mute")
    call.page.wait_for_selector(".phone-mute[aria-pressed='false']")


def test_the_pad_sends_rfc4733_dtmf(rig: Rig, call: Call) -> None:
    digits = "12#9*0"
    for d in digits:
        call.page.click(f".phone-key[data-key='{d}']")
        time.sleep(0.35)  # a tone is 160 ms, then a 100 ms gap
    got = "".join(
        rig.events.wait(
            lambda e: e["type"] == "ChannelDtmfReceived" and e["channel"]["id"] == call.channel
        )["digit"]
        for _ in digits
    )
    assert got == digits


def test_hang_up_from_the_page_ends_the_channel(rig: Rig, call: Call) -> None:
    call.page.click(".phone-hangup")
    rig.events.wait(
        lambda e: e["type"] == "ChannelDestroyed" and e["channel"]["id"] == call.channel
    )
    assert rig.ari.get(f"/channels/{call.channel}").status_code == 404
    call.page.wait_for_selector("#phone[data-call='ended']")


def test_a_wrong_password_never_registers(rig: Rig) -> None:
    page = _open(rig, OTHER, "not-" + rig.password, rtl=True)  # OTHER's is another one
    try:
        # The page is right-to-left (Persian); the widget follows it, the status first
        # on the right, while the dial pad keeps a phone's 1-2-3 from the left.
        assert (
            page.evaluate("getComputedStyle(document.getElementById('phone')).direction") == "rtl"
        )
        status, title = (page.locator(sel).bounding_box() for sel in (".phone-dot", "#phone h2"))
        assert status is not None and title is not None
        assert status["x"] + status["width"] > title["x"] + title["width"] - 1
        page.wait_for_selector("#phone[data-registration='failed']")
        time.sleep(1.0)  # any retry it might make
        assert _endpoint_state(rig, OTHER) == "offline"
        # Asterisk answers a wrong digest with 401 again; JsSIP gives up (no retry storm).
        reason = page.text_content("[data-testid=phone-reason]")
        assert reason == "(Authentication Error (401 Unauthorized))"
        assert page.text_content("[data-testid=phone-status]") == "Not connected"
    finally:
        page.context.close()


def test_decline_rejects_the_call(rig: Rig, phone_page: Page) -> None:
    channel = _originate(rig, AGENT)
    phone_page.wait_for_selector("#phone[data-call='ringing']")
    phone_page.click(".phone-decline")
    gone = rig.events.wait(
        lambda e: e["type"] == "ChannelDestroyed" and e["channel"]["id"] == channel
    )
    assert gone["cause"] == 21  # Q.850 "call rejected": SIP 603 Decline (RFC 3398)
    phone_page.wait_for_selector("#phone[data-call='ended']")
    assert phone_page.text_content("[data-testid=phone-status]") == "Ready · Call ended"


def test_a_lost_socket_registers_again_and_calls_still_ring(rig: Rig) -> None:
    proxy = CuttableProxy(("127.0.0.1", rig.asterisk.config.http_port))
    ws_url = f"ws://127.0.0.1:{proxy.port}/ws"
    try:
        with page_server(ws_url) as base:
            page = _open(rig, THIRD, rig.password, base=base, ws_url=ws_url)
            try:
                page.wait_for_selector("#phone[data-registration='registered']")
                assert _endpoint_state(rig, THIRD) == "online"
                proxy.cut()
                page.wait_for_selector("#phone[data-registration='failed']")
                assert page.text_content("[data-testid=phone-reason]") == "(connection lost)"
                page.wait_for_selector("#phone[data-registration='registered']")
                assert proxy.accepted == 2  # JsSIP opened a new socket and registered on it
                channel = _originate(rig, THIRD)  # reaches the page only over the new socket
                page.wait_for_selector("#phone[data-call='ringing']")
                rig.ari.delete(f"/channels/{channel}")
                page.wait_for_selector("#phone[data-call='ended']")
            finally:
                page.context.close()
    finally:
        proxy.close()


def test_a_second_call_while_in_one_gets_busy(rig: Rig, call: Call) -> None:
    second = _originate(rig, AGENT)
    gone = rig.events.wait(
        lambda e: e["type"] == "ChannelDestroyed" and e["channel"]["id"] == second
    )
    assert gone["cause"] == 17  # Q.850 "user busy": SIP 486 Busy Here (RFC 3398)
    assert call.page.get_attribute("#phone", "data-call") == "in call"
    assert rig.ari.get(f"/channels/{call.channel}").json()["state"] == "Up"


BAD_CALLS = """() => {
  const errors = [];
  const attempt = (fn) => {
    try { fn(); errors.push(null); } catch (e) { errors.push(e.message); }
  };
  attempt(() => window.phone.sendDtmf("x"));
  attempt(() => window.phone.sendDtmf("12"));
  attempt(() => window.phone.sendDtmf("5"));
  attempt(() => window.phone.answer());
  attempt(() => window.phone.on("ring", () => {}));
  const other = CallcenterSoftphone.create({});
  attempt(() => other.start({wsUrl: "ws://127.0.0.1:1/ws", uri: "sip:a@127.0.0.1"}));
  return errors;
}"""


def test_bad_calls_are_one_clear_error_each(phone_page: Page) -> None:
    assert phone_page.evaluate(BAD_CALLS) == [
        'softphone: DTMF digit "x" is not one of 0-9 * # A-D',
        'softphone: DTMF digit "12" is not one of 0-9 * # A-D',
        "softphone: no call to send DTMF to",
        "softphone: no call to answer",
        'softphone: unknown event "ring" (expected state or incoming)',
        "softphone: start() needs password",
    ]
    assert phone_page.get_attribute("#phone", "data-registration") == "registered"


def test_the_widget_mounts_itself_from_its_config_url(rig: Rig) -> None:
    """As on the desk: ``data-softphone-config-url`` → fetch → mount → registered."""
    config = {"wsUrl": rig.ws_url, "uri": f"sip:{FOURTH}@127.0.0.1",
              "authorizationUser": FOURTH, "password": rig.password}  # fmt: skip
    with page_server(rig.ws_url, config) as base:
        page = rig.browser.new_page()
        try:
            page.goto(f"{base}/phone.html?auto=1")
            page.wait_for_selector("#phone[data-registration='registered']")
            assert page.is_visible("#phone")
            assert _endpoint_state(rig, FOURTH) == "online"
        finally:
            page.close()


def test_without_the_voice_csp_the_page_cannot_reach_asterisk(rig: Rig) -> None:
    """The desk's CSP with voice off refuses Asterisk's WebSocket: voice_csp is needed."""
    with page_server(rig.ws_url, voice_on=False) as base:
        page = _open(rig, FOURTH, rig.password, base=base)
        try:
            page.wait_for_selector("#phone[data-registration='failed']")
            assert page.text_content("[data-testid=phone-reason]") == (
                "(blocked by the page's Content-Security-Policy (connect-src))"
            )
            origin = rig.ws_url.removesuffix("/ws")
            assert f"connect-src {origin}/ws" in page.evaluate("() => window.__csp")
            time.sleep(2.5)  # JsSIP would retry after 1-2 s; the softphone stopped it
            assert page.evaluate("() => window.__csp.length") == 1
            assert page.get_attribute("#phone", "data-registration") == "failed"
        finally:
            page.context.close()
