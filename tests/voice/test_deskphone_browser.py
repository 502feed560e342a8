"""The real desk (``/agent``) in Chromium taking real calls: ``callcenter serve`` with
voice ``embedded`` (its own Asterisk), a SIPp carrier, agent ``ann``'s softphone over
WebRTC (device ``webrtc``, the credential from ``POST /api/desk/phone``) and agent
``bob`` on a baresip desk phone. Nothing is mocked.

The truth compared with:

- the page's microphone is Chromium's fake capture of a WAV made here with espeak-ng
  (known speech, looped); the carrier plays other known speech; the merged recording
  (read with the stdlib ``wave``) must carry the page's speech on the agent (left)
  side — normalised cross-correlation with the generated clip — and the carrier's on
  the caller (right) side, as long as it was and where it was said (the event log's
  arrive and connect times place it);
- DTMF from the desk's pad: the RFC 4733 events Asterisk sends on to the carrier,
  read off the loopback interface with a raw socket (independent of Asterisk's and
  our logs), must be the digits clicked, in order;
- the event log and the contact row counted by hand: one call, offered to ann,
  connected, completed by the agent (the desk's End), wrapped up with the disposition
  chosen; a Decline click is a ``ring_noanswer`` (declined) for ann, and the router's
  next offer goes to bob, whose phone answers.
"""

from __future__ import annotations

import os
import re
import socket
import struct
import subprocess
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.support.audio import Clip, active_span, read_wav, session_audio_kit
from tests.support.baresip import Baresip
from tests.support.browser import DEFAULT_TIMEOUT_MS, find_chromium
from tests.support.seed import PASSWORD, seed
from tests.support.server import LiveServer
from tests.support.sip import carrier_call
from tests.voice.softphone_rig import CHROMIUM_FLAGS

from callcenter.storage.db import EventRow, make_engine
from callcenter.storage.tables import ContactRow, QueueRow

DID = "5551000"
CALLER = "+79161234567"
AGENT_TEXT = "Good afternoon, this is Ann, how can I help you today?"
CALLER_TEXT = "Hello, I would like to check the status of my order please."
CALLER_LEAD_S = 7.0  # the caller speaks this long after our application answered it
DIGITS = ["1", "2", "#", "9"]
SHOTS = os.environ.get("DESK_CALL_SHOTS")  # scripts/desk_call_screenshot.sh sets it


