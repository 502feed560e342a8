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
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select
from tests.support.audio import Clip, active_span, session_audio_kit
from tests.support.baresip import Baresip
from tests.support.sip import Dtmf, carrier_call
from tests.support.voice_center import CALLER, DID, IVR_DID, VoiceCenter, types, voice_center

from callcenter.storage.tables import analyses_table


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
    (contact,) = c.wait("the call's contact", c.contacts)
    row = c.wait("the recording", lambda: [r for r in c.contacts() if r.recording_url])[0]
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


def test_the_event_log_kpis_equal_the_hand_count_of_the_calls_above(
    center: tuple[VoiceCenter, str],
) -> None:
    """The module's calls, counted by hand: into queue ``phones`` came the answered call,
    the one abandoned in the queue and the one the IVR queued (answered); the IVR's own
    abandon never reached a queue. ``callcenter kpi`` reads the live log like any other."""
    c, _ = center
    log = c.data.parent / "day.jsonl"
    cli = [sys.executable, "-m", "callcenter.cli.main"]
    subprocess.run([*cli, "db", "export", str(log), "--database", c.db_url], check=True)
    done = subprocess.run(
        [*cli, "kpi", str(log), "--by", "queue", "--format", "json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    report = json.loads(done.stdout)
    (row,) = report["rows"]
    visits, handling = row["visits"], row["handling"]
    assert row["queue"] == "phones"
    # offered 3 (two answered, one abandoned after 2 s: short, under the 5 s default)
    assert (visits["offered"], visits["answered"], visits["abandoned"]) == (3, 2, 1)
    assert (visits["short_abandoned"], visits["timed_out"], visits["open"]) == (1, 0, 0)
    assert (handling["offers"], handling["connects"], handling["handled"]) == (2, 2, 2)
    # both answered at once by an auto-answering phone: ASA well under a second, and it
    # leaves the IVR call's time in the flow out (that one spent > 3.5 s there)
    assert visits["asa_s"] < 1.0
