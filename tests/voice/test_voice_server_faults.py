"""Calls when things go wrong: Asterisk crashing mid-call, the server killed mid-call, an
agent's phone that is busy, a caller who asks to be called back.

Each test drives a real server (voice ``embedded``) with real SIP clients (SIPp, baresip)
and checks the event log and the agents' state against what must follow: a call whose
engine died is ended with the agents freed, nothing is left half-open after a restart,
a phone that refuses is paused and the call goes to the next agent.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.support.audio import active_span, read_wav, session_audio_kit
from tests.support.baresip import Baresip
from tests.support.seed import seed
from tests.support.server import LiveServer
from tests.support.sip import Dtmf, agent_phone, carrier_call, register_phone
from tests.support.sip_process import free_sip_port
from tests.support.voice_center import CALLER, DID, VoiceCenter, free_port, types, voice_center

from callcenter.storage.tables import AgentRow, ContactRow, Ticket


def _asterisk_pid(server_pid: int) -> int:
    out = subprocess.run(
        ["pgrep", "-P", str(server_pid), "asterisk"], capture_output=True, text=True
    ).stdout.split()
    assert len(out) == 1, f"expected the server's one Asterisk, found {out}"
    return int(out[0])


def _agent(c: VoiceCenter, name: str) -> AgentRow:
    with Session(c.db) as s:
        row = s.scalar(select(AgentRow).where(AgentRow.name == name))
        assert row is not None
        return row


def _open_voice(c: VoiceCenter) -> list[ContactRow]:
    return [r for r in c.contacts() if r.status in ("ivr", "queued", "ringing", "active")]


@pytest.fixture
def center(tmp_path: Path) -> Iterator[VoiceCenter]:
    with voice_center(tmp_path, agents=("ann", "bob"), callback_digit="1") as c:
        yield c


def test_asterisk_crashing_mid_call_ends_it_frees_the_agent_and_comes_back(
    center: VoiceCenter,
) -> None:
    c = center
    kit = session_audio_kit()
    assert c.server.proc is not None
    with Baresip(c.sip, "agent-ann", c.passwords["ann"], source=kit.silence(1).pcm) as phone:
        phone.wait_registered()
        with c.server.client("ann") as ann:
            ann.ok("POST", "/api/desk/login")
            call = carrier_call(c.sip, DID, CALLER, kit.silence(30), hangup_after_s=30)
            with call:
                (row,) = c.wait("the call", lambda: c.new_contacts(set()))
                c.wait("the answer", lambda: "connect" in types(c.events(row.id)))
                crashed = _asterisk_pid(c.server.proc.pid)
                os.kill(crashed, signal.SIGKILL)
                # the call is over for the engine: ended, ann in wrap-up, not on a call
                events = c.wait(
                    "the end of the call",
                    lambda: (e := c.events(row.id)) and "complete" in types(e) and e,
                )
                assert events[-1].agent == "ann"
                assert _agent(c, "ann").status != "on_contact"
                # a new Asterisk, connected again, and the phone known to it (its
                # registration kept in Asterisk's own database)
                c.wait("a new Asterisk", lambda: c.server.log().count("voice: connected") == 2)
                assert _asterisk_pid(c.server.proc.pid) != crashed
                call.stop()
            assert "Asterisk exited" in c.server.log()
            ann.ok("POST", f"/api/desk/contacts/{row.id}/wrapup", json={"disposition": "resolved"})
            before = {r.id for r in c.contacts()}
            again = carrier_call(c.sip, DID, CALLER, kit.silence(3), hangup_after_s=3)
            with again:
                again.wait().assert_ok()
            (new,) = c.new_contacts(before)
            events = c.wait(
                "the call after the restart",
                lambda: (e := c.events(new.id)) and "complete" in types(e) and e,
            )
            assert "connect" in types(events)
            ann.ok("POST", "/api/desk/logout")


def test_the_server_killed_mid_call_leaves_no_phantom_after_its_restart(
    center: VoiceCenter,
) -> None:
    c = center
    kit = session_audio_kit()
    with Baresip(c.sip, "agent-ann", c.passwords["ann"], source=kit.silence(1).pcm) as phone:
        phone.wait_registered()
        with c.server.client("ann") as ann:
            ann.ok("POST", "/api/desk/login")
        call = carrier_call(c.sip, DID, CALLER, kit.silence(30), hangup_after_s=30)
        with call:
            (row,) = c.wait("the call", lambda: c.new_contacts(set()))
            c.wait("the answer", lambda: "connect" in types(c.events(row.id)))
            c.server.stop(kill=True)  # its Asterisk dies with it (parent-death signal)
            call.stop()
        assert [r.id for r in _open_voice(c)] == [row.id]  # as the crash left it
        c.server.start()
        events = c.wait(
            "the phantom call ended",
            lambda: (e := c.events(row.id)) and "complete" in types(e) and e,
        )
        assert types(events).count("complete") == 1
        assert _open_voice(c) == []  # none queued, ringing or talking: at most wrap-up
        assert _agent(c, "ann").status in ("wrap_up", "available")


def test_a_busy_phone_pauses_its_agent_and_the_call_goes_to_the_next(
    center: VoiceCenter,
) -> None:
    c = center
    kit = session_audio_kit()
    port = free_sip_port()
    # the generated phones rewrite their contact to the REGISTER's source: register
    # from the phone's own port, then start the phone there
    register_phone(c.sip, "agent-ann", c.passwords["ann"], port, from_contact_port=True).assert_ok()
    # calls=5: Asterisk's qualify (OPTIONS) may reach it before the INVITE
    busy = agent_phone(busy=True, port=port, calls=5)
    bob_phone = Baresip(c.sip, "agent-bob", c.passwords["bob"], source=kit.silence(1).pcm)
    with busy, bob_phone as bob:
        bob.wait_registered()
        with c.server.client("ann") as ann, c.server.client("bob") as bob_desk:
            ann.ok("POST", "/api/desk/login")  # logged in first: idle longest, offered first
            time.sleep(0.05)
            bob_desk.ok("POST", "/api/desk/login")
            before = {r.id for r in c.contacts()}
            call = carrier_call(c.sip, DID, CALLER, kit.silence(4), hangup_after_s=4)
            with call:
                call.wait().assert_ok()
            (row,) = c.new_contacts(before)
            events = c.wait(
                "the call answered by bob",
                lambda: (e := c.events(row.id)) and "complete" in types(e) and e,
            )
            offers = [(e.type, e.agent) for e in events if e.type in ("offer", "connect")]
            assert offers == [("offer", "ann"), ("offer", "bob"), ("connect", "bob")]
            paused = [e for e in c.all_events() if e.type == "agent_state" and e.agent == "ann"]
            assert paused and (paused[-1].state, paused[-1].reason) == ("paused", "phone")


def test_a_waiting_caller_presses_the_callback_digit_and_keeps_the_place(
    center: VoiceCenter,
) -> None:
    c = center
    kit = session_audio_kit()
    before = {r.id for r in c.contacts()}
    # nobody is logged in: the caller waits, presses 1 (the queue's callback digit) and
    # is let go by the center (our BYE): the place is kept for an agent to call back
    call = carrier_call(c.sip, DID, CALLER, kit.silence(2), dtmf=[Dtmf(1.5, "1")],
                        hangup_after_s=None, wait_bye_s=10)  # fmt: skip
    with call:
        call.wait().assert_ok()
    (row,) = c.new_contacts(before)
    events = c.wait(
        "the callback request",
        lambda: (e := c.events(row.id)) and "callback_request" in types(e) and e,
    )
    assert types(events) == ["arrive", "enqueue", "callback_request"]
    assert events[-1].caller == CALLER
    time.sleep(1.0)  # the channel is gone; the contact must not be abandoned for it
    assert types(c.events(row.id)) == ["arrive", "enqueue", "callback_request"]


def test_a_trunk_whose_carrier_does_not_answer_is_shown_offline(center: VoiceCenter) -> None:
    """A trunk of one address is asked (SIP OPTIONS) whether its carrier is there: nobody
    answers at 127.0.0.2, so the admin's trunk list says offline; a trunk of a whole
    network has no one address to ask (unknown)."""
    c = center
    with c.server.client("admin") as admin:
        admin.ok("POST", "/api/admin/voice/trunks",
                 json={"name": "gone", "kind": "ip", "networks": ["127.0.0.2"]})  # fmt: skip
        admin.ok("POST", "/api/admin/voice/trunks",
                 json={"name": "wide", "kind": "ip", "networks": ["192.0.2.0/24"]})  # fmt: skip

        def states() -> dict[str, str | None]:
            return {t["name"]: t["state"] for t in admin.ok("GET", "/api/admin/voice/trunks")}

        got = c.wait("the carrier seen as gone", lambda: states().get("gone") == "offline" and
                     states())  # fmt: skip
    assert got["wide"] == "unknown"


def test_a_caller_who_waits_the_maximum_leaves_a_message_that_becomes_a_ticket(
    tmp_path: Path,
) -> None:
    """The queue's maximum wait (2 s) passes with nobody to answer and no overflow: the
    caller hears vm-intro (5.65 s), a beep, and leaves a message — the speech the
    carrier plays from 9 s — which is filed and opens a ticket."""
    kit = session_audio_kit()
    message = kit.speech("Please call me back about my order.", lead_s=9.0)
    with voice_center(tmp_path, max_wait_s=2.0) as c:
        hang_up = message.active_end_s + 1.0
        call = carrier_call(c.sip, DID, CALLER, message, hangup_after_s=hang_up)
        with call:
            call.wait().assert_ok()
        (row,) = c.wait("the call", lambda: c.new_contacts(set()))
        assert types(c.events(row.id)) == ["arrive", "enqueue", "timeout"]
        ticket = c.wait("the voicemail's ticket", lambda: _ticket(c, row.id), timeout_s=30)
        assert ticket.subject == f"Voicemail from {CALLER}"
        (after,) = [r for r in c.contacts() if r.id == row.id]
        assert after.recording_url is not None and after.recording_url.startswith("voicemail/")
        rate, samples = read_wav(c.data / "recordings" / after.recording_url)
        span = active_span(samples, rate)
        assert span is not None
        # the message holds the speech, whole (its length ±0.5 s)
        assert span[1] - span[0] == pytest.approx(message.active_s, abs=0.5)


def _ticket(c: VoiceCenter, contact: str) -> Ticket | None:
    with Session(c.db) as s:  # a new session each time: a fresh snapshot
        return s.scalar(select(Ticket).where(Ticket.contact_id == contact))


def test_an_asterisk_that_cannot_start_is_tried_again_until_it_can(tmp_path: Path) -> None:
    """Its HTTP port is held by another program: the server serves on, says why in its
    log, and once the port is free its Asterisk starts and connects."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    seed(url)
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen()
    env = {
        "CALLCENTER_VOICE": "embedded",
        "CALLCENTER_VOICE_SIP_PORT": str(free_port(socket.SOCK_DGRAM)),
        "CALLCENTER_VOICE_HTTP_PORT": str(held.getsockname()[1]),
        "CALLCENTER_DATA_DIR": str(tmp_path / "data"),
    }
    server = LiveServer(db_url=url, workdir=tmp_path, log_level="info", env=env)
    try:
        server.start()
        c = VoiceCenter(server, url, ("127.0.0.1", 0), tmp_path / "data")
        c.wait("the reason in the log", lambda: "voice: Asterisk did not start" in server.log())
        assert "voice: connected" not in server.log()
        held.close()
        c.wait("Asterisk once the port is free", lambda: "voice: connected" in server.log())
    finally:
        held.close()
        server.stop()
