"""Schedule adherence, conformance and absenteeism: the event log against a roster.

>>> from callcenter.wfm.adherence import AdherenceOptions, compute_adherence  # doctest: +SKIP
>>> report = compute_adherence("day.jsonl", "roster.csv", AdherenceOptions(grace_s=120))
>>> report.total.adherence, report.total.conformance, report.total.absenteeism

Every agent has two step functions of time: the **scheduled** activity (``work`` on shift,
``break`` in a scheduled break, ``off`` outside shifts; from the roster) and the
**actual** activity (``work`` logged in and not paused, ``break`` paused, ``off`` logged
out; from the events, as the KPI engine derives agent states).  Both change only at
known instants, so everything is measured exactly on time spans, never by sampling: a
sweep over the sorted change points of both (+code at a start, -code at an end, running
sums per agent) cuts the time line into *elementary segments* in which nothing changes,
and every figure is a sum of segment lengths.  Columnar (polars) throughout; only the
activity *changes* enter the sweep (logins, logouts, pauses), not the millions of call
events between them.  Definitions, with a worked example: docs/wfm-adherence.md.
"""

from __future__ import annotations

import os
from typing import Final

import polars as pl

from callcenter.events import STATE_AFTER_TYPE, AgentState, EventType
from callcenter.wfm.adherence.channels import channel_work
from callcenter.wfm.adherence.options import (
    DEFAULT_OPTIONS,
    OUT_KINDS,
    Activity,
    AdherenceOptions,
    Breakdown,
)
from callcenter.wfm.adherence.report import AdherenceReport, Period, build_report
from callcenter.wfm.adherence.roster import Roster, load_roster
from callcenter.wfm.adherence.scheduled import SCHED_COLS, schedule_changes, shift_table

E = EventType
DAY_S: Final = 86_400


# --------------------------------------------------------------------------------------
# actual activity


_STATE_TYPES: Final = sorted({*STATE_AFTER_TYPE, E.AGENT_STATE.value})
UNSPECIFIED: Final = "unspecified"
_ACT_OF_TYPE: Final[dict[str, int]] = {
    etype: int(Activity.OFF if state == AgentState.LOGGED_OUT.value else Activity.WORK)
    for etype, state in STATE_AFTER_TYPE.items()
}
"""The activity each state-changing event type leaves its agent in (``agent_state``
events: their ``state``).  No event type but ``agent_state`` pauses an agent."""


def _activity(options: AdherenceOptions) -> pl.Expr:
    """The actual activity code an event leaves its agent in (the KPI engine's agent
    state, see ``STATE_AFTER_TYPE``, mapped to off / work / break / other)."""
    typ, state = pl.col("type"), pl.col("state")
    pause: pl.Expr = pl.lit(int(Activity.BREAK))
    if options.break_reasons is not None:
        reasons = sorted(options.break_reasons)
        reason = pl.col("reason")
        is_break = (
            pl.when(reason.is_null())
            .then(pl.lit(UNSPECIFIED in options.break_reasons))
            .otherwise(reason.cast(pl.String).is_in(reasons))
        )
        pause = pl.when(is_break).then(pause).otherwise(pl.lit(int(Activity.OTHER)))
    of_state = (
        pl.when(state == AgentState.LOGGED_OUT.value)
        .then(pl.lit(int(Activity.OFF)))
        .when(state == AgentState.PAUSED.value)
        .then(pause)
        .otherwise(pl.lit(int(Activity.WORK)))
    )
    of_type = typ.replace_strict(_ACT_OF_TYPE, default=None, return_dtype=pl.Int64)
    return pl.when(typ == E.AGENT_STATE.value).then(of_state).otherwise(of_type).cast(pl.Int64)


