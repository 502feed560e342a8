"""Calls through the whole server: ``callcenter serve`` with voice on — ``embedded`` (a
real Asterisk it starts itself) and ``external`` (a center's own Asterisk, started apart
and reached over ARI only) pass the same tests — with a SIPp carrier and a baresip desk
phone nobody here wrote (``tests/support/voice_center.py`` sets the center up).

Set-up goes through the admin API as a center would (an ip trunk for 127.0.0.1, a
number leading to a voice queue, a SIP desk phone for agent ``ann`` whose password is
shown once). The truth compared with: the audio each side played (espeak-ng speech with
its span known by construction), the scenario counted by hand (one call, answered, the
caller hanging up), the recording's channels read back with the stdlib ``wave``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.support.audio import Clip, active_span, read_wav, session_audio_kit
from tests.support.baresip import Baresip
from tests.support.sip import Dtmf, carrier_call
from tests.support.voice_center import (
    CALLER,
    DID,
    IVR_DID,
    NIGHT_DID,
    VoiceCenter,
    types,
    voice_center,
)

from callcenter.storage.tables import Ticket, analyses_table

# What each test's calls did to queue ``phones``, counted by hand, per center: the last
# test compares the event log's KPIs with the sum of what ran before it in that center
# (pytest-xdist may run some of this module's tests on another worker, in another center).
LEDGER: dict[int, Counter[str]] = {}


def counted(c: VoiceCenter, **by_hand: int) -> None:
    LEDGER.setdefault(id(c), Counter()).update(by_hand)


ANSWERED: dict[str, int] = {"offered": 1, "answered": 1, "offers": 1, "connects": 1, "handled": 1}


@pytest.fixture(scope="module", params=["embedded", "external"])
def center(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[VoiceCenter, str]]:
    """The same center with its own Asterisk (embedded) and with a center's Asterisk
    started apart and reached over ARI only (bring-your-own): both pass every test."""
    tmp = tmp_path_factory.mktemp(f"voice-{request.param}")
    with voice_center(tmp, external=request.param == "external") as c:
        yield c, c.passwords["ann"]


def test_an_answered_call_is_routed_recorded_per_side_and_logged(
    center: tuple[VoiceCenter, str],
) -> None:
    c, password = center
    kit = session_audio_kit()
    before = {r.id for r in c.contacts()}
    said_by_caller: Clip = kit.speech("Hello, I would like to check my order.", lead_s=1.0)
    said_by_agent: Clip = kit.speech("Good afternoon, how can I help you?", lead_s=3.5)
    with Baresip(c.sip, "agent-ann", password, source=said_by_agent.pcm) as phone:
        phone.wait_registered()
        with c.server.client("ann") as ann:
            ann.ok("POST", "/api/desk/login")
            call = carrier_call(c.sip, DID, CALLER, said_by_caller, hangup_after_s=8.0)
            with call:
                result = call.wait()
            result.assert_ok()
            ann.ok("POST", "/api/desk/logout")
    (contact,) = c.wait("the call's contact", lambda: c.new_contacts(before))
    counted(c, **ANSWERED)
    row = c.wait(
        "the recording",
        lambda: [r for r in c.contacts() if r.id == contact.id and r.recording_url],
    )[0]
    events = c.wait(
        "the call's events",
        lambda: (e := c.events(contact.id)) and "complete" in types(e) and e,
    )
    # counted by hand: one call, offered to ann, answered, the caller hung up
    assert types(events)[:4] == ["arrive", "enqueue", "offer", "connect"]
    assert "recording" in types(events)
    complete = next(e for e in events if e.type == "complete")
    assert (complete.agent, complete.queue, complete.by) == ("ann", "phones", "caller")
    arrive = events[0]
    assert (arrive.channel, arrive.caller) == ("voice", CALLER)
    assert row.claimed_phone == CALLER and row.channel == "voice"
    # the recording: stereo, agent left, caller right, as long as the talk (±0.3 s)
    path = c.data / "recordings" / row.recording_url
    with wave.open(str(path)) as w:  # read with the stdlib, not with our code
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        frames = w.readframes(w.getnframes())
    assert (rate, channels, width) == (8000, 2, 2)
    samples = np.frombuffer(frames, dtype="<i2").reshape(-1, 2).astype(np.float64) / 32768.0
    seconds = samples.shape[0] / rate
    assert complete.talk is not None
    assert abs(seconds - complete.talk) <= 0.3, (seconds, complete.talk)
    agent_span = active_span(samples[:, 0], rate)
    caller_span = active_span(samples[:, 1], rate)
    assert agent_span is not None and caller_span is not None
    # each voice on its own side, where it was said (the agent's speech starts 3.5 s
    # after its phone answered, the caller's 1 s after the carrier got the answer)
    assert agent_span[0] == pytest.approx(said_by_agent.active_start_s, abs=0.5)
    assert caller_span[0] == pytest.approx(said_by_caller.active_start_s, abs=0.5)
    assert agent_span[1] - agent_span[0] == pytest.approx(said_by_agent.active_s, abs=0.5)
    assert caller_span[1] - caller_span[0] == pytest.approx(said_by_caller.active_s, abs=0.5)

    # analysed by the server's worker: each side's talk time within ±0.5 s of what was
    # played, the people filled from the event log
    def analysed() -> Any:
        with c.db.connect() as conn:  # a new connection each time: a fresh snapshot
            query = select(analyses_table).where(analyses_table.c.call_id == row.id)
            return conn.execute(query).first()

    analysis = c.wait("the call's analysis", analysed, timeout_s=60)
    assert (analysis.agent, analysis.queue, analysis.caller) == ("ann", "phones", CALLER)
    assert analysis.agent_talk_s == pytest.approx(said_by_agent.active_s, abs=0.5)
    assert analysis.caller_talk_s == pytest.approx(said_by_caller.active_s, abs=0.5)


def test_a_caller_who_gives_up_in_the_queue_is_an_abandon(center: tuple[VoiceCenter, str]) -> None:
    c, _ = center
    before = {r.id for r in c.contacts()}
    # nobody is logged in: our application answers, the caller waits in the queue with
    # music and hangs up after 2 s; no agent is ever offered the call
    kit = session_audio_kit()
    give_up = carrier_call(c.sip, DID, "79160000001", kit.silence(2.0), hangup_after_s=2.0)
    with give_up:
        give_up.wait().assert_ok()
    new = c.wait("the new contact", lambda: [r for r in c.contacts() if r.id not in before])
    events = c.wait(
        "the abandon",
        lambda: (e := c.events(new[0].id)) and "abandon" in types(e) and e,
    )
    assert types(events) == ["arrive", "enqueue", "abandon"]
    counted(c, offered=1, abandoned=1, short_abandoned=1)  # after 2 s: short (< 5 s)
    abandon = events[-1]
    assert abandon.queue == "phones" and abandon.wait == pytest.approx(2.0, abs=0.5)
    (after,) = [r for r in c.contacts() if r.id == new[0].id]
    assert after.status == "abandoned" and after.recording_url is None


def test_the_ivr_collects_keys_of_both_kinds_and_queues_the_call_with_its_card(
    center: tuple[VoiceCenter, str],
) -> None:
    """The account number in RFC 4733 events, the menu choice by SIP INFO; the call is
    then queued, answered by ann's phone, and the card carries the account number."""
    c, password = center
    kit = session_audio_kit()
    before = {r.id for r in c.contacts()}
    keys = [Dtmf(1.0 + 0.3 * i, d) for i, d in enumerate("1234#")] + [Dtmf(3.5, "1", info=True)]
    with Baresip(c.sip, "agent-ann", password, source=kit.silence(1.0).pcm) as phone:
        phone.wait_registered()
        with c.server.client("ann") as ann:
            ann.ok("POST", "/api/desk/login")
            call = carrier_call(c.sip, IVR_DID, CALLER, kit.silence(9.0), dtmf=keys,
                                hangup_after_s=9.0)  # fmt: skip
            with call:
                call.wait().assert_ok()
            ann.ok("POST", "/api/desk/logout")
    (row,) = c.wait("the IVR call", lambda: [r for r in c.contacts() if r.id not in before])
    events = c.wait(
        "the end of the call", lambda: (e := c.events(row.id)) and "complete" in types(e) and e
    )
    assert types(events)[:7] == [
        "arrive", "ivr_enter", "ivr_choice", "ivr_choice", "ivr_leave", "enqueue", "offer",
    ]  # fmt: skip
    counted(c, **ANSWERED)
    choices = [(e.target, e.reason) for e in events if e.type == "ivr_choice"]
    assert choices == [("account", "1234"), ("main", "1")]
    leave = next(e for e in events if e.type == "ivr_leave")
    assert (leave.reason, leave.queue) == ("queue", "phones")
    # the queue's wait starts at enqueue, after the IVR: ASA leaves the IVR time out
    enqueue = next(e for e in events if e.type == "enqueue")
    connect = next(e for e in events if e.type == "connect")
    assert enqueue.t >= events[0].t + 3.5 and connect.wait is not None and connect.wait < 2.0
    (after,) = [r for r in c.contacts() if r.id == row.id]
    assert after.ivr_data == {"Account number": "1234"}


