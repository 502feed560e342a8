"""The IVR runner: each path against a hand-written list of the actions it must ask for."""

from __future__ import annotations

import pytest

from callcenter.events import (
    Event,
    EventType,
    EventValidationError,
    event_from_dict,
    validate_event,
)
from callcenter.voice.ivr import (
    CancelTimer,
    Finish,
    Flow,
    FlowError,
    IvrRun,
    Log,
    Outcome,
    Play,
    Record,
    StartTimer,
    StopPlay,
    load_flow,
    luhn_ok,
)

ENTER, CHOICE, LEAVE = EventType.IVR_ENTER, EventType.IVR_CHOICE, EventType.IVR_LEAVE

FLOW = load_flow("""
name: t
language: en
languages: [en, ru]
nodes:
  lang:
    kind: language
    prompt: pick
    options: {1: en, 2: ru}
    timeout: 4
    tries: 1
    next: hours
  hours: {kind: hours, hours: office, open: notice, closed: vm}
  notice: {kind: notice, prompt: {en: rec-en, ru: rec-ru}, next: acct}
  acct:
    kind: collect
    prompt: enter
    variable: account
    label: Account
    min_digits: 4
    max_digits: 12
    checksum: luhn
    tries: 2
    retry_prompt: again
    on_valid: menu
    on_invalid: bye
  menu:
    kind: menu
    prompt: {en: menu, ru: [menu-ru, menu-ru-2]}
    options: {1: sales, 2: help}
    tries: 2
    retry_prompt: again
    on_timeout: help
    on_invalid: bye
  intro: {kind: play, prompt: hello, next: menu}
  sales: {kind: queue, queue: sales, priority: 2}
  help: {kind: queue, queue: help}
  vm: {kind: voicemail, prompt: vm-intro, max_seconds: 60}
  bye: {kind: hangup, prompt: goodbye}
""")


def _run(start: str, *, open_: bool = True, language: str | None = None) -> IvrRun:
    flow = FLOW.model_copy(update={"start": start})
    return IvrRun(flow, language, hours_open=lambda name, now: open_)


def test_a_menu_choice_sends_the_call_to_its_queue() -> None:
    run = _run("menu")
    assert run.start(0.0) == [Log(ENTER, 0.0), Play(["menu"], "en", "play-1", True)]
    assert run.on_played("play-1", 3.0) == [StartTimer(5.0, "timer-2")]
    sales = Outcome("queue", "sales", "en", queue="sales", priority=2)
    assert run.on_digit("1", 4.0) == [
        CancelTimer("timer-2"),
        Log(CHOICE, 4.0, "menu", "1"),
        Log(LEAVE, 4.0, "sales", "queue", "sales"),
        Finish(sales),
    ]
    assert run.outcome == sales
    assert run.on_digit("2", 5.0) == []  # over: nothing more happens


def test_a_menu_timeout_plays_it_again_then_takes_the_timeout_exit() -> None:
    run = _run("menu")
    run.start(0.0)
    run.on_played("play-1", 3.0)
    assert run.on_timer("timer-2", 8.0) == [
        Log(CHOICE, 8.0, "menu", "timeout"),
        Play(["again", "menu"], "en", "play-3", True),
    ]
    assert run.on_played("play-3", 12.0) == [StartTimer(5.0, "timer-4")]
    assert run.on_timer("timer-4", 17.0) == [
        Log(CHOICE, 17.0, "menu", "timeout"),
        Log(LEAVE, 17.0, "help", "queue", "help"),
        Finish(Outcome("queue", "help", "en", queue="help")),
    ]


def test_an_invalid_key_interrupts_the_prompt_then_a_valid_one_is_taken() -> None:
    run = _run("menu")
    run.start(0.0)
    assert run.on_digit("9", 1.0) == [
        StopPlay("play-1"),
        Log(CHOICE, 1.0, "menu", "invalid:9"),
        Play(["again", "menu"], "en", "play-2", True),
    ]
    assert run.on_played("play-1", 1.1) == []  # the stopped playback's end: ignored
    assert run.on_digit("2", 2.0) == [
        StopPlay("play-2"),
        Log(CHOICE, 2.0, "menu", "2"),
        Log(LEAVE, 2.0, "help", "queue", "help"),
        Finish(Outcome("queue", "help", "en", queue="help")),
    ]


