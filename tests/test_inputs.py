"""Shared input rules (``callcenter/inputs.py``): finite numbers, visible names."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from callcenter.inputs import Input, VisibleName, invisible_character


class Sample(Input):
    name: VisibleName = ""
    at: float = 0.0


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Ann\x00", "U+0000 (control character)"),
        ("a\tb", "U+0009 (control character)"),
        ("a\x9fb", "U+009F (control character)"),
        ("a\u200bb", "U+200B (ZERO WIDTH SPACE)"),
        ("a\u2060b", "U+2060 (WORD JOINER)"),
        ("\ufeffAnn", "U+FEFF (ZERO WIDTH NO-BREAK SPACE)"),
        ("a\u202ab", "U+202A (LEFT-TO-RIGHT EMBEDDING)"),
        ("a\u202eb", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("a\u2069b", "U+2069 (POP DIRECTIONAL ISOLATE)"),
        ("a\u2028b", "U+2028 (LINE SEPARATOR)"),
    ],
)
def test_invisible_characters_are_found(text: str, found: str) -> None:
    assert invisible_character(text) == found
    with pytest.raises(ValidationError, match=re.escape(f"contains {found};")):
        Sample(name=text)


@pytest.mark.parametrize(
    "text",
    ["Ann Smith", "Zoë O'Brien", "Иван Петров", "Jonas Petraitis-Žemaitis",
     "می\u200cخواهم", "क्\u200dष", "李小龙", ""],
)  # fmt: skip
def test_names_of_real_people_pass(text: str) -> None:
    assert invisible_character(text) is None
    assert Sample(name=text).name == text


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "NaN", "Infinity"])
def test_numbers_must_be_finite(value: object) -> None:
    with pytest.raises(ValidationError, match="at\n  Input should be a finite number"):
        Sample(at=value)  # type: ignore[arg-type]
    assert Sample(at=1e308).at == 1e308
