"""``callcenter report``: speech-analytics results per call, per agent, for the center.

    callcenter report calls --from 2026-11-01 --to 2026-12-01
    callcenter report agents --format csv > agents.csv
    callcenter report center --format json

Reads what ``callcenter analyze`` stored in the database. The period is on the call's
start time (from the call's metadata); ``--to`` is exclusive; a date means midnight UTC.
Definitions: docs/speech.md, "Reports".
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
from rich import box
from rich.table import Table

from callcenter.cli.app import OutputFormat, app, console, write_stdout
from callcenter.cli.options import Database, load_settings
from callcenter.errors import UserError

if TYPE_CHECKING:
    import polars as pl

DASH: Final = "—"


class ReportKind(StrEnum):
    CALLS = "calls"
    AGENTS = "agents"
    CENTER = "center"


# Columns shown in the table view (every column goes to json / csv).
_TABLE_COLUMNS: Final = {
    ReportKind.CALLS: (
        "call_id",
        "start",
        "agent",
        "duration_s",
        "talk_ratio",
        "silence_pct",
        "agent_interruptions",
        "hold_s",
        "topic",
        "resolved",
        "caller_sentiment",
        "etiquette_passed",
        "keywords",
    ),
    ReportKind.AGENTS: (
        "agent",
        "calls",
        "minutes",
        "talk_ratio_mean",
        "talk_ratio_p90",
        "silence_pct_mean",
        "interruptions_per_call",
        "etiquette_score_pct",
        "greeting_pct",
        "thanks_pct",
        "resolved_pct",
        "top_topic",
    ),
}


def _period(text: str | None, option: str) -> float | None:
    if text is None:
        return None
    from callcenter.speech.metadata import parse_time

    try:
        return parse_time(text)
    except ValueError:
        raise UserError(
            f"{option} {text!r}: expected a date or time like 2026-11-23 or 2026-11-23T09:00Z"
        ) from None


def _cell(value: Any) -> str:
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _table(frame: pl.DataFrame, columns: tuple[str, ...] | None, title: str) -> Table:
    cols = [c for c in (columns or tuple(frame.columns)) if c in frame.columns]
    table = Table(title=title, box=box.SIMPLE_HEAVY, title_justify="left")
    for c in cols:
        table.add_column(c.replace("_", " "), overflow="fold")
    for row in frame.select(cols).iter_rows():
        table.add_row(*(_cell(v) for v in row))
    return table


@app.command("report")
def report_command(
    kind: Annotated[ReportKind, typer.Argument(help="calls, agents or center.")],
    start: Annotated[
        str | None, typer.Option("--from", help="First day/time (inclusive), UTC.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day/time (exclusive), UTC.")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")] = (
        OutputFormat.TABLE
    ),
    database: Database = None,
) -> None:
    """Speech-analytics report over the analysed calls: per call, per agent, or the center."""
    from callcenter.speech import report as rp
    from callcenter.storage.analysis_store import AnalysisStore
    from callcenter.storage.database import opened_database
    from callcenter.storage.db import database_errors

    t0, t1 = _period(start, "--from"), _period(end, "--to")
    if t0 is not None and t1 is not None and t1 <= t0:
        raise UserError(f"--to {end} is not after --from {start}")
    settings = load_settings(database=database)
    url = settings.database_url
    with (
        opened_database(settings, create=False) as engine,
        database_errors(url),
        engine.connect() as conn,
    ):
        docs = list(AnalysisStore(conn).results(t0, t1))
    calls = rp.calls_frame(docs)
    keywords = rp.keyword_frame(docs)
    if kind is ReportKind.CENTER:
        _center(calls, keywords, fmt)
        return
    frame = calls if kind is ReportKind.CALLS else rp.agents_frame(calls, keywords)
    if fmt is OutputFormat.JSON:
        write_stdout(json.dumps(frame.to_dicts(), ensure_ascii=False, indent=1))
    elif fmt is OutputFormat.CSV:
        write_stdout(frame.write_csv())
    else:
        title = f"{kind.value}: {calls.height} analysed call{'s' if calls.height != 1 else ''}"
        console.print(_table(frame, _TABLE_COLUMNS[kind], title))


def _center(calls: pl.DataFrame, keywords: pl.DataFrame, fmt: OutputFormat) -> None:
    from callcenter.speech import report as rp

    summary = rp.center_summary(calls)
    topics = rp.topic_mix(calls)
    trend = rp.keyword_trend(keywords)
    if fmt is OutputFormat.JSON:
        doc = {"summary": summary, "topics": topics.to_dicts(), "keywords": trend.to_dicts()}
        write_stdout(json.dumps(doc, ensure_ascii=False, indent=1))
        return
    if fmt is OutputFormat.CSV:
        # One long table: section, key, and the section's figures.
        lines = ["section,key,calls,share_pct,resolved_pct,hits"]
        lines += [f"summary,{k},,,,{'' if v is None else v}" for k, v in summary.items()]
        for t in topics.iter_rows(named=True):
            lines.append(
                f"topic,{_csv(t['topic'])},{t['calls']},{t['share_pct']:.2f},"
                f"{'' if t['resolved_pct'] is None else round(t['resolved_pct'], 2)},"
            )
        for kw in trend.iter_rows(named=True):
            key = _csv(f"{kw['day']} {kw['category']}")
            lines.append(f"keyword,{key},{kw['calls']},,,{kw['hits']}")
        write_stdout("\n".join(lines))
        return
    head = Table(title="center", box=box.SIMPLE_HEAVY, title_justify="left", show_header=False)
    head.add_column("figure")
    head.add_column("value", justify="right")
    for name, value in summary.items():
        head.add_row(name.replace("_", " "), _cell(value))
    console.print(head)
    console.print(_table(topics, None, "topic mix"))
    if trend.height:
        console.print(_table(trend, None, "keyword hits per day"))


def _csv(text: str) -> str:
    if any(ch in text for ch in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text
