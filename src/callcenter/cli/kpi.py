"""``callcenter kpi``: service level, abandonment, ASA, AHT, occupancy ... from an event log.

    callcenter kpi day.jsonl                          # per queue, with a total row
    callcenter kpi day.jsonl --by channel                 # calls next to chats
    callcenter kpi day.jsonl --by interval --interval 15m
    callcenter kpi day.jsonl --by agent --format csv > agents.csv
    callcenter kpi day.jsonl --sl-mode answered --sl-threshold 30 --format json

Every figure is defined in docs/kpis.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich import box
from rich.table import Table

from callcenter.cli.app import OutputFormat, app, console, err_console, fit_columns, write_stdout
from callcenter.kpi.settings import SL_MODE_TEXT, Breakdown, KpiSettings, SlMode
from callcenter.units import parse_duration, parse_interval

if TYPE_CHECKING:  # the engine (and polars) is imported when the command runs
    from callcenter.kpi.results import KpiReport, KpiRow

DASH: Final = "—"

Cell = Callable[["KpiRow"], str]


def fmt_duration(seconds: float | None) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour on); ``—`` for no value."""
    if seconds is None:
        return DASH
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def fmt_pct(value: float | None) -> str:
    return DASH if value is None else f"{100 * value:.1f}%"


def fmt_int(value: int | None) -> str:
    return DASH if value is None else f"{value:,}"


def _v(get: Callable[..., object], fmt: Callable[..., str]) -> Cell:
    return lambda r: DASH if r.visits is None else fmt(get(r.visits))


def _h(get: Callable[..., object], fmt: Callable[..., str]) -> Cell:
    return lambda r: DASH if r.handling is None else fmt(get(r.handling))


def _a(get: Callable[..., object], fmt: Callable[..., str]) -> Cell:
    return lambda r: DASH if r.agent_time is None else fmt(get(r.agent_time))


OFFERED: Final = ("Offered", _v(lambda v: v.offered, fmt_int))
ANSWERED: Final = ("Answered", _v(lambda v: v.answered, fmt_int))
ABANDONED: Final = ("Aband.", _v(lambda v: v.abandoned, fmt_int))
TIMED_OUT: Final = ("T/out", _v(lambda v: v.timed_out, fmt_int))
SL: Final = ("SL", _v(lambda v: v.service_level, fmt_pct))
ABANDON_RATE: Final = ("Aband. %", _v(lambda v: v.abandon_rate, fmt_pct))
ASA: Final = ("ASA", _v(lambda v: v.asa_s, fmt_duration))
AVG_WAIT: Final = ("Avg wait", _v(lambda v: v.avg_wait_s, fmt_duration))
MAX_WAIT: Final = ("Max wait", _v(lambda v: v.max_wait_s, fmt_duration))
HANDLED: Final = ("Handled", _h(lambda h: h.handled, fmt_int))
AHT: Final = ("AHT", _h(lambda h: h.aht_s, fmt_duration))
TALK: Final = ("Talk", _h(lambda h: h.avg_talk_s, fmt_duration))
HOLD: Final = ("Hold", _h(lambda h: h.avg_hold_s, fmt_duration))
ACW: Final = ("ACW", _h(lambda h: h.avg_acw_s, fmt_duration))
TRANSFERS: Final = ("Transf.", _h(lambda h: h.transfers, fmt_int))
OCCUPANCY: Final = ("Occ.", _a(lambda a: a.occupancy, fmt_pct))
UTILISATION: Final = ("Util.", _a(lambda a: a.utilisation, fmt_pct))

CHANNEL: Final = ("Channel", lambda r: r.channel or DASH)
VISIT_COLUMNS: Final = (OFFERED, ANSWERED, ABANDONED, TIMED_OUT, SL, ABANDON_RATE, ASA)

COLUMNS: Final[dict[Breakdown, tuple[tuple[str, Cell], ...]]] = {
    Breakdown.QUEUE: (
        ("Queue", lambda r: r.queue or "all"),
        CHANNEL,
        *VISIT_COLUMNS,
        AVG_WAIT,
        MAX_WAIT,
        AHT,
        TALK,
        ACW,
        TRANSFERS,
    ),
    Breakdown.INTERVAL: (
        (
            "Interval (UTC)",
            lambda r: (
                "" if r.interval_start is None else r.interval_start.strftime("%Y-%m-%d %H:%M")
            ),
        ),
        ("Queue", lambda r: r.queue or "all"),
        OFFERED,
        ANSWERED,
        ABANDONED,
        SL,
        ABANDON_RATE,
        ASA,
        MAX_WAIT,
        AHT,
        OCCUPANCY,
        UTILISATION,
    ),
    Breakdown.DAY: (
        ("Day (UTC)", lambda r: "" if r.day is None else r.day.isoformat()),
        OFFERED,
        ANSWERED,
        ABANDONED,
        SL,
        ABANDON_RATE,
        ASA,
        MAX_WAIT,
        AHT,
        TALK,
        ACW,
        OCCUPANCY,
        UTILISATION,
    ),
    Breakdown.CHANNEL: (
        CHANNEL,
        *VISIT_COLUMNS,
        AVG_WAIT,
        MAX_WAIT,
        AHT,
        TALK,
        HOLD,
        ACW,
        TRANSFERS,
    ),
    Breakdown.AGENT: (
        ("Agent", lambda r: r.agent or ""),
        ("Offers", _h(lambda h: h.offers, fmt_int)),
        ("Answered", _h(lambda h: h.connects, fmt_int)),
        ("No ans.", _h(lambda h: h.ring_noanswer, fmt_int)),
        HANDLED,
        AHT,
        TALK,
        HOLD,
        ACW,
        TRANSFERS,
        ("Staffed", _a(lambda a: a.staffed_s, fmt_duration)),
        ("Paused", _a(lambda a: a.paused_s, fmt_duration)),
        OCCUPANCY,
        UTILISATION,
    ),
}


