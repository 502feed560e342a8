"""What a KPI report is asked for: breakdown, interval, service-level definition, thresholds."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from callcenter.errors import UserError

SECONDS_PER_DAY = 86_400


class SlMode(StrEnum):
    """Which service-level definition a report shows (all three are always computed).

    ``answered``   answered within T / answered                       (Asterisk)
    ``offered``    answered within T / (answered + abandoned + timed out)   (ICMI)
    ``excl_short`` answered within T / (answered + abandoned - short abandoned + timed out)
    """

    ANSWERED = "answered"
    OFFERED = "offered"
    EXCL_SHORT = "excl_short"


SL_MODE_TEXT: dict[SlMode, str] = {
    SlMode.ANSWERED: "answered within T / answered (Asterisk)",
    SlMode.OFFERED: "answered within T / (answered + abandoned + timed out) (ICMI)",
    SlMode.EXCL_SHORT: ("answered within T / (answered + abandoned − short abandons + timed out)"),
}


class Breakdown(StrEnum):
    """The rows of a report (a ``total`` row is always added)."""

    INTERVAL = "interval"  # one row per (interval, queue) plus an all-queues row per interval
    QUEUE = "queue"  # one row per (queue, channel)
    AGENT = "agent"
    DAY = "day"  # calendar day, UTC
    CHANNEL = "channel"  # voice, chat, ... (the channel of each contact's arrive event)


class KpiSettingsError(UserError):
    """A KPI setting with a value that cannot be used."""


@dataclass(frozen=True, slots=True)
class KpiSettings:
    """Options of a KPI report.  Build with keywords; :meth:`validated` checks them."""

    by: Breakdown = Breakdown.QUEUE
    interval_s: int = 1800  # a whole number of minutes that divides a day
    sl_threshold_s: float = 20.0  # service level: answered within this wait
    sl_mode: SlMode = SlMode.OFFERED
    short_abandon_s: float = 5.0  # abandons with wait < this are "short"

    def to_dict(self) -> dict[str, Any]:
        """The ``settings`` block of a report's JSON (docs/kpis.md)."""
        return {
            "by": self.by.value,
            "interval_s": self.interval_s,
            "sl_mode": self.sl_mode.value,
            "sl_definition": SL_MODE_TEXT[self.sl_mode],
            "sl_threshold_s": self.sl_threshold_s,
            "short_abandon_s": self.short_abandon_s,
        }

    def validated(self) -> KpiSettings:
        """Return ``self`` or raise :class:`KpiSettingsError` naming the bad value."""
        iv = self.interval_s
        if iv <= 0 or iv % 60 or SECONDS_PER_DAY % iv:
            raise KpiSettingsError(
                f"interval must be a whole number of minutes that divides a day "
                f"(e.g. 15m, 30m, 60m), got {iv} s"
            )
        for name, value in (
            ("service-level threshold", self.sl_threshold_s),
            ("short-abandon threshold", self.short_abandon_s),
        ):
            if not math.isfinite(value) or value < 0:
                raise KpiSettingsError(f"{name} must be >= 0 seconds, got {value!r}")
        return self
