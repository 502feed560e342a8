"""Routing engine behaviour, one rule per test, with the expected decisions worked out by hand."""

from __future__ import annotations

import pytest

from callcenter.events import AgentState, Event, EventType, HangupBy, TargetType
from callcenter.routing import (
    AgentConfig,
    QueueConfig,
    Router,
    RoutingError,
    RoutingStep,
    SkillRequirement,
    Strategy,
)

E = EventType


def types(events: list[Event]) -> list[str]:
    return [e.type.value for e in events]


def offers(events: list[Event]) -> list[tuple[str | None, str | None]]:
    return [(e.contact, e.agent) for e in events if e.type is E.OFFER]


def make(queues: list[QueueConfig], agents: list[AgentConfig], login_at: float = 0.0) -> Router:
    r = Router(queues, agents)
    for i, a in enumerate(agents):
        r.login(a.name, login_at + i)
    r.drain()
    return r


def test_longest_idle_agent_gets_the_contact() -> None:
    r = make([QueueConfig("q")], [AgentConfig("a1"), AgentConfig("a2"), AgentConfig("a3")])
    # a1 idle since 0, a2 since 1, a3 since 2 -> a1 first, then a2
    r.arrive("c1", 10, queue="q")
    r.arrive("c2", 11, queue="q")
    ev = r.drain()
    assert offers(ev) == [("c1", "a1"), ("c2", "a2")]
    assert types(ev) == ["arrive", "enqueue", "offer", "arrive", "enqueue", "offer"]


def test_full_call_lifecycle_events_and_durations() -> None:
    r = make([QueueConfig("q", wrapup_s=30)], [AgentConfig("a1")])
    r.arrive("c1", 100, queue="q", caller="+15550001")
    r.answer("c1", 104)
    r.hold("c1", 150)
    r.unhold("c1", 170)
    r.hangup("c1", 400, by=HangupBy.AGENT)
    r.advance(1000)
    ev = r.drain()
    assert types(ev) == [
        "arrive", "enqueue", "offer", "connect", "hold", "unhold", "complete", "wrapup_end",
    ]  # fmt: skip
    connect, complete, wrap = ev[3], ev[6], ev[7]
    assert (connect.wait, connect.ring) == (4, 4)
    # 100..400 connected = 296 s after answering at 104, 20 s of it on hold
    assert (complete.talk, complete.hold, complete.by) == (276, 20, "agent")
    assert (wrap.t, wrap.acw) == (430, 30)
    assert r.agent_state("a1") is AgentState.AVAILABLE


def test_waiting_contact_goes_to_agent_when_wrapup_ends() -> None:
    r = make([QueueConfig("q", wrapup_s=10)], [AgentConfig("a1")])
    r.arrive("c1", 0, queue="q")
    r.answer("c1", 1)
    r.arrive("c2", 5, queue="q")
    assert r.waiting("q") == 1
    r.hangup("c1", 60)
    r.advance(75)  # wrap-up ends at 70 -> c2 offered at 70 (rings until 85)
    ev = r.drain()
    offer = [e for e in ev if e.type is E.OFFER][-1]
    assert (offer.contact, offer.t, offer.wait) == ("c2", 70, 65)
    assert r.waiting("q") == 0


def test_round_robin_rotates() -> None:
    q = QueueConfig("q", strategy=Strategy.ROUND_ROBIN, wrapup_s=0)
    r = make([q], [AgentConfig("a1"), AgentConfig("a2"), AgentConfig("a3")])
    got = []
    for i in range(6):
        r.arrive(f"c{i}", 10 + i * 10, queue="q")
        r.answer(f"c{i}", 11 + i * 10)
        r.hangup(f"c{i}", 12 + i * 10)
        got += [a for _, a in offers(r.drain())]
    assert got == ["a1", "a2", "a3", "a1", "a2", "a3"]


