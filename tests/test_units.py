"""Times and report intervals as people write them (``callcenter.units``)."""

from __future__ import annotations

import pytest

from callcenter.units import DurationError, TimeError, parse_interval, parse_time

T = 1_714_550_400.0  # 2024-05-01T08:00:00Z, by hand: 19844 days * 86400 + 8 h


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T08:00:00Z",
        "2024-05-01T08:00:00",
        "2024-05-01T11:30:00+03:30",
        " 1714550400 ",
        "1714550400.0",
    ],
)
def test_parse_time(text: str) -> None:
    assert parse_time(text) == T


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("yesterday", "expected an ISO 8601"),
        ("1e15", "years 1 to 9999"),
        ("inf", "years 1 to 9999"),
        ("nan", "years 1 to 9999"),
    ],
)
def test_bad_time_names_the_input(text: str, why: str) -> None:
    with pytest.raises(TimeError) as e:
        parse_time(text, what="--from")
    assert str(e.value).startswith(f"--from {text!r}: expected")
    assert why in str(e.value)


def test_parse_interval() -> None:
    assert [parse_interval(x) for x in ("15m", "30m", "1h", "1440m")] == [900, 1800, 3600, 86400]
    for bad in ("7m", "90s", "0m", "25h"):
        with pytest.raises(DurationError, match=f"--interval must be .* got {bad!r}"):
            parse_interval(bad, what="--interval")
