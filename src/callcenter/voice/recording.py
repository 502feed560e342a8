"""Call recordings on disk: merge the two sides of a call, measure them.

The call controller records each answered call as two ARI recordings of snoop channels
started together at answer (``spy=in`` on the caller's channel: what the caller says;
``spy=in`` on the agent's channel: what the agent says), each a mono 8 kHz 16-bit WAV in
Asterisk's ``<spool>/recording/``.  What this module does with them:

* :func:`merge_sides` — one **stereo WAV, agent left, caller right** (the speech
  pipeline's default ``--layout stereo --agent-channel left``), 8 kHz 16-bit, both sides
  from answer, the shorter padded with silence at its end.  ``pauses`` are the desk's
  pauses (offsets from answer): ARI leaves paused time *out* of a recording (measured on
  Asterisk 22.10.1: a 6 s snoop recording paused for 2 s is a 4 s file, see
  ``docs/voice.md``), so each pause is put back as silence in both channels at its
  place; the merged file is as long as the call and later speech stays where it was
  said.  Written atomically: a temporary file in the target folder, then renamed.
* :func:`wav_info` — length, rate, channels and each channel's RMS level (dBFS).
* :func:`dropouts` — stretches of digital silence inside a channel that had audio.

Where the merged files go, and how long they stay: :mod:`callcenter.voice.archive`.

numpy and the standard library's :mod:`wave` do the work: the formats here are fixed
(PCM 16-bit, 8 kHz) and nothing needs a codec.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

import numpy as np
import numpy.typing as npt

from callcenter.errors import InputFileError, UserError

__all__ = [
    "RATE",
    "Dropout",
    "RecordingError",
    "WavInfo",
    "dropouts",
    "merge_sides",
    "wav_info",
]

RATE: Final = 8000
"""Sample rate of Asterisk's snoop recordings (``format=wav``: 8 kHz 16-bit mono)."""
SAMPLE_WIDTH: Final = 2
AGENT_CHANNEL: Final = 0  # left
CALLER_CHANNEL: Final = 1  # right
_SILENT_DBFS: Final = -math.inf
Int16Array = npt.NDArray[np.int16]


class RecordingError(InputFileError):
    """A recording that cannot be used: ``<file>: <problem>``."""


@dataclass(frozen=True, slots=True)
class WavInfo:
    """A PCM WAV file as measured: ``rms_dbfs`` per channel (``-inf``: all zeros)."""

    path: Path
    rate: int
    channels: int
    frames: int
    rms_dbfs: tuple[float, ...]

    @property
    def duration_s(self) -> float:
        return self.frames / self.rate if self.rate else 0.0


@dataclass(frozen=True, slots=True)
class Dropout:
    """Digital silence inside a channel: ``channel`` 0 = left (agent), 1 = right."""

    channel: int
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


# --------------------------------------------------------------------------- reading


@dataclass(slots=True)
class _Wav:
    """An open 16-bit PCM WAV: its format, its sample data's place and length."""

    path: Path
    channels: int
    rate: int
    frames: int
    file: BinaryIO

    def read(self, frames: int) -> bytes:
        return self.file.read(frames * SAMPLE_WIDTH * self.channels)

    def close(self) -> None:
        self.file.close()


_PCM_FORMATS: Final = (1, 0xFFFE)  # WAVE_FORMAT_PCM, WAVE_FORMAT_EXTENSIBLE


def _chunks(f: BinaryIO) -> dict[bytes, tuple[int, int]]:
    """The RIFF/WAVE file's chunks up to ``data``: id -> (offset, declared size)."""
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise ValueError("no RIFF/WAVE header")
    found: dict[bytes, tuple[int, int]] = {}
    while b"data" not in found:
        entry = f.read(8)
        if len(entry) < 8:
            break
        size = int.from_bytes(entry[4:], "little")
        found.setdefault(entry[:4], (f.tell(), size))
        if entry[:4] != b"data":
            f.seek(size + (size & 1), os.SEEK_CUR)
    return found


