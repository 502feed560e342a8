"""Hold, through the whole server with a real Asterisk: the desk's Hold button and a SIP
desk phone's own hold key (baresip's ``hold``), a SIPp carrier as the caller.

The truth compared with is audio known by construction: the caller sends one steady
1 kHz tone for the whole call, so what the agent's phone heard (baresip's decoded dump)
shows at each moment whether the caller reached the agent; Debian's hold music
(``asterisk-moh-opsound-wav``) is the only other sound the caller can hear, so the
recording's agent half (what the caller heard) is loud only where the agent spoke (its
clip, known span) or where the music played. The spans are the events' own times (the
hold's start and end as the router logged them), compared with the audio within half a
second; the handle time is checked against the events by hand (talk + hold = the time
from connect to complete).
"""

from __future__ import annotations

import time
import wave
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from tests.support.audio import dominant_frequency, read_wav, session_audio_kit, window_levels
from tests.support.baresip import Baresip
from tests.support.sip import carrier_call
from tests.support.voice_center import CALLER, DID, VoiceCenter, types, voice_center

from callcenter.storage.db import EventRow

TONE_HZ = 1000.0
MARGIN_S = 0.6  # the audio against the events' times (RTP start, jitter, SIPp's clock)


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoiceCenter]:
    with voice_center(tmp_path_factory.mktemp("voice-hold")) as c:
        yield c


def _levels(samples: Any, rate: int, start_s: float, end_s: float) -> list[float]:
    """RMS level (dBFS) of each 100 ms window between ``start_s`` and ``end_s``."""
    part = samples[max(0, round(start_s * rate)) : max(0, round(end_s * rate))]
    return window_levels(part, rate, 0.1)


def _stereo(path: Any) -> tuple[int, Any]:
    with wave.open(str(path)) as w:  # the stdlib, not our code
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
        assert w.getnchannels() == 2
    return rate, np.frombuffer(frames, dtype="<i2").reshape(-1, 2).astype(np.float64) / 32768.0


def _call_with_hold(
    c: VoiceCenter, phone: Baresip, hold: Any, unhold: Any, *, at: tuple[float, float]
) -> tuple[list[EventRow], Any]:
    """One call of 15 s: ``hold()`` at ``at[0]`` s after the connect, ``unhold()`` at
    ``at[1]``; its events once complete and its contact row once recorded."""
    kit = session_audio_kit()
    tone = kit.tone(TONE_HZ, 15.5, amplitude=0.3, lead_s=0.2, tail_s=0.0)
    before = {r.id for r in c.contacts()}
    call = carrier_call(c.sip, DID, CALLER, tone, hangup_after_s=15.0)
    with call:
        (contact,) = c.wait("the call's contact", lambda: c.new_contacts(before))
        connect = c.wait(
            "the connect",
            lambda: next((e for e in c.events(contact.id) if e.type == "connect"), None),
        )
        for when, act in zip(at, (hold, unhold), strict=True):
            time.sleep(max(0.0, connect.t + when - time.time()))
            act(contact.id)
        call.wait().assert_ok()
    events = c.wait(
        "the call's events",
        lambda: (e := c.events(contact.id)) and "complete" in types(e) and e,
    )
    row = c.wait(
        "the recording",
        lambda: [r for r in c.contacts() if r.id == contact.id and r.recording_url],
    )[0]
    return events, row


