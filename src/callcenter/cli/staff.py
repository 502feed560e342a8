"""``callcenter staff``: agents needed per interval of a forecast, and agents to roster.

    callcenter staff forecast.csv                                   # 80 % in 20 s, Erlang C
    callcenter staff forecast.csv --target-sl 0.9 --target-time 15s --max-occupancy 0.85
    callcenter staff forecast.csv --model erlang-a --patience 3m --max-abandon 0.05
    callcenter staff forecast.csv --breaks 0.1 --absence 0.08 --out plan.csv
    callcenter staff forecast.csv --simulate --seed 7 --format json

Reads the interval table (CSV, or JSON: a list of objects) with ``queue``,
``interval_start``, ``interval_s``, ``contacts``, ``aht_s``; writes it back with
``agents``, ``required`` and the predicted service.  Definitions: docs/wfm-staffing.md.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import orjson
import typer
from rich import box
from rich.table import Table

from callcenter.cli.app import OutputFormat, app, console, err_console, fit_columns, write_stdout
from callcenter.errors import UserError
from callcenter.units import parse_duration

if TYPE_CHECKING:  # numpy, polars and scipy are imported when the command runs
    from callcenter.wfm.staffing import PlanTotals, SimTotals, StaffingPlan

DASH: Final = "—"
DROP_ORDER: Final = ("P(wait)", "Traffic", "AHT", "Occ.", "Contacts", "Sim ASA", "ASA")


def _duration(text: str | None, what: str) -> float | None:
    return None if text is None else parse_duration(text, what=what)


def _pct(x: Any) -> str:
    return DASH if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def _secs(x: Any) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return DASH
    return f"{x:.1f} s"


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def _columns(plan: StaffingPlan) -> list[tuple[str, str, Any]]:
    """(header, table column, formatter) of the table output, in order."""
    erlang_a = plan.options.model.value == "erlang-a"
    sim = "sim_service_level" in plan.table.columns
    cols: list[tuple[str, str, Any]] = [
        ("Queue", "queue", str),
        ("Interval", "interval_start", None),
        ("Contacts", "contacts", _num),
        ("AHT", "aht_s", lambda x: f"{x:.0f} s"),
        ("Traffic", "traffic", lambda x: f"{x:.2f}"),
        ("Agents", "agents", lambda x: f"{x:,}"),
        ("Required", "required", lambda x: f"{x:,}"),
        ("P(wait)", "prob_wait", _pct),
        ("SL", "service_level", _pct),
        ("ASA", "asa_s", _secs),
    ]
    if erlang_a:
        cols.append(("Aband.", "abandon", _pct))
    cols.append(("Occ.", "occupancy", _pct))
    if sim:
        cols += [("Sim SL", "sim_service_level", _pct), ("Sim ASA", "sim_asa_s", _secs)]
        if erlang_a or plan.table["sim_abandon"].drop_nulls().sum() > 0:
            cols.append(("Sim aband.", "sim_abandon", _pct))
    return cols


def _total_row(
    cols: list[tuple[str, str, Any]], totals: PlanTotals, sim: SimTotals | None
) -> list[str]:
    by_col = {
        "queue": "total",
        "interval_start": "",
        "contacts": _num(totals.contacts),
        "agents": f"{totals.agent_hours:,.1f} h",
        "required": f"{totals.required_hours:,.1f} h",
        "service_level": _pct(totals.service_level),
        "asa_s": _secs(totals.asa_s),
        "abandon": _pct(totals.abandon),
        "occupancy": _pct(totals.occupancy),
    }
    if sim is not None:
        by_col["sim_service_level"] = _pct(sim.service_level)
        by_col["sim_asa_s"] = _secs(sim.asa_s)
        by_col["sim_abandon"] = _pct(sim.abandon)
    return [by_col.get(name, "") for _, name, _ in cols]


def _render_table(plan: StaffingPlan) -> Table:
    cols = _columns(plan)
    t = plan.table
    one_day = t["interval_start"].dt.date().n_unique() == 1
    when = "%H:%M" if one_day else "%Y-%m-%d %H:%M"
    rows = []
    for r in t.iter_rows(named=True):
        rows.append(
            [r[name].strftime(when) if fmt is None else fmt(r[name]) for _, name, fmt in cols]
        )
    headers = [h for h, _, _ in cols]
    total = _total_row(cols, plan.totals(), plan.simulated)
    # fit_columns counts 2 padding characters a column; this box adds a 1-character rule
    keep = fit_columns(headers, [*rows, total], console.width - len(headers) - 2, DROP_ORDER)
    g = plan.options.targets
    goal = [f"{_pct(g.service_level)} in {g.target_time_s:g} s"] if g.service_level else []
    goal += [f"ASA <= {g.asa_s:g} s"] if g.asa_s else []
    goal += [f"abandon <= {_pct(g.max_abandon)}"] if g.max_abandon else []
    goal += [f"occupancy <= {_pct(g.max_occupancy)}"] if g.max_occupancy else []
    model = plan.options.model.value.replace("erlang-", "Erlang ").replace(" c", " C")
    model = model.replace(" a", " A")
    if plan.options.patience_s:
        model += f", patience {plan.options.patience_s:g} s"
    table = Table(
        title=f"Staffing ({model}): {', '.join(goal)}; shrinkage "
        f"{_pct(plan.options.shrinkage.total)}",
        box=box.SIMPLE_HEAD,
        show_footer=False,
    )
    for i in keep:
        table.add_column(headers[i], justify="left" if i < 2 else "right", no_wrap=True)
    for row in rows:
        table.add_row(*(row[i] for i in keep))
    table.add_section()
    table.add_row(*(total[i] for i in keep), style="bold")
    table.caption = (
        "SL: answered within the target time / all offered calls (abandons count against). "
        "Agents: on the phones; Required: rostered = ceil(agents / (1 - shrinkage)). "
        "Total line: agent-hours and contact-weighted averages."
    )
    return table


def _plan_csv(plan: StaffingPlan) -> str:
    import polars as pl

    frame = plan.table.with_columns(pl.col("interval_start").dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    floats = [c for c, d in frame.schema.items() if d == pl.Float64]
    frame = frame.with_columns(pl.col(floats).fill_nan(None))
    return frame.write_csv()


def _plan_json(plan: StaffingPlan, *, with_summary: bool) -> str:
    from dataclasses import asdict

    from callcenter.wfm.staffing import options_summary, plan_records

    rows = plan_records(plan)
    if not with_summary:
        return orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode()
    doc = {
        "options": dict(options_summary(plan.options)),
        "totals": asdict(plan.totals()),
        "simulated": None if plan.simulated is None else asdict(plan.simulated),
        "rows": rows,
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode()


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed into place, so that a
    failure never leaves a half-written plan."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@app.command("staff")
def staff_command(
    forecast: Annotated[
        Path, typer.Argument(help="Interval table: CSV, or JSON (a list of objects).")
    ],
    target_sl: Annotated[
        float | None,
        typer.Option("--target-sl", help="Fraction of calls answered within --target-time (0.8)."),
    ] = None,
    target_time: Annotated[
        str, typer.Option("--target-time", help="Service-level answer time: 20, 20s, 1m.")
    ] = "20s",
    target_asa: Annotated[
        str | None, typer.Option("--target-asa", help="Mean wait of answered calls, at most: 30s.")
    ] = None,
    max_occupancy: Annotated[
        float | None, typer.Option("--max-occupancy", help="Occupancy at most (0.85).")
    ] = None,
    model: Annotated[
        str, typer.Option("--model", help="erlang-c (nobody hangs up) or erlang-a (patience).")
    ] = "erlang-c",
    patience: Annotated[
        str | None, typer.Option("--patience", help="Callers' mean patience (Erlang A): 3m.")
    ] = None,
    max_abandon: Annotated[
        float | None,
        typer.Option("--max-abandon", help="Erlang A: share of callers hanging up, at most."),
    ] = None,
    shrinkage: Annotated[
        float | None, typer.Option("--shrinkage", help="Total shrinkage (0.3), or its parts:")
    ] = None,
    breaks: Annotated[float | None, typer.Option("--breaks", help="Breaks share.")] = None,
    absence: Annotated[float | None, typer.Option("--absence", help="Absence share.")] = None,
    training: Annotated[float | None, typer.Option("--training", help="Training share.")] = None,
    other: Annotated[float | None, typer.Option("--other", help="Other shrinkage.")] = None,
    simulate: Annotated[
        bool, typer.Option("--simulate", help="Check the plan with the simulator.")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Simulation random seed.")] = 1,
    sim_days: Annotated[
        int, typer.Option("--sim-days", help="Simulated replications of each day.")
    ] = 5,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the plan: .csv or .json.")
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.TABLE,
) -> None:
    """Agents per interval for a service target (Erlang C or A), with shrinkage.

    With no target given, 80% of calls answered within 20 s.  --simulate runs the plan
    through the simulator and shows the simulated service beside the predicted one.
    """
    from callcenter.wfm.staffing import (
        Model,
        Shrinkage,
        StaffingOptions,
        Targets,
        read_interval_table,
        staff_intervals,
    )

    try:
        chosen = Model(model)
    except ValueError:
        raise UserError(f"--model: {model!r} is not valid; expected erlang-c or erlang-a") from None
    patience_s = _duration(patience, "--patience")
    sim_patience = None
    if chosen is Model.ERLANG_C and patience_s is not None:
        if not simulate:
            raise UserError(
                "--patience applies to --model erlang-a, or to --simulate (the simulated "
                "callers' patience); Erlang C itself assumes nobody hangs up"
            )
        sim_patience, patience_s = patience_s, None
    if out is not None and out.suffix.lower() not in (".csv", ".json"):
        raise UserError(f"--out: {str(out)!r} is not valid; expected a .csv or .json file name")
    options = StaffingOptions(
        targets=Targets(
            service_level=target_sl,
            target_time_s=parse_duration(target_time, what="--target-time"),
            asa_s=_duration(target_asa, "--target-asa"),
            max_occupancy=max_occupancy,
            max_abandon=max_abandon,
        ),
        model=chosen,
        patience_s=patience_s,
        shrinkage=Shrinkage.of(
            shrinkage, breaks=breaks, absence=absence, training=training, other=other
        ),
    ).checked()
    plan = staff_intervals(read_interval_table(forecast), options, source=str(forecast))
    if simulate:
        from callcenter.wfm.staffing_check import simulate_plan

        with err_console.status("simulating the plan ..."):
            plan = simulate_plan(plan, seed=seed, days=sim_days, patience_s=sim_patience)
    if out is not None:
        is_json = out.suffix.lower() == ".json"
        _write_atomic(out, _plan_json(plan, with_summary=False) if is_json else _plan_csv(plan))
    if output_format is OutputFormat.JSON:
        write_stdout(_plan_json(plan, with_summary=True))
    elif output_format is OutputFormat.CSV:
        write_stdout(_plan_csv(plan))
    else:
        console.print(_render_table(plan))
