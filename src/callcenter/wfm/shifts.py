"""The scheduler's inputs: shift templates and agents, validated.

* ``load_shifts(path)`` reads shift templates (YAML): start windows and step, lengths,
  days of the week, break rules;
* ``load_agents(path, shifts)`` reads agents (YAML): skills, allowed templates,
  availability, days off, weekly limits, minimum rest; ``make_agents(n)`` makes ``n``
  interchangeable agents instead;
* the requirements (the interval table) are read by
  :mod:`callcenter.wfm.schedule.requirements`.

Every problem becomes one :class:`ScheduleInputError` line naming the file, the key or
line, the bad value and what was expected.  The file formats are documented in
``docs/wfm-schedule.md``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from callcenter.errors import InputFileError, UserError
from callcenter.units import format_duration, parse_duration
from callcenter.yamlfile import error_location, read_yaml

DAY_S = 86400
#: Every duration and time of day in the inputs is a multiple of this (5 minutes), so the
#: scheduler's time grid is never finer than 5 minutes.
QUANTUM_S = 300
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ScheduleInputError(InputFileError):
    """An input file of the scheduler that cannot be used."""


class ScheduleError(UserError):
    """A scheduling request that cannot be met, explained in one line."""


# ---------------------------------------------------------------------------- field parsers


def _quantum(seconds: float, raw: object) -> int:
    if not math.isfinite(seconds) or seconds % QUANTUM_S:
        raise ValueError(f"{raw!r} is not a whole number of 5-minute steps (like 15m, 1h30m)")
    return int(seconds)


def _duration_s(v: Any) -> int:
    """'15m', '1h30m', '900s' or a number of seconds -> seconds, a multiple of 5 minutes."""
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise ValueError(f"expected a duration like 15m or 1h30m, got {v!r}")
    if isinstance(v, str):
        neg = v.strip().startswith("-")
        try:
            secs = parse_duration(v.strip().removeprefix("-"), what="duration")
        except UserError as e:
            raise ValueError(str(e)) from None
        return -_quantum(secs, v) if neg else _quantum(secs, v)
    if v < 0:
        return -_quantum(-float(v), v)
    return _quantum(float(v), v)


def _clock(v: Any, *, limit_h: int = 48) -> int:
    """'08:30' -> seconds after midnight; up to ``limit_h`` hours ('26:00' = 02:00 next day)."""
    if not isinstance(v, str):
        raise ValueError(f"expected a quoted time of day like '08:30', got {v!r}")
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", v)
    if m is None or int(m.group(2)) >= 60:
        raise ValueError(f"expected a time of day like '08:30', got {v!r}")
    secs = int(m.group(1)) * 3600 + int(m.group(2)) * 60
    if secs > limit_h * 3600:
        raise ValueError(f"time of day {v!r} is past {limit_h}:00")
    return _quantum(secs, v)


def _clock_range(v: Any) -> tuple[int, int]:
    """'06:00-09:00' -> (21600, 32400); a single time '08:00' -> (28800, 28800)."""
    if not isinstance(v, str) or v.count("-") > 1:
        raise ValueError(f"expected a time range like '06:00-09:00' or a time '08:00', got {v!r}")
    if "-" not in v:
        return _clock(v), _clock(v)
    a, b = (_clock(x) for x in v.split("-"))
    if b < a:
        raise ValueError(f"time range {v!r} ends before it starts (write 26:00 for 02:00 next day)")
    return a, b


def _weekdays(v: Any) -> frozenset[int]:
    """['mon-fri', 'sun'] or 'mon-fri' -> {0, 1, 2, 3, 4, 6} (0 = Monday)."""
    items = [v] if isinstance(v, str) else v
    if not isinstance(items, list | tuple):
        raise ValueError(f"expected weekday names like [mon-fri, sun], got {v!r}")
    out: set[int] = set()
    for item in items:
        parts = str(item).strip().lower().split("-")
        if not 1 <= len(parts) <= 2 or any(p[:3] not in WEEKDAYS or not p for p in parts):
            raise ValueError(
                f"expected weekday names like mon, tue, ..., sun or mon-fri; got {item!r}"
            )
        a, b = WEEKDAYS.index(parts[0][:3]), WEEKDAYS.index(parts[-1][:3])
        out.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(b + 1)])
    return frozenset(out)


def _listify(v: Any) -> Any:
    return v if isinstance(v, list | tuple) else [v]


Duration = Annotated[int, BeforeValidator(_duration_s)]
Clock = Annotated[int, BeforeValidator(_clock)]
ClockRange = Annotated[tuple[int, int], BeforeValidator(_clock_range)]
Weekdays = Annotated[frozenset[int], BeforeValidator(_weekdays)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# ---------------------------------------------------------------------------- shift templates


class BreakRule(_Model):
    """A break inside every shift of a template.

    ``within: [3h, 5h]`` means the break lies entirely between 3 and 5 hours after the
    shift starts; a negative offset counts from the end (``[-2h, -30m]``).  ``length`` is
    one duration or a list of allowed ones (the solver picks).
    """

    name: str = Field(default="break", min_length=1)
    length: Annotated[list[Duration], BeforeValidator(_listify)] = Field(min_length=1)
    paid: bool = True
    within: tuple[Duration, Duration]

    @model_validator(mode="after")
    def _check(self) -> BreakRule:
        if any(x <= 0 for x in self.length):
            raise ValueError("break 'length' must be positive")
        a, b = self.within
        if (a >= 0) == (b >= 0) and b <= a:
            raise ValueError("'within' must be [earliest start, latest end], in that order")
        return self


class ShiftTemplate(_Model):
    """A kind of shift: when it may start, how long it lasts, which days, which breaks."""

    name: str = Field(min_length=1)
    start: Annotated[list[ClockRange], BeforeValidator(_listify)] = Field(min_length=1)
    start_step: Duration = 1800
    length: Annotated[list[Duration], BeforeValidator(_listify)] = Field(min_length=1)
    end_by: Clock | None = None
    days: Weekdays = frozenset(range(7))
    min_gap: Duration = 0
    breaks: list[BreakRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> ShiftTemplate:
        if self.start_step <= 0:
            raise ValueError("'start_step' must be positive")
        if any(x <= 0 or x > DAY_S for x in self.length):
            raise ValueError("'length' must be more than 0 and at most 24h")
        if any(a >= DAY_S for a, _ in self.start):
            raise ValueError("'start' windows must begin before 24:00 (a shift starts on its day)")
        if self.min_gap < 0:
            raise ValueError("'min_gap' must not be negative")
        if not self.days:
            raise ValueError("'days' is empty")
        return self

    def starts(self) -> list[int]:
        """Allowed start times (seconds after midnight), in order."""
        out = {s for a, b in self.start for s in range(a, min(b, DAY_S - 1) + 1, self.start_step)}
        return sorted(out)


@dataclass(frozen=True, slots=True)
class ShiftShape:
    """One way to work a template: start (seconds after midnight), length, where each
    break may start ((length, earliest, latest) offsets from the shift start), paid time."""

    start: int
    length: int
    breaks: tuple[tuple[int, int, int], ...]
    paid_s: int


def _break_bounds(t: ShiftTemplate, length: int, lengths: tuple[int, ...]) -> list[int] | str:
    """Earliest and latest start offsets of each break (flattened), or why they cannot fit."""
    windows = [tuple(x if x >= 0 else length + x for x in r.within) for r in t.breaks]
    lo, earliest = [], t.min_gap
    for (a, _), n in zip(windows, lengths, strict=True):
        lo.append(max(a, earliest))
        earliest = lo[-1] + n + t.min_gap
    hi, latest_end = [0] * len(lengths), length - t.min_gap
    for k in reversed(range(len(lengths))):
        hi[k] = min(windows[k][1], latest_end) - lengths[k]
        latest_end = hi[k] - t.min_gap
    for k, rule in enumerate(t.breaks):
        if lo[k] > hi[k]:
            gap = f", {format_duration(t.min_gap)} of work around each break" if t.min_gap else ""
            w0, w1 = (format_duration(x) for x in windows[k])
            return (
                f"break {rule.name!r} ({format_duration(lengths[k])} within {w0}-{w1} of the start"
                f"{gap}) cannot start before {format_duration(lo[k])} and must start by "
                f"{format_duration(max(hi[k], 0))}"
            )
    return [x for pair in zip(lo, hi, strict=True) for x in pair]


def clock(seconds: int) -> str:
    """Seconds after midnight as HH:MM (26:00 past midnight)."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def template_shapes(t: ShiftTemplate) -> list[ShiftShape]:
    """Every valid (start, length, break lengths) of ``t``; :class:`ScheduleError` (one
    line) when a length cannot hold the breaks or no shift fits before ``end_by``."""
    shapes: list[tuple[int, tuple[tuple[int, int, int], ...], int]] = []
    for length in t.length:
        why = ""
        for lengths in itertools.product(*(r.length for r in t.breaks)):
            bounds = _break_bounds(t, length, lengths)
            if isinstance(bounds, str):
                why = why or bounds
                continue
            unpaid = sum(n for n, r in zip(lengths, t.breaks, strict=True) if not r.paid)
            brk = tuple((n, bounds[2 * k], bounds[2 * k + 1]) for k, n in enumerate(lengths))
            shapes.append((length, brk, length - unpaid))
        if why and not any(s[0] == length for s in shapes):
            raise ScheduleError(
                f"shift template {t.name!r}: its breaks do not fit a "
                f"{format_duration(length)} shift: {why}"
            )
    out = [
        ShiftShape(s, n, brk, paid)
        for s in t.starts()
        for n, brk, paid in shapes
        if t.end_by is None or s + n <= t.end_by
    ]
    if not out:
        raise ScheduleError(
            f"shift template {t.name!r}: no shift fits its window: the earliest start "
            f"{clock(t.starts()[0])} plus the shortest length {format_duration(min(t.length))} "
            f"ends after end_by {clock(t.end_by or 0)}"
        )
    return out


