"""``callcenter erlang``: agents needed for a service level, or how a staffing level performs.

Evaluate a staffing level::

    callcenter erlang --calls 100 --period 30m --aht 180 --agents 14

Solve for the fewest agents answering 80% of calls within 20 seconds::

    callcenter erlang --calls 100 --period 30m --aht 180 --target-sl 0.8 --target-time 20
"""

from __future__ import annotations

import csv
import io
import math
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from callcenter.cli.app import OutputFormat, app, console, write_stdout
from callcenter.queueing.erlang import ErlangResult, erlang_report
from callcenter.units import format_duration, parse_duration

#: The keys of ``--format json`` / ``csv`` output, in order.  Documented in docs/erlang.md;
#: add keys at the end, never rename or remove one.
JSON_KEYS: tuple[str, ...] = (
    "model",
    "mode",
    "calls",
    "period_s",
    "aht_s",
    "traffic_erlangs",
    "agents",
    "target_sl",
    "target_time_s",
    "max_occupancy",
    "prob_wait",
    "service_level",
    "asa_s",
    "occupancy",
    "immediate_answer",
    "stable",
)


def result_to_dict(result: ErlangResult) -> dict[str, Any]:
    """The stable, JSON-ready form of ``result`` (keys: :data:`JSON_KEYS`)."""
    calls: float | int = int(result.calls) if result.calls.is_integer() else result.calls
    return {
        "model": "erlang_c",
        "mode": "evaluate" if result.target_sl is None else "solve",
        "calls": calls,
        "period_s": result.period_s,
        "aht_s": result.aht_s,
        "traffic_erlangs": result.traffic,
        "agents": result.agents,
        "target_sl": result.target_sl,
        "target_time_s": result.target_time_s,
        "max_occupancy": result.max_occupancy,
        "prob_wait": result.prob_wait,
        "service_level": result.service_level,
        "asa_s": result.asa if math.isfinite(result.asa) else None,
        "occupancy": result.occupancy,
        "immediate_answer": result.immediate_answer,
        "stable": result.stable,
    }


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _num(x: float) -> str:
    return f"{x:,.0f}" if x.is_integer() else f"{x:,.2f}"


def _render_table(r: ErlangResult) -> Table:
    title = (
        "Erlang C: staffing for a service level"
        if r.target_sl is not None
        else "Erlang C: how this staffing performs"
    )
    table = Table(title=title, show_header=False)
    table.add_column("quantity", style="bold")
    table.add_column("value", justify="right")
    table.add_column("note", style="dim")

    table.add_row("calls", _num(r.calls), f"per {format_duration(r.period_s)}")
    table.add_row("average handle time", f"{r.aht_s:g} s", "")
    if r.target_sl is not None:
        goal = f"{_pct(r.target_sl)} in {r.target_time_s:g} s"
        if r.max_occupancy is not None:
            goal += f", occupancy <= {_pct(r.max_occupancy)}"
        table.add_row("target", goal, "")
    table.add_section()
    table.add_row("traffic", f"{r.traffic:,.2f} Erlangs", "calls x AHT / period")
    table.add_row("agents", f"{r.agents:,}", "needed" if r.target_sl is not None else "given")
    table.add_row("P(wait)", _pct(r.prob_wait), "Erlang C")
    table.add_row(
        "service level", f"{_pct(r.service_level)} in {r.target_time_s:g} s", "answered in time"
    )
    asa_text = f"{r.asa:,.1f} s" if math.isfinite(r.asa) else "unbounded"
    table.add_row("ASA", asa_text, "average speed of answer")
    table.add_row("occupancy", _pct(r.occupancy), "traffic / agents")
    table.add_row("answered immediately", _pct(r.immediate_answer), "1 - P(wait)")
    if not r.stable:
        table.caption = (
            f"[bold red]unstable:[/] {r.agents} agents for {r.traffic:,.2f} Erlangs; "
            "the queue grows without bound (needs more agents than Erlangs)"
        )
    return table


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _render_csv(data: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(JSON_KEYS)
    writer.writerow([_csv_cell(data[k]) for k in JSON_KEYS])
    return buf.getvalue()


@app.command("erlang")
def erlang_command(
    calls: Annotated[
        float, typer.Option("--calls", help="Calls offered in the period (may be fractional).")
    ],
    period: Annotated[
        str,
        typer.Option("--period", help="Length of the period: 15m, 30m, 1h, 900s or 900 (seconds)."),
    ],
    aht: Annotated[float, typer.Option("--aht", help="Average handle time, seconds.")],
    agents: Annotated[
        int | None,
        typer.Option("--agents", help="Evaluate this many agents (instead of --target-sl)."),
    ] = None,
    target_sl: Annotated[
        float | None,
        typer.Option(
            "--target-sl",
            help="Solve for the fewest agents answering this fraction of calls in time (0.8).",
        ),
    ] = None,
    target_time: Annotated[
        float,
        typer.Option("--target-time", help="Service-level answer time, seconds."),
    ] = 20.0,
    max_occupancy: Annotated[
        float | None,
        typer.Option(
            "--max-occupancy",
            help="With --target-sl: also keep occupancy at or below this fraction (0.85).",
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.TABLE,
) -> None:
    """Erlang C staffing: agents needed for a service level, or the service a staffing gives.

    Give exactly one of --agents (evaluate) or --target-sl (solve for agents).

    Assumes Poisson arrivals, exponential handle times and no abandonment.

    Callers who hang up make it overstaff; see docs/erlang.md.
    """
    period_s = parse_duration(period, what="--period")
    result = erlang_report(
        calls,
        period_s,
        aht,
        agents=agents,
        target_sl=target_sl,
        target_time_s=target_time,
        max_occupancy=max_occupancy,
    )
    if output_format is OutputFormat.JSON:
        data = result_to_dict(result)
        write_stdout(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
    elif output_format is OutputFormat.CSV:
        write_stdout(_render_csv(result_to_dict(result)))
    else:
        console.print(_render_table(result))