def _open(path: Path) -> _Wav:
    """``path`` opened as a 16-bit PCM WAV, or :class:`RecordingError` saying why not.

    Read by hand, not with :mod:`wave`: Asterisk writes a recording's RIFF and ``data``
    sizes only when it closes the file (measured: one running for 5 s still says 0), so
    the files of calls cut by an Asterisk crash say 0, which :mod:`wave` refuses ("not a
    WAVE file").  Here a ``data`` size of 0, or more than the file holds, means "up to
    the end of the file".
    """
    if not path.exists():
        raise RecordingError(path, "no such file")
    if not path.is_file():
        raise RecordingError(path, "not a file")
    size = path.stat().st_size
    if size == 0:
        raise RecordingError(path, "empty file (0 bytes)")
    f = path.open("rb")  # returned open in _Wav; the caller closes it
    try:
        try:
            chunks = _chunks(f)
        except ValueError as e:
            raise RecordingError(path, f"not a PCM WAV file ({e})") from None
        if b"fmt " not in chunks or b"data" not in chunks:
            missing = "fmt" if b"fmt " not in chunks else "data"
            raise RecordingError(path, f"not a PCM WAV file (no {missing} chunk)")
        f.seek(chunks[b"fmt "][0])
        fmt = f.read(16)
        if len(fmt) < 16:
            raise RecordingError(path, "not a PCM WAV file (short fmt chunk)")
        tag, channels, rate = (
            int.from_bytes(fmt[i:j], "little") for i, j in ((0, 2), (2, 4), (4, 8))
        )
        bits = int.from_bytes(fmt[14:16], "little")
        if tag not in _PCM_FORMATS:
            raise RecordingError(path, f"not a PCM WAV file (format tag {tag:#x})")
        if bits != 8 * SAMPLE_WIDTH:
            raise RecordingError(path, f"has {bits}-bit samples; expected 16-bit PCM")
        if channels < 1 or rate < 1:
            raise RecordingError(path, f"not a PCM WAV file ({channels} channels, {rate} Hz)")
        offset, declared = chunks[b"data"]
        block = SAMPLE_WIDTH * channels
        held = max(0, size - offset) // block
        frames = declared // block if 0 < declared // block <= held else held
        f.seek(offset)
    except BaseException:
        f.close()
        raise
    return _Wav(path, channels, rate, frames, f)


def _samples(path: Path) -> tuple[_Wav, Int16Array]:
    """The file's samples, one column per channel (the file is closed again)."""
    w = _open(path)
    try:
        data = w.read(w.frames)
    finally:
        w.close()
    usable = len(data) - len(data) % (SAMPLE_WIDTH * w.channels)
    x = np.frombuffer(data[:usable], dtype="<i2").reshape(-1, w.channels)
    return w, x.astype(np.int16)


def _dbfs(x: npt.NDArray[np.int16]) -> float:
    if x.size == 0:
        return _SILENT_DBFS
    rms = float(np.sqrt(np.mean(np.square(x.astype(np.float64)))))
    return 20.0 * math.log10(rms / 32768.0) if rms > 0 else _SILENT_DBFS


def wav_info(path: str | os.PathLike[str]) -> WavInfo:
    """Rate, channels, length and per-channel RMS level (dBFS) of a 16-bit PCM WAV."""
    p = Path(path)
    w, x = _samples(p)
    levels = tuple(_dbfs(x[:, ch]) for ch in range(w.channels))
    return WavInfo(p, w.rate, w.channels, x.shape[0], levels)


def _open_side(path: Path, what: str) -> _Wav:
    """One side's recording, opened: a mono 8 kHz 16-bit PCM WAV."""
    w = _open(path)
    if w.channels != 1 or w.rate != RATE:
        w.close()
        if w.channels != 1:
            raise RecordingError(path, f"has {w.channels} channels; the {what} side must be mono")
        raise RecordingError(path, f"sample rate {w.rate} Hz; the {what} side must be {RATE} Hz")
    return w


# --------------------------------------------------------------------------- merging


