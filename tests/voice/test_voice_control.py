"""Call control through the whole server with a real Asterisk: hold (the desk's Hold
button and a SIP desk phone's own hold key, baresip's ``hold``), blind transfers (to an
agent, to a queue) and a supervisor listening, whispering and barging, a SIPp carrier as
the caller and baresip desk phones (sue, the supervisor, has one too).

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

import json
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from tests.support.audio import (
    Clip,
    active_span,
    dominant_frequency,
    read_wav,
    session_audio_kit,
    window_levels,
)
from tests.support.baresip import Baresip
from tests.support.sip import carrier_call
from tests.support.voice_center import CALLER, DID, VoiceCenter, types, voice_center

from callcenter.storage.db import EventRow

TONE_HZ = 1000.0
MARGIN_S = 0.6  # the audio against the events' times (RTP start, jitter, SIPp's clock)


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoiceCenter]:
    tmp = tmp_path_factory.mktemp("voice-control")
    with voice_center(tmp, agents=("ann", "bob", "sue")) as c:
        yield c


def _levels(samples: Any, rate: int, start_s: float, end_s: float) -> list[float]:
    """RMS level (dBFS) of each 100 ms window between ``start_s`` and ``end_s``."""
    part = samples[max(0, round(start_s * rate)) : max(0, round(end_s * rate))]
    return window_levels(part, rate, 0.1)


def _connected(c: VoiceCenter, before: set[str]) -> tuple[Any, EventRow]:
    """The one new call's contact row and its ``connect`` event, once answered."""
    (contact,) = c.wait("the call's contact", lambda: c.new_contacts(before))
    connect = c.wait(
        "the connect",
        lambda: next((e for e in c.events(contact.id) if e.type == "connect"), None),
    )
    return contact, connect


def _finished(c: VoiceCenter, contact: str) -> tuple[list[EventRow], Any]:
    """A call's events once it is complete, and its contact row once recorded."""
    events = c.wait(
        "the call's events", lambda: (e := c.events(contact)) and "complete" in types(e) and e
    )
    row = c.wait(
        "the recording", lambda: [r for r in c.contacts() if r.id == contact and r.recording_url]
    )[0]
    return events, row


def _sign_off(desk: Any) -> None:
    """As an agent ends a shift: each wrap-up closed with a disposition, then logged out
    (a wrap-up left open keeps the agent out of routing, logged in again or not)."""
    for contact in desk.ok("GET", "/api/desk")["contacts"]:
        if contact["status"] == "wrapup":
            desk.ok("POST", f"/api/desk/contacts/{contact['id']}/wrapup",
                    json={"disposition": "resolved"})  # fmt: skip
    desk.ok("POST", "/api/desk/logout")


def _stereo(path: Any) -> tuple[int, Any]:
    with wave.open(str(path)) as w:  # the stdlib, not our code
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
        assert w.getnchannels() == 2
    return rate, np.frombuffer(frames, dtype="<i2").reshape(-1, 2).astype(np.float64) / 32768.0


def _call_with_hold(
    c: VoiceCenter,
    phone: Baresip,
    hold: Any,
    unhold: Any,
    *,
    at: tuple[float, float],
    caller: Clip | None = None,
) -> tuple[list[EventRow], Any]:
    """One call of 15 s (the caller sends ``caller``, by default a steady 1 kHz tone):
    ``hold()`` at ``at[0]`` s after the connect, ``unhold()`` at ``at[1]``; its events
    once complete and its contact row once recorded."""
    kit = session_audio_kit()
    tone = caller or kit.tone(TONE_HZ, 15.5, amplitude=0.3, lead_s=0.2, tail_s=0.0)
    before = {r.id for r in c.contacts()}
    call = carrier_call(c.sip, DID, CALLER, tone, hangup_after_s=15.0)
    with call:
        contact, connect = _connected(c, before)
        for when, act in zip(at, (hold, unhold), strict=True):
            time.sleep(max(0.0, connect.t + when - time.time()))
            act(contact.id)
        call.wait().assert_ok()
    events, row = _finished(c, contact.id)
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
            _sign_off(ann)

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
                      "end_s": pytest.approx(h1, abs=0.01), "agent": "ann",
                      "supervisor": None}]  # fmt: skip

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