class ShiftsConfig(_Model):
    templates: list[ShiftTemplate] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ShiftsConfig:
        names = [t.name for t in self.templates]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"template names must be unique; repeated: {', '.join(dup)}")
        return self

    def template(self, name: str) -> ShiftTemplate:
        return next(t for t in self.templates if t.name == name)


# ---------------------------------------------------------------------------- agents


def _hours(v: Any) -> float | None:
    """40 (hours) or '37h30m' -> seconds."""
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise ValueError(f"expected hours like 40 or 37h30m, got {v!r}")
    if isinstance(v, str):
        try:
            return parse_duration(v, what="hours")
        except UserError as e:
            raise ValueError(str(e)) from None
    if v < 0 or not math.isfinite(v):
        raise ValueError(f"expected a number of hours >= 0, got {v!r}")
    return float(v) * 3600


class Availability(_Model):
    """When an agent can work: on these weekdays or dates, between ``from`` and ``to``
    (a shift must lie inside one window of its start date).  A date listed in some window
    uses only its date windows; other dates use the weekday windows."""

    days: Weekdays | None = None
    dates: list[dt.date] | None = None
    start: Clock = Field(default=0, alias="from")
    end: Clock = Field(default=DAY_S, alias="to")

    @model_validator(mode="after")
    def _check(self) -> Availability:
        if self.end <= self.start:
            raise ValueError("'to' must be after 'from' (write 26:00 for 02:00 next day)")
        if self.days is not None and self.dates is not None:
            raise ValueError("give 'days' or 'dates' in one window, not both")
        return self