def test_fewest_contacts_prefers_least_handled() -> None:
    q = QueueConfig("q", strategy=Strategy.FEWEST_CONTACTS, wrapup_s=0)
    r = make([q], [AgentConfig("a1"), AgentConfig("a2")])
    r.arrive("c1", 10, queue="q")  # a1 (tie on 0 handled -> longest idle)
    r.answer("c1", 10)
    r.hangup("c1", 20)  # a1 handled 1, idle since 20 (a2 idle since 1)
    r.arrive("c2", 30, queue="q")
    assert offers(r.drain())[-1] == ("c2", "a2")


def test_best_proficiency_first() -> None:
    q = QueueConfig(
        "q", strategy=Strategy.BEST_PROFICIENCY, requirements=(SkillRequirement("billing", 1),)
    )
    agents = [AgentConfig("junior", {"billing": 2}), AgentConfig("senior", {"billing": 9})]
    r = make([q], agents)
    r.arrive("c1", 10, queue="q")
    assert offers(r.drain()) == [("c1", "senior")]


def test_required_skill_excludes_unskilled_agents() -> None:
    q = QueueConfig("fr", requirements=(SkillRequirement("french", 3),))
    r = make([q], [AgentConfig("en", {"english": 9}), AgentConfig("fr1", {"french": 3})])
    r.arrive("c1", 10, queue="fr")
    assert offers(r.drain()) == [("c1", "fr1")]


def test_skill_widening_after_wait() -> None:
    q = QueueConfig(
        "vip",
        requirements=(SkillRequirement("vip", 5),),
        steps=(RoutingStep(30.0, (SkillRequirement("vip", 1),)),),
    )
    r = make([q], [AgentConfig("a_low", {"vip": 2})])
    r.arrive("c1", 100, queue="vip")
    assert offers(r.drain()) == []
    r.advance(129.9)
    assert offers(r.drain()) == []
    r.advance(130.0)  # 30 s of waiting: requirement widens to level 1
    ev = r.drain()
    assert [(e.contact, e.agent, e.t) for e in ev if e.type is E.OFFER] == [("c1", "a_low", 130)]


def test_queue_priority_then_longest_wait() -> None:
    qs = [QueueConfig("low", priority=0), QueueConfig("high", priority=5)]
    r = make(qs, [AgentConfig("a1", capacity=1)])
    r.pause("a1", 1)
    r.arrive("c_low_old", 10, queue="low")
    r.arrive("c_high", 20, queue="high")
    r.arrive("c_prio", 30, queue="low", priority=3)
    r.unpause("a1", 40)
    assert offers(r.drain()) == [("c_high", "a1")]


def test_contact_priority_within_queue() -> None:
    r = make([QueueConfig("q")], [AgentConfig("a1")])
    r.pause("a1", 1)
    r.arrive("c_old", 10, queue="q")
    r.arrive("c_gold", 20, queue="q", priority=3)
    r.unpause("a1", 40)
    assert offers(r.drain()) == [("c_gold", "a1")]


def test_ring_timeout_reoffers_to_next_agent_and_auto_pauses() -> None:
    q = QueueConfig("q", ring_timeout_s=15)
    agents = [AgentConfig("a1", max_no_answer=2), AgentConfig("a2"), AgentConfig("a3")]
    r = make([q], agents)
    r.pause("a3", 3)
    r.arrive("c1", 10, queue="q")  # -> a1 (longest idle)
    r.advance(25)  # a1 misses -> re-offered to a2
    ev = r.drain()
    rna = [e for e in ev if e.type is E.RING_NOANSWER]
    assert [(e.agent, e.t, e.ring, e.reason) for e in rna] == [("a1", 25, 15, "timeout")]
    assert offers(ev) == [("c1", "a1"), ("c1", "a2")]
    r.answer("c1", 30)
    assert r.drain()[-1].wait == 20
    r.arrive("c2", 40, queue="q")  # only a1 free: rings, misses a second time -> paused
    r.advance(55)
    ev = r.drain()
    assert ev[-1].type is E.AGENT_STATE
    assert (ev[-1].state, ev[-1].reason) == ("paused", "no_answer")
    assert r.agent_state("a1") is AgentState.PAUSED
    assert r.waiting("q") == 1