def test_tries_used_up_by_invalid_keys_take_the_invalid_exit() -> None:
    run = _run("menu")
    run.start(0.0)
    run.on_digit("9", 1.0)
    assert run.on_digit("*", 2.0) == [
        StopPlay("play-2"),
        Log(CHOICE, 2.0, "menu", "invalid:*"),
        Play(["goodbye"], "en", "play-3", False),
    ]
    assert run.on_digit("1", 2.5) == []  # the goodbye is not interrupted
    assert run.on_played("play-3", 4.0) == [
        Log(LEAVE, 4.0, "bye", "hangup"),
        Finish(Outcome("hangup", "bye", "en")),
    ]


def _type(run: IvrRun, digits: str, t: float) -> list[object]:
    out: list[object] = []
    for d in digits:
        out = list(run.on_digit(d, t))
        t += 0.5
    return out


def test_collect_keeps_a_luhn_valid_number_for_the_agents_card() -> None:
    run = _run("acct")
    assert run.start(0.0) == [Log(ENTER, 0.0), Play(["enter"], "en", "play-1", True)]
    assert run.on_digit("7", 1.0) == [StopPlay("play-1"), StartTimer(3.0, "timer-2")]
    assert run.on_digit("9", 1.5) == [CancelTimer("timer-2"), StartTimer(3.0, "timer-3")]
    _type(run, "927398713", 2.0)  # 79927398713: the textbook Luhn-valid number
    assert run.on_digit("#", 9.0) == [
        CancelTimer("timer-12"),
        Log(CHOICE, 9.0, "acct", "79927398713"),
        Play(["menu"], "en", "play-13", True),
    ]
    assert run.variables == {"account": "79927398713"}
    assert run.labels == {"account": "Account"}
    run.on_digit("1", 10.0)
    assert run.outcome is not None and run.outcome.variables == {"account": "79927398713"}


def test_collect_refuses_a_number_failing_luhn_then_takes_the_invalid_exit() -> None:
    run = _run("acct")
    run.start(0.0)
    assert _type(run, "79927398710#", 1.0)[-2:] == [
        Log(CHOICE, 6.5, "acct", "invalid"),
        Play(["again", "enter"], "en", "play-13", True),
    ]
    assert run.variables == {}
    # a number too short, ended by the silence after its last key
    run.on_digit("4", 8.0)
    assert run.on_timer("timer-14", 11.0) == [
        Log(CHOICE, 11.0, "acct", "invalid"),
        Play(["goodbye"], "en", "play-15", False),
    ]


def test_collect_ends_by_itself_at_max_digits() -> None:
    run = _run("acct")
    run.start(0.0)
    # 12 keys = max_digits, no '#': evaluated at the 12th. By hand, Luhn of 123456789012
    # from the right: 2+2+0+9+8+5+6+1+4+6+2+2 = 47, not a multiple of 10: invalid.
    assert _type(run, "123456789012", 1.0) == [
        CancelTimer("timer-12"),
        Log(CHOICE, 6.5, "acct", "invalid"),
        Play(["again", "enter"], "en", "play-13", True),
    ]


def test_the_luhn_check_against_published_numbers() -> None:
    assert luhn_ok("79927398713")  # the worked example of the Luhn algorithm
    assert luhn_ok("4111111111111111")  # the Visa test card number
    assert luhn_ok("5555555555554444")  # the Mastercard test card number
    assert not luhn_ok("79927398710")
    assert not luhn_ok("4111111111111112")
    assert not luhn_ok("41111a")


def test_a_language_choice_changes_the_later_prompts() -> None:
    seen: list[tuple[str, float]] = []
    flow = FLOW.model_copy(update={"start": "lang"})
    run = IvrRun(flow, hours_open=lambda name, now: seen.append((name, now)) is None)
    assert run.start(0.0) == [Log(ENTER, 0.0), Play(["pick"], "en", "play-1", True)]
    assert run.on_digit("2", 1.0) == [
        StopPlay("play-1"),
        Log(CHOICE, 1.0, "lang", "ru"),
        Log(CHOICE, 1.0, "hours", "open"),
        Play(["rec-ru"], "ru", "play-2", False),
    ]
    assert seen == [("office", 1.0)]
    assert run.on_played("play-2", 3.0) == [Play(["enter"], "ru", "play-3", True)]
    assert run.notice