def _day_off(v: Any) -> dt.date | frozenset[int]:
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v.strip()):
        try:
            return dt.date.fromisoformat(v.strip())
        except ValueError:
            raise ValueError(f"{v!r} is not a valid date (YYYY-MM-DD)") from None
    return _weekdays(v)


class Agent(_Model):
    """One agent (or ``count`` alike, named ``name-01`` ...) and their rules."""

    name: str = Field(min_length=1)
    count: int = Field(default=1, ge=1)
    skills: list[str] = Field(default_factory=list)
    templates: list[str] | None = None
    availability: list[Availability] | None = None
    days_off: list[Annotated[dt.date | frozenset[int], BeforeValidator(_day_off)]] = Field(
        default_factory=list
    )
    max_shifts_per_week: int | None = Field(default=5, ge=0, le=7)
    min_shifts_per_week: int = Field(default=0, ge=0, le=7)
    max_hours_per_week: Annotated[float | None, BeforeValidator(_hours)] = None
    min_hours_per_week: Annotated[float, BeforeValidator(_hours)] = 0.0
    min_rest: Duration = 11 * 3600

    @model_validator(mode="after")
    def _check(self) -> Agent:
        if (
            self.max_shifts_per_week is not None
            and self.min_shifts_per_week > self.max_shifts_per_week
        ):
            raise ValueError(
                f"min_shifts_per_week {self.min_shifts_per_week} is more than "
                f"max_shifts_per_week {self.max_shifts_per_week}"
            )
        if (
            self.max_hours_per_week is not None
            and self.min_hours_per_week > self.max_hours_per_week
        ):
            raise ValueError(
                f"min_hours_per_week {self.min_hours_per_week / 3600:g} is more than "
                f"max_hours_per_week {self.max_hours_per_week / 3600:g}"
            )
        if self.min_rest < 0:
            raise ValueError("'min_rest' must not be negative")
        return self

    def names(self) -> list[str]:
        if self.count == 1:
            return [self.name]
        width = len(str(self.count))
        return [f"{self.name}-{i:0{width}d}" for i in range(1, self.count + 1)]

    def expand(self) -> list[Agent]:
        """One agent per name (``count`` 1 each)."""
        if self.count == 1:
            return [self]
        return [self.model_copy(update={"name": n, "count": 1}) for n in self.names()]

    def is_off(self, day: dt.date) -> bool:
        return any(
            d == day if isinstance(d, dt.date) else day.weekday() in d for d in self.days_off
        )

    def windows(self, day: dt.date) -> list[tuple[int, int]]:
        """Availability windows on ``day`` (seconds after its midnight); [] when off."""
        if self.is_off(day):
            return []
        if self.availability is None:
            return [(0, 2 * DAY_S)]
        dated = [w for w in self.availability if w.dates is not None and day in w.dates]
        if dated:
            return [(w.start, w.end) for w in dated]
        return [
            (w.start, w.end)
            for w in self.availability
            if w.dates is None and (w.days is None or day.weekday() in w.days)
        ]