def test_a_caller_who_hangs_up_in_the_ivr_abandons_there_not_in_a_queue(
    center: tuple[VoiceCenter, str],
) -> None:
    c, _ = center
    kit = session_audio_kit()
    before = {r.id for r in c.contacts()}
    call = carrier_call(c.sip, IVR_DID, "79160000002", kit.silence(1.5), hangup_after_s=1.5)
    with call:
        call.wait().assert_ok()
    (row,) = c.wait("the IVR call", lambda: [r for r in c.contacts() if r.id not in before])
    events = c.wait(
        "the IVR's end", lambda: (e := c.events(row.id)) and "ivr_leave" in types(e) and e
    )
    assert types(events) == ["arrive", "ivr_enter", "ivr_leave"]
    assert events[-1].reason == "abandon"
    (after,) = c.wait(
        "the contact's end",
        lambda: [r for r in c.contacts() if r.id == row.id and r.status == "abandoned"],
    )
    assert after.ended_at is not None and after.queue is None


def test_invalid_keys_use_up_the_tries_and_the_flow_says_goodbye(
    center: tuple[VoiceCenter, str],
) -> None:
    """Account 1234#, then 9 and 9 at a menu of 1 and 2: two invalid tries, then the
    flow's invalid path (goodbye, the center hangs up); the call never reaches a queue."""
    c, _ = center
    kit = session_audio_kit()
    before = {r.id for r in c.contacts()}
    # SIP INFO throughout (each key its own transaction; RFC 4733 is the test above's)
    keys = [Dtmf(1.0 + 0.3 * i, d, info=True) for i, d in enumerate("1234#")]
    keys += [Dtmf(3.5, "9", info=True), Dtmf(5.0, "9", info=True)]
    call = carrier_call(c.sip, IVR_DID, CALLER, kit.silence(2.0), dtmf=keys,
                        hangup_after_s=None, wait_bye_s=20)  # fmt: skip
    with call:
        call.wait().assert_ok()  # the far end (our goodbye) hung up
    (row,) = c.wait("the IVR call", lambda: c.new_contacts(before))
    events = c.wait(
        "the IVR's end", lambda: (e := c.events(row.id)) and "ivr_leave" in types(e) and e
    )
    choices = [(e.target, e.reason) for e in events if e.type == "ivr_choice"]
    assert choices == [("account", "1234"), ("main", "invalid:9"), ("main", "invalid:9")]
    assert types(events) == ["arrive", "ivr_enter", "ivr_choice", "ivr_choice", "ivr_choice",
                             "ivr_leave"]  # fmt: skip
    assert events[-1].reason == "hangup"
    (after,) = c.wait(
        "the contact closed", lambda: [r for r in c.contacts() if r.id == row.id and r.ended_at]
    )
    assert after.status == "closed" and after.queue is None