def activity_changes(events: pl.DataFrame, end: float, options: AdherenceOptions) -> pl.DataFrame:
    """``agent``, ``t``, ``d_act``: each change of an agent's actual activity code.

    ``events`` is a checked, time-ordered events frame; each agent's last activity lasts
    until ``end`` (the log's last event), where it drops to ``off``.  Events that leave
    the activity unchanged (an offer, a connect ... of a working agent) are dropped, so
    the few rows left are logins, logouts, pauses and returns.
    """
    typ = pl.col("type")
    rows = (
        events.filter(
            typ.is_in(_STATE_TYPES)
            & pl.col("agent").is_not_null()
            & ((typ != E.AGENT_STATE.value) | pl.col("state").is_not_null())
        )
        .select(
            pl.col("agent").to_physical().alias("_aid"),  # sort integers, not names
            "agent",
            "t",
            _activity(options).alias("act"),
        )
        .sort("_aid", maintain_order=True)  # stable: each agent's events stay in time order
    )
    first = (pl.col("_aid") != pl.col("_aid").shift(1)).fill_null(True)
    prev = pl.when(first).then(pl.lit(int(Activity.OFF))).otherwise(pl.col("act").shift(1))
    last = (pl.col("_aid") != pl.col("_aid").shift(-1)).fill_null(True)
    changes = rows.select("agent", "t", (pl.col("act") - prev).alias("d_act"))
    closing = rows.filter(last).select(
        "agent", pl.lit(end).alias("t"), (-pl.col("act")).alias("d_act")
    )
    return (
        pl.concat([changes, closing])
        .filter(pl.col("d_act") != 0)
        .with_columns(pl.col("agent").cast(pl.String))
    )


# --------------------------------------------------------------------------------------
# the sweep


def timeline(
    events: pl.DataFrame, roster: Roster, options: AdherenceOptions = DEFAULT_OPTIONS
) -> pl.DataFrame:
    """The elementary segments of every agent's time line (exact, no sampling).

    Columns: ``agent``, ``start``, ``end``, ``act`` (actual :class:`Activity` code),
    ``sched`` (scheduled code: 0 off, 1 work, 2 break), ``shift`` (the roster shift's
    number + 1, 0 outside shifts) and ``allowed`` (the actual activity is scheduled within
    the grace of this instant).  ``events``: a checked events frame (see
    :func:`callcenter.kpi.frame.load_events`).
    """
    if not events["t"].is_sorted():
        events = events.sort("t", maintain_order=True)
    end = float(events["t"][-1])
    lo = min([float(events["t"][0]), *(s.start for s in roster.shifts)]) - 1.0
    hi = max([end, *(s.end for s in roster.shifts)]) + 1.0
    g = float(options.grace_s)
    changes = pl.concat(
        [activity_changes(events, end, options), schedule_changes(roster, g, lo, hi)],
        how="diagonal",
    )
    deltas = ["d_act", *SCHED_COLS]
    names = ["act", "sched", "shift", "w", "b", "o"]
    swept = (
        changes.group_by("agent", "t")
        .agg(pl.col(c).fill_null(0).sum() for c in deltas)
        .sort("agent", "t")
        .select(
            "agent",
            pl.col("t").alias("start"),
            pl.col("t").shift(-1).over("agent").alias("end"),
            *(
                pl.col(d).cum_sum().over("agent").alias(n)
                for d, n in zip(deltas, names, strict=True)
            ),
        )
        .filter(pl.col("end").is_not_null() & (pl.col("end") > pl.col("start")))
    )
    act = pl.col("act")
    allowed = (
        pl.when(act == int(Activity.WORK))
        .then(pl.col("w") > 0)
        .when(act == int(Activity.BREAK))
        .then(pl.col("b") > 0)
        .when(act == int(Activity.OFF))
        .then(pl.col("o") > 0)
        .otherwise(pl.lit(False))
    )
    return swept.select("agent", "start", "end", "act", "sched", "shift", allowed.alias("allowed"))