class AgentsConfig(_Model):
    agents: list[Agent] = Field(min_length=1)


def make_agents(count: int, **rules: Any) -> list[Agent]:
    """``count`` interchangeable agents named ``agent-01`` ... (default rules unless given)."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ScheduleError(f"--agent-count: {count!r} is not valid; expected a whole number >= 1")
    return Agent(name="agent", count=count, **rules).expand()


# ---------------------------------------------------------------------------- YAML files


def _read_yaml(path: Path, what: str) -> dict[str, Any]:
    data = read_yaml(path, ScheduleInputError)
    if not isinstance(data, dict):
        raise ScheduleInputError(
            path, f"expected a mapping with {what!r} (see docs/wfm-schedule.md)"
        )
    return data


def _validate(model: type[_Model], data: dict[str, Any], path: Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = error_location(tuple(err["loc"]))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see docs/wfm-schedule.md)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif "input" in err and err["type"] != "value_error":
            msg = f"{msg} (got {err['input']!r})"
        more = f" (and {e.error_count() - 1} more problems)" if e.error_count() > 1 else ""
        raise ScheduleInputError(path, f"{where}: {msg}{more}" if where else msg + more) from None


def load_shifts(path: str | Path) -> ShiftsConfig:
    """Read shift templates from YAML (``templates: [...]``)."""
    p = Path(path)
    config: ShiftsConfig = _validate(ShiftsConfig, _read_yaml(p, "templates"), p)
    return config


def load_agents(path: str | Path, shifts: ShiftsConfig | None = None) -> list[Agent]:
    """Read agents from YAML (``defaults: {...}`` and ``agents: [...]``), one per name.

    ``defaults`` apply to every agent that does not set the key.  With ``shifts``, every
    template an agent names must exist there.
    """
    p = Path(path)
    data = _read_yaml(p, "agents")
    defaults = data.pop("defaults", None) or {}
    if not isinstance(defaults, dict):
        raise ScheduleInputError(p, "defaults: expected a mapping of agent keys")
    agents = data.get("agents")
    if isinstance(agents, list):
        data["agents"] = [{**defaults, **a} if isinstance(a, dict) else a for a in agents]
    config: AgentsConfig = _validate(AgentsConfig, data, p)
    if shifts is not None:
        known = [t.name for t in shifts.templates]
        for i, agent in enumerate(config.agents):
            for name in agent.templates or ():
                if name not in known:
                    raise ScheduleInputError(
                        p,
                        f"agents[{i}].templates: unknown template {name!r} "
                        f"(the shift templates are: {', '.join(known)})",
                    )
    out = [one for agent in config.agents for one in agent.expand()]
    seen: set[str] = set()
    for agent in out:
        if agent.name in seen:
            raise ScheduleInputError(p, f"agent name {agent.name!r} is used twice")
        seen.add(agent.name)
    return out
