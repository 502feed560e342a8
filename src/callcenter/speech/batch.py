"""Many calls: find them, skip the finished ones, analyse the rest in parallel, save.

* **Plan** (:func:`plan`): discover the calls, give each its id (the file stem; for a
  pair, the stem without the side suffix) and its metadata; a call whose result file
  ``<out>/<call id>.json`` exists is finished and skipped unless ``force``.
* **Run** (:func:`run`): one :class:`~callcenter.speech.pipeline.Analyzer` per worker
  process (the model is loaded once per worker), calls handed out one at a time,
  results coming back as they finish. A call that fails — a bad file, or any other
  error — is recorded with its reason and the batch goes on.
* **Save** (:class:`ResultWriter`): each result is written atomically (``.part`` then
  rename), so an interrupted batch leaves only whole results behind and the next run
  resumes where it stopped; then it is stored in the database in its own transaction.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from callcenter.errors import UserError
from callcenter.speech.audio import AudioError, Layout
from callcenter.speech.discover import discover
from callcenter.speech.metadata import CallMeta, sidecar
from callcenter.speech.pipeline import AnalyzeOptions, Analyzer


@dataclass(frozen=True)
class Job:
    call_id: str
    files: tuple[Path, ...]
    meta: CallMeta | None = None


@dataclass(frozen=True)
class Failure:
    """A call (or file) that could not be analysed, and why (one line)."""

    path: str
    reason: str


@dataclass
class Plan:
    jobs: list[Job] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)  # call ids skipped as done
    failures: list[Failure] = field(default_factory=list)


def call_id_of(files: Sequence[Path], layout: Layout) -> str:
    from callcenter.speech.audio import split_side

    if layout is Layout.PAIR:
        stem, side = split_side(files[0])
        if side is not None:
            return stem
    return files[0].stem


def _safe_id(call_id: str) -> bool:
    return bool(call_id) and "/" not in call_id and "\\" not in call_id and call_id[0] != "."


def result_path(out: Path, call_id: str) -> Path:
    return out / f"{call_id}.json"


def plan(
    paths: Sequence[str | Path],
    layout: Layout,
    out: Path,
    *,
    force: bool = False,
    metadata: dict[str, CallMeta] | None = None,
) -> Plan:
    """The calls to analyse (see the module docstring); problems become failures."""
    found = discover(paths, layout)
    result = Plan(failures=[Failure(e.path, e.problem) for e in found.errors])
    seen: dict[str, Path] = {}
    for files in found.calls:
        cid = call_id_of(files, layout)
        if not _safe_id(cid):
            result.failures.append(Failure(str(files[0]), f"cannot be used as a call id: {cid!r}"))
            continue
        if cid in seen:
            result.failures.append(
                Failure(str(files[0]), f"call id {cid!r} is also the id of {seen[cid]}")
            )
            continue
        seen[cid] = files[0]
        if not force and result_path(out, cid).is_file():
            result.finished.append(cid)
            continue
        try:
            meta = sidecar(files[0], cid)
        except UserError as e:
            result.failures.append(Failure(str(files[0]), str(e)))
            continue
        fallback = (metadata or {}).get(cid)
        meta = meta.merged(fallback) if meta is not None else fallback
        result.jobs.append(Job(cid, tuple(files), meta))
    return result


# --------------------------------------------------------------------------- running

_worker: Analyzer | None = None


def _init_worker(options: AnalyzeOptions) -> None:
    global _worker
    _worker = Analyzer(options)


def _analyze(analyzer: Analyzer, job: Job) -> tuple[Job, dict[str, Any] | None, Failure | None]:
    try:
        return job, analyzer.analyze(job.files, job.call_id, job.meta), None
    except AudioError as e:
        return job, None, Failure(e.path, e.problem)
    except UserError as e:
        return job, None, Failure(str(job.files[0]), str(e))
    except Exception as e:  # a bug must not stop the batch; it is reported per call
        return job, None, Failure(str(job.files[0]), f"internal error: {type(e).__name__}: {e}")


def _run_in_worker(job: Job) -> tuple[Job, dict[str, Any] | None, Failure | None]:
    assert _worker is not None, "worker not initialised"
    return _analyze(_worker, job)


def threads_per_worker(workers: int) -> int:
    """Speech-model threads per worker so that the workers together use every core."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


Outcome = tuple[Job, dict[str, Any] | None, Failure | None]


def run(jobs: Sequence[Job], options: AnalyzeOptions, workers: int = 1) -> Iterator[Outcome]:
    """Analyse ``jobs``, yielding each outcome as soon as it is ready.

    ``workers`` > 1 uses that many processes (started fresh, not forked: the speech
    runtime's threads do not survive a fork), each with its share of the cores.
    """
    if workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    if options.asr is not None and options.asr.cpu_threads == 0:
        options = replace(
            options, asr=replace(options.asr, cpu_threads=threads_per_worker(workers))
        )
    if workers == 1 or len(jobs) <= 1:
        analyzer = Analyzer(options)
        for job in jobs:
            yield _analyze(analyzer, job)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=min(workers, len(jobs)),
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(options,),
    ) as pool:
        pending: set[Future[Outcome]] = set()
        queue = list(reversed(jobs))
        # Keep a few calls per worker in flight; results come back in finishing order.
        while queue or pending:
            while queue and len(pending) < 2 * workers:
                pending.add(pool.submit(_run_in_worker, queue.pop()))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()


# --------------------------------------------------------------------------- saving


def write_json_atomic(path: Path, doc: dict[str, Any]) -> None:
    part = path.with_name(path.name + ".part")
    with part.open("w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, path)


class ResultWriter:
    """Writes each result to ``<out>/<call id>.json`` and, if given, the database."""

    def __init__(self, out: Path, save: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.out = out
        self.save = save
        out.mkdir(parents=True, exist_ok=True)

    def write(self, doc: dict[str, Any]) -> Path:
        path = result_path(self.out, doc["call_id"])
        write_json_atomic(path, doc)
        if self.save is not None:
            self.save(doc)
        return path

    def stored(self, call_id: str) -> dict[str, Any]:
        """A finished result, read back from its file (to fill a database that lacks it)."""
        path = result_path(self.out, call_id)
        try:
            doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise UserError(f"{path}: cannot read this result ({e}); rerun with --force") from None
        return doc
