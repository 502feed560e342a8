"""The adherence report: rows by agent, day or agent-day, a total, benchmarks, notes.

Rows are summed from the per-(agent, date) seconds of :mod:`callcenter.wfm.adherence.compute`;
ratios are taken from the sums (never averages of ratios) and are ``None`` when their
denominator is 0.  :data:`ROW_KEYS` is the stable JSON / CSV shape (docs/wfm-adherence.md):
keys are only ever added, never renamed or removed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field, fields
from typing import Any, Final

import orjson
import polars as pl

from callcenter.kpi.benchmarks import Benchmark
from callcenter.kpi.results import BenchmarkResult
from callcenter.wfm.adherence.roster import Roster

SECONDS_DECIMALS: Final = 3
RATIO_DECIMALS: Final = 6
SOURCE: Final = "IFC (World Bank Group) via seed 001 (MISSION.md M14)"

BENCHMARKS: Final[tuple[Benchmark, ...]] = (
    Benchmark("adherence", "Schedule adherence", "ratio", "95 %", 0.95, None, SOURCE),
    Benchmark("absenteeism", "Absenteeism", "ratio", "5 %", None, 0.05, SOURCE),
)
"""Seed 001's figures: adherence met at >= 95 %, absenteeism (shifts) at <= 5 %."""


@dataclass(frozen=True, slots=True)
class Period:
    """The event log's span: first and last event times (epoch s), events read."""

    start: float
    end: float
    events: int


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


@dataclass(frozen=True, slots=True)
class AdherenceRow:
    """Seconds and counts of one row; the ratios are properties."""

    level: str  # "agent" | "day" | "agent-day" | "total"
    agent: str | None
    date: dt.date | None
    shifts: int
    absent_shifts: int
    shift_s: float  # scheduled shift time, breaks included (the adherence denominator)
    scheduled_work_s: float  # shift time minus breaks (the conformance denominator)
    scheduled_break_s: float
    in_adherence_s: float  # actual activity = scheduled (or within the grace)
    graced_s: float  # part of in_adherence_s that only the grace made adherent
    late_login_s: float
    early_logout_s: float
    logged_out_s: float
    absent_s: float  # the shift time of absent shifts
    break_early_s: float
    break_overrun_s: float
    unscheduled_pause_s: float
    worked_in_break_s: float
    worked_s: float  # logged in and not paused, on or off shift
    off_shift_work_s: float  # working while not on a shift (shown, never penalised)
    off_shift_paused_s: float  # logged in but paused while not on a shift
    # what the work went to, by channel (wfm/adherence/channels.py): conversations
    # started, and talk + hold seconds of those ended
    contacts_by_channel: dict[str, int] = field(default_factory=dict)
    talk_s_by_channel: dict[str, float] = field(default_factory=dict)

    @property
    def out_of_adherence_s(self) -> float:
        return self.shift_s - self.in_adherence_s

    @property
    def adherence(self) -> float | None:
        """Time in adherence / scheduled shift time."""
        return _ratio(self.in_adherence_s, self.shift_s)

    @property
    def adherence_excl_absent(self) -> float | None:
        """Adherence of the shifts the agent came to (absent shifts left out)."""
        return _ratio(self.in_adherence_s, self.shift_s - self.absent_s)

    @property
    def conformance(self) -> float | None:
        """Time worked (anywhere in the day) / scheduled work time; may exceed 1."""
        return _ratio(self.worked_s, self.scheduled_work_s)

    @property
    def absenteeism(self) -> float | None:
        """Shifts never logged into / scheduled shifts."""
        return _ratio(self.absent_shifts, self.shifts)

    @property
    def absenteeism_hours(self) -> float | None:
        """Shift time of absent shifts / scheduled shift time."""
        return _ratio(self.absent_s, self.shift_s)

    @property
    def partial_absence_s(self) -> float:
        """Logged out during shifts that were logged into: late + early + in between."""
        return self.late_login_s + self.early_logout_s + self.logged_out_s

    @property
    def partial_absence_rate(self) -> float | None:
        return _ratio(self.partial_absence_s, self.shift_s)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ROW_KEYS:
            value = getattr(self, key)
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, dict):
                value = {k: round(v, SECONDS_DECIMALS) for k, v in value.items()}
            elif isinstance(value, float):
                value = round(value, SECONDS_DECIMALS if key.endswith("_s") else RATIO_DECIMALS)
            out[key] = value
        return out


