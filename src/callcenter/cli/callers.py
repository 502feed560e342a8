"""``callcenter callers``: new numbers, calls per number, repeat callers and FCR.

    callcenter callers day.jsonl                           # per day, with a total row
    callcenter callers month.parquet --window 7d --repeat-within 24h
    callcenter callers month.parquet --by agent --format csv > fcr_by_agent.csv

Every figure and rule is defined in docs/callers.md.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Final

import orjson
import typer
from rich import box
from rich.table import Table

from callcenter.cli.app import OutputFormat, app, console, err_console, fit_columns, write_stdout
from callcenter.errors import UserError
from callcenter.units import format_duration, parse_duration

if TYPE_CHECKING:  # polars and the analytics are imported when the command runs
    from callcenter.callers.analytics import CallerReport, CallerRow

DASH: Final = "—"
Cell = Callable[["CallerRow"], str]


def fmt_int(value: int | None) -> str:
    return DASH if value is None else f"{value:,}"


def fmt_pct(value: float | None) -> str:
    return DASH if value is None else f"{100 * value:.1f}%"


def fmt_ratio(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"


def fmt_interval(seconds: float | None) -> str:
    """Minutes under an hour, hours under two days, then days (``45 min``, ``27.4 h``)."""
    if seconds is None:
        return DASH
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _vol(name: str, fmt: Callable[[Any], str]) -> Cell:
    return lambda r: DASH if r.volume is None else fmt(getattr(r.volume, name))


def _fcr(name: str, fmt: Callable[[Any], str]) -> Cell:
    return lambda r: fmt(getattr(r.fcr, name))


FCR_COLUMNS: Final[tuple[tuple[str, Cell], ...]] = (
    ("Answered", _fcr("answered", fmt_int)),
    ("No no.", _fcr("no_number", fmt_int)),
    ("Known", _fcr("fcr_known", fmt_int)),
    ("Resolved", _fcr("fcr_resolved", fmt_int)),
    ("FCR", _fcr("fcr_rate", fmt_pct)),
    ("Pend.", _fcr("fcr_not_yet_known", fmt_int)),
)
UNANSWERED_COLUMNS: Final[tuple[tuple[str, Cell], ...]] = (
    ("Unans.", _fcr("unanswered", fmt_int)),
    ("Callb.", _fcr("callbacks_after_abandon", fmt_int)),
)
DAY_COLUMNS: Final[tuple[tuple[str, Cell], ...]] = (
    ("Day", lambda r: "" if r.day is None else r.day.isoformat()),
    ("Contacts", _vol("contacts", fmt_int)),
    ("No no.", _vol("unknown_number", fmt_int)),
    ("Nos.", _vol("numbers", fmt_int)),
    ("New", _vol("new_numbers", fmt_int)),
    ("Per no.", _vol("calls_per_number_mean", fmt_ratio)),
    ("Max", _vol("calls_per_number_max", fmt_int)),
    ("Gap", _vol("mean_interval_s", fmt_interval)),
    ("Repeats", _vol("repeat_contacts", fmt_int)),
    ("Rep. no.", _vol("repeat_numbers", fmt_int)),
    ("FCR", _fcr("fcr_rate", fmt_pct)),
    ("Known", _fcr("fcr_known", fmt_int)),
    ("Pend.", _fcr("fcr_not_yet_known", fmt_int)),
    *UNANSWERED_COLUMNS,
)

# Dropped first when the terminal is too narrow (CSV and JSON always have every figure).
DROP_ORDER: Final = ("Known", "Pend.", "Callb.", "Unans.", "No no.", "Repeats", "Max")


def columns(by: str) -> tuple[tuple[str, Cell], ...]:
    if by == "day":
        return DAY_COLUMNS
    if by == "queue":
        return (("Queue", lambda r: r.queue or "(no queue)"), *FCR_COLUMNS, *UNANSWERED_COLUMNS)
    return (("Agent", lambda r: r.agent or ""), *FCR_COLUMNS)


def _fit(headers: list[str], rows: list[list[str]], width: int) -> list[int]:
    return fit_columns(headers, rows, width, DROP_ORDER)


def render_table(report: CallerReport) -> None:
    s = report.settings
    period = report.to_dict()["period"]
    console.print(
        f"Period {period['start']} – {period['end']}, {report.events:,} events", highlight=False
    )
    cols = columns(s.by.value)
    headers = [h for h, _ in cols]
    cells = [[cell(row) for _, cell in cols] for row in report.rows]
    total = [cell(report.total) for _, cell in cols]
    total[0] = "Total"
    keep = _fit(headers, [*cells, total], console.width)
    table = Table(
        title=f"Callers by {s.by.value}" + (f" ({s.tz})" if s.by.value == "day" else ""),
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        pad_edge=False,
    )
    for i in keep:
        table.add_column(headers[i], justify="left" if i == 0 else "right", no_wrap=True)
    for values in cells:
        table.add_row(*(values[i] for i in keep))
    table.add_section()
    table.add_row(*(total[i] for i in keep), style="bold")
    console.print(table)
    window, within = format_duration(s.window_s), format_duration(s.repeat_within_s)
    if len(keep) < len(headers):
        console.print(
            f"[dim]{len(headers) - len(keep)} column(s) left out to fit {console.width} "
            "characters: widen the terminal, or use --format csv / json[/]",
            highlight=False,
        )
    if s.by.value == "day":
        console.print(
            "Per no. / Max: contacts per number, mean / most; Gap: mean time between two "
            f"consecutive contacts of a number; Repeats / Rep. no.: contacts / numbers calling "
            f"again within {within}.",
            highlight=False,
        )
    console.print(
        f"FCR = resolved / known: an answered contact is resolved when its number does not "
        f"call again within {window}; Pend.: not yet known, the window runs past the end of "
        "the log. No no.: no caller number (left out). Callb.: unanswered, then a new contact "
        f"within {window}. See docs/callers.md.",
        highlight=False,
    )


def report_to_json(report: CallerReport) -> str:
    return orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode()


def report_to_csv(report: CallerReport) -> str:
    """A header row, the breakdown rows, then the total (level ``total``)."""
    from dataclasses import fields

    from callcenter.callers.analytics import FcrMetrics, VolumeMetrics

    keys = ["level", "day", "queue", "agent"]
    vol_names = [f.name for f in fields(VolumeMetrics)]
    fcr_names = [f.name for f in fields(FcrMetrics)]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys + vol_names + fcr_names, lineterminator="\n")
    writer.writeheader()
    for row in (*report.rows, report.total):
        data = row.to_dict()
        out = {k: data[k] for k in keys}
        out.update(data["volume"] or dict.fromkeys(vol_names))
        out.update(data["fcr"])
        writer.writerow(out)
    return buf.getvalue()


def _positive(text: str, option: str) -> float:
    seconds = parse_duration(text, what=option)
    if seconds <= 0:
        raise UserError(f"{option} must be longer than 0 (like 24h or 7d), got {text!r}")
    return seconds


@app.command("callers")
def callers_command(
    events: Annotated[str, typer.Argument(help="Event log (JSON Lines, or .parquet).")],
    window: Annotated[
        str,
        typer.Option("--window", help="FCR window: no new contact within it = resolved."),
    ] = "7d",
    repeat_within: Annotated[
        str, typer.Option("--repeat-within", help="A repeat caller calls again within this.")
    ] = "24h",
    by: Annotated[str, typer.Option("--by", help="Rows: one per day, queue or agent.")] = "day",
    tz: Annotated[
        str,
        typer.Option("--tz", help="Time zone of the day rows (IANA name, e.g. Europe/Vilnius)."),
    ] = "UTC",
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or csv.")
    ] = OutputFormat.TABLE,
) -> None:
    """Caller analytics: new numbers, calls per number, repeat callers, first-contact
    resolution (per day, queue or agent)."""
    from callcenter.callers.analytics import CallerBreakdown, CallerSettings, caller_report

    if by not in CallerBreakdown._value2member_map_:
        raise UserError(f"--by must be one of day, queue, agent; got {by!r}")
    settings = CallerSettings(
        window_s=_positive(window, "--window"),
        repeat_within_s=_positive(repeat_within, "--repeat-within"),
        by=CallerBreakdown(by),
        tz=tz,
    )
    if fmt is OutputFormat.TABLE:
        with err_console.status("reading events and computing caller figures ..."):
            report = caller_report(events, settings)
        render_table(report)
    elif fmt is OutputFormat.JSON:
        write_stdout(report_to_json(caller_report(events, settings)))
    else:
        write_stdout(report_to_csv(caller_report(events, settings)))