def _free(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- DTMF sniffer

DTMF_EVENTS = "0123456789*#ABCD"


class DtmfSniffer:
    """RFC 4733 events sent to the carrier's RTP ``port`` on the loopback interface,
    read with a raw ``AF_PACKET`` socket (root, as SIPp's pcap replay needs too): plain
    RTP whose payload is exactly one 4-byte event (the browser's events are SRTP, with
    10 more bytes of authentication tag; the port keeps out other tests' calls on this
    machine). Written here because no library on this machine captures packets (no
    tcpdump, no scapy)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0800))
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.2)
        self.port = port
        self.events: dict[tuple[int, int], int] = {}  # (ssrc, rtp timestamp) -> event
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                frame = self.sock.recv(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self._packet(frame[14:])  # lo's link header is an (all-zero) Ethernet header

    def _packet(self, ip: bytes) -> None:
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != socket.IPPROTO_UDP:
            return
        udp = ip[(ip[0] & 0x0F) * 4 :]
        rtp = udp[8:]
        if len(rtp) != 16 or rtp[0] >> 6 != 2 or rtp[0] & 0x3F:  # v2, no padding/ext/CSRC
            return
        if not 96 <= rtp[1] & 0x7F <= 127 or rtp[12] >= len(DTMF_EVENTS):
            return
        ts, ssrc = struct.unpack("!II", rtp[4:12])
        port = struct.unpack("!H", udp[2:4])[0]
        if port == self.port:
            self.events.setdefault((ssrc, ts), rtp[12])

    def digits(self) -> list[str]:
        return [DTMF_EVENTS[e] for e in self.events.values()]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


# --------------------------------------------------------------------------- the center


class Center:
    def __init__(self, server: LiveServer, db_url: str, sip_port: int, data: Path) -> None:
        self.server = server
        self.db = make_engine(db_url)
        self.sip = ("127.0.0.1", sip_port)
        self.data = data

    def events(self, contact: str) -> list[EventRow]:
        with Session(self.db) as s:
            q = select(EventRow).where(EventRow.contact == contact).order_by(EventRow.id)
            return list(s.scalars(q))

    def contacts(self) -> list[ContactRow]:
        with Session(self.db) as s:
            return list(s.scalars(select(ContactRow).where(ContactRow.channel == "voice")))

    def wait(self, what: str, check: Any, timeout_s: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            got = check()
            if got:
                return got
            time.sleep(0.1)
        raise AssertionError(f"{what} did not happen within {timeout_s} s\n{self.server.log()}")


class Desk:
    def __init__(self, center: Center, browser: Browser, agent_clip: Clip, bob: str) -> None:
        self.center, self.browser, self.agent_clip, self.bob_password = (
            center, browser, agent_clip, bob,
        )  # fmt: skip


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, chromium_browser: Browser) -> Iterator[Desk]:
    tmp = tmp_path_factory.mktemp("deskphone")
    url = f"sqlite:///{tmp / 'center.db'}"
    seed(url)
    db = make_engine(url)
    with Session(db) as s, s.begin():
        s.add(QueueRow(name="phones", channel="voice", sl_threshold_s=20.0, ring_timeout_s=20.0,
                       requirements=[{"skill": "support", "min_level": 1}],
                       announce_every_s=0))  # fmt: skip
    db.dispose()
    # the page's microphone: known speech, looped by Chromium (48 kHz, as a microphone)
    agent_clip = session_audio_kit().speech(AGENT_TEXT, lead_s=0.3, tail_s=0.7)
    mic = tmp / "mic.wav"
    subprocess.run(["sox", str(agent_clip.pcm), "-r", "48000", str(mic)], check=True)
    sip_port = _free(socket.SOCK_DGRAM)
    server = LiveServer(db_url=url, workdir=tmp, log_level="info")
    server.env = {
        "CALLCENTER_VOICE": "embedded",
        "CALLCENTER_VOICE_SIP_PORT": str(sip_port),
        "CALLCENTER_VOICE_HTTP_PORT": str(_free(socket.SOCK_STREAM)),
        "CALLCENTER_DATA_DIR": str(tmp / "data"),
        "CALLCENTER_RECORDING_ANALYSIS_TRANSCRIBE": "false",
    }
    server.start()
    try:
        with server.client("admin") as admin:
            admin.ok("POST", "/api/admin/voice/trunks",
                     json={"name": "carrier", "kind": "ip", "networks": ["127.0.0.1"]})  # fmt: skip
            admin.ok("POST", "/api/admin/voice/numbers",
                     json={"number": DID, "target_kind": "queue", "target": "phones"})  # fmt: skip
            admin.ok("PUT", "/api/admin/voice/agents/ann/device", json={"kind": "webrtc"})
            bob = admin.ok("PUT", "/api/admin/voice/agents/bob/device", json={"kind": "sip"})
        browser = chromium_browser.browser_type.launch(
            executable_path=find_chromium(), headless=True, chromium_sandbox=False,
            args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={mic}"],
        )  # fmt: skip
        try:
            yield Desk(Center(server, url, sip_port, tmp / "data"), browser, agent_clip,
                       bob["password"])  # fmt: skip
        finally:
            browser.close()
    finally:
        server.stop()


def _open_desk(d: Desk, user: str = "ann", *, log_in: bool = True) -> Page:
    """``user`` signs in on the real page; ann's softphone registers (bob, a SIP desk
    phone, gets the page's line saying so); then the agent logs in to the router."""
    context = d.browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    url = d.center.server.url
    page.goto(f"{url}/login?next=/agent")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{url}/agent")
    phone = page.locator("#phone")
    if user == "ann":
        expect(phone).to_have_attribute("data-device", "webrtc")
        expect(phone).to_have_attribute("data-registration", "registered")
    else:
        expect(phone).to_have_attribute("data-device", "sip")
        expect(phone).to_contain_text("answers calls on a SIP desk phone")
    if log_in:
        state = page.locator("#agent-state")
        # the desk shows the agent's state once it has read it (not at once: a click
        # checked before then missed the button)
        expect(state).to_have_attribute("data-status", re.compile(r"\w+"))
        if state.get_attribute("data-status") == "logged_out":
            page.click("#btn-login")
        expect(state).to_have_attribute("data-status", "available")
    return page


def _best_match(signal: np.ndarray, template: np.ndarray) -> float:
    """The largest normalised cross-correlation of ``template`` with any window of
    ``signal`` (1.0: the same waveform at some lag, up to gain)."""
    n = template.size
    if signal.size < n:
        return 0.0
    t = (template - template.mean()) / np.linalg.norm(template - template.mean())
    size = 1 << int(np.ceil(np.log2(signal.size + n)))
    corr = np.fft.irfft(np.fft.rfft(signal, size) * np.conj(np.fft.rfft(t, size)), size)
    corr = corr[: signal.size - n + 1]
    energy = np.concatenate([[0.0], np.cumsum(signal**2)])
    window = np.sqrt(np.maximum(energy[n:] - energy[:-n], 1e-12))
    return float(np.max(corr / window))


def _speech(clip: Clip) -> np.ndarray:
    rate, samples = read_wav(clip.pcm)
    assert rate == 8000
    return samples[round(clip.active_start_s * rate) : round(clip.active_end_s * rate)]


def _match(signal: np.ndarray, speech: np.ndarray, piece_s: float = 1.0) -> float:
    """How well ``speech`` is found in ``signal``: the median, over its 1 s pieces that
    are not near silence, of each piece's best normalised cross-correlation. Pieces,
    not the whole clip: under load the browser's capture may drop or stretch a few
    milliseconds, which breaks a long waveform match (measured: 0.40 whole, 0.71 in
    pieces, for the same file) but not a short one."""
    n = round(piece_s * 8000)
    pieces = [speech[i : i + n] for i in range(0, speech.size - n + 1, n)]
    voiced = [p for p in pieces if np.sqrt(np.mean(p**2)) > 0.02]
    assert voiced, "the clip has no voiced second"
    return float(np.median([_best_match(signal, p) for p in voiced]))


def _types(rows: list[EventRow]) -> list[str]:
    return [r.type for r in rows]


def _accept(page: Page) -> Any:
    """Accept the voice offer on the desk; the pane once the call is up."""
    offer = page.locator('[data-testid="offer"][data-channel="voice"]')
    offer.locator('[data-action="accept"]').click()
    pane = page.locator('[data-testid="chat-pane"]')
    expect(pane).to_have_attribute("data-status", "active")
    return pane


def _wrap_up(pane: Any, disposition: str) -> None:
    """The call has ended: the pane's wrap-up closed with ``disposition``."""
    expect(pane).to_have_attribute("data-status", "wrapup")
    pane.locator('[data-field="disposition"]').select_option(disposition)
    pane.locator('[data-action="done"]').click()
    expect(pane).to_have_count(0)


def _wrapped_events(c: Center, before: set[str]) -> list[EventRow]:
    """The events of the one contact that is not in ``before``, once wrapped up."""
    new = c.wait("the new contact", lambda: [r for r in c.contacts() if r.id not in before])
    return c.wait(  # type: ignore[no-any-return]
        "the wrap-up", lambda: (e := c.events(new[0].id)) and "wrapup_end" in _types(e) and e
    )


def test_accept_talk_dtmf_end_and_wrap_up_on_the_desk(desk: Desk) -> None:
    c = desk.center
    page = _open_desk(desk)
    said_by_caller = session_audio_kit().speech(CALLER_TEXT, lead_s=CALLER_LEAD_S)
    call = carrier_call(c.sip, DID, CALLER, said_by_caller, wait_bye_s=60.0)
    sniffer = DtmfSniffer(call.media_port)  # the carrier's RTP port (its SDP's)
    try:
        with call:
            offer = page.locator('[data-testid="offer"][data-channel="voice"]')
            expect(offer).to_contain_text(CALLER)
            expect(offer.locator('[data-field="countdown"]')).to_have_text(re.compile(r"^\d+ s$"))
            expect(page.locator("#phone")).to_have_attribute("data-call", "ringing")
            if SHOTS:
                page.screenshot(path=f"{SHOTS}/ringing.png")
            clicked = time.time()
            offer.locator('[data-action="accept"]').click()
            pane = page.locator('[data-testid="chat-pane"]')
            expect(pane).to_have_attribute("data-status", "active")  # connect came from Asterisk
            expect(page.locator("#phone")).to_have_attribute("data-call", "in call")
            tools = pane.locator('[data-testid="call-tools"]')
            expect(tools.locator('[data-field="call-number"]')).to_contain_text(CALLER)
            expect(page.locator('[data-field="card-caller"]')).to_contain_text(CALLER)
            time.sleep(1.0)
            for digit in DIGITS:
                tools.locator(f'[data-action="dtmf"][data-key="{digit}"]').click()
                time.sleep(0.4)  # the pad sends 160 ms tones 100 ms apart
            # the recording paused (a card number) and resumed from the pane
            rec = tools.locator('[data-action="recording"]')
            rec.click()
            expect(rec).to_have_attribute("aria-pressed", "true")
            expect(rec).to_have_text("Resume recording")
            rec.click()
            expect(rec).to_have_attribute("aria-pressed", "false")
            if SHOTS:
                page.screenshot(path=f"{SHOTS}/incall.png")
            # let the caller finish speaking, then the agent ends the call on the desk
            contact = c.wait("the contact", c.contacts)[0]
            end_of_speech = contact.arrived_at + said_by_caller.active_end_s + 1.0
            time.sleep(max(0.0, end_of_speech - time.time()))
            tools.locator('[data-action="end"]').click()
            call.wait().assert_ok()  # the carrier got our BYE
        expect(pane).to_have_attribute("data-status", "wrapup")
        expect(page.locator("#phone")).not_to_have_attribute("data-call", "in call")
        pane.locator('[data-field="disposition"]').select_option("resolved")
        pane.locator('[data-action="done"]').click()
        expect(pane).to_have_count(0)
    finally:
        sniffer.close()
        page.context.close()
    # DTMF: what Asterisk sent the carrier, digit by digit
    assert sniffer.digits() == DIGITS, list(sniffer.events.items())
    # the log, counted by hand: offered to ann, connected, ended by the agent, wrapped up
    (contact,) = c.contacts()
    events = c.wait(
        "the wrap-up", lambda: (e := c.events(contact.id)) and "wrapup_end" in _types(e) and e
    )
    types = _types(events)
    assert types[:4] == ["arrive", "enqueue", "offer", "connect"], types
    assert [e.agent for e in events if e.type in ("offer", "connect")] == ["ann", "ann"]
    assert [e.reason for e in events if e.type == "recording"] == ["started", "paused", "resumed"]
    complete = next(e for e in events if e.type == "complete")
    assert (complete.agent, complete.by) == ("ann", "agent")
    row = c.wait("the recording", lambda: [r for r in c.contacts() if r.recording_url])[0]
    assert row.disposition == "resolved" and row.status == "closed"
    # the recording: agent left, caller right
    with wave.open(str(c.data / "recordings" / row.recording_url)) as w:
        rate, channels = w.getframerate(), w.getnchannels()
        frames = w.readframes(w.getnframes())
    assert (rate, channels) == (8000, 2)
    both = np.frombuffer(frames, dtype="<i2").reshape(-1, 2).astype(np.float64) / 32768.0
    agent_side, caller_side = both[:, 0], both[:, 1]
    agent_speech, caller_speech = _speech(desk.agent_clip), _speech(said_by_caller)
    # the page's known speech on the agent side (and not on the caller's), and back
    match_agent = _match(agent_side, agent_speech)
    assert match_agent > 0.5, match_agent
    leaks = (_match(caller_side, agent_speech), _match(agent_side, caller_speech))
    assert max(leaks) < 0.3, leaks
    # the carrier's speech on the caller side, whole, where it was said: the carrier
    # started its audio when our application answered it (arrive), the recording when
    # ann answered (connect)
    arrive = events[0]
    connect = next(e for e in events if e.type == "connect")
    span = active_span(caller_side, rate)
    assert span is not None
    assert span[0] == pytest.approx(arrive.t + said_by_caller.active_start_s - connect.t, abs=0.5)
    assert span[1] - span[0] == pytest.approx(said_by_caller.active_s, abs=0.5)
    print(f"agent-side match {match_agent:.3f}, wrong sides {leaks}; caller span {span}; "
          f"offer {events[2].t - arrive.t:.3f} s after arrive; "
          f"click Accept -> connect {connect.t - clicked:.3f} s")  # fmt: skip


def test_hanging_up_on_the_softphone_ends_the_call_on_the_desk(desk: Desk) -> None:
    c = desk.center
    before = {r.id for r in c.contacts()}
    page = _open_desk(desk)
    try:
        call = carrier_call(c.sip, DID, CALLER, session_audio_kit().silence(1.0), wait_bye_s=30.0)
        with call:
            pane = _accept(page)
            page.locator("#phone .phone-hangup").click()  # the widget's Hang up: a SIP BYE
            call.wait().assert_ok()  # the caller's leg was hung up by our side
        _wrap_up(pane, "follow_up")
    finally:
        page.context.close()
    events = _wrapped_events(c, before)
    complete = next(e for e in events if e.type == "complete")
    assert (complete.agent, complete.by) == ("ann", "agent")


def test_hold_and_resume_from_the_call_pane(desk: Desk) -> None:
    """The pane's Hold: the pane says "on hold" (from the desk's push of the router's
    ``hold``), the button becomes Resume call; Resume takes it off; both in the log. The
    transfer row is there for calls too."""
    c = desk.center
    before = {r.id for r in c.contacts()}
    page = _open_desk(desk)
    try:
        call = carrier_call(c.sip, DID, CALLER, session_audio_kit().silence(1.0), wait_bye_s=30.0)
        with call:
            page.locator(
                '[data-testid="offer"][data-channel="voice"] [data-action="accept"]'
            ).click()
            pane = page.locator('[data-testid="chat-pane"]')
            expect(pane).to_have_attribute("data-status", "active")
            expect(pane.locator('[data-field="transfer-target"]')).to_be_visible()
            hold = pane.locator('[data-testid="call-tools"] [data-action="hold"]')
            hold.click()
            expect(hold).to_have_attribute("aria-pressed", "true")
            expect(hold).to_have_text("Resume call")
            expect(pane.locator("header")).to_contain_text("on hold")
            if SHOTS:
                page.screenshot(path=f"{SHOTS}/onhold.png")
            hold.click()
            expect(hold).to_have_text("Hold")
            expect(pane.locator("header")).to_contain_text("on the call")
            pane.locator('[data-testid="call-tools"] [data-action="end"]').click()
            call.wait().assert_ok()
        _wrap_up(pane, "resolved")
    finally:
        page.context.close()
    events = _wrapped_events(c, before)
    assert [e.type for e in events if e.type in ("hold", "unhold")] == ["hold", "unhold"]
    complete = next(e for e in events if e.type == "complete")
    unhold = next(e for e in events if e.type == "unhold")
    assert complete.hold == pytest.approx(unhold.hold, abs=0.01) and complete.hold > 0


def test_a_supervisor_coaches_from_the_wallboards_agent_row(desk: Desk) -> None:
    """Sue (supervisor of ann's team) listens in the browser: her phone is ``webrtc``, so
    the wallboard carries the softphone (``POST /api/supervision/phone``). While ann is
    on a call, ann's row offers Listen / Whisper / Barge; Listen rings sue's browser
    phone, which answers it at once (the INVITE's X-Callcenter-Supervise); the row says
    what sue is doing; Stop hangs her phone up. All three steps are events."""
    c = desk.center
    before = {r.id for r in c.contacts()}
    with c.server.client("admin") as admin:
        admin.ok("PUT", "/api/admin/voice/agents/sue/device", json={"kind": "webrtc"})
    page = _open_desk(desk)
    board = desk.browser.new_context(viewport={"width": 1280, "height": 900})
    board.set_default_timeout(DEFAULT_TIMEOUT_MS)
    kit = session_audio_kit()
    try:
        wall = board.new_page()
        wall.goto(f"{c.server.url}/login?next=/wallboard")
        wall.fill("#username", "sue")
        wall.fill("#password", PASSWORD)
        wall.click("#sign-in")
        wall.wait_for_url(f"{c.server.url}/wallboard")
        sue_phone = wall.locator("#phone")
        expect(sue_phone).to_have_attribute("data-device", "webrtc")
        expect(sue_phone).to_have_attribute("data-registration", "registered")
        call = carrier_call(c.sip, DID, CALLER, kit.silence(1.0), wait_bye_s=60.0)
        with call:
            pane = _accept(page)
            row = wall.locator('#wb-agents tr[data-agent="ann"]')
            expect(row.locator('[data-field="status"]')).to_have_attribute(
                "data-status", "on_contact"
            )
            coaching = row.locator('[data-field="coaching"]')
            coaching.locator('[data-action="supervise"][data-mode="listen"]').click()
            expect(sue_phone).to_have_attribute("data-call", "in call")  # answered by itself
            expect(coaching.locator('[data-field="supervision"]')).to_have_text("sue: listen")
            coaching.locator('[data-action="supervise"][data-mode="whisper"]').click()
            expect(coaching.locator('[data-field="supervision"]')).to_have_text("sue: whisper")
            if SHOTS:
                wall.screenshot(path=f"{SHOTS}/coaching.png")
            coaching.locator('[data-action="stop-supervising"]').click()
            expect(coaching.locator('[data-field="supervision"]')).to_have_count(0)
            expect(sue_phone).not_to_have_attribute("data-call", "in call")
            expect(coaching.locator('[data-mode="listen"]')).to_be_visible()
            pane.locator('[data-testid="call-tools"] [data-action="end"]').click()
            call.wait().assert_ok()
        _wrap_up(pane, "resolved")
    finally:
        board.close()
        page.context.close()
    events = _wrapped_events(c, before)
    steps = [(e.reason, e.target, e.agent) for e in events if e.type == "supervise"]
    assert steps == [("listen", "sue", "ann"), ("whisper", "sue", "ann"), ("stop", "sue", "ann")]


def test_a_decline_click_makes_the_router_offer_the_call_to_bobs_desk_phone(desk: Desk) -> None:
    c = desk.center
    before = {r.id for r in c.contacts()}
    page = _open_desk(desk)
    bob_page = _open_desk(desk, "bob", log_in=False)
    kit = session_audio_kit()
    try:
        with Baresip(c.sip, "agent-bob", desk.bob_password, source=kit.tone(440, 1.0).pcm) as bob:
            bob.wait_registered()
            call = carrier_call(c.sip, DID, "+79160000002", kit.silence(1.0), hangup_after_s=12.0)
            with call:
                offer = page.locator('[data-testid="offer"][data-channel="voice"]')
                expect(offer).to_contain_text("+79160000002")
                expect(page.locator("#phone")).to_have_attribute("data-call", "ringing")
                bob_page.click("#btn-login")  # only now: ann had the first offer
                expect(bob_page.locator("#agent-state")).to_have_attribute(
                    "data-status", "available"
                )
                offer.locator('[data-action="decline"]').click()
                expect(offer).to_have_count(0)
                # bob's phone answered (baresip, auto-answer): his desk shows the call
                tools = bob_page.locator('[data-testid="call-tools"]')
                expect(tools.locator('[data-field="on-desk-phone"]')).to_be_visible()
                expect(tools.locator('[data-field="call-number"]')).to_contain_text("+79160000002")
                expect(tools.locator('[data-action="mute"]')).to_be_hidden()  # not his browser's
                call.wait().assert_ok()
            bob_pane = bob_page.locator('[data-testid="chat-pane"]')
            expect(bob_pane).to_have_attribute("data-status", "wrapup")
            bob_pane.locator('[data-field="disposition"]').select_option("resolved")
            bob_pane.locator('[data-action="done"]').click()
            expect(bob_pane).to_have_count(0)
    finally:
        bob_page.context.close()
        page.context.close()
    new = c.wait("the new contact", lambda: [r for r in c.contacts() if r.id not in before])
    events = c.wait(
        "the call's end",
        lambda: (e := c.events(new[0].id)) and "complete" in _types(e) and e,
    )
    routed = [(e.type, e.agent, e.reason) for e in events if e.type in
              ("offer", "ring_noanswer", "connect")]  # fmt: skip
    assert routed == [
        ("offer", "ann", None),
        ("ring_noanswer", "ann", "declined"),
        ("offer", "bob", None),
        ("connect", "bob", None),
    ], routed
    # a decline is the agent's choice, not a broken phone: ann is not paused for it
    with c.server.client("ann") as ann:
        assert ann.ok("GET", "/api/desk")["status"] == "available"


def test_bobs_desk_says_answer_on_your_phone_while_it_rings(desk: Desk) -> None:
    """A SIP desk phone that rings without answering (baresip, manual answer): bob's
    desk shows the offer with its countdown and "Answer on your phone", no buttons."""
    c = desk.center
    bob_page = _open_desk(desk, "bob")
    kit = session_audio_kit()
    try:
        with Baresip(c.sip, "agent-bob", desk.bob_password, source=kit.silence(1.0).pcm,
                     auto_answer=False) as bob:  # fmt: skip
            bob.wait_registered()
            with c.server.client("ann") as ann:
                ann.ok("POST", "/api/desk/logout")  # bob is the only one available
            call = carrier_call(c.sip, DID, "+79160000003", kit.silence(1.0), hangup_after_s=4.0)
            with call:
                offer = bob_page.locator('[data-testid="offer"][data-channel="voice"]')
                expect(offer).to_contain_text("+79160000003")
                expect(offer.locator('[data-field="answer-on-phone"]')).to_have_text(
                    "Answer on your phone"
                )
                countdown = offer.locator('[data-field="countdown"]')
                expect(countdown).to_have_text(re.compile(r"^\d+ s$"))
                expect(offer.locator("button")).to_have_count(0)
                call.wait().assert_ok()
    finally:
        bob_page.context.close()


def test_a_caller_who_gives_up_while_the_softphone_rings_leaves_no_offer(desk: Desk) -> None:
    """The router's abandon names no agent, so the desk gets no push for it; the
    softphone's CANCEL makes the desk read itself again and the offer goes."""
    c = desk.center
    page = _open_desk(desk)
    kit = session_audio_kit()
    try:
        with c.server.client("bob") as bob:  # (the decline test may have logged bob in)
            if bob.ok("GET", "/api/desk")["status"] != "logged_out":
                bob.ok("POST", "/api/desk/logout")
        call = carrier_call(c.sip, DID, "+79160000004", kit.silence(1.0), hangup_after_s=3.0)
        with call:
            offer = page.locator('[data-testid="offer"][data-channel="voice"]')
            expect(offer).to_contain_text("+79160000004")
            call.wait().assert_ok()
        expect(page.locator("#phone")).not_to_have_attribute("data-call", "ringing")
        expect(offer).to_have_count(0)
    finally:
        page.context.close()
