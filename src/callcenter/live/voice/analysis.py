"""Every recorded call analysed: a bounded, resumable background worker.

The call controller merges a call's two sides into ``<recordings_dir>/<relpath>``
(:func:`callcenter.voice.recording.merge_sides`), sets the contact's ``recording_url``
to that relative path and calls :meth:`RecordingAnalyzer.submit`.  The worker runs the
speech pipeline (:class:`callcenter.speech.pipeline.Analyzer`, layout ``stereo``, agent
on the left: the merge writes exactly that) and stores the result where ``callcenter
analyze`` does — ``<out_dir>/<contact id>.json`` and the ``call_analyses`` table
(:class:`~callcenter.storage.analysis_store.AnalysisStore`) — keyed by the contact id,
with agent, queue and start from the contact's first ``connect`` event and the caller
number from its ``arrive`` (the contact row fills what the events lack).  So
``callcenter report calls|agents|center`` and the CRM show it.

* **Bounded**: at most ``workers`` analyses at a time (default 1), each in a worker
  thread (:func:`asyncio.to_thread`), so the event loop — and with it every call — is
  never blocked by the model.  The speech model is loaded once, on the first call.
* **Resumable**: :meth:`RecordingAnalyzer.run` starts with :meth:`backlog` — contacts with
  a ``recording_url``, no stored analysis and no recorded failure — then takes what is
  submitted.  A restart in the middle of a call's analysis does it again.
* **Failures are recorded, not retried forever**: a call whose analysis fails (a bad
  file, no speech, any error) gets ``<out_dir>/<contact id>.failed.json`` with the
  reason; :meth:`backlog` skips it from then on (delete the file, or run ``callcenter
  analyze --force`` on the recording, to try again).  A result that cannot be *stored*
  (the database or the disk refusing) is no failure of the call: it is logged, the
  worker goes on, and the next start's backlog tries the call again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.engine import Engine

from callcenter.errors import UserError
from callcenter.settings import Settings
from callcenter.speech.audio import AudioError, AudioOptions, Layout
from callcenter.speech.batch import result_path, write_json_atomic
from callcenter.speech.metadata import CallMeta
from callcenter.speech.pipeline import AnalyzeOptions, Analyzer
from callcenter.storage.analysis_store import AnalysisStore
from callcenter.storage.db import events_table
from callcenter.storage.tables import ContactRow
from callcenter.storage.tables.analysis import analyses_table
from callcenter.voice.archive import check_contact_id, resolve_recording

__all__ = ["AnalysisOutcome", "RecordingAnalyzer", "failure_path", "read_failure"]

log = logging.getLogger(__name__)

FAILED_SUFFIX: Final = ".failed.json"


@dataclass(frozen=True, slots=True)
class AnalysisOutcome:
    """What became of one contact: ``ok`` with the result's path, or the reason."""

    contact_id: str
    ok: bool
    reason: str | None = None
    result: Path | None = None


def failure_path(out_dir: Path, contact_id: str) -> Path:
    return out_dir / f"{contact_id}{FAILED_SUFFIX}"


