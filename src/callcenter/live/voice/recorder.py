"""After a recorded call: its two sides fetched, merged into one file, filed, announced.

The controller records each answered call on two snoop channels (``spy=in`` on the
caller's channel and on the agent's: each side on its own), both started at answer.
When the call ends, :class:`CallRecorder` waits for Asterisk to close both files, fetches
them over ARI (``GET /recordings/stored/{name}/file``: the same for an embedded Asterisk
and for a center's own on another machine), merges them with
:func:`callcenter.voice.archive.file_recording` into one stereo WAV (agent left, caller
right, the desk's pauses put back as silence) under ``recordings_dir`` keyed by the
contact id, deletes Asterisk's copies, sets ``contacts.recording_url`` and tells
``on_recorded`` (the analysis worker) about it.  Everything runs after the call, in a
task of its own: a slow disk never holds up a call.
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

from callcenter.live.engine import LiveEngine
from callcenter.live.voice.model import Call, MediaWatch, Side
from callcenter.storage.tables import ContactRow
from callcenter.voice.archive import file_recording
from callcenter.voice.ari import Ari

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

    async def finish(self, ari: Ari, call: Call, watch: MediaWatch) -> None:
        names = call.recordings
        if Side.AGENT not in names or Side.CALLER not in names or call.answered_at is None:
            log.warning("%s: a side's recording did not start; nothing is filed", call.contact)
            return
        await self._closed(ari, watch, list(names.values()))
        with tempfile.TemporaryDirectory(prefix="cc-rec-") as tmp:
            parts: dict[Side, Path] = {}
            for side, name in names.items():
                path = Path(tmp) / f"{side.value}.wav"
                path.write_bytes(await ari.stored_recording(name))
                parts[side] = path
            filing = partial(file_recording, parts[Side.AGENT], parts[Side.CALLER], self.root,
                             call.contact, call.answered_at, pauses=call.pauses,
                             remove_sides=False)  # fmt: skip
            rel, info = await anyio.to_thread.run_sync(filing)
        for name in names.values():
            await ari.delete_stored_recording(name)
        await anyio.to_thread.run_sync(self._store, call.contact, rel)
        log.info("%s: recorded %.1f s into %s", call.contact, info.duration_s, rel)
        if self.on_recorded is not None:
            self.on_recorded(call.contact)

    async def _closed(self, ari: Ari, watch: MediaWatch, names: list[str]) -> None:
        """Until Asterisk has finished both recordings (they end with their channels);
        one it has not closed within ``CLOSE_WAIT_S`` (an event lost with a reconnect,
        say) is asked after and stopped if still going."""
        for name in await watch.wait(names, CLOSE_WAIT_S):
            if await ari.live_recording(name) is not None:
                log.warning("recording %s still open after the call: stopped", name)
                await ari.stop_recording(name)

    def _store(self, contact: str, rel: str) -> None:
        with self.engine.sessions.begin() as s:
            s.execute(update(ContactRow).where(ContactRow.id == contact).values(recording_url=rel))


__all__ = ["CallRecorder"]