def test_decline_counts_as_ring_noanswer() -> None:
    r = make([QueueConfig("q")], [AgentConfig("a1"), AgentConfig("a2")])
    r.arrive("c1", 10, queue="q")
    r.decline("c1", 12)
    ev = r.drain()
    assert [e.reason for e in ev if e.type is E.RING_NOANSWER] == ["declined"]
    assert offers(ev)[-1] == ("c1", "a2")


def test_abandon_removes_contact() -> None:
    r = make([QueueConfig("q")], [AgentConfig("a1")])
    r.pause("a1", 1)
    r.arrive("c1", 10, queue="q")
    r.arrive("c2", 11, queue="q")
    r.abandon("c1", 10)  # abandoned at 0 s
    r.unpause("a1", 50)
    ev = r.drain()
    ab = [e for e in ev if e.type is E.ABANDON]
    assert [(e.contact, e.wait) for e in ab] == [("c1", 0)]
    assert offers(ev) == [("c2", "a1")]
    with pytest.raises(RoutingError, match="unknown or finished contact 'c1'"):
        r.abandon("c1", 60)


def test_abandon_while_ringing_frees_agent() -> None:
    r = make([QueueConfig("q")], [AgentConfig("a1")])
    r.arrive("c1", 10, queue="q")
    r.abandon("c1", 13)
    r.advance(100)  # the ring timer must not fire for a gone contact
    ev = r.drain()
    assert types(ev)[-1] == "abandon"
    assert r.agent_state("a1") is AgentState.AVAILABLE


def test_callback_keeps_place_and_is_offered() -> None:
    r = make([QueueConfig("q", max_wait_s=60)], [AgentConfig("a1")])
    r.pause("a1", 1)
    r.arrive("c1", 10, queue="q", caller="+100")
    r.request_callback("c1", 20)
    r.arrive("c2", 30, queue="q")
    r.advance(200)  # c2 times out at 90; c1 (callback) keeps its place, no timeout
    r.unpause("a1", 300)
    r.answer("c1", 302)
    ev = r.drain()
    assert ("c1", "a1") in offers(ev)
    cb = [e for e in ev if e.type in (E.CALLBACK_REQUEST, E.CALLBACK_MADE, E.TIMEOUT)]
    assert [(e.type.value, e.contact, e.wait) for e in cb] == [
        ("callback_request", "c1", 10),
        ("timeout", "c2", 60),
        ("callback_made", "c1", 282),
    ]


def test_release_lets_a_never_queued_contact_go_and_refuses_a_queued_one() -> None:
    r = make([QueueConfig("q")], [AgentConfig("a1")])
    r.pause("a1", 1)
    r.arrive("ivr1", 10)  # in the IVR: arrived, never queued
    r.release("ivr1", 20)  # the caller hung up in the IVR
    assert "ivr1" not in r.contacts
    r.arrive("c1", 30, queue="q")
    with pytest.raises(RoutingError, match="'c1' has been queued"):
        r.release("c1", 31)
    ev = r.drain()
    # release emits nothing of its own: the IVR's events say how the contact ended
    assert [(e.type.value, e.contact) for e in ev if e.contact == "ivr1"] == [("arrive", "ivr1")]
    with pytest.raises(RoutingError, match="unknown or finished contact 'ivr1'"):
        r.release("ivr1", 40)


def test_max_wait_overflows_to_another_queue() -> None:
    qs = [QueueConfig("first", max_wait_s=30, overflow_queue="backup"), QueueConfig("backup")]
    r = make(qs, [AgentConfig("b1", queues=("backup",))])
    r.pause("b1", 1)
    r.arrive("c1", 0, queue="first")
    r.advance(30)
    r.unpause("b1", 40)
    ev = r.drain()
    to = next(e for e in ev if e.type is E.TIMEOUT)
    assert (to.queue, to.wait, to.target) == ("first", 30, "backup")
    assert [(e.queue, e.t) for e in ev if e.type is E.ENQUEUE] == [("first", 0), ("backup", 30)]
    assert offers(ev) == [("c1", "b1")]


