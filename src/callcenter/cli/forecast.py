"""``callcenter forecast``: contacts and handle time per queue and interval, and backtests.

    callcenter forecast day.jsonl --horizon 14d --interval 30m --out forecast.csv
    callcenter forecast calls.csv --method holt-winters --holidays holidays.txt
    callcenter forecast day.jsonl --backtest --weeks 4

The method and the definitions: docs/wfm-forecast.md.
"""

from __future__ import annotations

import csv
import io
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from callcenter.cli.app import OutputFormat, app, console, err_console, write_stdout
from callcenter.errors import UserError
from callcenter.units import format_duration, parse_duration

if TYPE_CHECKING:  # numpy, polars and statsmodels load when the command runs
    from callcenter.wfm.backtest import Accuracy, BacktestReport
    from callcenter.wfm.forecast import Forecast, Method

METHOD_NAMES = ("seasonal-naive", "weekly-average", "holt-winters", "weekly-ets")


def _method(text: str) -> Method:
    from callcenter.wfm.forecast import Method

    try:
        return Method(text.strip().lower())
    except ValueError:
        raise UserError(
            f"--method: {text!r} is not a method; expected one of {', '.join(METHOD_NAMES)}"
        ) from None


def _horizon_days(text: str) -> int:
    seconds = parse_duration(text, what="--horizon")
    if seconds <= 0 or seconds % 86_400:
        raise UserError(
            f"--horizon: {text!r} is not valid; expected a whole number of days, "
            "at least 1 (e.g. 7d, 14d)"
        )
    return int(seconds // 86_400)


def _pct(value: float | None) -> str:
    from callcenter.wfm.backtest import fmt_ratio

    return fmt_ratio(value)


def _slot_name(slot: int, interval_s: int) -> str:
    minutes = slot * interval_s // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --- forecast output ----------------------------------------------------------------------


def _day_table(fc: Forecast) -> Table:
    """One row per queue and day: contacts, busiest interval, hours with contacts, AHT."""
    from datetime import timedelta

    from callcenter.wfm.forecast import WEEKDAY_NAMES

    table = Table(
        title=f"Forecast: {fc.method.value}, {format_duration(fc.interval_s)} intervals"
        + ("" if fc.tz == "UTC" else f", days in {fc.tz}")
    )
    for name in ("queue", "day", "contacts", "busiest interval", "open", "AHT"):
        table.add_column(name, justify="left" if name in ("queue", "day", "open") else "right")
    for q, queue in enumerate(fc.queues):
        for d in range(fc.contacts.shape[1]):
            day = fc.first_day + timedelta(days=d)
            row = fc.contacts[q, d]
            label = f"{day} {WEEKDAY_NAMES[day.weekday()]}"
            total = float(row.sum())
            if total <= 0:
                table.add_row(queue, label, "0", "—", "closed", "—")
                continue
            busy = [int(s) for s in range(row.size) if row[s] > 0]
            peak = int(row.argmax())
            aht = float((row * fc.aht_s[q, d]).sum() / total)
            table.add_row(
                queue,
                label,
                f"{total:,.0f}",
                f"{_slot_name(peak, fc.interval_s)}  {row[peak]:,.1f}",
                f"{_slot_name(busy[0], fc.interval_s)}–{_slot_name(busy[-1] + 1, fc.interval_s)}",
                f"{aht:,.0f} s",
            )
        table.add_section()
    return table


def _print_notes(notes: tuple[str, ...]) -> None:
    for note in notes:
        console.print(f"[dim]note:[/] {note}", highlight=False, soft_wrap=True)


# --- backtest output ----------------------------------------------------------------------


def _accuracy_cells(acc: Accuracy) -> list[str]:
    return [_pct(acc.wape), _pct(acc.mape), _pct(acc.bias), _pct(acc.within_share)]


def _summary_table(report: BacktestReport) -> Table:
    origins = f"{len(report.origins)} weekly origin(s) {report.origins[0]} … {report.origins[-1]}"
    table = Table(
        title=f"Backtest: {origins}, {report.horizon_days}-day horizon, "
        f"{format_duration(report.interval_s)} intervals"
    )
    for name in ("level", "method", "WAPE", "MAPE", "bias", "within ±5 %", "Poisson floor"):
        table.add_column(name, justify="left" if name in ("level", "method") else "right")
    for level in ("interval", "daily"):
        for score in report.scores:
            acc = score.interval if level == "interval" else score.daily
            name = score.method.value + (" (baseline)" if score is report.scores[-1] else "")
            table.add_row(
                "intervals" if level == "interval" else "daily totals",
                name,
                *_accuracy_cells(acc),
                _pct(acc.floor_wape),
            )
        table.add_section()
    return table


def _slot_table(report: BacktestReport) -> Table:
    method, baseline = report.scores[0], report.scores[-1]
    table = Table(title="By interval of the day (WAPE, MAPE, bias)")
    table.add_column("interval")
    table.add_column("mean actual", justify="right")
    names = [method.method.value] + ([baseline.method.value] if baseline is not method else [])
    for metric in ("WAPE", "MAPE", "bias"):
        for name in names:
            table.add_column(f"{metric}\n{name}", justify="right")
    for s, acc in enumerate(method.by_slot):
        base = baseline.by_slot[s]
        if acc.actual <= 0 and acc.forecast <= 0 and base.forecast <= 0:
            continue
        cells = []
        for get in ("wape", "mape", "bias"):
            cells.append(_pct(getattr(acc, get)))
            if baseline is not method:
                cells.append(_pct(getattr(base, get)))
        mean = acc.actual / acc.cells if acc.cells else 0.0
        table.add_row(_slot_name(s, report.interval_s), f"{mean:,.1f}", *cells)
    return table


def _benchmark_line(report: BacktestReport) -> str:
    from callcenter.wfm.backtest import BENCHMARK

    score = report.scores[0]
    verdict = {True: "[green]met[/]", False: "[red]not met[/]", None: "—"}[score.benchmark_met]
    interval = score.interval
    return (
        f"Benchmark ({BENCHMARK.source}): forecast accuracy {BENCHMARK.benchmark}, read as "
        f"daily WAPE <= 5 %: {score.method.value} {_pct(score.daily.wape)} -> {verdict}. "
        f"At the interval level the WAPE is {_pct(interval.wape)}; Poisson noise alone "
        f"would give {_pct(interval.floor_wape)} there."
    )


def _backtest_csv(report: BacktestReport) -> str:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    keys = ("cells", "actual", "forecast", "wape", "mape", "bias", "within_5pct")
    out.writerow(("method", "level", "key", *keys, "poisson_floor_wape"))
    for score in report.scores:
        rows: list[tuple[str, str, Accuracy]] = [
            ("interval", "", score.interval),
            ("daily", "", score.daily),
        ]
        rows += [("queue", q, a) for q, a in zip(report.queues, score.by_queue, strict=True)]
        rows += [
            ("interval_of_day", _slot_name(s, report.interval_s), a)
            for s, a in enumerate(score.by_slot)
            if a.actual > 0 or a.forecast > 0
        ]
        for level, key, acc in rows:
            d = acc.to_dict()
            cells = ["" if d[k] is None else d[k] for k in (*keys, "poisson_floor_wape")]
            out.writerow((score.method.value, level, key, *cells))
    return buf.getvalue()


def _progress(label: str, total: int) -> tuple[AbstractContextManager[Any], Any]:
    """A Rich progress bar on stderr (only on a terminal) and its update callback."""
    if total <= 1 or not err_console.is_terminal:
        return nullcontext(), None
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    task = bar.add_task(label, total=total)
    return bar, lambda done, _total: bar.update(task, completed=done)


@app.command("forecast")
def forecast_command(
    events: Annotated[
        Path,
        typer.Argument(
            help="History: an event log (JSON Lines or .parquet), or a CSV time series "
            "(timestamp, optional queue, contacts, optional aht_s) if it ends .csv."
        ),
    ],
    horizon: Annotated[
        str, typer.Option("--horizon", help="Days to forecast after the history: 7d, 14d.")
    ] = "14d",
    interval: Annotated[
        str, typer.Option("--interval", help="Interval length: 15m, 30m or 60m.")
    ] = "30m",
    method: Annotated[
        str,
        typer.Option("--method", help=f"Forecast method: {', '.join(METHOD_NAMES)}."),
    ] = "weekly-ets",
    queue: Annotated[
        list[str] | None, typer.Option("--queue", help="Only this queue (repeatable).")
    ] = None,
    holidays: Annotated[
        Path | None,
        typer.Option(
            "--holidays",
            help="Special days, one a line: YYYY-MM-DD (closed) or YYYY-MM-DD,0.6 (scaled).",
        ),
    ] = None,
    tz: Annotated[
        str | None,
        typer.Option("--tz", help="Time zone of the center's days (default UTC)."),
    ] = None,
    profile_weeks: Annotated[
        int, typer.Option("--profile-weeks", help="Weeks behind the weekday/intraday profiles.")
    ] = 8,
    aht: Annotated[
        float | None,
        typer.Option("--aht", help="Handle time (s) to use if the history has none."),
    ] = None,
    run_backtest: Annotated[
        bool, typer.Option("--backtest", help="Report accuracy on the last --weeks weeks.")
    ] = False,
    weeks: Annotated[int, typer.Option("--weeks", help="Backtest origins (weeks).")] = 4,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the interval table here (.csv, or .json)."),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.TABLE,
) -> None:
    """Forecast contacts and handle time per queue and interval from the history.

    Output: the interval table (queue, interval_start, interval_s, contacts, aht_s) that
    `callcenter staff` reads.  With --backtest: accuracy (WAPE, MAPE, bias) of the method
    next to the seasonal-naive baseline.  See docs/wfm-forecast.md.
    """
    from callcenter.wfm.forecast import ForecastOptions
    from callcenter.wfm.history import (
        check_interval,
        check_time_zone,
        load_history,
        read_special_days,
    )

    interval_s = check_interval(parse_duration(interval, what="--interval"))
    options = ForecastOptions(
        method=_method(method),
        horizon_days=_horizon_days(horizon),
        profile_weeks=profile_weeks,
        special_days=read_special_days(holidays) if holidays is not None else (),
        default_aht_s=aht,
    ).validated()
    zone = check_time_zone(tz)
    history = load_history(events, interval_s, zone)
    if queue:
        history = history.select(queue)
    if run_backtest:
        _run_backtest(history, options, weeks, output_format)
        if out is None:
            return
    _run_forecast(history, options, out, output_format, quiet=run_backtest)


def _run_backtest(history: Any, options: Any, weeks: int, output_format: OutputFormat) -> None:
    import orjson

    from callcenter.wfm.backtest import backtest

    bar, update = _progress("backtest", weeks * len(history.queues))
    with bar:
        report = backtest(history, options, weeks=weeks, progress=update)
    if output_format is OutputFormat.JSON:
        write_stdout(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode())
    elif output_format is OutputFormat.CSV:
        write_stdout(_backtest_csv(report))
    else:
        console.print(_summary_table(report))
        console.print(_benchmark_line(report), highlight=False, soft_wrap=True)
        console.print(_slot_table(report))
        _print_notes(report.notes)


def _run_forecast(
    history: Any, options: Any, out: Path | None, output_format: OutputFormat, *, quiet: bool
) -> None:
    from callcenter.wfm.forecast import (
        forecast,
        interval_table_csv,
        interval_table_json,
        write_interval_table,
    )

    bar, update = _progress("forecast", len(history.queues))
    with bar:
        fc = forecast(history, options, progress=update)
    table = fc.to_table()
    if out is not None:
        write_interval_table(out, table)
    if quiet:
        return
    if output_format is OutputFormat.JSON:
        write_stdout(interval_table_json(table))
    elif output_format is OutputFormat.CSV:
        write_stdout(interval_table_csv(table))
    else:
        console.print(_day_table(fc))
        where = f"written to {out}" if out is not None else "--out FILE or --format csv for them"
        console.print(f"{table.height:,} intervals; {where}", highlight=False)
        _print_notes(fc.notes)