_SECONDS_FIELDS: Final[tuple[str, ...]] = tuple(
    f.name for f in fields(AdherenceRow) if f.name.endswith("_s")
)

ROW_KEYS: Final[tuple[str, ...]] = (
    "level",
    "agent",
    "date",
    "shifts",
    "absent_shifts",
    "shift_s",
    "scheduled_work_s",
    "scheduled_break_s",
    "in_adherence_s",
    "out_of_adherence_s",
    "graced_s",
    "adherence",
    "adherence_excl_absent",
    "late_login_s",
    "early_logout_s",
    "logged_out_s",
    "absent_s",
    "break_early_s",
    "break_overrun_s",
    "unscheduled_pause_s",
    "worked_in_break_s",
    "worked_s",
    "conformance",
    "off_shift_work_s",
    "off_shift_paused_s",
    "absenteeism",
    "absenteeism_hours",
    "partial_absence_s",
    "partial_absence_rate",
    "contacts_by_channel",
    "talk_s_by_channel",
)
"""The keys of a row in ``--format json`` / ``csv``, in order (docs/wfm-adherence.md)."""


@dataclass(frozen=True, slots=True)
class AdherenceReport:
    by: str
    grace_s: float
    break_reasons: tuple[str, ...] | None
    period: Period
    roster_shifts: int
    roster_agents: int
    total: AdherenceRow
    rows: tuple[AdherenceRow, ...]
    benchmarks: tuple[BenchmarkResult, ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape (docs/wfm-adherence.md)."""
        return {
            "settings": {
                "by": self.by,
                "grace_s": self.grace_s,
                "break_reasons": list(self.break_reasons) if self.break_reasons else None,
            },
            "period": {
                "start": _iso(self.period.start),
                "end": _iso(self.period.end),
                "events": self.period.events,
            },
            "roster": {"shifts": self.roster_shifts, "agents": self.roster_agents},
            "total": self.total.to_dict(),
            "rows": [r.to_dict() for r in self.rows],
            "benchmarks": [
                {f.name: getattr(b, f.name) for f in fields(b)} for b in self.benchmarks
            ],
            "notes": list(self.notes),
        }


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _by_channel(
    work: pl.DataFrame, keys: list[str]
) -> dict[tuple[Any, ...], tuple[dict[str, int], dict[str, float]]]:
    """Per row key: contacts and talk seconds by channel."""
    sums = work.group_by([*keys, "channel"]).agg(pl.col("contacts").sum(), pl.col("talk_s").sum())
    out: dict[tuple[Any, ...], tuple[dict[str, int], dict[str, float]]] = {}
    for rec in sums.sort([*keys, "channel"]).iter_rows(named=True):
        contacts, talk = out.setdefault(tuple(rec[k] for k in keys), ({}, {}))
        contacts[rec["channel"]] = int(rec["contacts"])
        talk[rec["channel"]] = float(rec["talk_s"])
    return out


def _rows(
    table: pl.DataFrame, work: pl.DataFrame, keys: list[str], level: str
) -> list[AdherenceRow]:
    sums = [pl.col(c).sum() for c in ("shifts", "absent_shifts", *_SECONDS_FIELDS)]
    frame = table.group_by(keys).agg(sums).sort(keys) if keys else table.select(sums)
    channels = _by_channel(work, keys)
    out = []
    for rec in frame.iter_rows(named=True):
        contacts, talk = channels.get(tuple(rec[k] for k in keys), ({}, {}))
        out.append(
            AdherenceRow(
                level=level,
                agent=rec.get("agent"),
                date=rec.get("date"),
                shifts=int(rec["shifts"]),
                absent_shifts=int(rec["absent_shifts"]),
                **{c: float(rec[c]) for c in _SECONDS_FIELDS},
                contacts_by_channel=contacts,
                talk_s_by_channel=talk,
            )
        )
    return out


_KEYS_BY: Final[dict[str, list[str]]] = {
    "agent": ["agent"],
    "day": ["date"],
    "agent-day": ["agent", "date"],
}


def _some(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _notes(roster: Roster, period: Period, log_agents: frozenset[str]) -> list[str]:
    notes = []
    missing = sorted(set(roster.agents) - log_agents)
    if missing:
        notes.append(
            f"{len(missing)} rostered agent(s) have no events in the log ({_some(missing)}): "
            "their shifts count as absent"
        )
    extra = sorted(log_agents - set(roster.agents))
    if extra:
        notes.append(
            f"{len(extra)} agent(s) in the log are not in the roster ({_some(extra)}): "
            "their logged-in time counts as off shift"
        )
    outside = sum(1 for s in roster.shifts if s.start < period.start or s.end > period.end)
    if outside:
        notes.append(
            f"{outside} shift(s) reach outside the log ({_iso(period.start)} to "
            f"{_iso(period.end)}): time outside it counts as logged out"
        )
    return notes


def build_report(
    table: pl.DataFrame,
    work: pl.DataFrame,
    roster: Roster,
    grace_s: float,
    break_reasons: frozenset[str] | None,
    by: str,
    period: Period,
    log_agents: frozenset[str],
) -> AdherenceReport:
    """The report from the per-(agent, date) table of seconds and shift counts and the
    per-(agent, date, channel) table of work (:func:`~.channels.channel_work`)."""
    total = _rows(table, work, [], "total")[0]
    values = {"adherence": total.adherence, "absenteeism": total.absenteeism}
    benchmarks = tuple(
        BenchmarkResult(
            key=b.key,
            label=b.label,
            value=values[b.key],
            unit=b.unit,
            benchmark=b.benchmark,
            rule=b.rule,
            met=b.met(values[b.key]),
            note="absenteeism by shifts never logged into"
            if b.key == "absenteeism"
            else f"grace {grace_s:g} s",
            source=b.source,
        )
        for b in BENCHMARKS
    )
    return AdherenceReport(
        by=by,
        grace_s=grace_s,
        break_reasons=tuple(sorted(break_reasons)) if break_reasons is not None else None,
        period=period,
        roster_shifts=len(roster.shifts),
        roster_agents=len(roster.agents),
        total=total,
        rows=tuple(_rows(table, work, _KEYS_BY[by], by)),
        benchmarks=benchmarks,
        notes=tuple(_notes(roster, period, log_agents)),
    )


def report_to_json(report: AdherenceReport) -> str:
    return orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode()


_CHANNEL_KEYS: Final = {"contacts_by_channel": "contacts:", "talk_s_by_channel": "talk_s:"}


def report_to_csv(report: AdherenceReport) -> str:
    """One header row, one line per row, the total last (``level`` = ``total``); the
    by-channel figures as one column per channel (``contacts:voice``, ``talk_s:chat``)."""
    channels = sorted(report.total.contacts_by_channel)
    plain = [k for k in ROW_KEYS if k not in _CHANNEL_KEYS]
    header = plain + [p + c for p in _CHANNEL_KEYS.values() for c in channels]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in (*report.rows, report.total):
        d = row.to_dict()
        line = ["" if d[k] is None else d[k] for k in plain]
        line += [d[key].get(c, 0) for key in _CHANNEL_KEYS for c in channels]
        writer.writerow(line)
    return buf.getvalue()


__all__ = [
    "BENCHMARKS",
    "ROW_KEYS",
    "AdherenceReport",
    "AdherenceRow",
    "Period",
    "build_report",
    "report_to_csv",
    "report_to_json",
]