def test_closed_hours_take_a_message_that_becomes_a_ticket(
    center: tuple[VoiceCenter, str],
) -> None:
    """The night flow's hours are never open: vm-intro (5.65 s), a beep, the caller's
    message (spoken from 8 s), a ticket with the recording."""
    c, _ = center
    kit = session_audio_kit()
    before = {r.id for r in c.contacts()}
    message = kit.speech("My card was blocked, please call me.", lead_s=8.0)
    call = carrier_call(c.sip, NIGHT_DID, CALLER, message,
                        hangup_after_s=message.active_end_s + 1.0)  # fmt: skip
    with call:
        call.wait().assert_ok()
    (row,) = c.wait("the night call", lambda: c.new_contacts(before))
    events = c.wait(
        "the IVR's end", lambda: (e := c.events(row.id)) and "ivr_leave" in types(e) and e
    )
    assert [(e.target, e.reason) for e in events if e.type == "ivr_choice"] == [("hours", "closed")]
    assert events[-1].reason == "voicemail" and "enqueue" not in types(events)
    ticket = c.wait("the voicemail's ticket", lambda: _ticket(c, row.id), timeout_s=30)
    assert ticket.subject == f"Voicemail from {CALLER}"
    (after,) = [r for r in c.contacts() if r.id == row.id]
    assert after.recording_url is not None and after.recording_url.startswith("voicemail/")
    rate, samples = read_wav(c.data / "recordings" / after.recording_url)
    span = active_span(samples, rate)
    assert span is not None and span[1] - span[0] == pytest.approx(message.active_s, abs=0.5)


