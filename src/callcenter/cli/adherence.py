"""``callcenter adherence``: schedule adherence, conformance and absenteeism per agent.

    callcenter adherence day.jsonl --roster roster.csv                 # per agent + total
    callcenter adherence day.jsonl --roster roster.csv --grace 2m --by agent-day
    callcenter adherence day.parquet --roster roster.json --by day --format csv
    callcenter adherence day.jsonl --roster roster.csv --format json --out adherence.json

Every figure is defined in docs/wfm-adherence.md.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich import box
from rich.table import Table

from callcenter.cli.app import OutputFormat, app, console, fit_columns, write_stdout
from callcenter.errors import UserError
from callcenter.units import format_duration, parse_duration

if TYPE_CHECKING:  # the engine (and polars) is imported when the command runs
    from callcenter.wfm.adherence.report import AdherenceReport, AdherenceRow

DASH: Final = "—"


class By(StrEnum):
    AGENT = "agent"
    DAY = "day"
    AGENT_DAY = "agent-day"


def fmt_hms(seconds: float) -> str:
    """``h:mm:ss``; ``0`` for nothing (so the exceptions stand out)."""
    total = round(seconds)
    if total == 0:
        return "0"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def fmt_pct(value: float | None) -> str:
    return DASH if value is None else f"{100 * value:.1f}%"


Cell = Callable[["AdherenceRow"], str]

FIGURES: Final[tuple[tuple[str, Cell], ...]] = (
    ("Shifts", lambda r: f"{r.shifts:,}"),
    ("Absent", lambda r: f"{r.absent_shifts:,}"),
    ("Scheduled", lambda r: fmt_hms(r.shift_s)),
    ("Adher.", lambda r: fmt_pct(r.adherence)),
    ("Conf.", lambda r: fmt_pct(r.conformance)),
    ("Late", lambda r: fmt_hms(r.late_login_s)),
    ("Early", lambda r: fmt_hms(r.early_logout_s)),
    ("Out", lambda r: fmt_hms(r.logged_out_s)),
    ("Brk early", lambda r: fmt_hms(r.break_early_s)),
    ("Brk over", lambda r: fmt_hms(r.break_overrun_s)),
    ("Unsched.", lambda r: fmt_hms(r.unscheduled_pause_s)),
    ("In brk", lambda r: fmt_hms(r.worked_in_break_s)),
    ("Off-shift", lambda r: fmt_hms(r.off_shift_work_s)),
    ("Absent.", lambda r: fmt_pct(r.absenteeism)),
)
"""Columns after the row keys; CSV and JSON carry every figure (docs/wfm-adherence.md)."""

# Dropped first when the terminal is too narrow.
DROP_ORDER: Final = ("Out", "Brk early", "In brk", "Unsched.", "Conf.", "Absent")


def _keys(by: str) -> tuple[tuple[str, Cell], ...]:
    agent: tuple[str, Cell] = ("Agent", lambda r: r.agent or "")
    day: tuple[str, Cell] = ("Date", lambda r: "" if r.date is None else r.date.isoformat())
    return {"agent": (agent,), "day": (day,), "agent-day": (agent, day)}[by]


def _channel_columns(report: AdherenceReport) -> tuple[tuple[str, Cell], ...]:
    """One column per channel worked: the conversations started on it (calls next to
    chats); the talk seconds are in the CSV and JSON."""

    def count(channel: str) -> Cell:
        return lambda r: f"{r.contacts_by_channel.get(channel, 0):,}"

    return tuple((channel, count(channel)) for channel in sorted(report.total.contacts_by_channel))


def _render(report: AdherenceReport) -> None:
    cols = (*_keys(report.by), *FIGURES, *_channel_columns(report))
    headers = [h for h, _ in cols]
    body = [[get(r) for _, get in cols] for r in report.rows]
    total = [get(report.total) for _, get in cols]
    total[0] = "Total"
    keep = fit_columns(headers, [*body, total], console.width, DROP_ORDER)
    grace = format_duration(report.grace_s) if report.grace_s else "none"
    table = Table(
        title=f"Schedule adherence by {report.by} (grace {grace})",
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        pad_edge=False,
    )
    n_keys = len(_keys(report.by))
    for i in keep:
        table.add_column(headers[i], justify="left" if i < n_keys else "right", no_wrap=True)
    for line in body:
        table.add_row(*(line[i] for i in keep))
    table.add_section()
    table.add_row(*(total[i] for i in keep), style="bold")
    p = report.period
    console.print(
        f"{_iso(p.start)} – {_iso(p.end)} UTC, {p.events:,} events; "
        f"roster: {report.roster_shifts:,} shifts of {report.roster_agents:,} agents",
        highlight=False,
    )
    console.print(table)
    hidden = len(headers) - len(keep)
    if hidden:
        console.print(
            f"[dim]{hidden} column(s) left out to fit {console.width} characters: widen the "
            "terminal, or use --format csv / json for every figure[/]",
            highlight=False,
        )
    for b in report.benchmarks:
        value = fmt_pct(b.value)
        verdict = {True: "[green]met[/]", False: "[red]not met[/]", None: DASH}[b.met]
        console.print(f"{b.label}: {value}  (benchmark {b.benchmark}: {verdict})", highlight=False)
    t = report.total
    console.print(
        f"Absenteeism by hours: {fmt_pct(t.absenteeism_hours)}; partial absence (late login, "
        f"early logout, logged out): {fmt_hms(t.partial_absence_s)} "
        f"({fmt_pct(t.partial_absence_rate)} of shift time)",
        highlight=False,
    )
    console.print(
        f"Adherence of the shifts worked (absent shifts left out): "
        f"{fmt_pct(t.adherence_excl_absent)}; time forgiven by the grace: {fmt_hms(t.graced_s)}",
        highlight=False,
    )
    for note in report.notes:
        console.print(f"[dim]note: {note}[/]", highlight=False)


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(
            f"--out: folder {str(folder)!r} does not exist; expected an existing folder"
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text if text.endswith("\n") else text + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _break_reasons(text: str | None) -> frozenset[str] | None:
    if text is None:
        return None
    reasons = frozenset(r.strip() for r in text.split(",") if r.strip())
    if not reasons:
        raise UserError(
            f"--break-reasons: {text!r} names no reason; expected comma-separated pause reasons "
            "like break,lunch"
        )
    return reasons


@app.command("adherence")
def adherence_command(
    events: Annotated[
        Path, typer.Argument(help="Event log: JSON Lines, or Parquet if it ends .parquet.")
    ],
    roster: Annotated[
        Path,
        typer.Option(
            "--roster",
            help="Roster CSV (agent, date, shift_start, shift_end[, break_start, break_end]) "
            "or JSON (.json, with a breaks list).",
        ),
    ],
    grace: Annotated[
        str,
        typer.Option(
            "--grace",
            help="Tolerance around each scheduled change (shift start/end, break start/end): "
            "2m, 90s, 0.",
        ),
    ] = "0",
    by: Annotated[By, typer.Option("--by", help="Rows: agent, day or agent-day.")] = By.AGENT,
    break_reasons: Annotated[
        str | None,
        typer.Option(
            "--break-reasons",
            help="Pause reasons that count as a break, comma-separated (default: every "
            "pause); other pauses are unscheduled.",
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.TABLE,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the json or csv report to this file (atomically)."),
    ] = None,
) -> None:
    """Schedule adherence, conformance and absenteeism: the event log against a roster.

    Adherence = time doing what the roster says / scheduled shift time; conformance =
    time worked / scheduled work time; absenteeism = shifts never logged into / shifts.
    """
    grace_s = parse_duration(grace, what="--grace")
    if out is not None and output_format is OutputFormat.TABLE:
        raise UserError(
            "--out: the table is for the terminal; "
            "expected --format json or --format csv with --out"
        )
    from callcenter.wfm.adherence import AdherenceOptions, Breakdown, compute_adherence
    from callcenter.wfm.adherence.report import report_to_csv, report_to_json

    options = AdherenceOptions(grace_s=grace_s, break_reasons=_break_reasons(break_reasons))
    report = compute_adherence(events, roster, options, Breakdown(by.value))
    if output_format is OutputFormat.TABLE:
        _render(report)
        return
    text = report_to_json(report) if output_format is OutputFormat.JSON else report_to_csv(report)
    if out is not None:
        _write_atomic(out, text)
    else:
        write_stdout(text)
