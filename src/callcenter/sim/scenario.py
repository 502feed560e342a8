"""The scenario file: a center's queues, agents, shifts and demand, validated by pydantic.

``load_scenario(path)`` turns every problem into one :class:`ScenarioError` line naming the
file, the key path (``queues[1].arrivals.curve``) and what was expected.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callcenter.errors import InputFileError, UserError
from callcenter.routing import QueueConfig, RoutingStep, SkillRequirement, Strategy
from callcenter.sim.distributions import Distribution, Fixed
from callcenter.units import parse_duration
from callcenter.yamlfile import error_location, read_yaml

DAY = 86400.0


class ScenarioError(InputFileError):
    """A scenario file that cannot be used."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(v: Any) -> float:
    if isinstance(v, bool):
        raise ValueError(f"expected a duration like 30, 90s, 15m or 1h; got {v!r}")
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return parse_duration(v)
        except UserError as e:  # pydantic reports ValueErrors with the key path
            raise ValueError(str(e)) from None
    raise ValueError(f"expected a duration like 30, 90s, 15m or 1h; got {v!r}")


def _time_of_day(v: Any) -> float:
    """'08:30' (or minutes as int from YAML's sexagesimal parsing) -> seconds after 00:00."""
    if isinstance(v, str):
        try:
            h, m = v.split(":")
            secs = int(h) * 3600 + int(m) * 60
        except ValueError:
            raise ValueError(f"expected a time of day like '08:30', got {v!r}") from None
        if not 0 <= secs <= DAY:
            raise ValueError(f"time of day must be within 00:00..24:00, got {v!r}")
        return float(secs)
    raise ValueError(f"expected a time of day like '08:30' (quoted), got {v!r}")


class Step(_Model):
    """After waiting ``after``, the queue accepts agents with these skills (widening)."""

    after: float
    skills: dict[str, int] = Field(default_factory=dict)

    _after = field_validator("after", mode="before")(_duration)


class Arrivals(_Model):
    """Demand over the day: ``per_day`` calls shaped by ``curve`` weights, or ``rates``
    (expected calls in each interval).  One value per interval of the scenario."""

    per_day: float | None = Field(default=None, ge=0)
    curve: list[float] | None = None
    rates: list[float] | None = None
    day_factors: list[float] | None = Field(default=None, min_length=7, max_length=7)

    @model_validator(mode="after")
    def _one_way(self) -> Arrivals:
        if (self.rates is None) == (self.per_day is None):
            raise ValueError("give either 'rates' or 'per_day' (with an optional 'curve')")
        for name in ("curve", "rates", "day_factors"):
            values = getattr(self, name)
            if values is not None and any(x < 0 for x in values):
                bad = next(x for x in values if x < 0)
                raise ValueError(f"'{name}' values must be >= 0, got {bad}")
        if self.curve is not None and not any(self.curve):
            raise ValueError("'curve' has no positive weight")
        return self

    def expected(self, intervals: int) -> list[float]:
        """Expected arrivals per interval for one day (before day factors)."""
        if self.rates is not None:
            return list(self.rates)
        assert self.per_day is not None
        curve = self.curve or [1.0] * intervals
        total = sum(curve)
        return [self.per_day * w / total for w in curve]


class Transfer(_Model):
    probability: float = Field(ge=0, le=1)
    to: str


class Callback(_Model):
    """Offer a callback (virtual hold) after ``offer_after`` of waiting."""

    offer_after: float = 60.0
    accept_probability: float = Field(ge=0, le=1)

    _offer_after = field_validator("offer_after", mode="before")(_duration)


class Queue(_Model):
    name: str = Field(min_length=1)
    priority: int = 0
    strategy: Strategy = Strategy.LONGEST_IDLE
    skills: dict[str, int] = Field(default_factory=dict)
    steps: list[Step] = Field(default_factory=list)
    sl_target: float = Field(default=0.8, gt=0, le=1)
    sl_threshold: float = Field(default=20.0, gt=0)
    max_wait: float | None = Field(default=None, gt=0)
    overflow: str | None = None
    ring_timeout: float = Field(default=15.0, gt=0)
    arrivals: Arrivals
    talk: Distribution
    acw: Distribution = Fixed(dist="fixed", value=0.0)
    patience: Distribution | None = None  # None: callers never hang up
    transfer: Transfer | None = None
    callback: Callback | None = None

    _durations = field_validator("sl_threshold", "max_wait", "ring_timeout", mode="before")(
        lambda v: v if v is None else _duration(v)
    )

    def routing_config(self) -> QueueConfig:
        def reqs(skills: dict[str, int]) -> tuple[SkillRequirement, ...]:
            return tuple(SkillRequirement(s, lvl) for s, lvl in sorted(skills.items()))

        return QueueConfig(
            name=self.name,
            priority=self.priority,
            strategy=self.strategy,
            requirements=reqs(self.skills),
            steps=tuple(RoutingStep(s.after, reqs(s.skills)) for s in self.steps),
            sl_target=self.sl_target,
            sl_threshold_s=self.sl_threshold,
            max_wait_s=self.max_wait,
            overflow_queue=self.overflow,
            ring_timeout_s=self.ring_timeout,
            wrapup_s=None,  # the simulator passes each call's sampled after-call work
        )


class Break(_Model):
    start: float
    duration: float = Field(gt=0)
    reason: str = "break"

    _start = field_validator("start", mode="before")(_time_of_day)
    _dur = field_validator("duration", mode="before")(_duration)