def test_no_language_chosen_keeps_the_flows_language() -> None:
    run = _run("lang")
    run.start(0.0)
    run.on_played("play-1", 2.0)
    assert run.on_timer("timer-2", 6.0) == [
        Log(CHOICE, 6.0, "lang", "timeout"),
        Log(CHOICE, 6.0, "hours", "open"),
        Play(["rec-en"], "en", "play-3", False),
    ]


def test_a_run_may_start_in_another_offered_language() -> None:
    run = _run("menu", language="ru")
    assert run.start(0.0)[1] == Play(["menu-ru", "menu-ru-2"], "ru", "play-1", True)


def test_closed_hours_go_to_voicemail_and_hanging_up_ends_the_message() -> None:
    run = _run("hours", open_=False)
    assert run.start(0.0) == [
        Log(ENTER, 0.0),
        Log(CHOICE, 0.0, "hours", "closed"),
        Play(["vm-intro"], "en", "play-1", False),
    ]
    assert run.on_played("play-1", 5.0) == [Record(60.0, "record-2")]
    assert run.on_digit("5", 6.0) == []  # keys while recording are the recorder's
    assert run.on_hangup(30.0) == [
        Log(LEAVE, 30.0, "vm", "voicemail"),
        Finish(Outcome("voicemail", "vm", "en", max_seconds=60.0)),
    ]


def test_a_recording_ended_by_its_limit_or_the_pound_key() -> None:
    run = _run("vm")
    run.start(0.0)
    run.on_played("play-1", 5.0)
    assert run.on_recorded("record-9", 65.0) == []  # not this recording
    assert run.on_recorded("record-2", 65.0)[0] == Log(LEAVE, 65.0, "vm", "voicemail")


def test_keys_typed_ahead_skip_the_prompts_that_would_ask_for_them() -> None:
    run = _run("intro")
    assert run.start(0.0) == [Log(ENTER, 0.0), Play(["hello"], "en", "play-1", True)]
    assert run.on_digit("2", 1.0) == [
        StopPlay("play-1"),
        Log(CHOICE, 1.0, "menu", "2"),
        Log(LEAVE, 1.0, "help", "queue", "help"),
        Finish(Outcome("queue", "help", "en", queue="help")),
    ]


def test_keys_during_the_notice_do_not_cut_it_and_are_kept() -> None:
    run = _run("notice")
    assert run.start(0.0) == [Log(ENTER, 0.0), Play(["rec-en"], "en", "play-1", False)]
    assert run.on_digit("4", 1.0) == []
    assert run.on_digit("1", 1.2) == []
    # the notice ends; the account prompt is skipped, "41" is the start of the value
    assert run.on_played("play-1", 2.0) == [StartTimer(3.0, "timer-2")]
    assert run.notice


def test_hanging_up_in_the_ivr_is_an_abandon() -> None:
    run = _run("menu")
    run.start(0.0)
    run.on_played("play-1", 3.0)
    assert run.on_hangup(4.0) == [
        CancelTimer("timer-2"),
        Log(LEAVE, 4.0, "menu", "abandon"),
        Finish(Outcome("abandon", "menu", "en")),
    ]
    assert run.on_timer("timer-2", 8.0) == []


def test_a_run_needs_an_offered_language_and_the_hours() -> None:
    with pytest.raises(FlowError) as err:
        IvrRun(FLOW, "de", hours_open=lambda n, t: True)
    assert str(err.value) == "flow 't': language 'de' is not offered (en, ru)"
    with pytest.raises(FlowError) as err:
        IvrRun(FLOW)
    assert str(err.value) == "flow 't' has hours nodes: give the run hours_open"
    assert isinstance(FLOW, Flow)


def test_the_logged_actions_are_valid_events() -> None:
    assert validate_event(Log(CHOICE, 5.0, "menu", "1").event("c1")) == Event(
        5.0, CHOICE, "c1", target="menu", reason="1"
    )
    leave = Log(LEAVE, 6.0, "sales", "queue", "sales").event("c1")
    assert validate_event(leave) == Event(6.0, LEAVE, "c1", queue="sales", reason="queue")
    assert validate_event(Log(ENTER, 1.0).event("c1")) == Event(1.0, ENTER, "c1")
    with pytest.raises(EventValidationError, match="'ivr_choice' event is missing target"):
        event_from_dict({"t": 1.0, "type": "ivr_choice", "contact": "c1", "reason": "1"})
    with pytest.raises(EventValidationError, match="field 'agent' is not allowed"):
        event_from_dict({"t": 1.0, "type": "ivr_choice", "contact": "c1", "agent": "a"})