def test_blind_transfer_to_queue_is_a_new_visit() -> None:
    qs = [QueueConfig("sales", wrapup_s=5), QueueConfig("billing")]
    agents = [AgentConfig("s1", queues=("sales",)), AgentConfig("b1", queues=("billing",))]
    r = make(qs, agents)
    r.arrive("c1", 10, queue="sales")
    r.answer("c1", 12)
    r.transfer("c1", 72, "billing", target_type=TargetType.QUEUE)
    r.answer("c1", 75)
    r.advance(100)
    ev = r.drain()
    tr = next(e for e in ev if e.type is E.TRANSFER)
    assert (tr.agent, tr.talk, tr.target, tr.kind) == ("s1", 60, "billing", "blind")
    conn = [e for e in ev if e.type is E.CONNECT]
    assert [(e.agent, e.queue, e.wait) for e in conn] == [("s1", "sales", 2), ("b1", "billing", 3)]
    assert [(e.agent, e.acw) for e in ev if e.type is E.WRAPUP_END] == [("s1", 5)]


def test_transfer_to_a_queue_is_not_offered_back_to_the_agent_wrapping_it_up() -> None:
    # chat agents (capacity 3) serve both queues; a1 hands c1 to "sales" and wraps up
    qs = [QueueConfig("support"), QueueConfig("sales")]
    r = make(qs, [AgentConfig("a1", capacity=3), AgentConfig("a2", capacity=3)], login_at=0)
    r.arrive("c1", 10, queue="support")  # a1: longest idle
    r.answer("c1", 11)
    r.pause("a2", 12)
    r.transfer("c1", 20, "sales", target_type=TargetType.QUEUE)
    # a1 has room but holds c1's wrap-up: c1 waits instead of ringing at a1 again
    assert offers(r.drain()) == [("c1", "a1")]
    assert r.waiting("sales") == 1
    r.arrive("c2", 21, queue="sales")  # a newer contact does go to a1, passing c1 by
    assert offers(r.drain()) == [("c2", "a1")]
    r.unpause("a2", 25)  # another agent: c1 is offered there
    assert offers(r.drain()) == [("c1", "a2")]
    # and once a1's wrap-up of it ends, the contact may reach a1 again (a2 declines)
    r.end_wrapup("a1", "c1", 30)
    r.pause("a2", 31)
    r.decline("c1", 32)
    assert offers(r.drain()) == [("c1", "a1")]


def test_agent_ready_skips_the_contact_it_wraps_up_and_takes_the_next() -> None:
    qs = [QueueConfig("support"), QueueConfig("sales")]
    r = make(qs, [AgentConfig("a1", capacity=2), AgentConfig("a2")], login_at=0)
    r.pause("a2", 1)
    r.arrive("c1", 10, queue="support")
    r.answer("c1", 11)
    r.arrive("c2", 12, queue="support")  # a1's second slot
    r.answer("c2", 13)
    r.transfer("c1", 20, "sales", target_type=TargetType.QUEUE)  # waits: a1 wraps it up
    r.arrive("c3", 21, queue="sales")  # waits: a1 is full (c1 wrap-up + c2)
    assert offers(r.drain()) == [("c1", "a1"), ("c2", "a1")]
    r.hangup("c2", 25, by=HangupBy.AGENT)
    r.end_wrapup("a1", "c2", 26)  # a slot frees: c1 is older but held in wrap-up -> c3
    assert offers(r.drain()) == [("c3", "a1")]
    assert r.waiting("sales") == 1


def test_transfer_to_busy_agent_is_refused() -> None:
    r = make([QueueConfig("q")], [AgentConfig("a1"), AgentConfig("a2")])
    r.pause("a2", 5)
    r.arrive("c1", 10, queue="q")
    r.answer("c1", 11)
    with pytest.raises(RoutingError, match="'a2' cannot take a contact now"):
        r.transfer("c1", 20, "a2", target_type=TargetType.AGENT)


