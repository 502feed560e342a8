"""``callcenter schedule``: a roster covering a staffing requirement, solved with CP-SAT.

    callcenter schedule plan.csv --shifts wfm-shifts.yaml --agents wfm-agents.yaml \\
        --out roster.csv --coverage coverage.csv --chart coverage.png

``plan.csv`` is the interval table with ``required`` (what ``callcenter staff`` writes).
See docs/wfm-schedule.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.table import Table

from callcenter.cli.app import OutputFormat, app, console, err_console, write_stdout
from callcenter.errors import UserError
from callcenter.units import parse_duration

if TYPE_CHECKING:  # the solver (OR-tools) and numpy load when the command runs
    from callcenter.wfm.schedule import (
        CoverageRow,
        DaySummary,
        ScheduleResult,
        ShiftAssignment,
    )

#: Columns of the roster CSV: one row per break, the shift's columns repeated (a shift
#: without breaks is one row with empty break cells) -- what ``callcenter adherence`` reads.
ROSTER_COLUMNS = (
    "agent", "date", "template", "shift_start", "shift_end", "paid_hours",
    "break", "break_start", "break_end", "break_paid",
)  # fmt: skip
COVERAGE_COLUMNS = ("interval_start", "required", "scheduled", "shortfall", "over")
CHART_SUFFIXES = (".png", ".svg")


class ScheduleUsageError(UserError):
    """Options that do not go together."""


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(x, 4)


def shift_to_dict(s: ShiftAssignment) -> dict[str, Any]:
    return {
        "agent": s.agent,
        "date": s.date.isoformat(),
        "template": s.template,
        "shift_start": _iso(s.start),
        "shift_end": _iso(s.end),
        "paid_hours": _num(s.paid_s / 3600),
        "breaks": [
            {"name": b.name, "start": _iso(b.start), "end": _iso(b.end), "paid": b.paid}
            for b in s.breaks
        ],
    }


def coverage_to_dict(row: CoverageRow, with_queue: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"queue": row.queue} if with_queue else {}
    out |= {
        "interval_start": _iso(row.interval_start),
        "required": row.required,
        "scheduled": _num(row.scheduled),
        "shortfall": _num(row.shortfall),
        "over": _num(row.over),
    }
    return out


def _day_dict(d: DaySummary) -> dict[str, Any]:
    return {
        "date": d.date.isoformat(),
        "required_h": _num(d.required_h),
        "scheduled_h": _num(d.scheduled_h),
        "shortfall_h": _num(d.shortfall_h),
        "over_h": _num(d.over_h),
        "shifts": d.shifts,
    }


def result_to_dict(r: ScheduleResult) -> dict[str, Any]:
    with_queue = any(c.queue for c in r.coverage)
    return {
        "status": r.status,
        "objective": _num(r.objective),
        "best_bound": _num(r.best_bound),
        "gap": round(r.gap, 6),
        "wall_s": round(r.wall_s, 3),
        "workers": r.workers,
        "start": r.start.isoformat(),
        "days": r.days,
        "grid_s": r.grid_s,
        "totals": _day_dict(r.totals()),
        "daily": [_day_dict(d) for d in r.daily()],
        "coverage": [coverage_to_dict(c, with_queue) for c in r.coverage],
        "roster": [shift_to_dict(s) for s in r.roster],
        "warnings": r.warnings,
    }


def roster_csv(roster: list[ShiftAssignment]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(ROSTER_COLUMNS)
    for s in roster:
        head = [s.agent, s.date.isoformat(), s.template, _iso(s.start), _iso(s.end)]
        head.append(f"{s.paid_s / 3600:g}")
        for b in s.breaks or [None]:
            if b is None:
                w.writerow([*head, "", "", "", ""])
            else:
                paid = "true" if b.paid else "false"
                w.writerow([*head, b.name, _iso(b.start), _iso(b.end), paid])
    return buf.getvalue()


def coverage_csv(rows: list[CoverageRow]) -> str:
    with_queue = any(c.queue for c in rows)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=("queue",) * with_queue + COVERAGE_COLUMNS)
    w.writeheader()
    w.writerows(coverage_to_dict(c, with_queue) for c in rows)
    return buf.getvalue().replace("\r\n", "\n")


def chart_bytes(r: ScheduleResult, fmt: str) -> bytes:
    """Required vs scheduled agents per interval (summed over queues), PNG or SVG."""
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    totals: dict[dt.datetime, list[float]] = {}
    for c in r.coverage:
        t = totals.setdefault(c.interval_start, [0.0, 0.0])
        t[0] += c.required
        t[1] += c.scheduled
    times = sorted(totals)
    x = np.array([t.replace(tzinfo=None) for t in times], dtype="datetime64[s]")
    req = np.array([totals[t][0] for t in times])
    sched = np.array([totals[t][1] for t in times])
    fig, ax = plt.subplots(figsize=(max(8.0, min(24.0, len(times) / 40)), 4.5), dpi=100)
    ax.step(x, req, where="post", label="required", color="black", linewidth=1.2)
    ax.step(x, sched, where="post", label="scheduled", color="tab:blue", linewidth=1.0)
    for where, color, label in (
        (sched < req, "tab:red", "shortfall"),
        (sched > req, "tab:green", "over"),
    ):
        ax.fill_between(
            x, req, sched, where=where, step="post", color=color, alpha=0.35, label=label
        )
    tot = r.totals()
    ax.set_title(
        f"Coverage {r.start} + {r.days} days: shortfall {tot.shortfall_h:,.1f} agent-h, "
        f"over {tot.over_h:,.1f} agent-h ({r.status})"
    )
    ax.set_ylabel("agents")
    ax.set_xlabel("UTC")
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file renamed into place: never a half-written file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _h(x: float) -> str:
    return f"{x:,.1f}"


def _render(r: ScheduleResult) -> None:
    console.print(
        f"[bold]CP-SAT[/] {r.status}: objective {r.objective:,.0f}, bound {r.best_bound:,.0f}, "
        f"gap {100 * r.gap:.2f}%, {r.wall_s:.1f} s on {r.workers} workers "
        f"({r.start} + {r.days} days, {r.grid_s // 60}-minute grid)",
        highlight=False,
    )
    days = Table(title="Coverage per day (agent-hours)")
    for name in ("date", "required", "scheduled", "shortfall", "over", "shifts"):
        days.add_column(name, justify="left" if name == "date" else "right")
    for d in r.daily():
        short = f"[red]{_h(d.shortfall_h)}[/]" if d.shortfall_h else _h(d.shortfall_h)
        days.add_row(
            f"{d.date:%a %Y-%m-%d}", _h(d.required_h), _h(d.scheduled_h), short, _h(d.over_h),
            str(d.shifts),
        )  # fmt: skip
    t = r.totals()
    days.add_section()
    days.add_row(
        "total", _h(t.required_h), _h(t.scheduled_h), _h(t.shortfall_h), _h(t.over_h),
        str(t.shifts), style="bold",
    )  # fmt: skip
    console.print(days)
    roster = Table(title="Roster")
    for name in ("agent", "date", "shift", "template", "breaks"):
        roster.add_column(name)
    for s in r.roster:
        breaks = ", ".join(f"{b.start:%H:%M}-{b.end:%H:%M} {b.name}" for b in s.breaks)
        shift = f"{s.start:%H:%M}-{s.end:%H:%M}"
        roster.add_row(s.agent, s.date.isoformat(), shift, s.template, breaks)
    console.print(roster)


def _check_paths(out: Path | None, coverage: Path | None, chart: Path | None) -> None:
    for name, path in (("--out", out), ("--coverage", coverage), ("--chart", chart)):
        if path is not None and not path.parent.is_dir():
            raise ScheduleUsageError(f"{name}: folder {str(path.parent)!r} does not exist")
    if chart is not None and chart.suffix.lower() not in CHART_SUFFIXES:
        raise ScheduleUsageError(
            f"--chart: {chart.name!r} is not valid; expected a file name ending in .png or .svg"
        )


def _write_outputs(
    result: ScheduleResult, out: Path | None, coverage: Path | None, chart: Path | None
) -> None:
    """Render every requested file first, then write each atomically."""
    files: list[tuple[Path, bytes]] = []
    if out is not None:
        text = (
            orjson.dumps([shift_to_dict(s) for s in result.roster], option=orjson.OPT_INDENT_2)
            if out.suffix.lower() == ".json"
            else roster_csv(result.roster).encode()
        )
        files.append((out, text))
    if coverage is not None:
        with_queue = any(c.queue for c in result.coverage)
        rows = [coverage_to_dict(c, with_queue) for c in result.coverage]
        data = (
            orjson.dumps(rows, option=orjson.OPT_INDENT_2)
            if coverage.suffix.lower() == ".json"
            else coverage_csv(result.coverage).encode()
        )
        files.append((coverage, data))
    if chart is not None:
        files.append((chart, chart_bytes(result, chart.suffix.lower().lstrip("."))))
    for path, data in files:
        _write_atomic(path, data)


@app.command("schedule")
def schedule_command(
    requirements: Annotated[
        Path, typer.Argument(help="Interval table with required agents (CSV or JSON).")
    ],
    shifts: Annotated[Path, typer.Option("--shifts", help="Shift templates (YAML).")],
    agents: Annotated[
        Path | None, typer.Option("--agents", help="Agents and their rules (YAML).")
    ] = None,
    agent_count: Annotated[
        int | None, typer.Option("--agent-count", help="Or this many interchangeable agents.")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--start", help="First date (YYYY-MM-DD); default: the first requirement's."),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option("--days", help="Days to schedule; default: to the last requirement."),
    ] = None,
    time_limit: Annotated[
        str, typer.Option("--time-limit", help="Solver time limit: 60s, 2m.")
    ] = "60s",
    workers: Annotated[
        int, typer.Option("--workers", help="Solver threads (0: one per CPU core).")
    ] = 0,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the roster (.csv or .json).")
    ] = None,
    coverage: Annotated[
        Path | None, typer.Option("--coverage", help="Write coverage per interval (.csv or .json).")
    ] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Draw required vs scheduled (.png or .svg).")
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output: table, json, or csv (the roster).")
    ] = OutputFormat.TABLE,
) -> None:
    """Roster agents on shifts to cover a staffing requirement with the least overstaffing.

    Every interval's requirement is met where the agents allow it; any shortfall is shown.
    """
    from callcenter.wfm.schedule import ScheduleOptions, build_schedule
    from callcenter.wfm.schedule.requirements import read_requirements
    from callcenter.wfm.shifts import load_agents, load_shifts, make_agents

    if (agents is None) == (agent_count is None):
        raise ScheduleUsageError("give either --agents FILE or --agent-count N (not both)")
    first: dt.date | None = None
    if start is not None:
        try:
            first = dt.date.fromisoformat(start)
        except ValueError:
            raise ScheduleUsageError(
                f"--start: {start!r} is not valid; expected a date like 2026-03-02"
            ) from None
    _check_paths(out, coverage, chart)
    opts = ScheduleOptions(
        time_limit_s=parse_duration(time_limit, what="--time-limit"), workers=workers
    )
    reqs = read_requirements(requirements)
    templates = load_shifts(shifts)
    people = load_agents(agents, templates) if agents is not None else make_agents(agent_count or 0)
    result = build_schedule(reqs, templates, people, start=first, days=days, options=opts)

    _write_outputs(result, out, coverage, chart)
    for w in result.warnings:
        err_console.print(f"[yellow]warning:[/] {w}", highlight=False)
    if output_format is OutputFormat.JSON:
        write_stdout(orjson.dumps(result_to_dict(result), option=orjson.OPT_INDENT_2).decode())
    elif output_format is OutputFormat.CSV:
        write_stdout(roster_csv(result.roster))
    else:
        _render(result)