class Shift(_Model):
    start: float = 0.0
    end: float = DAY
    breaks: list[Break] = Field(default_factory=list)

    _times = field_validator("start", "end", mode="before")(_time_of_day)

    @model_validator(mode="after")
    def _inside(self) -> Shift:
        if self.end <= self.start:
            raise ValueError("shift 'end' must be after 'start'")
        for b in self.breaks:
            if not (self.start <= b.start and b.start + b.duration <= self.end):
                raise ValueError("every break must lie inside the shift")
        return self


class AgentGroup(_Model):
    """``count`` agents alike, named ``<name>-<n>`` (or ``name`` itself when count is 1)."""

    name: str = Field(min_length=1)
    count: int = Field(default=1, ge=1)
    skills: dict[str, int] = Field(default_factory=dict)
    queues: list[str] | None = None
    capacity: int = Field(default=1, ge=1)
    max_no_answer: int = Field(default=3, ge=0)
    shift: Shift = Shift()

    def names(self) -> list[str]:
        if self.count == 1:
            return [self.name]
        width = len(str(self.count))
        return [f"{self.name}-{i:0{width}d}" for i in range(1, self.count + 1)]


class Ringing(_Model):
    answer_delay: Distribution = Fixed(dist="fixed", value=2.0)
    no_answer_probability: float = Field(default=0.0, ge=0, le=1)


class Callers(_Model):
    """Who calls: a population of caller numbers, so repeat callers and first-contact
    resolution can be measured on a simulated log. Each arrival draws a number with
    probability proportional to ``1 / rank ** zipf`` (0: every number alike)."""

    population: int = Field(ge=1)
    zipf: float = Field(default=0.0, ge=0)
    prefix: str = "+1555"

    def numbers(self, n: int, rng: np.random.Generator) -> list[str]:
        """``n`` caller numbers drawn from the population."""
        if self.zipf > 0:
            ranks = np.arange(1, self.population + 1, dtype=np.float64)
            p = ranks**-self.zipf
            idx = rng.choice(self.population, size=n, p=p / p.sum())
        else:
            idx = rng.integers(0, self.population, size=n)
        width = max(7, len(str(self.population)))
        return [f"{self.prefix}{i + 1:0{width}d}" for i in idx.tolist()]


class Scenario(_Model):
    name: str = "scenario"
    start_date: dt.date = dt.date(2026, 1, 5)  # a Monday; the simulated days follow it
    days: int = Field(default=1, ge=1)
    seed: int = 1
    interval: float = 1800.0  # length of one bucket of the arrival curve
    queues: list[Queue] = Field(min_length=1)
    agents: list[AgentGroup] = Field(min_length=1)
    ringing: Ringing = Ringing()
    callers: Callers | None = None  # None: contacts carry no caller number

    _interval = field_validator("interval", mode="before")(_duration)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.interval <= 0 or DAY % self.interval:
            raise ValueError(f"'interval' must divide a day evenly, got {self.interval:g} s")
        n = int(DAY // self.interval)
        names = [q.name for q in self.queues]
        dup = {x for x in names if names.count(x) > 1}
        if dup:
            raise ValueError(f"queue names must be unique; repeated: {sorted(dup)}")
        for i, q in enumerate(self.queues):
            for field, values in (("curve", q.arrivals.curve), ("rates", q.arrivals.rates)):
                if values is not None and len(values) != n:
                    raise ValueError(
                        f"queues[{i}].arrivals.{field} has {len(values)} values, expected {n} "
                        f"(one per {self.interval / 60:g}-minute interval)"
                    )
            for key, target in (
                ("overflow", q.overflow),
                ("transfer.to", q.transfer and q.transfer.to),
            ):
                if target is not None and target not in names:
                    raise ValueError(
                        f"queues[{i}].{key} names queue {target!r}, which does not exist"
                    )
        for i, g in enumerate(self.agents):
            for qn in g.queues or ():
                if qn not in names:
                    raise ValueError(f"agents[{i}].queues names queue {qn!r}, which does not exist")
        agent_names = [n for g in self.agents for n in g.names()]
        if len(set(agent_names)) != len(agent_names):
            raise ValueError("agent names must be unique (check group names and counts)")
        return self

    @property
    def start_epoch(self) -> float:
        midnight = dt.datetime.combine(self.start_date, dt.time(), tzinfo=dt.UTC)
        return midnight.timestamp()


_DISTRIBUTIONS = ("exponential", "lognormal", "fixed", "uniform", "empirical")


def _loc(loc: tuple[int | str, ...]) -> str:
    return error_location(loc, skip=_DISTRIBUTIONS)


def load_scenario(path: str | Path, **overrides: Any) -> Scenario:
    """Read and validate a scenario YAML; ``overrides`` replace top-level keys (seed, days)."""
    p = Path(path)
    data = read_yaml(p, ScenarioError)
    if not isinstance(data, dict):
        raise ScenarioError(p, "expected a mapping of scenario keys (name, queues, agents, ...)")
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = _loc(tuple(err["loc"]))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see docs/simulation.md)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif "input" in err and err["type"] not in ("value_error",):
            msg = f"{msg} (got {err['input']!r})"
        more = f" (and {e.error_count() - 1} more problems)" if e.error_count() > 1 else ""
        raise ScenarioError(p, f"{where or 'scenario'}: {msg}{more}") from None