def test_the_speech_analysis_finds_the_hold_music_where_the_marks_say(
    center: VoiceCenter,
) -> None:
    """The recording's marks against an independent reader: the automatic analysis of the
    same file (the speech pipeline's music detector, ``speech/metrics.py``) finds hold
    music on the left channel for the span the events say, within a second. The caller
    keeps quiet here (a steady tone would read as music for the whole call)."""
    c = center
    kit = session_audio_kit()
    said = kit.speech("Let me check that for you.", lead_s=1.0)
    with Baresip(c.sip, "agent-ann", c.passwords["ann"], source=said.pcm) as phone:
        phone.wait_registered()
        with c.server.client("ann") as ann:
            ann.ok("POST", "/api/desk/login")

            def hold(cid: str, held: bool = True) -> None:
                ann.ok("POST", f"/api/desk/contacts/{cid}/hold", json={"held": held})

            _, row = _call_with_hold(c, phone, hold, lambda cid: hold(cid, False),
                                          at=(5.0, 11.0), caller=kit.silence(16.0))  # fmt: skip
            (mark,) = ann.ok("GET", f"/api/contacts/{row.id}/recording/marks")
            analysis = c.wait(
                "the analysis",
                lambda: (
                    (a := ann.ok("GET", f"/api/contacts/{row.id}/analysis"))["status"]
                    in ("done", "failed")
                    and a
                ),
                timeout_s=90.0,
            )
            _sign_off(ann)
    assert analysis["status"] == "done", analysis
    spans = analysis["result"]["metrics"]["hold_spans"]
    assert len(spans) == 1, spans
    assert spans[0][0] == pytest.approx(mark["start_s"], abs=1.0), (spans, mark)
    assert spans[0][1] == pytest.approx(mark["end_s"], abs=1.0), (spans, mark)
    assert mark["kind"] == "hold" and 5.8 < mark["end_s"] - mark["start_s"] < 6.2


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
            _sign_off(ann)
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
        _sign_off(ann)
    with center.server.client("quinn") as quinn:  # QA: no desk of its own
        quinn.refused("POST", "/api/desk/contacts/call-000000000000/hold", 403,
                    json={"held": True})  # fmt: skip


def _transferred_call(
    c: VoiceCenter, ann: Any, bob: Any, body: dict[str, str], at_s: float
) -> tuple[list[EventRow], Any]:
    """A 15 s call answered by ann (bob logs in only once it is hers), handed on by
    ann's desk at ``at_s`` s after the connect with ``body``; its events once complete
    and its contact row once recorded."""
    kit = session_audio_kit()
    tone = kit.tone(TONE_HZ, 15.5, amplitude=0.3, lead_s=0.2, tail_s=0.0)
    before = {r.id for r in c.contacts()}
    ann.ok("POST", "/api/desk/login")
    call = carrier_call(c.sip, DID, CALLER, tone, hangup_after_s=15.0)
    with call:
        contact, connect = _connected(c, before)
        assert connect.agent == "ann"
        bob.ok("POST", "/api/desk/login")
        time.sleep(max(0.0, connect.t + at_s - time.time()))
        ann.ok("POST", f"/api/desk/contacts/{contact.id}/transfer", json=body)
        call.wait().assert_ok()
    events, row = _finished(c, contact.id)
    for who in (ann, bob):
        _sign_off(who)
    return events, row


