"""Etiquette checks (seed 002) on real Harper Valley calls and hand-made ru/fa/lt calls.

Harper Valley truth, established by reading each call's agent turns (first three and
last three with words) by hand:

* greeting: all 57 agents open with "hello" within the first 6 s;
* introduction: 56 of 57 say their name ("my name is ...", or in 0697acf8 "this is
  linda from harper valley national bank"); the agent of 01f7ec37 only says "hello" and
  "okay one second please";
* anything else: 56 of 57 ask "is there anything else I can help you with" near the
  end; the agent of ff0296d0 closes with "thank you for calling" without asking;
* thanks: 55 of 57; the agents of 3a20358e ("okay well have a great day", "bye bye") and
  a7ccc337 ("okay you have a great day") do not thank the caller at the end.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harper_valley import calls

from callcenter.speech.conversation import Conversation, Speaker, Utterance
from callcenter.speech.etiquette import Check, check_etiquette, load_etiquette
from callcenter.speech.lists import ListError
from callcenter.speech.transcribe import Word

NO_INTRODUCTION = {"01f7ec3700424bc0"}
NO_ANYTHING_ELSE = {"ff0296d00e5e4184"}
NO_THANKS = {"3a20358e1bfc4a17", "a7ccc3379af44b9f"}


def _conv(
    language: str, *turns: tuple[str, float, str], duration: float | None = None
) -> Conversation:
    return Conversation.from_turns(
        ((sp, t, t + 2.0, text) for sp, t, text in turns), language, duration
    )


def test_harper_valley_rates() -> None:
    rules = load_etiquette("en")
    results = {c.sid: check_etiquette(c.conversation, rules) for c in calls()}
    assert len(results) == 57

    def failing(name: str) -> set[str]:
        return {sid for sid, e in results.items() if e.checks[name].passed is False}

    assert failing("greeting") == set()
    assert failing("introduction") == NO_INTRODUCTION
    assert failing("anything_else") == NO_ANYTHING_ELSE
    assert failing("thanks") == NO_THANKS
    assert failing("jargon") == set()
    for e in results.values():
        assert e.interruptions.passed is None  # no count given
        assert all(c.passed is not None for n, c in e.checks.items() if n != "interruptions")
        assert e.known == 5
    rate = {n: sum(e.checks[n].passed is True for e in results.values()) / 57 for n in
            ("greeting", "introduction", "anything_else", "thanks")}  # fmt: skip
    assert rate == {
        "greeting": 57 / 57,
        "introduction": 56 / 57,
        "anything_else": 56 / 57,
        "thanks": 55 / 57,
    }


def test_harper_valley_first_call_times() -> None:
    call = next(c for c in calls() if c.sid == "0002f70f7386445b")
    e = check_etiquette(call.conversation, load_etiquette("en"), agent_interruptions=0)
    # agent turns: 1.7 "hello this is harper valley national bank", 4.8 "my name is
    # elizabeth", 36.1 "is there anything else i can help you with today",
    # 43.6 "thank you for calling have a great day"
    assert e.greeting.passed is True
    assert e.greeting.at_s == pytest.approx(1.7, abs=0.05)
    assert e.greeting.evidence == "hello this is harper valley national bank"
    assert e.introduction == Check(True, pytest.approx(4.8, abs=0.05), "my name is elizabeth")
    assert e.anything_else.passed is True
    assert e.anything_else.at_s == pytest.approx(36.1, abs=0.05)
    assert e.thanks.at_s == pytest.approx(43.6, abs=0.05)
    assert e.interruptions == Check(True, None, "0 agent interruptions (limit 2)")
    assert (e.passed, e.known, e.score) == (6, 6, 1.0)


def test_russian_call_with_word_times() -> None:
    text = "Здравствуйте! Меня зовут Алёна, чем могу помочь?"
    starts = [0.8, 1.6, 2.1, 2.6, 3.1, 3.4, 3.9]
    words = tuple(Word(s, s + 0.4, f" {w}", 0.9) for s, w in zip(starts, text.split(), strict=True))
    conv = Conversation(
        "ru",
        (
            Utterance(Speaker.AGENT, 0.8, 4.3, text, words),
            Utterance(Speaker.CALLER, 5.0, 8.0, "Хочу заблокировать карту"),
            Utterance(
                Speaker.AGENT, 9.0, 12.0, "Карта заблокирована. Могу ли я ещё чем-то помочь?"
            ),
            Utterance(Speaker.CALLER, 13.0, 14.0, "Нет, спасибо"),
            Utterance(Speaker.AGENT, 15.0, 17.0, "Спасибо за обращение, всего доброго!"),
        ),
        18.0,
    )
    e = check_etiquette(conv, load_etiquette("ru"), agent_interruptions=3)
    assert e.greeting == Check(True, 0.8, text)
    assert e.introduction.passed is True
    assert e.introduction.at_s == 1.6  # the word "Меня"
    assert e.anything_else.passed is True and e.anything_else.at_s == 9.0
    assert e.thanks.passed is True and e.thanks.at_s == 15.0
    assert e.interruptions == Check(False, None, "3 agent interruptions (limit 2)")
    assert (e.passed, e.known) == (5, 6)


def test_persian_call() -> None:
    conv = _conv(
        "fa",
        ("agent", 1.0, "سلام، وقتتون بخير. مريم هستم، در خدمت شما هستم"),  # Arabic ي
        ("caller", 4.0, "سلام، كارتم گم شده"),
        ("agent", 8.0, "كارت شما مسدود شد. امر ديگري هست؟"),
        ("caller", 11.0, "نه، ممنون"),
        ("agent", 13.0, "خواهش می\u200cکنم، ممنون از تماستون"),
    )
    e = check_etiquette(conv, load_etiquette("fa"))
    assert e.greeting.passed is True and e.greeting.at_s == 1.0
    assert e.introduction.passed is True and e.introduction.at_s == 1.0
    assert e.anything_else.passed is True and e.anything_else.at_s == 8.0
    assert e.thanks.passed is True and e.thanks.at_s == 13.0


def test_persian_polite_phrases_are_not_introductions() -> None:
    conv = _conv(
        "fa",
        ("agent", 1.0, "سلام، در خدمت شما هستم"),
        ("agent", 3.0, "متوجه هستم"),
    )
    e = check_etiquette(conv, load_etiquette("fa"))
    assert e.greeting.passed is True
    assert e.introduction == Check(False, None, None)


def test_lithuanian_call() -> None:
    conv = _conv(
        "lt",
        ("agent", 0.5, "Laba diena, mano vardas Rasa"),
        ("caller", 3.0, "Noriu sužinoti likutį"),
        ("agent", 6.0, "Ar galiu dar kuo nors padėti?"),
        ("agent", 9.0, "Ačiū, kad skambinote"),
    )
    e = check_etiquette(conv, load_etiquette("lt"))
    assert [e.greeting.passed, e.introduction.passed, e.anything_else.passed] == [True] * 3
    assert e.thanks.passed is True


def test_windows() -> None:
    rules = load_etiquette("en")
    late = _conv(
        "en",
        ("agent", 1.0, "[noise]"),
        ("agent", 2.0, "okay"),
        ("agent", 3.0, "one moment"),
        ("agent", 4.0, "sorry about that"),
        ("agent", 5.0, "hello my name is ann"),  # 4th agent utterance with words
        ("agent", 300.0, "thank you"),  # not near the end of a 1000 s call
        ("agent", 900.0, "anything else"),
        ("agent", 998.0, "bye"),
        duration=1000.0,
    )
    e = check_etiquette(late, rules)
    assert e.greeting == Check(False, None, None)
    assert e.introduction.passed is True  # 5 utterances allowed for the name
    assert e.thanks == Check(False, None, None)
    assert e.anything_else.passed is True and e.anything_else.at_s == 900.0
    slow = _conv("en", ("agent", 45.0, "hello"), ("caller", 47.0, "hi"))
    assert check_etiquette(slow, rules).greeting.passed is False  # after 30 s


def test_caller_words_do_not_count() -> None:
    conv = _conv(
        "en",
        ("caller", 1.0, "hello my name is bob, thank you"),
        ("agent", 3.0, "what do you need"),
    )
    e = check_etiquette(conv, load_etiquette("en"))
    assert [e.greeting.passed, e.introduction.passed, e.thanks.passed] == [False] * 3


def test_jargon() -> None:
    conv = _conv(
        "en",
        ("caller", 1.0, "is it in your CRM?"),
        ("agent", 3.0, "hello, I will open an escalation ticket"),
        ("agent", 6.0, "the backend is slow"),
    )
    e = check_etiquette(conv, load_etiquette("en"))
    assert e.jargon == Check(False, 3.0, "escalation ticket, backend")
    clean = _conv("en", ("agent", 1.0, "hello"), ("caller", 2.0, "my CRM"))
    assert check_etiquette(clean, load_etiquette("en")).jargon == Check(True, None, None)


def test_mono_is_unknown() -> None:
    conv = _conv("en", ("unknown", 1.0, "hello my name is ann"), ("unknown", 5.0, "thanks"))
    e = check_etiquette(conv, load_etiquette("en"))
    assert e.greeting == Check(None, 1.0, "speakers unknown: hello my name is ann")
    assert e.thanks.passed is None and e.jargon.passed is None
    assert (e.passed, e.known, e.score) == (0, 0, None)


def test_no_rules_for_language_and_no_agent() -> None:
    e = check_etiquette(_conv("xx", ("agent", 1.0, "hello")), load_etiquette("xx"))
    assert e.greeting == Check(None, None, "no phrases for this language")
    assert e.jargon.passed is None
    e = check_etiquette(_conv("en", ("caller", 1.0, "hello")), load_etiquette("en"))
    assert e.greeting == Check(None, None, "the agent says nothing")


def test_to_dict() -> None:
    e = check_etiquette(_conv("en", ("agent", 1.23456, "hello")), load_etiquette("en"),
                        agent_interruptions=1)  # fmt: skip
    d = e.to_dict()
    assert d["checks"]["greeting"] == {"passed": True, "at_s": 1.235, "evidence": "hello"}
    assert d["checks"]["introduction"] == {"passed": False, "at_s": None, "evidence": None}
    assert list(d["checks"]) == [
        "greeting", "introduction", "anything_else", "thanks", "interruptions", "jargon",
    ]  # fmt: skip
    assert (d["passed"], d["known"]) == (3, 6)  # greeting, interruptions, jargon
    assert d["score"] == 0.5


def test_custom_file_overrides_limits(tmp_path: Path) -> None:
    p = tmp_path / "et.yaml"
    p.write_text("greeting:\n  phrases: [hey there]\n  within_s: 5\ninterruptions:\n  max: 0\n")
    rules = load_etiquette("en", p)
    assert rules.greeting.seconds == 5.0 and rules.max_interruptions == 0
    assert rules.thanks.phrases == ()  # not given: no phrases, check unknown
    e = check_etiquette(_conv("en", ("agent", 1.0, "hey there")), rules, agent_interruptions=1)
    assert e.greeting.passed is True and e.interruptions.passed is False
    assert e.thanks.passed is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("greeting: [hello\n", "not valid YAML at line"),
        ("greeting:\n  within_s: '20'\n", "greeting.within_s: input should be a valid number"),
        ("greeting:\n  within_s: -1\n", "greeting.within_s: input should be greater than 0"),
        ("greeting:\n  within: 3\n", "greeting.within: unknown key (expected one of: phrases,"),
        ("closing: {}\n", "closing: unknown key (expected one of: greeting, introduction"),
        ("interruptions:\n  max: 1.5\n", "interruptions.max: input should be a valid integer"),
        ("thanks:\n  phrases: hello\n", "thanks.phrases: input should be a valid list"),
        ("jargon:\n  phrases: ['a*']\n", "jargon.phrases.0: 'a*': stem 'a*' is too short"),
        ("introduction:\n  exclude: [_]\n", "introduction.exclude.0: '_': a phrase needs"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "et.yaml"
    p.write_text(text)
    with pytest.raises(ListError) as e:
        load_etiquette("en", p)
    assert str(e.value).startswith(f"{p}: ")
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_opening_thanks_is_not_the_closing_thanks_in_a_short_call() -> None:
    rules = load_etiquette("en")
    conv = _conv(
        "en",
        ("agent", 0.5, "thank you for calling, my name is anna"),
        ("caller", 4.0, "what are your opening hours"),
        ("agent", 8.0, "nine to five. is there anything else?"),
        ("caller", 12.0, "no"),
        ("agent", 20.0, "okay bye"),
        duration=30.0,
    )
    e = check_etiquette(conv, rules)
    assert e.thanks.passed is False  # the only thanks is in the opening (0.5 s of 30 s)
    assert e.anything_else.passed is False  # ends at 10 s, before the second half
    assert e.greeting.passed is True and e.greeting.at_s == 0.5