def read_failure(out_dir: Path, contact_id: str) -> str | None:
    """The recorded reason a contact's analysis failed, or None."""
    if not check_contact_id_ok(contact_id):
        return None
    try:
        doc = json.loads(failure_path(out_dir, contact_id).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return "analysis failed (the failure record is unreadable)"
    return str(doc.get("reason") or "analysis failed")


def default_options(transcribe: bool = True) -> AnalyzeOptions:
    """The pipeline's options for merged recordings: stereo, agent on the left."""
    options = AnalyzeOptions(audio=AudioOptions(layout=Layout.STEREO, agent_channel="left"))
    return options if transcribe else replace(options, asr=None)


class RecordingAnalyzer:
    """The background worker (see the module docstring).

    ``submit`` may be called from any thread; ``run`` is the coroutine the server keeps
    running (``Center.background``); ``analyze`` does one contact synchronously (tests,
    tools).
    """

    def __init__(
        self,
        db: Engine,
        recordings_dir: Path,
        out_dir: Path,
        *,
        options: AnalyzeOptions | None = None,
        workers: int = 1,
    ) -> None:
        if workers < 1:
            raise UserError(f"recording_analysis_workers: {workers} (expected at least 1)")
        self.db = db
        self.recordings_dir = recordings_dir
        self.out_dir = out_dir
        self.options = options or default_options()
        self.workers = workers
        self._analyzer: Analyzer | None = None
        self._analyzer_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[str] | None = None
        self._early: list[str] = []  # submitted before run() started
        self._queued: set[str] = set()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, db: Engine, settings: Settings) -> RecordingAnalyzer:
        """Folders and options from the settings (``recordings_dir``, ``data_dir``)."""
        return cls(
            db,
            settings.recordings_path,
            settings.data_dir / "analysis",
            options=default_options(settings.recording_analysis_transcribe),
            workers=max(1, settings.recording_analysis_workers),
        )

    # ------------------------------------------------------------------ finding work

    def backlog(self) -> list[str]:
        """Recorded contacts not analysed yet and not failed, oldest answer first."""
        with self.db.connect() as conn:
            done = set(conn.scalars(select(analyses_table.c.call_id)))
            rows = conn.execute(
                select(ContactRow.id)
                .where(ContactRow.recording_url.is_not(None))
                .order_by(ContactRow.answered_at, ContactRow.id)
            )
            recorded = [r[0] for r in rows]
        return [
            cid
            for cid in recorded
            if cid not in done and not failure_path(self.out_dir, cid).exists()
        ]

    # ------------------------------------------------------------------ one call

    def metadata(self, contact_id: str) -> tuple[CallMeta, str | None]:
        """The call's agent, caller, queue and start (events first, then the contact
        row) and its ``recording_url``."""
        c = events_table.c
        with self.db.connect() as conn:
            events = conn.execute(
                select(c.type, c.t, c.agent, c.queue, c.caller)
                .where(c.contact == contact_id, c.type.in_(("arrive", "connect")))
                .order_by(c.id)
            ).all()
            row = conn.execute(
                select(
                    ContactRow.agent,
                    ContactRow.queue,
                    ContactRow.answered_at,
                    ContactRow.recording_url,
                ).where(ContactRow.id == contact_id)
            ).first()
        # (type, t, agent, queue, caller) tuples: Row.t is a Row method, not the column
        arrive = next((e for e in events if e[0] == "arrive"), None)
        connect = next((e for e in events if e[0] == "connect"), None)
        meta = CallMeta(
            agent=connect[2] if connect else None,
            caller=arrive[4] if arrive else None,
            queue=connect[3] if connect else None,
            start=connect[1] if connect else None,
        )
        if row is None:
            return meta, None
        fallback = CallMeta(agent=row.agent, queue=row.queue, start=row.answered_at)
        return meta.merged(fallback), row.recording_url

    def _pipeline(self) -> Analyzer:
        with self._analyzer_lock:
            if self._analyzer is None:
                self._analyzer = Analyzer(self.options)
            return self._analyzer

    def analyze(self, contact_id: str) -> AnalysisOutcome:
        """Analyse one contact's recording now (in this thread); store the result or
        record the failure.  Never raises for a bad recording."""
        try:
            check_contact_id(contact_id)
            meta, stored = self.metadata(contact_id)
            if stored is None:
                raise UserError(f"contact {contact_id!r} has no recording")
            path = resolve_recording(self.recordings_dir, stored)
            doc = self._pipeline().analyze([path], contact_id, meta)
        except AudioError as e:
            return self._failed(contact_id, str(e))
        except UserError as e:
            return self._failed(contact_id, str(e))
        except Exception as e:  # a bug must not stop the worker; it is recorded per call
            log.exception("analysis of contact %s failed", contact_id)
            return self._failed(contact_id, f"internal error: {type(e).__name__}: {e}")
        target = result_path(self.out_dir, contact_id)
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            write_json_atomic(target, doc)
            with self.db.begin() as conn:
                AnalysisStore(conn).save(doc)
        except Exception as e:  # the store, not the call: no failure record, the next
            # start's backlog tries it again
            log.exception("the analysis of contact %s could not be stored", contact_id)
            return AnalysisOutcome(contact_id, False, reason=f"not stored: {e}")
        failure_path(self.out_dir, contact_id).unlink(missing_ok=True)
        return AnalysisOutcome(contact_id, True, result=target)

    def _failed(self, contact_id: str, reason: str) -> AnalysisOutcome:
        log.warning("analysis of contact %s failed: %s", contact_id, reason)
        if check_contact_id_ok(contact_id):
            at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
            record: dict[str, Any] = {"contact_id": contact_id, "reason": reason, "at": at}
            try:
                self.out_dir.mkdir(parents=True, exist_ok=True)
                write_json_atomic(failure_path(self.out_dir, contact_id), record)
            except OSError as e:  # unrecorded: the next start tries the call again
                log.warning("the failure of contact %s could not be recorded: %s", contact_id, e)
        return AnalysisOutcome(contact_id, False, reason=reason)

    # ------------------------------------------------------------------ the worker

    def submit(self, contact_id: str) -> None:
        """Queue a recorded contact for analysis (from any thread; a contact already
        waiting is not queued twice)."""
        with self._lock:
            if contact_id in self._queued:
                return
            self._queued.add(contact_id)
            loop, queue = self._loop, self._queue
            if loop is None or queue is None:
                self._early.append(contact_id)
                return
        loop.call_soon_threadsafe(queue.put_nowait, contact_id)

    async def run(self, *, on_done: Callable[[AnalysisOutcome], None] | None = None) -> None:
        """Analyse the backlog, then whatever is submitted, ``workers`` at a time, until
        cancelled.  ``on_done`` is called (on the loop) with each outcome."""
        queue: asyncio.Queue[str] = asyncio.Queue()
        backlog = await asyncio.to_thread(self.backlog)
        with self._lock:
            self._loop, self._queue = asyncio.get_running_loop(), queue
            for cid in backlog:
                if cid not in self._queued:
                    self._queued.add(cid)
                    self._early.append(cid)
            for cid in self._early:
                queue.put_nowait(cid)
            self._early.clear()
        if backlog:
            log.info("recordings to analyse after start: %d", len(backlog))

        async def worker() -> None:
            while True:
                cid = await queue.get()
                try:
                    outcome = await asyncio.to_thread(self.analyze, cid)
                except Exception as e:  # analyze() records its own errors; this is a bug
                    log.exception("recording analysis of contact %s", cid)
                    outcome = AnalysisOutcome(cid, False, reason=f"internal error: {e}")
                finally:
                    with self._lock:
                        self._queued.discard(cid)
                    queue.task_done()
                if on_done is not None:
                    on_done(outcome)

        tasks = [asyncio.create_task(worker()) for _ in range(self.workers)]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            with self._lock:
                self._loop = self._queue = None


def check_contact_id_ok(contact_id: str) -> bool:
    try:
        check_contact_id(contact_id)
    except UserError:
        return False
    return True