def test_a_blind_transfer_to_an_agent_hands_the_caller_on_in_one_recording(
    center: VoiceCenter,
) -> None:
    c = center
    kit = session_audio_kit()
    said_by_ann = kit.speech("I will put you through to my colleague.", lead_s=1.0)
    said_by_bob = kit.speech("Hello, this is Bob.", lead_s=1.5)
    with (
        Baresip(c.sip, "agent-ann", c.passwords["ann"], source=said_by_ann.pcm) as ann_phone,
        Baresip(c.sip, "agent-bob", c.passwords["bob"], source=said_by_bob.pcm) as bob_phone,
    ):
        ann_phone.wait_registered()
        bob_phone.wait_registered()
        with c.server.client("ann") as ann, c.server.client("bob") as bob:
            events, row = _transferred_call(c, ann, bob, {"agent": "bob"}, at_s=5.0)
            marks = ann.ok("GET", f"/api/contacts/{row.id}/recording/marks")
            detail = bob.ok("GET", f"/api/contacts/{row.id}")
        ann_heard = ann_phone.heard

    # counted by hand: ann answered, handed it to bob, bob answered, the caller hung up
    kinds = [(e.type, e.agent) for e in events if e.type in ("connect", "transfer", "complete")]
    assert kinds == [("connect", "ann"), ("transfer", "ann"), ("connect", "bob"),
                     ("complete", "bob")]  # fmt: skip
    c1, xfer, c2, done = (e for e in events if e.type in ("connect", "transfer", "complete"))
    assert (xfer.target, xfer.target_type, xfer.kind) == ("bob", "agent", "blind")
    assert 4.8 < xfer.t - c1.t < 6.5
    # each agent's handle time is its own leg: ann's up to the transfer, bob's after
    assert xfer.talk == pytest.approx(xfer.t - c1.t, abs=0.01)
    assert done.talk == pytest.approx(done.t - c2.t, abs=0.01)
    # ann's phone was hung up at the transfer: it heard the caller until then only
    rate, heard = read_wav(ann_heard)
    assert heard.size / rate == pytest.approx(xfer.t - c1.t, abs=0.8)
    # one recording spans both agents and the wait between them
    wait_s = c2.t - xfer.t
    assert marks == [{"kind": "transfer", "start_s": pytest.approx(xfer.t - c1.t, abs=0.01),
                      "end_s": pytest.approx(c2.t - c1.t, abs=0.01), "agent": "ann",
                      "supervisor": None}]  # fmt: skip
    rate, stereo = _stereo(c.data / "recordings" / row.recording_url)
    assert stereo.shape[0] / rate == pytest.approx(done.t - c1.t, abs=0.5)
    left = stereo[:, 0]
    ann_span = active_span(left[: round((xfer.t - c1.t) * rate)], rate)
    assert ann_span is not None
    assert ann_span[0] == pytest.approx(said_by_ann.active_start_s, abs=0.5)
    bob_part = left[round((c2.t - c1.t) * rate) :]
    bob_span = active_span(bob_part, rate)
    assert bob_span is not None
    assert bob_span[0] == pytest.approx(said_by_bob.active_start_s, abs=0.5), wait_s
    assert bob_span[1] - bob_span[0] == pytest.approx(said_by_bob.active_s, abs=0.5)
    # the contact's history says what happened (a system line), for whoever opens it later
    lines = [(m["sender"], m["body"]) for m in detail["messages"]]
    assert ("system", "Ann transferred the call to Bob.") in lines, lines


