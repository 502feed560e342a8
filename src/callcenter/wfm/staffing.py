"""Staffing per interval: agents needed for a service target, then agents to roster.

Input is the *interval table* a forecast writes (one row per queue and interval):
``queue``, ``interval_start`` (ISO 8601, UTC), ``interval_s``, ``contacts`` (expected
offered contacts) and ``aht_s`` (mean handle time, after-call work included).  For every
row, :func:`staff_intervals` finds the fewest agents on the phones (``agents``) meeting
all targets with Erlang C or Erlang A, all rows at once (numpy arrays, no Python loop
per row), and the agents to schedule, ``required = ceil(agents / (1 - shrinkage))``.
The predicted ``service_level``, ``asa_s``, ``occupancy``, ``prob_wait`` and (Erlang A)
``abandon`` are added beside them.  :func:`callcenter.wfm.staffing_check.simulate_plan`
checks a plan by running the simulator on it.

Definitions, formulas and sources: docs/wfm-staffing.md.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import numpy as np
import orjson
import polars as pl

from callcenter.errors import InputFileError, UserError
from callcenter.queueing.erlang import MAX_TRAFFIC
from callcenter.queueing.erlang_a import agents_erlang_a_array, erlang_a_arrays
from callcenter.queueing.erlang_arrays import erlang_c_staffing

__all__ = [
    "COLUMNS",
    "Model",
    "PlanTotals",
    "Shrinkage",
    "SimTotals",
    "StaffingInputError",
    "StaffingOptions",
    "StaffingPlan",
    "Targets",
    "check_interval_table",
    "read_interval_table",
    "staff_intervals",
]

COLUMNS: Final = ("queue", "interval_start", "interval_s", "contacts", "aht_s")
"""The interval table's columns, in order (forecast output, staffing input)."""

OUTPUT_COLUMNS: Final = (
    "traffic",
    "agents",
    "required",
    "prob_wait",
    "service_level",
    "asa_s",
    "occupancy",
    "abandon",
)
"""What staffing adds to each row (``abandon`` is null under Erlang C)."""

UTC = dt.UTC


class StaffingInputError(UserError):
    """A staffing input (option, table cell) out of range: names it, its value, the range."""


def _bad(name: str, value: object, expected: str) -> StaffingInputError:
    shown = format(value, ".12g") if isinstance(value, float) else str(value)
    return StaffingInputError(f"{name}: {shown} is not valid; expected {expected}")


def _fraction(name: str, value: float | None, *, closed: bool = False) -> float | None:
    if value is None:
        return None
    ok = math.isfinite(value) and value > 0 and (value <= 1 if closed else value < 1)
    if not ok:
        top = "1 inclusive" if closed else "1 exclusive"
        raise _bad(name, value, f"a fraction between 0 exclusive and {top} (0.8 means 80%)")
    return float(value)


