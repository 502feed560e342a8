"""First speech stage: find call recordings, decode them, split agent from caller.

Input: one call's recording as a PBX writes it, in one of three :class:`Layout` s —

* ``stereo``: one file, agent on one channel and caller on the other
  (:attr:`AudioOptions.agent_channel` says which);
* ``pair``: two mono files, agent first, then caller (``<call>-agent.wav`` /
  ``<call>-caller.wav``; see :func:`discover` for the names recognised);
* ``mono``: one file with both voices mixed; per-side analysis is unavailable.

Output: a :class:`CallAudio` holding float32 mono arrays in [-1, 1] at the analysis rate.

Any format ffmpeg (through PyAV) decodes is accepted.  Every problem with an input file is
raised as :class:`AudioError`, whose message is one line ``<file>: <problem>``; PyAV's own
exceptions never escape.

Memory: decoding streams frame by frame into one preallocated float32 array sized from the
container's duration, so a call needs about ``seconds × rate × channels × 4`` bytes
(2 h × 16 kHz × 2 channels ≈ 0.9 GB) and nothing here makes a second copy of it: the
agent and caller arrays of a stereo call are views of that one array.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Literal

import av
import av.error
import numpy as np
import numpy.typing as npt

from callcenter.errors import InputFileError, UserError

__all__ = [
    "AUDIO_EXTENSIONS",
    "MAX_RATE",
    "MIN_RATE",
    "AudioError",
    "AudioInfo",
    "AudioOptions",
    "CallAudio",
    "Layout",
    "Side",
    "decode",
    "load_call",
    "probe",
]

FloatArray = npt.NDArray[np.float32]

MIN_RATE = 8000
MAX_RATE = 48000
AUDIO_EXTENSIONS = frozenset(
    {".wav", ".mp3", ".ogg", ".opus", ".oga", ".flac", ".gsm", ".ul", ".al", ".au", ".m4a"}
)


class Layout(StrEnum):
    """How a call's two voices are laid out in its recording."""

    STEREO = "stereo"
    PAIR = "pair"
    MONO = "mono"


class Side(StrEnum):
    """One party of a call."""

    AGENT = "agent"
    CALLER = "caller"


# Suffixes naming the side in a pair of mono files.  Asterisk's MixMonitor ``r()`` and
# ``t()`` options (and the old Monitor application) write ``-in`` (audio *received* from
# the recorded channel) and ``-out`` (audio *sent* to it).  The Queue application records
# the caller's channel, so ``-in`` is the caller and ``-out`` the agent.
_PAIR_SUFFIXES: dict[str, Side] = {
    "-agent": Side.AGENT,
    "_agent": Side.AGENT,
    "-caller": Side.CALLER,
    "_caller": Side.CALLER,
    "-out": Side.AGENT,
    "-in": Side.CALLER,
}


class AudioError(InputFileError):
    """A recording that cannot be used: ``<file>: <problem>``."""


@dataclass(frozen=True)
class AudioOptions:
    """How to read recordings.

    ``layout``: see :class:`Layout`.  ``agent_channel``: for ``stereo``, the channel
    holding the agent.  ``rate``: analysis sample rate in Hz (8000..48000), every file is
    resampled to it.  ``max_duration_s``: longer recordings are refused (default 4 h).
    """

    layout: Layout = Layout.STEREO
    agent_channel: Literal["left", "right"] = "left"
    rate: int = 16000
    max_duration_s: float = 4 * 3600.0

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "layout", Layout(self.layout))
        except ValueError:
            choices = ", ".join(x.value for x in Layout)
            raise UserError(f"invalid layout: {self.layout!r}; expected one of {choices}") from None
        if self.agent_channel not in ("left", "right"):
            raise UserError(
                f"invalid agent channel: {self.agent_channel!r}; expected 'left' or 'right'"
            )
        if isinstance(self.rate, bool) or not isinstance(self.rate, int):
            raise UserError(f"invalid sample rate: {self.rate!r}; expected an integer in Hz")
        if not MIN_RATE <= self.rate <= MAX_RATE:
            raise UserError(
                f"invalid sample rate: {self.rate!r}; expected {MIN_RATE}..{MAX_RATE} Hz"
            )
        if not (self.max_duration_s > 0 and math.isfinite(self.max_duration_s)):
            raise UserError(f"invalid max duration: {self.max_duration_s!r}; expected seconds > 0")