# Dropped first when the terminal is too narrow for every column (the CSV and JSON
# outputs always have them all).
DROP_ORDER: Final = (
    "Transf.", "T/out", "Avg wait", "Hold", "Talk", "ACW", "Handled", "No ans.", "Offers",
    "Util.", "Paused", "Max wait",
)  # fmt: skip


def _fit(headers: list[str], rows: list[list[str]], width: int) -> list[int]:
    return fit_columns(headers, rows, width, DROP_ORDER)


def _main_table(report: KpiReport, width: int) -> tuple[Table, int]:
    """The report's table, narrowed to ``width``; also how many columns were left out."""
    cols = COLUMNS[report.settings.by]
    if report.settings.by is Breakdown.QUEUE and all(r.channel is None for r in report.rows):
        cols = tuple(c for c in cols if c is not CHANNEL)  # a log without arrive events
    headers = [h for h, _ in cols]
    cells = [[cell(row) for _, cell in cols] for row in report.rows]
    total = [cell(report.total) for _, cell in cols]
    total[0] = "Total"
    if report.settings.by is Breakdown.INTERVAL or cols[1] is CHANNEL:
        total[1] = "all"
    keep = _fit(headers, [*cells, total], width)
    table = Table(
        title=f"KPIs by {report.settings.by.value}",
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        pad_edge=False,
    )
    for i in keep:
        table.add_column(headers[i], justify="left" if i == 0 else "right", no_wrap=True)
    for row, values in zip(report.rows, cells, strict=True):
        style = "dim" if report.settings.by is Breakdown.INTERVAL and row.queue is None else None
        table.add_row(*(values[i] for i in keep), style=style)
    table.add_section()
    table.add_row(*(total[i] for i in keep), style="bold")
    return table, len(headers) - len(keep)


def _benchmark_table(report: KpiReport) -> Table:
    table = Table(title="Benchmarks", box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False)
    for header in ("Figure", "Value", "Benchmark", "Met", "Note"):
        table.add_column(header, justify="right" if header == "Value" else "left")
    for b in report.benchmarks:
        value = fmt_pct(b.value) if b.unit == "ratio" else fmt_duration(b.value)
        met = DASH if b.met is None else ("[green]✓[/]" if b.met else "[red]✗[/]")
        table.add_row(b.label, value, b.benchmark, met, b.note or "")
    return table


def render_table(report: KpiReport) -> None:
    s, p = report.settings, report.period
    console.print(
        f"{p.start:%Y-%m-%d %H:%M:%S} – {p.end:%Y-%m-%d %H:%M:%S} UTC, {p.events:,} events",
        highlight=False,
    )
    table, hidden = _main_table(report, console.width)
    console.print(table)
    if hidden:
        console.print(
            f"[dim]{hidden} column(s) left out to fit {console.width} characters: widen the "
            "terminal, or use --format csv / json for every figure[/]",
            highlight=False,
        )
    console.print(_benchmark_table(report))
    console.print(
        f"Service level shown: [bold]{s.sl_mode.value}[/] — {SL_MODE_TEXT[s.sl_mode]}, "
        f"T = {s.sl_threshold_s:g} s; short abandons: wait < {s.short_abandon_s:g} s; "
        "durations m:ss.",
        highlight=False,
    )


def _seconds(text: str, option: str) -> float:
    return parse_duration(text, what=option)


@app.command("kpi")
def kpi_command(
    events: Annotated[str, typer.Argument(help="Event log to measure (JSON Lines).")],
    by: Annotated[
        Breakdown,
        typer.Option("--by", help="Rows: one per interval, queue, agent, day or channel."),
    ] = Breakdown.QUEUE,
    interval: Annotated[
        str,
        typer.Option(
            "--interval", help="Interval length (a whole number of minutes dividing a day)."
        ),
    ] = "30m",
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or csv.")
    ] = OutputFormat.TABLE,
    sl_threshold: Annotated[
        str, typer.Option("--sl-threshold", help="Service-level threshold T (seconds or 20s).")
    ] = "20",
    sl_mode: Annotated[
        SlMode,
        typer.Option(
            "--sl-mode",
            help="Service-level definition shown: answered, offered (abandons count "
            "against) or excl_short (short abandons left out).",
        ),
    ] = SlMode.OFFERED,
    short_abandon: Annotated[
        str, typer.Option("--short-abandon", help="Abandons with a shorter wait are short.")
    ] = "5",
) -> None:
    """Contact-center KPIs from an event log, compared with industry benchmarks."""
    settings = KpiSettings(
        by=by,
        interval_s=parse_interval(interval, what="--interval"),
        sl_threshold_s=_seconds(sl_threshold, "--sl-threshold"),
        sl_mode=sl_mode,
        short_abandon_s=_seconds(short_abandon, "--short-abandon"),
    )
    from callcenter.kpi.export import report_to_csv, report_to_json
    from callcenter.kpi.report import compute_kpis

    if fmt is OutputFormat.TABLE:
        with err_console.status("reading events and computing KPIs ..."):
            report = compute_kpis(events, settings)
        render_table(report)
    elif fmt is OutputFormat.JSON:
        write_stdout(report_to_json(compute_kpis(events, settings)))
    else:
        write_stdout(report_to_csv(compute_kpis(events, settings)))