def check_pauses(pauses: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The pauses as floats, each ``0 <= start < end``, in order and not overlapping."""
    out: list[tuple[float, float]] = []
    for i, pause in enumerate(pauses):
        try:
            start, end = (float(v) for v in pause)
        except (TypeError, ValueError):
            raise UserError(
                f"pauses[{i}]: {pause!r} is not a (start_s, end_s) pair of numbers"
            ) from None
        if not (math.isfinite(start) and math.isfinite(end) and 0 <= start < end):
            raise UserError(
                f"pauses[{i}]: ({start:g}, {end:g}) is not a span after answer "
                "(expected 0 <= start_s < end_s)"
            )
        if out and start < out[-1][1]:
            raise UserError(
                f"pauses[{i}]: ({start:g}, {end:g}) starts before the previous pause "
                f"ends ({out[-1][1]:g}); expected pauses in order, not overlapping"
            )
        out.append((start, end))
    return out


def _plan(frames: int, pauses: Sequence[tuple[float, float]]) -> list[tuple[bool, int]]:
    """How a side that skipped its paused time becomes the call's timeline: a list of
    ``(copy, n)`` — copy the next ``n`` samples of the file, or (``copy`` false) put
    ``n`` samples of silence — with each pause as silence at its place."""
    ops: list[tuple[bool, int]] = []
    taken = 0  # samples of the file used so far
    placed = 0  # samples of the output so far
    for start, end in pauses:
        s, e = round(start * RATE), round(end * RATE)
        before = max(0, min(s - placed, frames - taken))
        ops.append((True, before))
        taken += before
        placed += before
        gap = max(0, e - placed)
        ops.append((False, gap))
        placed += gap
    ops.append((True, frames - taken))
    return [op for op in ops if op[1] > 0]


class _SideStream:
    """One side on the call's timeline, read block by block (silence after its end)."""

    def __init__(self, reader: _Wav, pauses: Sequence[tuple[float, float]]):
        self.reader = reader
        self.ops = _plan(reader.frames, pauses)
        self.length = sum(n for _, n in self.ops)

    def take(self, n: int) -> Int16Array:
        out = np.zeros(n, dtype=np.int16)
        filled = 0
        while filled < n and self.ops:
            copy, left = self.ops[0]
            k = min(left, n - filled)
            if copy:
                data = self.reader.read(k)
                got = np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2")
                out[filled : filled + got.size] = got  # a short file: silence after it
            filled += k
            self.ops[0] = (copy, left - k)
            if left - k == 0:
                self.ops.pop(0)
        return out


BLOCK: Final = 10 * RATE  # samples per side per step: memory stays flat, whatever the length


def _write_atomic(out: Path, sides: Sequence[_SideStream], total: int) -> tuple[float, ...]:
    """Write ``sides`` interleaved into ``out`` (temp file, then rename); RMS dBFS of each."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    tmp = Path(tmp_name)
    energy = [0.0] * len(sides)
    try:
        with os.fdopen(fd, "wb") as f:
            with wave.open(f, "wb") as w:
                w.setnchannels(len(sides))
                w.setsampwidth(SAMPLE_WIDTH)
                w.setframerate(RATE)
                w.setnframes(total)
                for start in range(0, total, BLOCK):
                    n = min(BLOCK, total - start)
                    block = np.stack([side.take(n) for side in sides], axis=1)
                    for ch in range(len(sides)):
                        energy[ch] += float(np.sum(np.square(block[:, ch].astype(np.float64))))
                    w.writeframes(block.astype("<i2").tobytes())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tuple(_level(e, total) for e in energy)


def _level(energy: float, n: int) -> float:
    if n == 0 or energy <= 0:
        return _SILENT_DBFS
    return 20.0 * math.log10(math.sqrt(energy / n) / 32768.0)


def merge_sides(
    agent: str | os.PathLike[str],
    caller: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    pauses: Sequence[tuple[float, float]] = (),
) -> WavInfo:
    """Merge the two sides into ``out``: stereo, agent left, caller right, 8 kHz 16-bit.

    Both inputs are mono 8 kHz 16-bit PCM WAVs recorded from answer with paused time left
    out (as ARI records); each ``(start_s, end_s)`` pause, offsets from answer, becomes
    silence in both channels at its place.  The shorter side is padded with silence.
    ``out`` is written whole or not at all, in blocks of 10 s (memory does not grow with
    the call's length).  Raises :class:`RecordingError` naming a file that is missing or
    not such a WAV, :class:`UserError` for bad pauses.
    """
    spans = check_pauses(pauses)
    with contextlib.ExitStack() as stack:
        readers = []
        for path, what in ((Path(agent), "agent"), (Path(caller), "caller")):
            reader = _open_side(path, what)
            stack.callback(reader.close)
            readers.append(_SideStream(reader, spans))
        total = max(side.length for side in readers)  # agent first: left; caller: right
        target = Path(out)
        levels = _write_atomic(target, readers, total)
    return WavInfo(target, RATE, 2, total, levels)


# --------------------------------------------------------------------------- checking


def _zero_runs(quiet: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """``[start, end)`` index runs where ``quiet`` is true."""
    if quiet.size == 0:
        return []
    edges = np.diff(np.concatenate(([0], quiet.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _overlaps_pause(start_s: float, end_s: float, pauses: Sequence[tuple[float, float]]) -> bool:
    return any(start_s < pe and ps < end_s for ps, pe in pauses)


def dropouts(
    path: str | os.PathLike[str],
    *,
    min_s: float = 1.0,
    level: int = 0,
    pauses: Sequence[tuple[float, float]] = (),
) -> list[Dropout]:
    """Stretches of **digital silence** (every sample's magnitude ``<= level``; 0: exact
    zeros) of at least ``min_s`` seconds that lie *inside* a channel's audio: after its
    first sample above ``level`` and before its last.  Silence before a side first
    speaks, after it last does, in a channel that never had audio, or touching one of
    ``pauses`` (offsets in the file) is not a dropout.  A line that is merely quiet
    carries noise; long runs of exact zeros in the middle of a call mean frames that
    never reached the recording.
    """
    if min_s <= 0:
        raise UserError(f"min_s: {min_s!r} is not a duration (expected > 0 seconds)")
    if level < 0:
        raise UserError(f"level: {level!r} is not a sample magnitude (expected >= 0)")
    spans = check_pauses(pauses)
    p = Path(path)
    w, x = _samples(p)
    rate = w.rate
    found: list[Dropout] = []
    for ch in range(w.channels):
        quiet = np.abs(x[:, ch].astype(np.int32)) <= level
        loud = np.flatnonzero(~quiet)
        if loud.size == 0:
            continue
        first, last = int(loud[0]), int(loud[-1])
        for s, e in _zero_runs(quiet[first : last + 1]):
            start_s, end_s = (first + s) / rate, (first + e) / rate
            if end_s - start_s >= min_s and not _overlaps_pause(start_s, end_s, spans):
                found.append(Dropout(ch, start_s, end_s))
    return found
