"""``callcenter simulate``: run a scenario and write its event log."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from callcenter.cli.app import app, console, err_console

if TYPE_CHECKING:
    from callcenter.events import RawEvent


@app.command("simulate")
def simulate_cmd(
    scenario: Path = typer.Argument(..., help="Scenario YAML (see examples/)."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Event log to write: JSON Lines, or Parquet if it ends .parquet."
    ),
    seed: int | None = typer.Option(None, help="Random seed (overrides the scenario's)."),
    days: int | None = typer.Option(None, min=1, help="Days to simulate (overrides)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
) -> None:
    """Simulate the center described by SCENARIO and write every event to --out."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from callcenter.sim import load_scenario, simulate
    from callcenter.storage.eventlog import FileLog

    sc = load_scenario(scenario, seed=seed, days=days)
    started = time.perf_counter()
    # a Parquet log is simulated to JSON Lines, then converted (streaming) when it closes
    with FileLog(out).writer(f"sim:{sc.name}", sc.start_epoch, background=True) as log:

        def sink(batch: list[RawEvent]) -> None:
            log.write_raw_batch(batch)

        if quiet:
            summary = simulate(sc, sink)
        else:
            with Progress(
                TextColumn("simulating [bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}% of {task.fields[days]} day(s)"),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            ) as bar:
                task = bar.add_task(sc.name, total=1.0, days=sc.days)
                summary = simulate(sc, sink, progress=lambda f: bar.update(task, completed=f))
    if quiet:
        return
    elapsed = time.perf_counter() - started
    table = Table(title=f"{sc.name}: {sc.days} day(s), seed {sc.seed}", show_header=False)
    table.add_row("contacts", f"{summary.contacts:,}")
    for key in ("connect", "abandon", "timeout", "transfer", "callback_request", "ring_noanswer"):
        table.add_row(key, f"{summary.by_type.get(key, 0):,}")
    table.add_row("events written", f"{summary.events:,}")
    table.add_row("routing decisions", f"{summary.decisions:,}")
    table.add_row("run time", f"{elapsed:.1f} s")
    console.print(table)
    console.print(f"event log: [bold]{out}[/]  ->  callcenter kpi {out}", soft_wrap=True)