@dataclass(frozen=True)
class CallAudio:
    """One call's audio, float32 mono arrays in [-1, 1] at ``rate`` Hz.

    ``agent`` and ``caller`` are set for ``stereo`` and ``pair`` layouts (same length);
    ``mixed`` only for ``mono``.  Use :meth:`mix` for a mixed signal whatever the layout.
    """

    call_id: str
    rate: int
    agent: FloatArray | None
    caller: FloatArray | None
    mixed: FloatArray | None
    duration_s: float
    sources: tuple[str, ...]
    layout: Layout
    notes: tuple[str, ...] = field(default=())

    @property
    def has_sides(self) -> bool:
        """Whether agent and caller are separate, so per-side metrics can be computed."""
        return self.agent is not None and self.caller is not None

    @property
    def n_samples(self) -> int:
        return round(self.duration_s * self.rate)

    def side(self, side: Side) -> FloatArray | None:
        """The array of one side, ``None`` for a mono recording."""
        return self.agent if side is Side.AGENT else self.caller

    def mix(self) -> FloatArray:
        """Both voices in one array (a new array for stereo and pair layouts)."""
        if self.mixed is not None:
            return self.mixed
        assert self.agent is not None and self.caller is not None
        out = self.agent + self.caller
        out *= np.float32(0.5)
        return out


@dataclass(frozen=True)
class AudioInfo:
    """What the container says about a file, before decoding it."""

    path: str
    codec: str
    channels: int
    rate: int
    duration_s: float | None


def _av_reason(exc: BaseException) -> str:
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(reason).split("\n", 1)[0].strip().rstrip(".")


def _not_decodable(path: str, exc: BaseException) -> AudioError:
    return AudioError(path, f"not an audio file ffmpeg can decode ({_av_reason(exc)})")


def _check_file(path: str) -> None:
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise AudioError(path, "no such file") from None
    except OSError as exc:
        raise AudioError(path, f"cannot read ({exc.strerror or exc})") from None
    if os.path.isdir(path):
        raise AudioError(path, "is a folder; expected an audio file")
    if size == 0:
        raise AudioError(path, "empty file (0 bytes)")


