"""``callcenter convert``: an event log from JSON Lines to Parquet or back."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from callcenter.cli.app import app, console
from callcenter.errors import UserError


@app.command("convert")
def convert_cmd(
    src: Path = typer.Argument(..., help="Event log to read (.jsonl, or .parquet)."),
    dst: Path = typer.Argument(..., help="Event log to write (.parquet, or .jsonl)."),
) -> None:
    """Convert an event log between JSON Lines and Parquet (same events, by column).

    KPIs read a Parquet log ~10x faster than JSON Lines: convert big logs once."""
    from callcenter.storage.eventlog import is_parquet, jsonl_to_parquet, parquet_to_jsonl

    if src.resolve() == dst.resolve():
        raise UserError(f"{dst}: the output must be another file than the input")
    started = time.perf_counter()
    if is_parquet(dst) and not is_parquet(src):
        n = jsonl_to_parquet(src, dst)
    elif is_parquet(src) and not is_parquet(dst):
        n = parquet_to_jsonl(src, dst)
    else:
        raise UserError(
            f"{dst}: convert goes from .jsonl to .parquet or from .parquet to .jsonl "
            f"(got {src.suffix or 'no suffix'} -> {dst.suffix or 'no suffix'})"
        )
    console.print(
        f"{n - 1:,} events: {src} -> {dst} in {time.perf_counter() - started:.1f} s",
        highlight=False,
        soft_wrap=True,
    )