def _positive(name: str, value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise _bad(name, value, "a positive number of seconds")
    return None if value is None else float(value)


# --------------------------------------------------------------------------- options


class Model(StrEnum):
    ERLANG_C = "erlang-c"  # nobody hangs up (M/M/n)
    ERLANG_A = "erlang-a"  # exponential patience (M/M/n+M)


@dataclass(frozen=True, slots=True)
class Shrinkage:
    """Paid time off the phones, as fractions of paid time, by cause (``breaks``,
    ``absence``, ``training``, ``other``; or one ``total``).

    Causes are independent shares of what is left, so they combine as
    ``1 - (1 - a)(1 - b)...``: 10 % breaks and 8 % absence leave 0.9 x 0.92 = 82.8 % of
    rostered time on the phones, a shrinkage of 17.2 % (not 18 %).
    """

    parts: tuple[tuple[str, float], ...] = ()

    @classmethod
    def of(cls, total: float | None = None, **parts: float | None) -> Shrinkage:
        given = {k: v for k, v in parts.items() if v is not None}
        if total is not None and given:
            raise StaffingInputError(
                "give either --shrinkage (a total) or its parts (--breaks, --absence, "
                "--training, --other), not both"
            )
        items = {"total": total} if total is not None else given
        for name, v in items.items():
            if not (math.isfinite(v) and 0 <= v < 1):
                raise _bad(
                    f"--{name.replace('total', 'shrinkage')}", v, "a fraction from 0 to 1 exclusive"
                )
        return cls(tuple((k, float(v)) for k, v in items.items() if v is not None))

    @property
    def total(self) -> float:
        keep = 1.0
        for _, v in self.parts:
            keep *= 1.0 - v
        return 1.0 - keep

    def required(self, agents: np.ndarray) -> np.ndarray:
        """Agents to roster so that ``agents`` are on the phones: the smallest m with
        ``m (1 - shrinkage) >= agents``.  The 1e-9 absorbs float rounding (7 / 0.7 is
        10.000000000000002, which must give 10, not 11)."""
        keep = 1.0 - self.total
        return np.ceil(agents / keep - 1e-9).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Targets:
    """What every interval must achieve.  ``service_level`` of calls answered within
    ``target_time_s``; mean wait of answered calls <= ``asa_s``; occupancy <=
    ``max_occupancy``; (Erlang A) share abandoning <= ``max_abandon``.  With no service
    target given, 80 % in 20 s applies."""

    service_level: float | None = None
    target_time_s: float = 20.0
    asa_s: float | None = None
    max_occupancy: float | None = None
    max_abandon: float | None = None

    def checked(self, model: Model) -> Targets:
        if self.max_abandon is not None and model is not Model.ERLANG_A:
            raise StaffingInputError(
                "--max-abandon needs --model erlang-a (Erlang C assumes nobody hangs up)"
            )
        sl = _fraction("--target-sl", self.service_level)
        if sl is None and self.asa_s is None and self.max_abandon is None:
            sl = 0.8
        return Targets(
            service_level=sl,
            target_time_s=_positive("--target-time", self.target_time_s) or 0.0,
            asa_s=_positive("--target-asa", self.asa_s),
            max_occupancy=_fraction("--max-occupancy", self.max_occupancy, closed=True),
            max_abandon=_fraction("--max-abandon", self.max_abandon),
        )


@dataclass(frozen=True, slots=True)
class StaffingOptions:
    targets: Targets = field(default_factory=Targets)
    model: Model = Model.ERLANG_C
    patience_s: float | None = None  # mean patience; Erlang A only
    shrinkage: Shrinkage = field(default_factory=Shrinkage)

    def checked(self) -> StaffingOptions:
        patience = _positive("--patience", self.patience_s)
        if self.model is Model.ERLANG_A and patience is None:
            raise StaffingInputError(
                "--model erlang-a needs --patience (the callers' mean patience, e.g. 3m)"
            )
        if self.model is Model.ERLANG_C and patience is not None:
            raise StaffingInputError(
                "--patience only applies to --model erlang-a (Erlang C assumes nobody hangs up)"
            )
        return replace(self, targets=self.targets.checked(self.model), patience_s=patience)


# --------------------------------------------------------------------------- the table


def _at(source: str, i: int, kind: str) -> str:
    """Where row ``i`` (0-based) is: a CSV line, a JSON item or a frame row."""
    return {"csv": f"{source}:{i + 2}", "json": f"{source}: item {i + 1}"}.get(
        kind, f"{source}: row {i + 1}"
    )


def _parse_start(value: str) -> dt.datetime | None:
    try:
        t = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _starts(col: pl.Series) -> pl.Series:
    """Interval starts as UTC datetimes (null where unreadable); naive times are UTC.
    Text is parsed once per distinct value (a table repeats its interval starts)."""
    utc = pl.Datetime("us", "UTC")
    if isinstance(col.dtype, pl.Datetime):
        zone = col.dtype.time_zone
        col = col.dt.replace_time_zone("UTC") if zone is None else col.dt.convert_time_zone("UTC")
        return col.cast(utc).alias("interval_start")
    text = col.cast(pl.String)
    parsed = {v: _parse_start(v) for v in text.drop_nulls().unique().to_list()}
    return text.replace_strict(parsed, default=None, return_dtype=utc).alias("interval_start")


def _numbers(col: pl.Series) -> pl.Series:
    if col.dtype.is_numeric():
        return col.cast(pl.Float64)
    return col.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)


_CHECKS: Final[dict[str, tuple[str, Any]]] = {
    "interval_s": (
        "a whole number of seconds > 0 (e.g. 1800)",
        lambda v: v.is_finite() & (v > 0) & (v == v.floor()),
    ),
    "contacts": ("a number of contacts >= 0", lambda v: v.is_finite() & (v >= 0)),
    "aht_s": ("a positive number of seconds", lambda v: v.is_finite() & (v > 0)),
}


