"""The vocabulary of adherence: the activity codes both step functions use, the kinds of
out-of-adherence time, the breakdowns of a report and the options (docs/wfm-adherence.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Final

from callcenter.errors import UserError


class AdherenceError(UserError):
    """Bad adherence options (the roster and the log have their own errors)."""


class Activity(IntEnum):
    """What an agent is doing (actual) or meant to do (scheduled); codes of the sweep."""

    OFF = 0  # logged out / not on shift
    WORK = 1  # logged in and not paused (available, ringing, talking, wrap-up) / on shift
    BREAK = 2  # paused (with a break reason) / in a scheduled break
    OTHER = 3  # paused with a reason that is not a break (only with ``break_reasons``)


class Breakdown(StrEnum):
    AGENT = "agent"
    DAY = "day"
    AGENT_DAY = "agent-day"


OUT_KINDS: Final[tuple[str, ...]] = (
    "late_login",  # logged out in the shift, before the agent's first login in it
    "early_logout",  # logged out in the shift, after the agent's last logged-in moment in it
    "logged_out",  # logged out in the middle of the shift (between two logged-in spells)
    "absent",  # all of a shift never logged into (no grace applies)
    "break_early",  # paused in scheduled work, in a pause that then runs into a break
    "break_overrun",  # paused in scheduled work, in a pause that began in a break
    "unscheduled_pause",  # paused in work in a pause touching no break; any non-break reason
    "worked_in_break",  # working in a scheduled break (late to it, back early, skipped)
)
"""The kinds of out-of-adherence time; in a shift they add up with the in-adherence
time to the shift's length."""


@dataclass(frozen=True, slots=True)
class AdherenceOptions:
    """``grace_s``: the tolerance around each scheduled change (0: none).
    ``break_reasons``: the pause reasons that count as a break (None: every pause does;
    a pause without a reason is ``unspecified``)."""

    grace_s: float = 0.0
    break_reasons: frozenset[str] | None = None

    def __post_init__(self) -> None:
        g = self.grace_s
        if isinstance(g, bool) or not isinstance(g, int | float) or not math.isfinite(g) or g < 0:
            raise AdherenceError(
                f"grace: {g!r} is not valid; expected a non-negative number of seconds"
            )
        if self.break_reasons is not None and not self.break_reasons:
            raise AdherenceError(
                "break reasons: the list is empty; expected at least one pause reason"
            )


DEFAULT_OPTIONS: Final = AdherenceOptions()

__all__ = [
    "DEFAULT_OPTIONS",
    "OUT_KINDS",
    "Activity",
    "AdherenceError",
    "AdherenceOptions",
    "Breakdown",
]
