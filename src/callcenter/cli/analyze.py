"""``callcenter analyze``: every recorded call analysed, results per call in JSON and SQL.

    callcenter analyze recordings/                        # stereo, agent on the left
    callcenter analyze recs/ --layout pair --workers 2 --metadata calls.csv
    callcenter analyze recs/ --model /models/whisper-base --language ru --out results/

Finished calls (``<out>/<call id>.json`` exists) are skipped unless ``--force``; a bad
recording is listed with its reason at the end and makes the exit code 1, it never
stops the batch. Definitions and the result format: docs/speech.md.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from callcenter.cli.app import app, console, err_console
from callcenter.cli.options import Database, load_settings
from callcenter.errors import UserError

if TYPE_CHECKING:
    from callcenter.speech.batch import Failure, Plan, ResultWriter
    from callcenter.speech.metadata import CallMeta
    from callcenter.speech.pipeline import AnalyzeOptions

SHOWN_FAILURES: Final = 20
RESULTS_FOLDER: Final = "analysis"  # in the data_dir setting (default: the current folder)


def _print_failures(failures: list[Failure]) -> None:
    err_console.print(f"[bold red]{len(failures)} failed:[/]")
    for f in failures[:SHOWN_FAILURES]:
        err_console.print(
            f"  {escape(f.path)}: {escape(f.reason)}", highlight=False, soft_wrap=True
        )
    if len(failures) > SHOWN_FAILURES:
        err_console.print(f"  … and {len(failures) - SHOWN_FAILURES} more")


def _sync_finished(plan: Plan, writer: ResultWriter, store_ids: set[str]) -> int:
    """Finished calls whose results are not in the database yet are stored from their file."""
    added = 0
    for cid in plan.finished:
        if cid not in store_ids and writer.save is not None:
            writer.save(writer.stored(cid))
            added += 1
    return added


def _call_metadata(events: Path | None, metadata: Path | None) -> dict[str, CallMeta]:
    """Agent, queue, caller and start per call id: from the event log, then the
    metadata file on top."""
    from callcenter.speech.metadata import load_event_metadata, load_metadata_file

    meta: dict[str, CallMeta] = {}
    if events is not None:
        meta.update(load_event_metadata(events))
    if metadata is not None:
        for cid, m in load_metadata_file(metadata).items():
            meta[cid] = m.merged(meta.get(cid))
    return meta


def _run_jobs(
    todo: Plan, options: AnalyzeOptions, workers: int, writer: ResultWriter, *, quiet: bool
) -> tuple[int, float, list[Failure]]:
    """Analyse the planned calls on ``workers`` processes with a progress bar; return
    (calls done, seconds of audio, failures, the plan's own first)."""
    from callcenter.speech.batch import run

    failures = list(todo.failures)
    done = 0
    audio_s = 0.0
    progress = Progress(
        TextColumn("analyzing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("calls"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=quiet or not todo.jobs,
    )
    with progress:
        task = progress.add_task("calls", total=len(todo.jobs))
        for _job, doc, failure in run(todo.jobs, options, workers):
            if doc is not None:
                writer.write(doc)
                done += 1
                audio_s += float((doc.get("metrics") or {}).get("duration_s") or 0.0)
            elif failure is not None:
                failures.append(failure)
            progress.advance(task)
    return done, audio_s, failures


def _print_summary(
    done: int, audio_s: float, elapsed: float, skipped: int, synced: int, out: Path
) -> None:
    speed = f", {audio_s / elapsed:.0f}× real time" if done and elapsed > 0 else ""
    console.print(
        f"analyzed {done} call{'s' if done != 1 else ''} "
        f"({audio_s / 60:.1f} min of audio) in {elapsed:.1f} s{speed}; "
        f"skipped {skipped} already analyzed"
        + (f" ({synced} stored in the database from their files)" if synced else "")
        + f"; results in {out}/",
        highlight=False,
    )


@app.command("analyze")
def analyze_command(
    paths: Annotated[list[Path], typer.Argument(help="Recordings, or folders of them.")],
    layout: Annotated[
        str, typer.Option("--layout", help="stereo (one file, two channels), pair, or mono.")
    ] = "stereo",
    agent_channel: Annotated[
        str, typer.Option("--agent-channel", help="Stereo: the agent's channel, left or right.")
    ] = "left",
    model: Annotated[
        str,
        typer.Option(
            "--model", help="Speech model: a CTranslate2 Whisper folder, tiny.en or base."
        ),
    ] = "tiny.en",
    language: Annotated[
        str | None,
        typer.Option("--language", help="Language code (en, ru, fa); default: detected."),
    ] = None,
    keywords: Annotated[
        Path | None, typer.Option("--keywords", help="Keyword lists (YAML); default built in.")
    ] = None,
    topics: Annotated[
        Path | None, typer.Option("--topics", help="Topic taxonomy (YAML); default built in.")
    ] = None,
    etiquette: Annotated[
        Path | None,
        typer.Option("--etiquette", help="Etiquette phrases (YAML); default built in."),
    ] = None,
    metadata: Annotated[
        Path | None,
        typer.Option("--metadata", help="Call metadata, CSV or JSON with a call_id column."),
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option("--events", help="Event log to take agent, queue, caller, start from."),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", help="Parallel worker processes (default: all cores).")
    ] = 0,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help=f"Folder for the per-call JSON results (default: {RESULTS_FOLDER}/ in the "
            "CALLCENTER_DATA_DIR setting, else in the current folder).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Analyse again calls that already have a result.")
    ] = False,
    transcribe: Annotated[
        bool,
        typer.Option(
            "--transcribe/--no-transcribe",
            help="Speech to text and the text stages (off: audio metrics only).",
        ),
    ] = True,
    redact: Annotated[
        bool,
        typer.Option("--redact/--no-redact", help="Remove card numbers, phones, e-mails."),
    ] = True,
    database: Database = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar.")] = False,
) -> None:
    """Analyse recorded calls: talk, silence, overtalk, hold, transcript, keywords, topic,
    sentiment, resolution, etiquette; results per call in JSON and in the database."""
    import os

    from callcenter.speech.audio import AudioOptions, Layout
    from callcenter.speech.batch import ResultWriter, plan
    from callcenter.speech.pipeline import AnalyzeOptions, Analyzer
    from callcenter.speech.transcribe import AsrOptions
    from callcenter.storage.analysis_store import AnalysisStore
    from callcenter.storage.database import open_database
    from callcenter.storage.db import database_errors

    settings = load_settings(database=database)
    out = out if out is not None else settings.data_dir / RESULTS_FOLDER
    audio = AudioOptions(layout=layout, agent_channel=agent_channel)  # type: ignore[arg-type]
    asr = (
        AsrOptions(model=model, language=language, cache_dir=settings.cache_dir)
        if transcribe
        else None
    )
    options = AnalyzeOptions(
        audio=audio, asr=asr, keywords=keywords, topics=topics, etiquette=etiquette, redact=redact
    )
    if workers < 0:
        raise UserError(f"--workers must be at least 1, got {workers}")
    meta = _call_metadata(events, metadata)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a folder")
    todo = plan(paths, Layout(audio.layout), out, force=force, metadata=meta)
    if not todo.jobs and not todo.finished and not todo.failures:
        raise UserError(f"no recordings found in {', '.join(str(p) for p in paths)}")
    if todo.jobs:
        Analyzer(options).check()  # a bad model or list file: one line before any work
    url = settings.database_url
    engine = open_database(settings)

    def save(doc: dict[str, Any]) -> None:
        with database_errors(url), engine.begin() as conn:
            AnalysisStore(conn).save(doc)

    writer = ResultWriter(out, save)
    try:
        with database_errors(url), engine.connect() as conn:
            stored = AnalysisStore(conn).call_ids()
        synced = _sync_finished(todo, writer, stored)
        began = time.perf_counter()
        done, audio_s, failures = _run_jobs(
            todo, options, workers or (os.cpu_count() or 1), writer, quiet=quiet
        )
    finally:
        engine.dispose()
    _print_summary(done, audio_s, time.perf_counter() - began, len(todo.finished), synced, out)
    if failures:
        _print_failures(failures)
        raise typer.Exit(1)