def check_interval_table(
    frame: pl.DataFrame, source: str = "table", *, kind: str = "frame"
) -> pl.DataFrame:
    """The interval table ``frame`` checked and typed: ``interval_start`` as UTC datetimes,
    numbers as floats / ints, extra columns kept after the five.  Raises
    :class:`StaffingInputError` (or :class:`InputFileError` from a file) naming the first
    bad row, the column, the value and what is expected."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise StaffingInputError(
            f"{source}: missing column {missing[0]!r}; expected columns {', '.join(COLUMNS)}"
        )
    if frame.height == 0:
        raise StaffingInputError(f"{source}: the interval table has no rows")
    first_bad: list[tuple[int, int, str, object, str]] = []  # (row, column order, ...)
    queue = frame["queue"].cast(pl.String).str.strip_chars()
    bad = queue.is_null() | (queue == "")
    if bad.any():
        i = int(bad.arg_true()[0])
        first_bad.append((i, 0, "queue", frame["queue"][i], "a queue name"))
    starts = _starts(frame["interval_start"])
    bad = starts.is_null()
    if bad.any():
        i = int(bad.arg_true()[0])
        expected = "an ISO 8601 time like 2026-03-02T08:00:00Z"
        first_bad.append((i, 1, "interval_start", frame["interval_start"][i], expected))
    numbers: dict[str, pl.Series] = {}
    for order, (name, (expected, rule)) in enumerate(_CHECKS.items(), start=2):
        values = _numbers(frame[name])
        numbers[name] = values
        bad = ~(rule(values).fill_null(False))
        if bad.any():
            i = int(bad.arg_true()[0])
            first_bad.append((i, order, name, frame[name][i], expected))
    if first_bad:
        i, _, name, value, expected = min(first_bad, key=lambda b: (b[0], b[1]))
        shown = repr(value) if isinstance(value, str) or value is None else value
        message = f"{name}: {shown} is not valid; expected {expected}"
        if kind == "csv":
            raise InputFileError(source, message, line=i + 2)
        raise StaffingInputError(f"{_at(source, i, kind)}: {message}")
    extras = [c for c in frame.columns if c not in COLUMNS and c not in OUTPUT_COLUMNS]
    out = pl.DataFrame(
        {
            "queue": queue,
            "interval_start": starts,
            "interval_s": numbers["interval_s"].cast(pl.Int64),
            "contacts": numbers["contacts"],
            "aht_s": numbers["aht_s"],
        }
    ).hstack(frame.select(extras))
    dup = out.select(pl.struct("queue", "interval_start").is_duplicated()).to_series()
    if dup.any():
        i = int(dup.arg_true()[1] if dup.sum() > 1 else dup.arg_true()[0])
        row = out.row(i, named=True)
        raise StaffingInputError(
            f"{_at(source, i, kind)}: queue {row['queue']!r} has interval "
            f"{row['interval_start']:%Y-%m-%dT%H:%M:%SZ} twice; expected one row per "
            "queue and interval"
        )
    return out


def read_interval_table(path: str | Path) -> pl.DataFrame:
    """Read and check an interval table: CSV, or JSON (a list of objects) by suffix."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(p, "no such file")
    if p.suffix.lower() == ".json":
        try:
            data = orjson.loads(p.read_bytes())
        except orjson.JSONDecodeError as e:
            raise InputFileError(p, f"not valid JSON ({e})") from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InputFileError(p, "expected a JSON list of objects, one per interval")
        if not data:
            raise InputFileError(p, "the interval table has no rows")
        names = list(dict.fromkeys(c for r in data for c in r))
        frame = pl.DataFrame(
            {c: [_plain(r.get(c)) for r in data] for c in names},
            schema={c: pl.String for c in names},
        )
        return check_interval_table(frame, str(p), kind="json")
    try:
        frame = pl.read_csv(p, infer_schema=False)
    except pl.exceptions.NoDataError:
        raise InputFileError(p, "the interval table is empty; expected a header row") from None
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as e:
        raise InputFileError(p, f"cannot be read as CSV ({str(e).splitlines()[0]})") from None
    return check_interval_table(frame, str(p), kind="csv")


def _plain(value: object) -> str | None:
    return None if value is None else str(value)


# --------------------------------------------------------------------------- staffing


@dataclass(frozen=True, slots=True)
class PlanTotals:
    contacts: float
    agent_hours: float  # on the phones
    required_hours: float  # rostered (shrinkage included)
    service_level: float | None  # contact-weighted over the intervals
    asa_s: float | None
    abandon: float | None
    occupancy: float | None  # busy agent-hours / agent-hours


@dataclass(frozen=True, slots=True)
class SimTotals:
    """The whole plan as simulated (sums over every interval and replication)."""

    days: int  # replications of each date
    seed: int
    contacts: float  # simulated contacts per replication
    service_level: float | None  # answered within T / (answered + abandoned + timed out)
    asa_s: float | None  # mean wait of answered calls
    abandon: float | None  # abandoned / (answered + abandoned + timed out)