def _classify(seg: pl.DataFrame) -> pl.DataFrame:
    """Adds ``absent`` (the segment's shift was never logged into) and ``kind`` (the
    out-of-adherence kind of a shift segment, null when in adherence or off shift)."""
    act, sched = pl.col("act"), pl.col("sched")
    in_shift = pl.col("shift") > 0
    logged = (
        seg.filter(in_shift & (act != int(Activity.OFF)))
        .group_by("shift")
        .agg(pl.col("start").min().alias("first_in"), pl.col("end").max().alias("last_in"))
    )
    is_brk = act == int(Activity.BREAK)
    new_run = is_brk & ~is_brk.shift(1).over("agent").fill_null(False)
    seg = seg.with_columns(run=pl.when(is_brk).then(new_run.cum_sum()))
    runs = (
        seg.filter(is_brk & in_shift & (sched == int(Activity.BREAK)))
        .group_by("run")
        .agg(pl.col("start").min().alias("first_ov"))
    )
    seg = seg.join(logged, on="shift", how="left").join(runs, on="run", how="left")
    absent = in_shift & pl.col("first_in").is_null()
    paused_in_work = is_brk & (sched == int(Activity.WORK))
    kind = (
        pl.when(absent)
        .then(pl.lit("absent"))
        .when(pl.col("allowed") | ~in_shift)
        .then(pl.lit(None, dtype=pl.String))
        .when((act == int(Activity.OFF)) & (pl.col("end") <= pl.col("first_in")))
        .then(pl.lit("late_login"))
        .when((act == int(Activity.OFF)) & (pl.col("start") >= pl.col("last_in")))
        .then(pl.lit("early_logout"))
        .when(act == int(Activity.OFF))
        .then(pl.lit("logged_out"))
        .when(paused_in_work & pl.col("first_ov").is_not_null())
        .then(
            pl.when(pl.col("end") <= pl.col("first_ov"))
            .then(pl.lit("break_early"))
            .otherwise(pl.lit("break_overrun"))
        )
        .when((act == int(Activity.OTHER)) | paused_in_work)
        .then(pl.lit("unscheduled_pause"))
        .otherwise(pl.lit("worked_in_break"))  # the one case left: working in a break
    )
    return seg.with_columns(absent=absent, kind=kind).drop("first_in", "last_in", "run", "first_ov")


_MEASURES: Final[tuple[str, ...]] = (
    "shift_s",
    "scheduled_work_s",
    "scheduled_break_s",
    "in_adherence_s",
    "graced_s",
    *(f"{k}_s" for k in OUT_KINDS),
    "worked_s",
    "off_shift_work_s",
    "off_shift_paused_s",
)


def _secs(cond: pl.Expr) -> pl.Expr:
    return pl.when(cond).then(pl.col("end") - pl.col("start")).otherwise(0.0)