def test_pause_while_busy_takes_effect_after_wrapup() -> None:
    r = make([QueueConfig("q", wrapup_s=10)], [AgentConfig("a1")])
    r.arrive("c1", 0, queue="q")
    r.answer("c1", 1)
    r.pause("a1", 5, reason="lunch")
    r.arrive("c2", 6, queue="q")
    r.hangup("c1", 50)
    r.advance(100)
    ev = r.drain()
    st = [e for e in ev if e.type is E.AGENT_STATE]
    assert [(e.t, e.state, e.reason) for e in st] == [(60, "paused", "lunch")]
    assert offers(ev) == [("c1", "a1")]  # c2 was not offered to the pausing agent
    assert r.waiting("q") == 1


def test_chat_agent_holds_several_contacts() -> None:
    r = make([QueueConfig("chat", wrapup_s=0)], [AgentConfig("a1", capacity=3)])
    for i in range(4):
        r.arrive(f"c{i}", 10 + i, queue="chat", channel="chat")
        if i < 3:
            r.answer(f"c{i}", 10 + i)
    assert offers(r.drain()) == [("c0", "a1"), ("c1", "a1"), ("c2", "a1")]
    assert r.waiting("chat") == 1
    r.hangup("c1", 100)
    assert offers(r.drain()) == [("c3", "a1")]


def test_logout_while_busy_waits_for_the_contact_to_finish() -> None:
    r = make([QueueConfig("q", wrapup_s=0)], [AgentConfig("a1")])
    r.arrive("c1", 0, queue="q")
    r.answer("c1", 1)
    r.logout("a1", 5)
    r.hangup("c1", 9)
    ev = r.drain()
    assert types(ev)[-2:] == ["wrapup_end", "agent_logout"]
    assert ev[-1].t == 9


def test_configuration_errors_name_the_problem() -> None:
    with pytest.raises(RoutingError, match="overflow queue 'nope' does not exist"):
        Router([QueueConfig("q", overflow_queue="nope")], [])
    with pytest.raises(RoutingError, match="agent 'a' names queue 'x', which does not exist"):
        Router([QueueConfig("q")], [AgentConfig("a", queues=("x",))])
    r = Router([QueueConfig("q")], [AgentConfig("a")])
    with pytest.raises(RoutingError, match="unknown queue 'zz'"):
        r.arrive("c", 0, queue="zz")
    with pytest.raises(RoutingError, match="unknown agent 'b'"):
        r.login("b", 0)


def test_every_emitted_event_is_valid() -> None:
    from callcenter.events import validate_event

    r = make([QueueConfig("q", wrapup_s=3, max_wait_s=5)], [AgentConfig("a1")])
    r.arrive("c1", 0, queue="q", caller="+1")
    r.arrive("c2", 1, queue="q")
    r.answer("c1", 2)
    r.hold("c1", 3)
    r.hangup("c1", 9)
    r.advance(50)
    for e in r.drain():
        validate_event(e)


def test_least_occupied_prefers_the_least_busy_agent() -> None:
    q = QueueConfig("q", strategy=Strategy.LEAST_OCCUPIED, wrapup_s=0)
    r = make([q], [AgentConfig("a1"), AgentConfig("a2")])
    r.arrive("c1", 10, queue="q")  # both never busy: tie -> longest idle a1
    r.answer("c1", 10)
    r.hangup("c1", 300)  # a1 busy 290 s, idle since 300
    r.arrive("c2", 350, queue="q")  # a2 busy 0 s < 290 s
    r.answer("c2", 350)
    r.hangup("c2", 360)  # a2 busy 10 s, idle since 360
    r.arrive("c3", 500, queue="q")  # longest idle would pick a1; least occupied picks a2
    assert [a for _, a in offers(r.drain())] == ["a1", "a2", "a2"]
