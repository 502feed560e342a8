"""The SIP-client kit against a real Asterisk: SIPp as the carrier and as desk phones,
baresip as a desk phone, a tiny ARI loop in the test as the application.

Truth comes from outside the code under test: the digits the scenario sends are the
digits ARI must report; SIP status codes are RFC 3261/3398's (486 Busy Here is Q.850
cause 17, ...); the audio is generated with known timing (tests.support.audio) and
found again, by level, in what Asterisk recorded and what baresip heard; tones are
found again by frequency. Needs the Asterisk build (``make asterisk``), SIPp and
baresip (``scripts/asterisk.sh`` installs both). SIPp sends RTP from a raw socket:
these tests run as root (as CI and the development machines do).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from tests.support.ari_loop import AriLoop, Event
from tests.support.audio import (
    AudioKit,
    Clip,
    active_span,
    dominant_frequency,
    read_wav,
    session_audio_kit,
)
from tests.support.baresip import Baresip
from tests.support.sip import (
    Dtmf,
    agent_phone,
    carrier_call,
    carrier_cancel,
    carrier_refused,
    free_port,
    register_phone,
)
from tests.support.sip_config import sip_test_config

from callcenter.settings import Settings
from callcenter.voice import pjsip_config as pc
from callcenter.voice.asterisk import RunningAsterisk, find_install, start_asterisk

PHONES = {"agent1": "agent1-pass-7f3c9a", "agent2": "agent2-pass-41d0be", "agent3": "a3-pass-x9"}
DID, CALLER = "5551000", "79161234567"
APP = "callcenter"


@pytest.fixture(scope="session")
def audio_kit() -> AudioKit:
    return session_audio_kit()


@pytest.fixture(scope="module")
def asterisk() -> Iterator[RunningAsterisk]:
    install = find_install(Settings.load().cache_dir)
    running = start_asterisk(install, extra={"pjsip.conf": sip_test_config(PHONES)})
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def ari(asterisk: RunningAsterisk) -> Iterator[AriLoop]:
    with AriLoop(asterisk.ari_url, asterisk.events_url, asterisk.ari_auth) as loop:
        yield loop


def _sip(asterisk: RunningAsterisk) -> tuple[str, int]:
    return ("127.0.0.1", asterisk.config.sip_port)


def _answer_next(ari: AriLoop) -> Event:
    channel: Event = ari.wait_for("StasisStart", lambda e: e["args"] == [])["channel"]
    ari.post(f"/channels/{channel['id']}/answer")
    return channel


def _record(ari: AriLoop, channel_id: str, spy: str, name: str) -> None:
    """Record one direction of a channel through a snoop channel (``in``: what the
    channel's far end sends us; ``out``: what we send it)."""
    snoop = ari.post(f"/channels/{channel_id}/snoop", spy=spy, app=APP, appArgs="snoop")
    ari.wait_for("StasisStart", lambda e: e["channel"]["id"] == snoop["id"])
    ari.post(f"/channels/{snoop['id']}/record", name=name, format="wav")


def _connect_agent(ari: AriLoop, caller_id: str, endpoint: str) -> str:
    bridge = ari.post("/bridges", type="mixing")
    ari.post(f"/bridges/{bridge['id']}/addChannel", channel=caller_id)
    agent = ari.post("/channels", endpoint=endpoint, app=APP, appArgs="agent")
    ari.wait_for("StasisStart", lambda e: e["channel"]["id"] == agent["id"])
    ari.post(f"/bridges/{bridge['id']}/addChannel", channel=agent["id"])
    return str(agent["id"])


def _fetch(ari: AriLoop, name: str, folder: Path) -> Path:
    deadline = time.monotonic() + 10
    while True:  # the file is complete once the recording is stopped (the call ended)
        r = ari.request("GET", f"/recordings/stored/{name}/file")
        live = ari.request("GET", f"/recordings/live/{name}")
        if r.status_code == 200 and live.status_code == 404:
            path = folder / f"{name}.wav"
            path.write_bytes(r.content)
            return path
        assert time.monotonic() < deadline, f"recording {name}: {r.status_code}"
        time.sleep(0.1)


def _span(path: Path) -> tuple[float, float]:
    rate, samples = read_wav(path)
    span = active_span(samples, rate)
    assert span is not None, f"{path.name} is silent"
    return span


def _length(span: tuple[float, float]) -> float:
    return span[1] - span[0]


def _clip_span(clip: Clip) -> tuple[float, float]:
    """The clip's own active span, measured the same way as the recordings are."""
    return _span(clip.pcm)


# --- the carrier -----------------------------------------------------------------------


def test_dtmf_rfc4733_and_info_arrive_as_ari_digits(
    asterisk: RunningAsterisk, ari: AriLoop, audio_kit: AudioKit, tmp_path: Path
) -> None:
    sent = [
        Dtmf(0.8, "1"), Dtmf(1.2, "2", info=True), Dtmf(1.6, "3"), Dtmf(2.0, "#", info=True),
        Dtmf(2.4, "*"), Dtmf(2.8, "0", info=True), Dtmf(3.2, "9"),
    ]  # fmt: skip
    call = carrier_call(
        _sip(asterisk), DID, CALLER, audio_kit.speech("Account number please."),
        dtmf=sent, hangup_after_s=4.0, folder=tmp_path,
    )  # fmt: skip
    with call:
        channel = _answer_next(ari)
        result = call.wait()
    result.assert_ok()
    assert channel["caller"]["number"] == CALLER
    assert channel["dialplan"]["exten"] == DID
    digits = [e["digit"] for e in ari.of_type("ChannelDtmfReceived")]
    assert "".join(digits) == "123#*09"
    assert result.status_codes == [100, 200, 200, 200, 200, 200]  # INVITE, 3 INFO, BYE


def test_the_far_end_hangs_up_and_the_carrier_sees_its_bye(
    asterisk: RunningAsterisk, ari: AriLoop, audio_kit: AudioKit, tmp_path: Path
) -> None:
    call = carrier_call(
        _sip(asterisk), DID, CALLER, audio_kit.tone(440, 3.0), wait_bye_s=10, folder=tmp_path
    )
    with call:
        channel = _answer_next(ari)
        time.sleep(1.0)
        ari.delete(f"/channels/{channel['id']}")
        result = call.wait()
    result.assert_ok()
    assert result.requests == ["BYE"]


def test_a_caller_who_gives_up_before_the_answer_cancels(
    asterisk: RunningAsterisk, ari: AriLoop, tmp_path: Path
) -> None:
    call = carrier_cancel(_sip(asterisk), DID, CALLER, ring_s=1.0)
    with call:
        channel = ari.wait_for("StasisStart")["channel"]
        result = call.wait()
    result.assert_ok()
    assert 487 in result.status_codes  # RFC 3261 §9.2: the INVITE ends with 487
    ari.wait_for("StasisEnd", lambda e: e["channel"]["id"] == channel["id"])


# ARI's hangup reasons are Q.850 causes; RFC 3398 §8.2.6.1 maps them to SIP responses.
@pytest.mark.parametrize(
    ("reason", "code"), [("busy", 486), ("unallocated", 404), ("congestion", 503)]
)
def test_a_refused_call_gets_the_sip_code_of_the_cause(
    asterisk: RunningAsterisk, ari: AriLoop, reason: str, code: int
) -> None:
    call = carrier_refused(_sip(asterisk), DID, CALLER, expect=code)
    with call:
        channel = ari.wait_for("StasisStart")["channel"]
        ari.delete(f"/channels/{channel['id']}", reason=reason)
        result = call.wait()
    result.assert_ok()
    assert result.status_codes[-1] == code


def test_twenty_simultaneous_calls_all_succeed(
    asterisk: RunningAsterisk, ari: AriLoop, audio_kit: AudioKit, tmp_path: Path
) -> None:
    n = 20
    call = carrier_call(
        _sip(asterisk), DID, CALLER, audio_kit.tone(440, 1.0), hangup_after_s=4.0,
        calls=n, limit=n, rate=40, folder=tmp_path,
    )  # fmt: skip
    with call:
        ids = {_answer_next(ari)["id"] for _ in range(n)}
        result = call.wait()
    result.assert_ok(calls=n)
    assert len(ids) == n
    # All were up at once: every call had started before the first one ended.
    order = [e["type"] for e in ari.events if e["type"] in ("StasisStart", "StasisEnd")]
    assert order.index("StasisEnd") >= n


# --- SIPp desk phones ---------------------------------------------------------------------


def _state(ari: AriLoop, user: str) -> str:
    return str(ari.get(f"/endpoints/PJSIP/{user}")["state"])


def _online(ari: AriLoop, user: str, timeout_s: float = 5.0) -> bool:
    """Whether the endpoint shows online within ``timeout_s``: Asterisk updates an
    endpoint's state a moment after the REGISTER's 200 (on its own thread; under load,
    later than the phone hears the 200)."""
    deadline = time.monotonic() + timeout_s
    while _state(ari, user) != "online":
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_wrong_password_is_refused_and_never_registers(
    asterisk: RunningAsterisk, ari: AriLoop
) -> None:
    result = register_phone(_sip(asterisk), "agent3", "not-the-password", free_port())
    assert (result.successful, result.failed) == (0, 1)
    assert result.status_codes == [401, 401]  # challenged, then refused again
    assert _state(ari, "agent3") == "offline"


def test_a_busy_sipp_phone_is_the_originated_channels_hangup_cause(
    asterisk: RunningAsterisk, ari: AriLoop
) -> None:
    phone = agent_phone(busy=True)
    register_phone(_sip(asterisk), "agent2", PHONES["agent2"], phone.port).assert_ok()
    assert _online(ari, "agent2")
    with phone:
        agent = ari.post("/channels", endpoint="PJSIP/agent2", app=APP, appArgs="agent")
        gone = ari.wait_for("ChannelDestroyed", lambda e: e["channel"]["id"] == agent["id"])
        result = phone.wait()
    result.assert_ok()
    assert (gone["cause"], gone["cause_txt"]) == (17, "User busy")  # Q.850 17 = SIP 486


def test_a_sipp_phone_that_hangs_up_ends_its_channel(
    asterisk: RunningAsterisk, ari: AriLoop, audio_kit: AudioKit
) -> None:
    phone = agent_phone(audio=audio_kit.tone(800, 0.5), ring_s=0.5, hangup_after_s=1.0)
    register_phone(_sip(asterisk), "agent2", PHONES["agent2"], phone.port).assert_ok()
    with phone:
        agent = ari.post("/channels", endpoint="PJSIP/agent2", app=APP, appArgs="agent")
        up = ari.wait_for("StasisStart", lambda e: e["channel"]["id"] == agent["id"])
        gone = ari.wait_for("StasisEnd", lambda e: e["channel"]["id"] == agent["id"])
        result = phone.wait()
    result.assert_ok()
    assert result.status_codes == [200]  # Asterisk's answer to the phone's BYE
    held = _iso(gone["timestamp"]) - _iso(up["timestamp"])
    assert 0.9 < held < 5.0  # answered, then its BYE 1.0 s later (not before)


def _iso(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def test_a_sipp_phone_answers_and_each_side_hears_the_others_tone(
    asterisk: RunningAsterisk, ari: AriLoop, audio_kit: AudioKit, tmp_path: Path
) -> None:
    caller_tone, agent_tone = audio_kit.tone(440, 2.0), audio_kit.tone(1000, 2.0, lead_s=0.3)
    phone = agent_phone(audio=agent_tone, ring_s=0.3)
    register_phone(_sip(asterisk), "agent2", PHONES["agent2"], phone.port).assert_ok()
    call = carrier_call(
        _sip(asterisk), DID, CALLER, caller_tone, hangup_after_s=4.0, folder=tmp_path
    )
    with phone, call:
        caller = _answer_next(ari)
        agent_id = _connect_agent(ari, caller["id"], "PJSIP/agent2")
        _record(ari, caller["id"], "out", "sipp_caller_heard")
        _record(ari, agent_id, "out", "sipp_agent_heard")
        call.wait().assert_ok()
        ari.delete(f"/channels/{agent_id}")  # our application ends the agent's leg
        phone.wait().assert_ok()
    for name, tone in (("sipp_caller_heard", 1000), ("sipp_agent_heard", 440)):
        rate, samples = read_wav(_fetch(ari, name, tmp_path))
        start, end = _span(tmp_path / f"{name}.wav")
        heard = samples[int(start * rate) : int(end * rate)]
        assert abs(dominant_frequency(heard, rate) - tone) < 10, name


def test_an_echoing_sipp_phone_sends_the_caller_its_own_audio(
    asterisk: RunningAsterisk, ari: AriLoop, audio_kit: AudioKit, tmp_path: Path
) -> None:
    phone = agent_phone(echo=True)
    register_phone(_sip(asterisk), "agent2", PHONES["agent2"], phone.port).assert_ok()
    tone = audio_kit.tone(697, 1.5, lead_s=1.0)
    call = carrier_call(_sip(asterisk), DID, CALLER, tone, hangup_after_s=3.5, folder=tmp_path)
    with phone, call:
        caller = _answer_next(ari)
        agent_id = _connect_agent(ari, caller["id"], "PJSIP/agent2")
        _record(ari, caller["id"], "out", "echo_caller_heard")
        call.wait().assert_ok()
        ari.delete(f"/channels/{agent_id}")
        phone.wait().assert_ok()
    rate, samples = read_wav(_fetch(ari, "echo_caller_heard", tmp_path))
    start, end = _span(tmp_path / "echo_caller_heard.wav")
    assert end - start == pytest.approx(1.5, abs=0.1)  # the whole tone came back
    assert dominant_frequency(samples[int(start * rate) : int(end * rate)], rate) == (
        pytest.approx(697, abs=10)
    )


# --- baresip ---------------------------------------------------------------------------------


def test_baresip_registers_answers_and_hears_the_caller(
    asterisk: RunningAsterisk, ari: AriLoop, audio_kit: AudioKit, tmp_path: Path
) -> None:
    caller_says = audio_kit.speech("Hello, I would like to check my order.", lead_s=2.0)
    agent_says = audio_kit.speech("Здравствуйте, чем могу помочь?", lang="ru", lead_s=1.0)
    phone = Baresip(_sip(asterisk), "agent1", PHONES["agent1"], source=agent_says.pcm)
    with phone:
        phone.wait_registered()
        assert phone.is_registered()  # baresip's own view, over ctrl_tcp
        assert _online(ari, "agent1")  # Asterisk's
        call = carrier_call(
            _sip(asterisk), DID, CALLER, caller_says, hangup_after_s=6.0, folder=tmp_path
        )
        with call:
            caller = _answer_next(ari)
            _record(ari, caller["id"], "in", "caller_said")
            _record(ari, caller["id"], "out", "caller_heard")
            agent_id = _connect_agent(ari, caller["id"], "PJSIP/agent1")
            call.wait().assert_ok()
            ari.delete(f"/channels/{agent_id}")
    said, heard = _fetch(ari, "caller_said", tmp_path), _fetch(ari, "caller_heard", tmp_path)
    truth_caller, truth_agent = _clip_span(caller_says), _clip_span(agent_says)

    # Recorded from (just after) the answer, when the caller's RTP starts: the speech
    # whole, in place (measured 0.02-0.04 s off; a recording that starts late under
    # load moves it earlier by as much).
    caller_said = _span(said)
    assert _length(caller_said) == pytest.approx(_length(truth_caller), abs=0.1)
    assert truth_caller[0] - 0.5 < caller_said[0] <= truth_caller[0] + 0.05
    # The phone heard the caller's speech whole (it answered a moment after the caller
    # was answered, so it is that moment earlier in its file).
    phone_heard = _span(phone.heard)
    assert _length(phone_heard) == pytest.approx(_length(truth_caller), abs=0.1)
    assert truth_caller[0] - 1.0 < phone_heard[0] <= truth_caller[0] + 0.05
    # The caller heard the agent's speech whole.
    caller_heard = _span(heard)
    assert _length(caller_heard) == pytest.approx(_length(truth_agent), abs=0.1)
    assert truth_agent[0] <= caller_heard[0] < truth_agent[0] + 1.0


def test_baresip_with_a_wrong_password_never_registers(
    asterisk: RunningAsterisk, ari: AriLoop, audio_kit: AudioKit
) -> None:
    phone = Baresip(_sip(asterisk), "agent3", "wrong-password", source=audio_kit.silence(1).pcm)
    with phone:
        phone.wait_for_log(r"reg: sip:agent3@\S+: (401|403) ")
        assert _state(ari, "agent3") == "offline"
        assert not phone.is_registered()
    assert " 200 OK" not in phone.log()


def test_baresip_without_auto_answer_rings_until_the_caller_gives_up(
    asterisk: RunningAsterisk, ari: AriLoop, audio_kit: AudioKit
) -> None:
    phone = Baresip(
        _sip(asterisk), "agent3", PHONES["agent3"], source=audio_kit.silence(1).pcm,
        auto_answer=False,
    )  # fmt: skip
    with phone:
        phone.wait_registered()
        agent = ari.post("/channels", endpoint="PJSIP/agent3", app=APP, timeout=2)
        gone = ari.wait_for("ChannelDestroyed", lambda e: e["channel"]["id"] == agent["id"])
        assert (gone["cause"], gone["cause_txt"]) == (19, "User alerting, no answer")  # Q.850
        phone.wait_for_log(r"Incoming call from")
        assert not list(phone.folder.glob("dump-*-dec.wav"))  # it never answered


# --- with the configuration the server renders ----------------------------------------------


def test_the_kit_drives_the_rendered_configuration(audio_kit: AudioKit, tmp_path: Path) -> None:
    """The same clients against ``voice.pjsip_config.render_files`` (an ip trunk on
    127.0.0.1, two desk phones). Everything here sends from 127.0.0.1, so PJSIP must
    identify by user before address, or the trunk's ``identify`` takes the phones'
    REGISTERs (measured: 403 Forbidden); the engine's ``pjsip.conf`` says so now."""
    trunk = pc.TrunkSpec("local", "ip", networks=("127.0.0.1/32",))
    phones = [
        pc.PhoneSpec("agent-bob", "sip", pc.ha1("agent-bob", "bob-pass-93b1")),
        pc.PhoneSpec("agent-amy", "sip", pc.ha1("agent-amy", "amy-pass-5c0e")),
    ]
    files = pc.render_files([trunk], phones, pc.PjsipOptions())
    install = find_install(Settings.load().cache_dir)
    with (
        start_asterisk(install, extra=files) as asterisk,
        AriLoop(asterisk.ari_url, asterisk.events_url, asterisk.ari_auth) as ari,
    ):
        sip = _sip(asterisk)
        register_phone(sip, "agent-bob", "bob-pass-93b1", free_port()).assert_ok()
        silence = audio_kit.silence(1).pcm
        with Baresip(sip, "agent-amy", "amy-pass-5c0e", source=silence) as phone:
            phone.wait_registered()
            assert _state(ari, "agent-amy") == "online"
        call = carrier_call(
            sip, "+74951234567", CALLER, audio_kit.tone(440, 1.0),
            dtmf=[Dtmf(0.5, "4"), Dtmf(0.9, "2", info=True)], hangup_after_s=2.0,
            folder=tmp_path,
        )  # fmt: skip
        with call:
            channel = _answer_next(ari)
            result = call.wait()
        result.assert_ok()
        assert channel["name"].startswith("PJSIP/trunk-local-")
        assert [e["digit"] for e in ari.of_type("ChannelDtmfReceived")] == ["4", "2"]