def test_a_blind_transfer_to_a_queue_counts_in_both_agents_kpis(center: VoiceCenter) -> None:
    c = center
    kit = session_audio_kit()
    said = kit.speech("Thank you.", lead_s=1.0)
    with (
        Baresip(c.sip, "agent-ann", c.passwords["ann"], source=said.pcm) as ann_phone,
        Baresip(c.sip, "agent-bob", c.passwords["bob"], source=said.pcm) as bob_phone,
    ):
        ann_phone.wait_registered()
        bob_phone.wait_registered()
        with c.server.client("ann") as ann, c.server.client("bob") as bob:
            events, row = _transferred_call(c, ann, bob, {"queue": "phones"}, at_s=4.0)
    kinds = [(e.type, e.agent) for e in events if e.type in ("connect", "transfer", "complete")]
    assert kinds == [("connect", "ann"), ("transfer", "ann"), ("connect", "bob"),
                     ("complete", "bob")]  # fmt: skip
    xfer = next(e for e in events if e.type == "transfer")
    assert (xfer.target, xfer.target_type) == ("phones", "queue")
    # queued again in phones (a second visit), where bob (ann is wrapping up) took it
    assert types(events).count("enqueue") == 2
    # the KPIs of this contact's events, by agent, against the events counted by hand
    log = c.data.parent / f"{row.id}.jsonl"
    cli = [sys.executable, "-m", "callcenter.cli.main"]
    subprocess.run([*cli, "db", "export", str(log), "--database", c.db_url], check=True)
    done = subprocess.run([*cli, "kpi", str(log), "--by", "agent", "--format", "json"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    rows = {r["agent"]: r["handling"] for r in json.loads(done.stdout)["rows"]}
    mine = [e for e in c.all_events() if e.type in ("transfer", "complete")]
    for agent in ("ann", "bob"):
        legs = [e for e in mine if e.agent == agent]
        assert rows[agent]["handled"] == len(legs), (agent, rows[agent])
        assert rows[agent]["transfers"] == sum(e.type == "transfer" for e in legs)


def _band_db(samples: Any, rate: int, start_s: float, end_s: float, freq: float) -> float:
    """The level (dBFS) of ``samples`` within ±40 Hz of ``freq`` between two times: how
    loud one tone is, whatever else plays."""
    part = samples[max(0, round(start_s * rate)) : max(0, round(end_s * rate))]
    if part.size == 0:
        return float("-inf")
    spectrum = np.fft.rfft(part)
    freqs = np.fft.rfftfreq(part.size, 1 / rate)
    band = spectrum[np.abs(freqs - freq) <= 40]
    power = 2 * float(np.sum(np.abs(band) ** 2)) / part.size**2
    return 10 * float(np.log10(power)) if power > 0 else float("-inf")


SUP_HZ = 600.0  # sue's tone: her voice, for the test


def test_a_supervisor_listens_whispers_and_barges_and_the_caller_never_hears_a_whisper(
    center: VoiceCenter,
) -> None:
    c = center
    kit = session_audio_kit()
    quiet_agent = kit.silence(40.0)  # ann says nothing: what the caller hears is the rest
    sue_voice = kit.tone(SUP_HZ, 40.0, amplitude=0.3, lead_s=0.0, tail_s=0.0)
    caller_tone = kit.tone(TONE_HZ, 20.5, amplitude=0.3, lead_s=0.2, tail_s=0.0)
    plan = ((2.0, "listen"), (6.0, "whisper"), (10.0, "barge"), (14.0, None))
    with (
        Baresip(c.sip, "agent-ann", c.passwords["ann"], source=quiet_agent.pcm) as ann_phone,
        Baresip(c.sip, "agent-sue", c.passwords["sue"], source=sue_voice.pcm) as sue_phone,
    ):
        ann_phone.wait_registered()
        sue_phone.wait_registered()
        with c.server.client("ann") as ann, c.server.client("sue") as sue:
            ann.ok("POST", "/api/desk/login")
            # not on a call yet: refused with the reason
            why = sue.refused("PUT", "/api/supervision/agents/ann", 409, json={"mode": "listen"})
            assert why == "agent 'ann' is not on a call now"
            before = {r.id for r in c.contacts()}
            call = carrier_call(c.sip, DID, CALLER, caller_tone, hangup_after_s=18.0)
            with call:
                contact, connect = _connected(c, before)
                for at, mode in plan:
                    time.sleep(max(0.0, connect.t + at - time.time()))
                    if mode is None:
                        done = sue.ok("DELETE", "/api/supervision/agents/ann")
                    else:
                        done = sue.ok("PUT", "/api/supervision/agents/ann", json={"mode": mode})
                    assert (done["contact_id"], done["mode"]) == (contact.id, mode)
                call.wait().assert_ok()
            events, row = _finished(c, contact.id)
            marks = sue.ok("GET", f"/api/contacts/{contact.id}/recording/marks")
            _sign_off(ann)
        ann_heard, sue_heard = ann_phone.heard, sue_phone.heard
    with c.server.client("manager") as manager:
        audit = manager.ok("GET", "/api/audit", params={"action": "call.supervise"})["entries"]

    # every start, switch and stop: an event and an audit entry, by sue, on ann's call
    sup = [e for e in events if e.type == "supervise"]
    assert [(e.reason, e.agent, e.target) for e in sup] == [
        ("listen", "ann", "sue"), ("whisper", "ann", "sue"), ("barge", "ann", "sue"),
        ("stop", "ann", "sue"),
    ]  # fmt: skip
    mine = sorted((a for a in audit if a["entity_id"] == contact.id), key=lambda a: a["at"])
    assert [(a["username"], a["changes"]["mode"]) for a in mine] == [
        ("sue", [None, "listen"]), ("sue", ["listen", "whisper"]), ("sue", ["whisper", "barge"]),
        ("sue", ["barge", None]),
    ]  # fmt: skip
    assert mine[0]["changes"]["supervisor"] == [None, "sue"]
    assert mine[-1]["changes"]["supervisor"] == ["sue", None]
    span = {e.reason: e.t - connect.t for e in sup}
    listen, whisper, barge, stop = (span[k] for k in ("listen", "whisper", "barge", "stop"))
    assert [m["kind"] for m in marks] == ["listen", "whisper", "barge"]
    assert all(m["supervisor"] == "sue" and m["agent"] == "ann" for m in marks)

    m = MARGIN_S + 0.4  # the supervisor's phone rings and answers after the listen request
    # what the caller heard (the recording's left channel): nothing of sue while she
    # listened or whispered, sue's voice while she barged in, nothing after
    rate, stereo = _stereo(c.data / "recordings" / row.recording_url)
    heard_by_caller = stereo[:, 0]
    assert _band_db(heard_by_caller, rate, listen + m, barge - MARGIN_S, SUP_HZ) < -55
    assert _band_db(heard_by_caller, rate, barge + MARGIN_S, stop - MARGIN_S, SUP_HZ) > -25
    assert _band_db(heard_by_caller, rate, stop + MARGIN_S, 17.0, SUP_HZ) < -55
    # what ann heard: the caller throughout, sue only while whispering or barging
    rate, agent_heard = read_wav(ann_heard)
    assert _band_db(agent_heard, rate, 0.5, 17.0, TONE_HZ) > -25
    assert _band_db(agent_heard, rate, listen + m, whisper - MARGIN_S, SUP_HZ) < -55
    assert _band_db(agent_heard, rate, whisper + MARGIN_S, barge - MARGIN_S, SUP_HZ) > -25
    assert _band_db(agent_heard, rate, barge + MARGIN_S, stop - MARGIN_S, SUP_HZ) > -25
    # what sue heard: the caller (her phone's audio starts when it answered)
    rate, sup_heard = read_wav(sue_heard)
    assert sup_heard.size / rate > (stop - listen) - 2 * m
    assert _band_db(sup_heard, rate, 0.5, sup_heard.size / rate - 0.5, TONE_HZ) > -25


def test_who_may_supervise_whom(center: VoiceCenter) -> None:
    """A supervisor supervises the agents of its teams (sue: team blue — not cid, green);
    agents, QA and administrators may not supervise at all."""
    with center.server.client("sue") as sue:
        why = sue.refused("PUT", "/api/supervision/agents/cid", 404, json={"mode": "listen"})
        assert why == "no agent of your teams 'cid'"
        bad = sue.refused("PUT", "/api/supervision/agents/ann", 422, json={"mode": "spy"})
        assert "mode" in bad
    with center.server.client("manager") as manager:  # any agent, but an agent
        why = manager.refused("PUT", "/api/supervision/agents/zed", 404, json={"mode": "listen"})
        assert why == "no agent 'zed'"
    for who in ("ann", "quinn", "admin"):
        with center.server.client(who) as other:
            other.refused("PUT", "/api/supervision/agents/ann", 403, json={"mode": "listen"})
            other.refused("DELETE", "/api/supervision/agents/ann", 403)