def agent_day_table(seg: pl.DataFrame, roster: Roster) -> pl.DataFrame:
    """Seconds of every measure and shift counts per (agent, date), from classified
    segments.  Shift time counts on its shift's ``date``; time outside shifts on the UTC
    calendar day it happens (cut at midnight)."""
    shifts = shift_table(roster)
    act, sched = pl.col("act"), pl.col("sched")
    in_adh = pl.col("allowed") & ~pl.col("absent")
    inside = seg.filter(pl.col("shift") > 0).join(shifts.select("shift", "date"), on="shift")
    inside = inside.select(
        "agent",
        "date",
        _secs(pl.lit(True)).alias("shift_s"),
        _secs(sched == int(Activity.WORK)).alias("scheduled_work_s"),
        _secs(sched == int(Activity.BREAK)).alias("scheduled_break_s"),
        _secs(in_adh).alias("in_adherence_s"),
        _secs(in_adh & (act != sched)).alias("graced_s"),
        *(_secs(pl.col("kind") == k).alias(f"{k}_s") for k in OUT_KINDS),
        _secs(act == int(Activity.WORK)).alias("worked_s"),
    )
    outside = (
        seg.filter((pl.col("shift") == 0) & (act != int(Activity.OFF)))
        .with_columns(
            day=pl.int_ranges(
                (pl.col("start") // DAY_S).cast(pl.Int64),
                (pl.col("end") // DAY_S).cast(pl.Int64) + 1,
            )
        )
        .explode("day")
        .with_columns(
            start=pl.max_horizontal("start", pl.col("day") * DAY_S),
            end=pl.min_horizontal("end", (pl.col("day") + 1) * DAY_S),
            date=pl.col("day").cast(pl.Int32).cast(pl.Date),
        )
        .filter(pl.col("end") > pl.col("start"))
        .select(
            "agent",
            "date",
            _secs(act == int(Activity.WORK)).alias("worked_s"),
            _secs(act == int(Activity.WORK)).alias("off_shift_work_s"),
            _secs(act != int(Activity.WORK)).alias("off_shift_paused_s"),
        )
    )
    sums = (
        pl.concat([inside, outside], how="diagonal")
        .group_by("agent", "date")
        .agg(pl.col(m).fill_null(0.0).sum() for m in _MEASURES)
    )
    absent = seg.filter(pl.col("absent")).select("shift").unique().with_columns(absent=True)
    counts = (
        shifts.join(absent, on="shift", how="left")
        .group_by("agent", "date")
        .agg(
            pl.len().alias("shifts"), pl.col("absent").fill_null(False).sum().alias("absent_shifts")
        )
    )
    table = sums.join(counts, on=["agent", "date"], how="full", coalesce=True)
    return table.with_columns(
        pl.col("shifts", "absent_shifts").fill_null(0).cast(pl.Int64),
        pl.col(*_MEASURES).fill_null(0.0),
    ).sort("agent", "date")


# --------------------------------------------------------------------------------------
# the public entry point


def _load(events: str | os.PathLike[str] | pl.DataFrame) -> tuple[pl.DataFrame, float | None]:
    """The checked, time-ordered events frame and the header's start time (if it has one:
    the simulator writes the first simulated midnight there)."""
    from callcenter.kpi.frame import load_events, prepare_frame
    from callcenter.storage.eventlog import FileLog

    start: object = None
    if isinstance(events, pl.DataFrame):
        frame = prepare_frame(events)
        if "type" in events.columns and events.height and events["type"][0] == E.HEADER.value:
            start = events["t"][0]
    else:
        frame = load_events(events)  # checks the file first: clear errors for bad logs
        start = FileLog(events).header().t
    if not frame["t"].is_sorted():
        frame = frame.sort("t", maintain_order=True)
    header_t = float(start) if isinstance(start, int | float) and start > 0 else None
    return frame, header_t


def compute_adherence(
    events: str | os.PathLike[str] | pl.DataFrame,
    roster: Roster | str | os.PathLike[str],
    options: AdherenceOptions = DEFAULT_OPTIONS,
    by: Breakdown = Breakdown.AGENT,
) -> AdherenceReport:
    """Adherence, conformance and absenteeism of ``roster`` against the event log.

    ``events``: a JSONL or Parquet event log, or a frame of events (columns named as the
    event fields).  ``roster``: a :class:`Roster` or a roster CSV / JSON file.
    """
    ros = roster if isinstance(roster, Roster) else load_roster(roster)
    frame, header_t = _load(events)
    seg = _classify(timeline(frame, ros, options))
    table = agent_day_table(seg, ros)
    first, last = float(frame["t"][0]), float(frame["t"][-1])
    start = header_t if header_t is not None and header_t <= first else first
    period = Period(start=start, end=last, events=frame.height)
    log_agents = frozenset(
        frame.select(pl.col("agent").cast(pl.String).drop_nulls().unique()).to_series().to_list()
    )
    work = channel_work(frame, ros)
    return build_report(
        table, work, ros, options.grace_s, options.break_reasons, by.value, period, log_agents
    )


__all__ = ["activity_changes", "agent_day_table", "compute_adherence", "timeline"]