def _open(path: str) -> av.container.InputContainer:
    _check_file(path)
    try:
        return av.open(path, mode="r")
    except PermissionError:
        raise AudioError(path, "cannot read (permission denied)") from None
    except (av.error.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise _not_decodable(path, exc) from None


def _stream_info(path: str, container: av.container.InputContainer) -> AudioInfo:
    if not container.streams.audio:
        raise AudioError(path, "not an audio file ffmpeg can decode (no audio stream)")
    stream = container.streams.audio[0]
    ctx = stream.codec_context
    rate = int(ctx.sample_rate or stream.rate or 0)
    channels = int(ctx.channels or 0)
    if rate <= 0 or channels <= 0:
        raise AudioError(path, "not an audio file ffmpeg can decode (no sample rate or channels)")
    duration: float | None = None
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    return AudioInfo(path, ctx.name, channels, rate, duration)


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Read a file's header: codec, channels, sample rate, duration (if known)."""
    p = os.fspath(path)
    container = _open(p)
    try:
        return _stream_info(p, container)
    finally:
        container.close()


def _fmt_duration(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def decode(
    path: str | os.PathLike[str],
    rate: int,
    max_duration_s: float | None = None,
) -> tuple[FloatArray, int]:
    """Decode a file to float32 ``(channels, samples)`` at ``rate`` Hz.

    Returns the array and the file's own sample rate.  Channels are kept.  Frames are
    resampled one at a time into one preallocated array (see the module docstring).
    Raises :class:`AudioError` for anything wrong with the file.
    """
    p = os.fspath(path)
    if not MIN_RATE <= rate <= MAX_RATE:
        raise UserError(f"invalid sample rate: {rate!r}; expected {MIN_RATE}..{MAX_RATE} Hz")
    container = _open(p)
    try:
        info = _stream_info(p, container)
        if info.rate < MIN_RATE:
            raise AudioError(p, f"sample rate {info.rate} Hz is below {MIN_RATE} Hz")
        limit = max_duration_s
        if limit is not None and info.duration_s is not None and info.duration_s > limit + 1:
            raise AudioError(
                p,
                f"lasts {_fmt_duration(info.duration_s)}, longer than the "
                f"{_fmt_duration(limit)} limit (max_duration_s)",
            )
        data = _decode_stream(p, container, info, rate, limit)
    except (av.error.FFmpegError, OSError, ValueError, EOFError) as exc:
        raise _not_decodable(p, exc) from None
    finally:
        container.close()
    if data.shape[1] == 0:
        raise AudioError(p, "no audio samples (zero-length)")
    return data, info.rate


def _decode_stream(
    path: str,
    container: av.container.InputContainer,
    info: AudioInfo,
    rate: int,
    limit: float | None,
) -> FloatArray:
    channels = info.channels
    estimate = info.duration_s if info.duration_s is not None else 60.0
    capacity = int(estimate * rate) + rate
    buf: FloatArray = np.empty((channels, capacity), dtype=np.float32)
    filled = 0
    max_samples = None if limit is None else int((limit + 1) * rate)
    resampler = av.AudioResampler(format="fltp", layout=None, rate=rate)
    stream = container.streams.audio[0]

    def frames() -> Iterable[av.AudioFrame]:
        for frame in container.decode(stream):
            yield from resampler.resample(frame)
        yield from resampler.resample(None)

    for out in frames():
        chunk = out.to_ndarray()
        if chunk.ndim == 1:
            chunk = chunk.reshape(channels, -1)
        if chunk.shape[0] != channels:
            raise AudioError(
                path, f"channel count changed mid-file ({channels} → {chunk.shape[0]})"
            )
        n = chunk.shape[1]
        if filled + n > capacity:
            capacity = max(filled + n, int(capacity * 1.5))
            grown: FloatArray = np.empty((channels, capacity), dtype=np.float32)
            grown[:, :filled] = buf[:, :filled]
            buf = grown
        buf[:, filled : filled + n] = chunk
        filled += n
        if max_samples is not None and filled > max_samples:
            assert limit is not None
            raise AudioError(
                path,
                f"lasts more than the {_fmt_duration(limit)} limit (max_duration_s)",
            )
    np.clip(buf[:, :filled], -1.0, 1.0, out=buf[:, :filled])
    return buf[:, :filled]


def _call_id_from(path: Path, layout: Layout) -> str:
    if layout is Layout.PAIR:
        stem, side = split_side(path)
        if side is not None:
            return stem
    return path.stem


def load_call(
    paths: Sequence[str | os.PathLike[str]],
    options: AudioOptions,
    call_id: str | None = None,
) -> CallAudio:
    """Decode one call's recording(s) into a :class:`CallAudio`.

    ``paths``: one file for ``stereo`` and ``mono``; two for ``pair`` (agent, caller).
    ``call_id`` defaults to the file's stem (for a pair, the agent file's stem without its
    ``-agent``/``_agent``/``-out`` suffix).
    """
    files = [os.fspath(p) for p in paths]
    layout = options.layout
    want = 2 if layout is Layout.PAIR else 1
    if len(files) != want:
        shown = ", ".join(files) if files else "(none)"
        raise AudioError(
            shown,
            f"{len(files)} file{'s' if len(files) != 1 else ''} given; "
            f"--layout {layout.value} needs {want}"
            + (" (agent, caller)" if layout is Layout.PAIR else ""),
        )
    cid = call_id if call_id is not None else _call_id_from(Path(files[0]), layout)
    rate = options.rate
    limit = options.max_duration_s
    if layout is Layout.STEREO:
        return _load_stereo(files[0], options, cid)
    if layout is Layout.PAIR:
        agent = _load_mono_side(files[0], rate, limit, "agent")
        caller = _load_mono_side(files[1], rate, limit, "caller")
        n = max(agent.size, caller.size)
        agent = _pad(agent, n)
        caller = _pad(caller, n)
        return CallAudio(cid, rate, agent, caller, None, n / rate, tuple(files), layout)
    # mono
    p = files[0]
    data, _ = decode(p, rate, limit)
    notes: tuple[str, ...] = ()
    if data.shape[0] > 1:
        mixed = data.mean(axis=0, dtype=np.float32)
        notes = (f"{p}: has {data.shape[0]} channels; mixed down for --layout mono",)
    else:
        mixed = data[0]
    del data
    n = mixed.size
    return CallAudio(cid, rate, None, None, mixed, n / rate, (p,), layout, notes)


def _pad(x: FloatArray, n: int) -> FloatArray:
    if x.size == n:
        return x
    out: FloatArray = np.zeros(n, dtype=np.float32)
    out[: x.size] = x
    return out


def _load_stereo(path: str, options: AudioOptions, call_id: str) -> CallAudio:
    info = probe(path)
    if info.channels != 2:
        plural = "channel" if info.channels == 1 else "channels"
        raise AudioError(
            path,
            f"has {info.channels} {plural}; --layout stereo needs 2 (agent and caller)",
        )
    data, _ = decode(path, options.rate, options.max_duration_s)
    if data.shape[0] != 2:  # the header lied
        raise AudioError(
            path,
            f"has {data.shape[0]} channels; --layout stereo needs 2 (agent and caller)",
        )
    a, c = (0, 1) if options.agent_channel == "left" else (1, 0)
    n = data.shape[1]
    return CallAudio(
        call_id,
        options.rate,
        data[a],
        data[c],
        None,
        n / options.rate,
        (path,),
        Layout.STEREO,
    )


def _load_mono_side(path: str, rate: int, limit: float, side: str) -> FloatArray:
    info = probe(path)
    if info.channels != 1:
        raise AudioError(
            path,
            f"has {info.channels} channels; --layout pair needs a mono file per side "
            f"(this one is the {side})",
        )
    data, _ = decode(path, rate, limit)
    side_data: FloatArray = data[0]
    return side_data


def split_side(path: Path) -> tuple[str, Side | None]:
    stem = path.stem
    low = stem.lower()
    for suffix, side in _PAIR_SUFFIXES.items():
        if low.endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)], side
    return stem, None
