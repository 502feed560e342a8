"""IVR flows: loading from YAML and the check on save, each refusal with its exact line."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.errors import UserError
from callcenter.voice.ivr import Flow, FlowError, check_flow, flow_from_data, load_flow
from callcenter.voice.ivr.model import CollectNode, MenuNode, MenuOption

# The prompts the test catalogue has, by language (hand-written, not read from disk).
RECORDED = {
    "en": {"welcome", "menu", "again", "enter", "goodbye", "vm-intro", "pick"},
    "ru": {"welcome", "menu", "again", "enter", "goodbye", "vm-intro", "pick"},
}


class Catalogue:
    def has(self, name: str, language: str) -> bool:
        return name in RECORDED.get(language, set())


GOOD = """
name: shop
language: en
languages: [en, ru]
nodes:
  welcome: {kind: play, prompt: welcome, next: main}
  main:
    kind: menu
    prompt: menu
    options: {1: sales, 2: account}
    retry_prompt: again
    on_invalid: bye
  account:
    kind: collect
    prompt: enter
    variable: account
    regex: "[0-9]{4,}"
    on_valid: sales
    on_invalid: bye
  sales: {kind: queue, queue: sales}
  bye: {kind: hangup, prompt: goodbye}
"""


def _edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


def _check(text: str, **kw: object) -> None:
    check_flow(load_flow(text), Catalogue(), **kw)  # type: ignore[arg-type]


def test_a_good_flow_loads_and_passes() -> None:
    flow = load_flow(GOOD)
    check_flow(flow, Catalogue(), queues={"sales"}, hours=set())
    assert flow.start_node == "welcome"
    assert flow.offered == ["en", "ru"]
    main = flow.nodes["main"]
    assert isinstance(main, MenuNode)
    assert main.options == [
        MenuOption(digit="1", next="sales"),
        MenuOption(digit="2", next="account"),
    ]
    assert (main.timeout, main.tries, main.on_timeout) == (5.0, 3, None)  # the defaults
    account = flow.nodes["account"]
    assert isinstance(account, CollectNode) and account.terminator == "#"


def test_a_flow_from_the_admin_pages_json_is_the_same() -> None:
    import yaml

    assert flow_from_data(yaml.safe_load(GOOD)) == load_flow(GOOD)


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        (
            "options: {1: sales, 2: account}",
            "options: {1: sales, 2: acount}",
            "flow 'shop', node 'main': options[2] goes to 'acount', which is not a node of "
            "this flow",
        ),
        (
            "  sales: {kind: queue, queue: sales}",
            "  sales: {kind: queue, queue: sales}\n  lost: {kind: hangup}",
            "flow 'shop', node 'lost': never reached from the start node 'welcome'",
        ),
        (
            "prompt: welcome,",
            "prompt: welcom,",
            "flow 'shop', node 'welcome': prompt 'welcom' has no recording in language 'en' "
            "in the prompt catalogue",
        ),
        (
            "prompt: welcome,",
            "prompt: {en: welcome, ru: privet},",
            "flow 'shop', node 'welcome': prompt 'privet' has no recording in language 'ru' "
            "in the prompt catalogue",
        ),
        (
            "prompt: welcome,",
            "prompt: {en: welcome},",
            "flow 'shop', node 'welcome': prompt has nothing to play in language 'ru'",
        ),
        (
            "retry_prompt: again",
            "retry_prompt: [again, sorry]",
            "flow 'shop', node 'main': retry_prompt 'sorry' has no recording in language 'en' "
            "in the prompt catalogue",
        ),
        (
            "options: {1: sales, 2: account}",
            "options: {1: sales, '1': account}",
            "flow 'shop', node 'main': key '1' is used twice (for 'sales' and 'account')",
        ),
        (
            'regex: "[0-9]{4,}"',
            'regex: "[0-9"',
            "flow 'shop', node 'account': regex '[0-9' is not a valid regular expression "
            "(unterminated character set at position 0)",
        ),
        (
            "variable: account",
            "variable: account\n    min_digits: 9\n    max_digits: 4",
            "flow 'shop', node 'account': min_digits 9 is more than max_digits 4",
        ),
        (
            "variable: account",
            "variable: account\n    terminator: 0",
            "flow 'shop', node 'account': terminator '0' is a digit of the value; use '#' or '*'",
        ),
        (
            "language: en\n",
            "language: de\n",
            "flow 'shop': the default language 'de' is not among the languages offered (en, ru)",
        ),
        (
            "languages: [en, ru]",
            "languages: [en, ru, en]",
            "flow 'shop': language 'en' is listed twice in languages",
        ),
        (
            "nodes:\n",
            "start: begin\nnodes:\n",
            "flow 'shop': start 'begin' is not a node of this flow",
        ),
    ],
)
def test_a_flow_that_cannot_work_is_refused_with_one_line(old: str, new: str, line: str) -> None:
    with pytest.raises(FlowError) as err:
        _check(_edit(GOOD, old, new))
    assert str(err.value) == line
    assert isinstance(err.value, UserError)  # the API answers 422


def test_a_loop_without_exit_is_refused() -> None:
    # a menu whose every branch (keys, invalid, timeout) comes back to itself
    text = _edit(
        _edit(GOOD, "options: {1: sales, 2: account}", "options: {1: sales, 2: account, 3: spin}"),
        "  sales: {kind: queue, queue: sales}",
        "  sales: {kind: queue, queue: sales}\n"
        "  spin: {kind: menu, prompt: menu, options: {1: spin, 2: again}, on_invalid: spin}\n"
        "  again: {kind: play, prompt: again, next: spin}",
    )
    with pytest.raises(FlowError) as err:
        _check(text)
    assert str(err.value) == (
        "flow 'shop', node 'spin': a loop without exit — no queue, voicemail, callback or "
        "hangup can be reached from nodes spin, again"
    )
    # the same menu with a timeout exit to a queue is fine
    _check(_edit(text, "on_invalid: spin}", "on_invalid: spin, on_timeout: sales}"))


def test_unknown_queue_and_hours_names_when_the_center_gives_them() -> None:
    with pytest.raises(FlowError) as err:
        _check(GOOD, queues={"support", "billing"})
    assert str(err.value) == (
        "flow 'shop', node 'sales': queue 'sales' does not exist (known: billing, support)"
    )
    timed = _edit(
        GOOD,
        "  welcome: {kind: play, prompt: welcome, next: main}",
        "  open: {kind: hours, hours: weekdys, open: welcome, closed: bye}\n"
        "  welcome: {kind: play, prompt: welcome, next: main}",
    )
    _check(timed)  # hours names not given: any name passes
    with pytest.raises(FlowError) as err:
        _check(timed, hours={"weekdays"})
    assert str(err.value) == (
        "flow 'shop', node 'open': business hours 'weekdys' do not exist (known: weekdays)"
    )


def test_a_language_choice_must_offer_the_flows_languages() -> None:
    text = _edit(
        GOOD,
        "  welcome: {kind: play, prompt: welcome, next: main}",
        "  lang: {kind: language, prompt: pick, options: {1: en, 2: de}, next: welcome}\n"
        "  welcome: {kind: play, prompt: welcome, next: main}",
    )
    with pytest.raises(FlowError) as err:
        _check(text)
    assert str(err.value) == (
        "flow 'shop', node 'lang': key '2' chooses language 'de', which the flow does not "
        "offer (en, ru)"
    )


def test_hours_nodes_that_lead_back_to_themselves_are_refused() -> None:
    text = _edit(
        GOOD,
        "  welcome: {kind: play, prompt: welcome, next: main}",
        "  a: {kind: hours, hours: x, open: b, closed: welcome}\n"
        "  b: {kind: hours, hours: y, open: a, closed: welcome}\n"
        "  welcome: {kind: play, prompt: welcome, next: main}",
    )
    with pytest.raises(FlowError) as err:
        _check(text)
    assert str(err.value) == (
        "flow 'shop', node 'a': hours nodes lead back to it without playing anything "
        "(a loop the call would spin in)"
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            "name: shop\nlanguage: en\nnodes:\n  a: {kind: hangup}\n  a: {kind: hangup}\n",
            "flow:5: invalid YAML: key 'a' is written twice",
        ),
        (
            "name: shop\nlanguage: en\nnodes: {m: {kind: menu, prompt: x, options: {12: m}, "
            "on_invalid: m}}\n",
            "flow: nodes.m.options[0].digit: expected one telephone key (0-9, * or #), got 12",
        ),
        (
            "name: shop\nlanguage: en\nnodes: {a: {kind: bogus}}\n",
            "flow: nodes.a: input tag 'bogus' found using 'kind' does not match any of the "
            "expected tags: 'play', 'notice', 'menu', 'collect', 'language', 'hours', 'queue', "
            "'voicemail', 'callback', 'hangup'",
        ),
        (
            "name: shop\nlanguage: en\nnodes: {a: {kind: queue}}\n",
            "flow: nodes.a.queue: field required",
        ),
        (
            "name: shop\nlanguage: en\nnodes: {a: {kind: menu, prompt: x, options: {1: a}, "
            "on_invalid: a, tries: 0}}\n",
            "flow: nodes.a.tries: input should be greater than or equal to 1 (got 0)",
        ),
        (
            "name: shop\nlanguage: english\nnodes: {a: {kind: hangup}}\n",
            "flow: language: string should match pattern '^[a-z]{2,3}(_[A-Z]{2})?$' "
            "(got 'english')",
        ),
        ("- just\n- a list\n", "flow: expected a mapping with name, language and nodes"),
        ("name: [shop\n", "flow:2: invalid YAML: did not find expected ',' or ']'"),
    ],
)
def test_a_flow_file_that_cannot_be_read_is_refused_with_one_line(text: str, line: str) -> None:
    with pytest.raises(FlowError) as err:
        load_flow(text)
    assert str(err.value) == line


def test_a_missing_flow_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(FlowError) as err:
        load_flow(tmp_path / "nope.yaml")
    assert str(err.value) == f"{tmp_path / 'nope.yaml'}: no such file"


def test_flows_are_values() -> None:
    flow = load_flow(GOOD)
    assert isinstance(flow, Flow)
    with pytest.raises(ValueError):
        flow.name = "other"  # type: ignore[misc]
