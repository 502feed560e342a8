"""After a recorded call: its two sides fetched, merged into one file, filed, announced.

The controller records each answered call on two snoop channels on the caller's
channel, both started at answer: ``spy=in`` (what the caller said) and ``spy=out`` (what
the caller heard: the agent, the music while on hold, every agent of a transferred call).
When the call ends, :class:`CallRecorder` waits for Asterisk to close both files, takes
them — from Asterisk's recording folder when it runs on this machine (the embedded one),
else over ARI (``GET /recordings/stored/{name}/file``: a center's own Asterisk on
another machine) —, merges them with
:func:`callcenter.voice.archive.file_recording` into one stereo WAV (agent left, caller
right, the desk's pauses put back as silence) under ``recordings_dir`` keyed by the
contact id, deletes Asterisk's copies, sets ``contacts.recording_url`` (written with the
engine's own transactions: no second writer to wait for) and tells ``on_recorded`` (the
analysis worker) about it.  Everything runs after the call, in a task of its own and,
for the files, in a worker thread: a slow disk never holds up a call.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Final

import anyio
from sqlalchemy import update
from sqlalchemy.orm import Session

from callcenter.live.engine import LiveEngine
from callcenter.live.voice.model import Call, MediaWatch, Side
from callcenter.storage.tables import ContactRow
from callcenter.voice.archive import file_recording
from callcenter.voice.ari import Ari
from callcenter.voice.recording import WavInfo

log = logging.getLogger("callcenter.voice")

CLOSE_WAIT_S: Final = 10.0  # how long Asterisk may take to close a recording's file


class CallRecorder:
    """Files the recordings of ended calls (the controller's :class:`Recorder`)."""

    def __init__(
        self,
        engine: LiveEngine,
        root: Path,
        *,
        on_recorded: Callable[[str], None] | None = None,
    ) -> None:
        self.engine = engine
        self.root = root
        self.on_recorded = on_recorded

    async def finish(
        self, ari: Ari, call: Call, watch: MediaWatch, local: Path | None = None
    ) -> None:
        names = call.recordings
        if Side.AGENT not in names or Side.CALLER not in names or call.answered_at is None:
            log.warning("%s: a side's recording did not start; nothing is filed", call.contact)
            return
        await self._closed(ari, watch, list(names.values()))
        filed = None
        if local is not None:
            filed = await anyio.to_thread.run_sync(self._file_local, call, local)
        if filed is None:
            filed = await self._file_fetched(ari, call)
        rel, info = filed
        log.info("%s: recorded %.1f s into %s", call.contact, info.duration_s, rel)
        if self.on_recorded is not None:
            self.on_recorded(call.contact)

    def _file(self, call: Call, agent: Path, caller: Path, *, remove: bool) -> tuple[str, WavInfo]:
        """Merge and file the two sides, and keep where on the contact (in a worker
        thread: one hop for the whole job)."""
        assert call.answered_at is not None
        rel, info = file_recording(agent, caller, self.root, call.contact, call.answered_at,
                                   pauses=call.pauses, remove_sides=remove)  # fmt: skip
        self._store(call.contact, rel)
        return rel, info

    def _file_local(self, call: Call, folder: Path) -> tuple[str, WavInfo] | None:
        """From Asterisk's own folder, its files removed there (in a worker thread);
        None if a file is not there."""
        parts = {side: folder / f"{name}.wav" for side, name in call.recordings.items()}
        if not all(p.is_file() for p in parts.values()):
            return None
        return self._file(call, parts[Side.AGENT], parts[Side.CALLER], remove=True)

    async def _file_fetched(self, ari: Ari, call: Call) -> tuple[str, WavInfo]:
        """Over ARI: each side fetched into a temporary folder, filed, deleted there."""
        with tempfile.TemporaryDirectory(prefix="cc-rec-") as tmp:
            parts: dict[Side, Path] = {}
            for side, name in call.recordings.items():
                parts[side] = path = Path(tmp) / f"{side.value}.wav"
                await anyio.to_thread.run_sync(path.write_bytes, await ari.stored_recording(name))
            filing = partial(self._file, call, parts[Side.AGENT], parts[Side.CALLER], remove=False)
            filed = await anyio.to_thread.run_sync(filing)
        for name in call.recordings.values():
            await ari.delete_stored_recording(name)
        return filed

    async def _closed(self, ari: Ari, watch: MediaWatch, names: list[str]) -> None:
        """Until Asterisk has finished both recordings (they end with their channels);
        one it has not closed within ``CLOSE_WAIT_S`` (an event lost with a reconnect,
        say) is asked after and stopped if still going."""
        for name in await watch.wait(names, CLOSE_WAIT_S):
            if await ari.live_recording(name) is not None:
                log.warning("recording %s still open after the call: stopped", name)
                await ari.stop_recording(name)

    def _store(self, contact: str, rel: str) -> None:
        def store(s: Session) -> None:
            s.execute(update(ContactRow).where(ContactRow.id == contact).values(recording_url=rel))

        self.engine.log([], extra=store)


__all__ = ["CallRecorder"]