def test_the_desk_holds_a_call_music_to_the_caller_nothing_to_the_agent(
    center: VoiceCenter,
) -> None:
    c = center
    said = session_audio_kit().speech("Let me check that for you.", lead_s=1.5)
    with Baresip(c.sip, "agent-ann", c.passwords["ann"], source=said.pcm) as phone:
        phone.wait_registered()
        with c.server.client("ann") as ann:
            ann.ok("POST", "/api/desk/login")

            def hold(cid: str) -> None:
                ann.ok("POST", f"/api/desk/contacts/{cid}/hold", json={"held": True})
                desk = ann.ok("GET", "/api/desk")
                (mine,) = [x for x in desk["contacts"] if x["id"] == cid]
                assert mine["held_since"] is not None  # the desk shows it on hold
                # twice is refused, with the reason
                again = ann.refused("POST", f"/api/desk/contacts/{cid}/hold", 409,
                                    json={"held": True})  # fmt: skip
                assert "already on hold" in again

            def unhold(cid: str) -> None:
                ann.ok("POST", f"/api/desk/contacts/{cid}/hold", json={"held": False})

            events, row = _call_with_hold(c, phone, hold, unhold, at=(5.0, 10.0))
            heard_by_agent = phone.heard
            marks = ann.ok("GET", f"/api/contacts/{row.id}/recording/marks")
            ann.ok("POST", "/api/desk/logout")

    kinds = types(events)
    assert kinds.count("hold") == 1 and kinds.count("unhold") == 1, kinds
    connect = next(e for e in events if e.type == "connect")
    held = next(e for e in events if e.type == "hold")
    unheld = next(e for e in events if e.type == "unhold")
    complete = next(e for e in events if e.type == "complete")
    assert (held.agent, unheld.agent) == ("ann", "ann")
    h0, h1 = held.t - connect.t, unheld.t - connect.t
    assert 4.8 < h0 < 6.0 and 9.8 < h1 < 11.0, (h0, h1)
    # the span in the handle time, counted by hand from the events
    assert unheld.hold == pytest.approx(unheld.t - held.t, abs=0.01)
    assert complete.hold == pytest.approx(unheld.t - held.t, abs=0.01)
    assert complete.talk is not None
    assert complete.talk + complete.hold == pytest.approx(complete.t - connect.t, abs=0.01)
    # the recording's metadata names the span (seconds from the file's start = connect)
    assert marks == [{"kind": "hold", "start_s": pytest.approx(h0, abs=0.01),
                      "end_s": pytest.approx(h1, abs=0.01), "agent": "ann"}]  # fmt: skip

    # the agent heard nothing during the hold: Asterisk sent its phone no audio at all
    # (baresip's dump holds what arrived, so it is the talk less the span), and what it
    # did hear is the caller's steady tone only — no bar of the music
    rate, heard = read_wav(heard_by_agent)
    heard_s = heard.size / rate
    assert heard_s == pytest.approx(complete.t - connect.t - (h1 - h0), abs=0.8)
    assert all(-30 < level < -5 for level in _levels(heard, rate, 0.5, heard_s - 0.5))
    assert dominant_frequency(heard[rate:], rate) == pytest.approx(TONE_HZ, abs=20)

    # the recording: what the caller heard (left) is the agent's words, then the music
    # for exactly the span, then quiet; what the caller said (right) is the tone throughout
    path = c.data / "recordings" / row.recording_url
    rate, stereo = _stereo(path)
    left, right = stereo[:, 0], stereo[:, 1]
    speech_end = said.active_end_s + 0.5
    assert max(_levels(left, rate, speech_end, h0 - MARGIN_S)) < -45  # quiet before the hold
    music = _levels(left, rate, h0 + MARGIN_S, h1 - MARGIN_S)
    assert float(np.median(music)) > -35, music  # the music, most of the span
    assert max(_levels(left, rate, h1 + MARGIN_S, 14.0)) < -45  # and none after it
    assert min(_levels(right, rate, 1.0, 14.0)) > -30  # the caller's tone, hold or not


def test_a_sip_phones_own_hold_is_logged_and_the_caller_hears_music(
    center: VoiceCenter,
) -> None:
    c = center
    said = session_audio_kit().speech("One moment please.", lead_s=1.5)
    with Baresip(c.sip, "agent-ann", c.passwords["ann"], source=said.pcm) as phone:
        phone.wait_registered()
        with c.server.client("ann") as ann:
            ann.ok("POST", "/api/desk/login")

            def hold(cid: str) -> None:
                assert phone.command("hold").get("ok"), phone.log()
                c.wait("the phone's hold", lambda: "hold" in types(c.events(cid)))
                # the desk cannot take off a hold the phone put on, and says where
                why = ann.refused("POST", f"/api/desk/contacts/{cid}/hold", 409,
                                  json={"held": False})  # fmt: skip
                assert "on your phone" in why

            def unhold(cid: str) -> None:
                assert phone.command("resume").get("ok"), phone.log()

            events, row = _call_with_hold(c, phone, hold, unhold, at=(5.0, 10.0))
            ann.ok("POST", "/api/desk/logout")
    kinds = types(events)
    assert kinds.count("hold") == 1 and kinds.count("unhold") == 1, kinds
    connect = next(e for e in events if e.type == "connect")
    h0 = next(e for e in events if e.type == "hold").t - connect.t
    h1 = next(e for e in events if e.type == "unhold").t - connect.t
    assert 4.8 < h0 < 6.5 and 9.8 < h1 < 11.5, (h0, h1)
    rate, stereo = _stereo(c.data / "recordings" / row.recording_url)
    music = _levels(stereo[:, 0], rate, h0 + MARGIN_S, h1 - MARGIN_S)
    assert float(np.median(music)) > -35, music  # Asterisk's own music on hold
    assert max(_levels(stereo[:, 0], rate, h1 + MARGIN_S, 14.0)) < -45


def test_hold_is_refused_with_a_reason_when_there_is_no_call(center: VoiceCenter) -> None:
    with center.server.client("ann") as ann:
        ann.ok("POST", "/api/desk/login")
        why = ann.refused("POST", "/api/desk/contacts/call-000000000000/hold", 409,
                          json={"held": True})  # fmt: skip
        assert "not your call in progress" in why
        bad = ann.refused("POST", "/api/desk/contacts/call-000000000000/hold", 422,
                          json={"held": "maybe"})  # fmt: skip
        assert "held" in bad
        ann.ok("POST", "/api/desk/logout")
    with center.server.client("quinn") as quinn:  # QA: no desk of its own
        quinn.refused("POST", "/api/desk/contacts/call-000000000000/hold", 403,
                    json={"held": True})  # fmt: skip