def test_the_event_log_kpis_equal_the_hand_count_of_the_calls_above(
    center: tuple[VoiceCenter, str],
) -> None:
    """The calls above, counted by hand as they ran (``LEDGER``): into queue ``phones``
    came the answered call, the one abandoned in the queue and the one the IVR queued
    (answered); the IVR's abandon, its invalid keys and the night's voicemail never
    reached a queue. ``callcenter kpi`` reads the live log like any other."""
    c, _ = center
    by_hand = LEDGER.get(id(c), Counter())
    log = c.data.parent / "day.jsonl"
    cli = [sys.executable, "-m", "callcenter.cli.main"]
    subprocess.run([*cli, "db", "export", str(log), "--database", c.db_url], check=True)
    done = subprocess.run(
        [*cli, "kpi", str(log), "--by", "queue", "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if not c.contacts():  # this test alone in its center: an empty log, refused clearly
        assert done.returncode == 2 and "has no events" in done.stderr, done.stderr
        return
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    rows = [r for r in report["rows"] if r["queue"] == "phones"]
    if not by_hand["offered"]:  # only calls that never reached a queue ran here
        assert rows == []
        return
    (row,) = rows
    visits, handling = row["visits"], row["handling"]
    assert row["channel"] == "voice"
    for key in ("offered", "answered", "abandoned", "short_abandoned"):
        assert visits[key] == by_hand[key], key
    assert (visits["timed_out"], visits["open"]) == (0, 0)
    for key in ("offers", "connects", "handled"):
        assert handling[key] == by_hand[key], key
    if by_hand["answered"]:
        # answered at once by an auto-answering phone: ASA well under a second, and it
        # leaves the IVR call's time in the flow out (that one spent > 3.5 s there)
        assert visits["asa_s"] < 1.0


def _ticket(c: VoiceCenter, contact: str) -> Ticket | None:
    with Session(c.db) as s:  # a new session each time: a fresh snapshot
        return s.scalar(select(Ticket).where(Ticket.contact_id == contact))