@dataclass(frozen=True, slots=True)
class StaffingPlan:
    """The staffed interval table, the options that produced it and, once checked by
    simulation, the simulated totals."""

    table: pl.DataFrame
    options: StaffingOptions
    simulated: SimTotals | None = None

    def totals(self) -> PlanTotals:
        t = self.table
        hours = t["interval_s"].cast(pl.Float64) / 3600.0
        contacts = float(t["contacts"].sum())

        def weighted(col: str) -> float | None:
            if col not in t.columns or contacts == 0 or t[col].null_count() == t.height:
                return None
            v = (t[col].fill_nan(None) * t["contacts"]).sum()
            return float(v) / contacts

        agent_h = float((t["agents"] * hours).sum())
        carried = t["occupancy"] * t["agents"] * hours
        return PlanTotals(
            contacts=contacts,
            agent_hours=agent_h,
            required_hours=float((t["required"] * hours).sum()),
            service_level=weighted("service_level"),
            asa_s=weighted("asa_s"),
            abandon=weighted("abandon"),
            occupancy=float(carried.sum()) / agent_h if agent_h else None,
        )


def staff_intervals(
    table: pl.DataFrame, options: StaffingOptions | None = None, *, source: str = "table"
) -> StaffingPlan:
    """Staff every row of an interval table (checked first: :func:`check_interval_table`).

    All rows are solved together as arrays: Erlang C by the vectorised search of
    :func:`callcenter.queueing.erlang_arrays.agents_erlang_c_array` (same agents as the scalar
    ``agents_for_service_level``), Erlang A by gallop + bisection over rows.
    """
    opts = (options or StaffingOptions()).checked()
    table = check_interval_table(table, source)
    goal = opts.targets
    contacts = table["contacts"].to_numpy().astype(np.float64)
    aht = table["aht_s"].to_numpy().astype(np.float64)
    period = table["interval_s"].to_numpy().astype(np.float64)
    traffic = contacts * aht / period
    if (traffic > MAX_TRAFFIC).any():
        i = int(np.argmax(traffic > MAX_TRAFFIC))
        raise _bad(
            f"{_at(source, i, 'frame')}: traffic",
            float(traffic[i]),
            f"at most {MAX_TRAFFIC:.0f} Erlangs",
        )
    t = goal.target_time_s
    abandon: np.ndarray | None = None
    if opts.model is Model.ERLANG_C:
        agents, c = erlang_c_staffing(
            traffic, aht, target_sl=goal.service_level, target_time_s=t,
            target_asa_s=goal.asa_s, max_occupancy=goal.max_occupancy,
        )  # fmt: skip
        wait, sl, asa, occ = c.prob_wait, c.service_level, c.asa_s, c.occupancy
    else:
        assert opts.patience_s is not None
        agents = agents_erlang_a_array(
            traffic, aht, opts.patience_s, target_sl=goal.service_level, target_time_s=t,
            target_asa_s=goal.asa_s, max_abandon=goal.max_abandon,
            max_occupancy=goal.max_occupancy,
        )  # fmt: skip
        m = erlang_a_arrays(agents, traffic, aht, opts.patience_s, t)
        wait, sl, asa, occ, abandon = (
            m.prob_wait, m.service_level, m.asa_s, m.occupancy, m.prob_abandon,
        )  # fmt: skip
    out = table.with_columns(
        pl.Series("traffic", traffic),
        pl.Series("agents", agents, dtype=pl.Int64),
        pl.Series("required", opts.shrinkage.required(agents), dtype=pl.Int64),
        pl.Series("prob_wait", wait),
        pl.Series("service_level", sl),
        pl.Series("asa_s", asa),
        pl.Series("occupancy", occ),
        pl.Series("abandon", abandon, dtype=pl.Float64)
        if abandon is not None
        else pl.lit(None, dtype=pl.Float64).alias("abandon"),
    )
    return StaffingPlan(table=out, options=opts)


def plan_records(plan: StaffingPlan) -> list[dict[str, Any]]:
    """The plan's rows as JSON-ready dicts (times as ISO 8601 ``...Z``; NaN/inf as null)."""
    t = plan.table.with_columns(
        pl.col("interval_start").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    rows = t.to_dicts()
    for r in rows:
        for k, v in r.items():
            if isinstance(v, float) and not math.isfinite(v):
                r[k] = None
    return rows


def options_summary(opts: StaffingOptions) -> Mapping[str, Any]:
    """The options as plain data (for JSON output and captions)."""
    g = opts.targets
    return {
        "model": opts.model.value,
        "target_sl": g.service_level,
        "target_time_s": g.target_time_s,
        "target_asa_s": g.asa_s,
        "max_occupancy": g.max_occupancy,
        "max_abandon": g.max_abandon,
        "patience_s": opts.patience_s,
        "shrinkage": opts.shrinkage.total,
        "shrinkage_parts": dict(opts.shrinkage.parts),
    }
