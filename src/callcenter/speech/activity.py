"""Voice activity per channel: where someone is speaking, and where music plays.

Two detectors share one signature, :func:`speech_segments`:

* ``"energy"`` (the default) — frame RMS in dB relative to the channel's own noise
  floor, with hysteresis (a frame starts speech above ``start_db`` over the floor and
  speech goes on while frames stay above ``stop_db`` over the floor), then a hangover,
  merging of short pauses and dropping of short blips. Pure numpy, vectorised; several
  thousand times real time per core on 8 kHz audio.
* ``"silero"`` — the Silero VAD ONNX model packaged with faster-whisper (through
  :func:`faster_whisper.vad.get_speech_timestamps`) on the audio resampled to 16 kHz.
  More selective (it ignores music and noise) but about 240x real time per channel per
  core, too slow for the 500x target of the metrics path, so it is used there only to
  tell music from speech in long, continuous spans (:func:`music_segments`).

Every function takes a float mono array (``float32`` in [-1, 1] or ``int16``) and its
rate in Hz, and returns spans as ``(start_s, end_s)`` tuples, sorted and disjoint.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

Span = tuple[float, float]
Detector = Literal["energy", "silero"]

_SILERO_RATE = 16000
_EPS = 1e-10


@dataclass(frozen=True)
class ActivityOptions:
    """How speech is found in one channel.

    Attributes:
      detector: ``"energy"`` (fast, default) or ``"silero"`` (model, slower).
      frame_ms: analysis frame for the energy detector, 10-50 ms (20 ms default).
      start_db: a frame starts speech when its level is this many dB above the noise floor.
      stop_db: speech continues while frames stay this many dB above the noise floor
        (hysteresis: must be <= ``start_db``).
      min_level_dbfs: frames quieter than this are never speech, whatever the floor
        (keeps digital silence plus dither from being called speech).
      floor_percentile: the noise floor is this percentile of the frame levels ...
      max_floor_dbfs: ... but never above this level, so that a channel that is sound
        all through (hold music end to end) keeps a floor below the sound.
      hangover_s: each speech run is extended by this much after its last loud frame.
      min_silence_s: pauses shorter than this inside speech are merged away.
      min_speech_s: speech runs shorter than this (after merging) are dropped.
      silero_threshold: speech probability threshold for the Silero detector.
    """

    detector: Detector = "energy"
    frame_ms: float = 20.0
    start_db: float = 15.0
    stop_db: float = 9.0
    min_level_dbfs: float = -50.0
    floor_percentile: float = 10.0
    max_floor_dbfs: float = -45.0
    hangover_s: float = 0.02
    min_silence_s: float = 0.3
    min_speech_s: float = 0.12
    silero_threshold: float = 0.5

    def __post_init__(self) -> None:
        if self.detector not in ("energy", "silero"):
            raise ValueError(f"invalid detector: {self.detector!r}; expected 'energy' or 'silero'")
        if not 10.0 <= self.frame_ms <= 50.0:
            raise ValueError(f"invalid frame_ms: {self.frame_ms!r}; expected 10 to 50")
        if self.stop_db > self.start_db:
            raise ValueError(
                f"invalid stop_db: {self.stop_db!r}; must be <= start_db ({self.start_db!r})"
            )
        for name in ("hangover_s", "min_silence_s", "min_speech_s"):
            value = getattr(self, name)
            if value < 0:
                raise ValueError(f"invalid {name}: {value!r}; expected >= 0")
        if not 0.0 <= self.floor_percentile <= 100.0:
            raise ValueError(
                f"invalid floor_percentile: {self.floor_percentile!r}; expected 0 to 100"
            )
        if not 0.0 < self.silero_threshold < 1.0:
            raise ValueError(
                f"invalid silero_threshold: {self.silero_threshold!r}; expected 0 to 1"
            )


@dataclass(frozen=True)
class MusicOptions:
    """How hold music is told from speech (see :func:`music_segments`).

    Attributes:
      min_duration_s: a candidate must be at least this long (continuous activity).
      merge_gap_s: activity separated by pauses shorter than this forms one candidate.
      max_speech_fraction: a candidate is music when Silero finds speech in less than
        this fraction of the audio it checks.
      probes: how many excerpts of a candidate Silero checks (evenly spaced) ...
      probe_s: ... each this long; a candidate shorter than ``probes × probe_s`` is
        checked whole. This bounds Silero's cost per candidate (long continuous speech
        is a candidate too).
    """

    min_duration_s: float = 5.0
    merge_gap_s: float = 1.0
    max_speech_fraction: float = 0.3
    probes: int = 3
    probe_s: float = 2.0

    def __post_init__(self) -> None:
        if self.min_duration_s <= 0:
            raise ValueError(f"invalid min_duration_s: {self.min_duration_s!r}; expected > 0")
        if self.merge_gap_s < 0:
            raise ValueError(f"invalid merge_gap_s: {self.merge_gap_s!r}; expected >= 0")
        if not 0.0 < self.max_speech_fraction <= 1.0:
            raise ValueError(
                f"invalid max_speech_fraction: {self.max_speech_fraction!r}; expected 0 to 1"
            )
        if self.probes < 1:
            raise ValueError(f"invalid probes: {self.probes!r}; expected >= 1")
        if self.probe_s <= 0:
            raise ValueError(f"invalid probe_s: {self.probe_s!r}; expected > 0")


def _check(samples: npt.NDArray[np.generic], rate: int) -> None:
    if rate <= 0:
        raise ValueError(f"invalid sample rate: {rate!r}; expected a positive number of Hz")
    if samples.ndim != 1:
        raise ValueError(f"invalid samples shape: {samples.shape!r}; expected one channel (1-D)")


def frame_size(rate: int, frame_ms: float) -> int:
    """Samples per analysis frame (at least one)."""
    return max(1, round(rate * frame_ms / 1000.0))


def frame_power(samples: npt.NDArray[np.generic], frame: int) -> npt.NDArray[np.float32]:
    """Mean square of each whole frame, full scale = 1.0 (int16 is scaled by 1/32768).

    Works in float32 blocks so that a long call never gets a float64 copy.
    """
    n = samples.shape[0] // frame
    out = np.empty(n, dtype=np.float32)
    scale = np.float32(1.0 / 32768.0) if samples.dtype == np.int16 else np.float32(1.0)
    block = max(1, (1 << 20) // frame)  # ~1M samples per block
    for i in range(0, n, block):
        j = min(n, i + block)
        chunk = samples[i * frame : j * frame].astype(np.float32, copy=False)
        chunk = chunk.reshape(j - i, frame) * scale
        out[i:j] = np.einsum("ij,ij->i", chunk, chunk) / np.float32(frame)
    return out


def power_db(power: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Frame power in dBFS (full-scale sine = -3 dBFS)."""
    result: npt.NDArray[np.float32] = (10.0 * np.log10(power + np.float32(_EPS))).astype(
        np.float32, copy=False
    )
    return result


def runs(mask: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Start and end (exclusive) indices of the runs of True in a 1-D mask."""
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return edges[0::2], edges[1::2]


def _hysteresis(db: npt.NDArray[np.float32], start: float, stop: float) -> npt.NDArray[np.bool_]:
    """Frames in runs above ``stop`` that reach ``start`` somewhere (vectorised)."""
    above_stop = db >= stop
    starts, ends = runs(above_stop)
    keep = np.zeros(db.shape[0], dtype=bool)
    if starts.size == 0:
        return keep
    peaks = np.maximum.reduceat(db, starts) if db.size else np.empty(0, np.float32)
    for s, e, p in zip(starts.tolist(), ends.tolist(), peaks.tolist(), strict=True):
        if p >= start:
            keep[s:e] = True
    return keep


def clean_spans(
    spans: list[Span],
    *,
    end: float,
    hangover_s: float = 0.0,
    min_silence_s: float = 0.0,
    min_speech_s: float = 0.0,
) -> list[Span]:
    """Extend by a hangover, merge short pauses, drop short spans; clip to [0, end]."""
    merged: list[list[float]] = []
    for s, e in spans:
        e = min(end, e + hangover_s)
        if merged and s - merged[-1][1] < min_silence_s:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([max(0.0, s), e])
    return [(s, e) for s, e in merged if e - s >= min_speech_s and e > s]


def _energy_segments(
    samples: npt.NDArray[np.generic], rate: int, options: ActivityOptions
) -> list[Span]:
    frame = frame_size(rate, options.frame_ms)
    db = power_db(frame_power(samples, frame))
    if db.size == 0:
        return []
    floor = min(float(np.percentile(db, options.floor_percentile)), options.max_floor_dbfs)
    start = max(floor + options.start_db, options.min_level_dbfs)
    gap = options.start_db - options.stop_db
    stop = max(floor + options.stop_db, options.min_level_dbfs - gap)
    active = _hysteresis(db, start, stop)
    starts, ends = runs(active)
    hop = frame / rate
    spans = [(s * hop, e * hop) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    return clean_spans(
        spans,
        end=samples.shape[0] / rate,
        hangover_s=options.hangover_s,
        min_silence_s=options.min_silence_s,
        min_speech_s=options.min_speech_s,
    )


def to_16k(samples: npt.NDArray[np.generic], rate: int) -> npt.NDArray[np.float32]:
    """Float32 copy at 16 kHz by linear interpolation (enough for a VAD's input)."""
    x = samples.astype(np.float32, copy=False)
    if samples.dtype == np.int16:
        x = x / np.float32(32768.0)
    if rate == _SILERO_RATE:
        return np.ascontiguousarray(x, dtype=np.float32)
    n_out = round(x.shape[0] * _SILERO_RATE / rate)
    positions = np.arange(n_out, dtype=np.float64) * (rate / _SILERO_RATE)
    out: npt.NDArray[np.float32] = np.interp(
        positions, np.arange(x.shape[0], dtype=np.float64), x
    ).astype(np.float32)
    return out


def _silero_segments(
    samples: npt.NDArray[np.generic], rate: int, options: ActivityOptions
) -> list[Span]:
    # faster-whisper ships no type information: import it as a plain module (Any).
    vad_module = importlib.import_module("faster_whisper.vad")
    audio = to_16k(samples, rate)
    if audio.size == 0:
        return []
    vad = vad_module.VadOptions(
        threshold=options.silero_threshold,
        min_speech_duration_ms=int(options.min_speech_s * 1000),
        min_silence_duration_ms=int(options.min_silence_s * 1000),
        speech_pad_ms=int(options.hangover_s * 1000),
    )
    stamps = vad_module.get_speech_timestamps(audio, vad, sampling_rate=_SILERO_RATE)
    spans = [(d["start"] / _SILERO_RATE, d["end"] / _SILERO_RATE) for d in stamps]
    return clean_spans(spans, end=samples.shape[0] / rate, min_silence_s=options.min_silence_s)


def speech_segments(
    samples: npt.NDArray[np.generic], rate: int, options: ActivityOptions | None = None
) -> list[Span]:
    """Spans ``(start_s, end_s)`` where this channel has speech (or any loud sound for
    the energy detector: music is removed by the metrics stage with
    :func:`music_segments`)."""
    _check(samples, rate)
    opts = options or ActivityOptions()
    if opts.detector == "silero":
        return _silero_segments(samples, rate, opts)
    return _energy_segments(samples, rate, opts)


def music_segments(
    samples: npt.NDArray[np.generic],
    rate: int,
    active: list[Span],
    options: MusicOptions | None = None,
    activity: ActivityOptions | None = None,
) -> list[Span]:
    """Spans of hold music: long, continuous activity in which Silero finds little speech.

    Method: the channel's activity spans (from :func:`speech_segments`, energy detector)
    are merged across pauses shorter than ``merge_gap_s``; each merged span at least
    ``min_duration_s`` long is a candidate; Silero VAD runs on ``probes`` excerpts of
    ``probe_s`` seconds spread over the candidate, and the candidate is music when the
    speech Silero finds covers less than ``max_speech_fraction`` of the excerpts. Silero
    therefore costs at most ``probes × probe_s`` seconds of audio per candidate.
    Limits: a candidate is judged as a whole, so music running straight into speech
    (no pause of ``merge_gap_s``) is all music or all speech; sung music may be speech.
    """
    _check(samples, rate)
    opts = options or MusicOptions()
    act = activity or ActivityOptions()
    candidates = clean_spans(active, end=samples.shape[0] / rate, min_silence_s=opts.merge_gap_s)
    found: list[Span] = []
    silero = ActivityOptions(
        detector="silero",
        silero_threshold=act.silero_threshold,
        min_silence_s=0.3,
        min_speech_s=0.25,
        hangover_s=0.03,
    )
    for s, e in candidates:
        if e - s < opts.min_duration_s:
            continue
        checked = 0.0
        covered = 0.0
        for a, b in _probes(s, e, opts.probes, opts.probe_s):
            piece = samples[int(a * rate) : int(b * rate)]
            speech = _silero_segments(piece, rate, silero)
            covered += sum(y - x for x, y in speech)
            checked += b - a
        if covered < opts.max_speech_fraction * checked:
            found.append((s, e))
    return found


def _probes(start: float, end: float, count: int, length: float) -> list[Span]:
    """``count`` excerpts of ``length`` s spread evenly over [start, end] (or the whole)."""
    if end - start <= count * length:
        return [(start, end)]
    step = (end - start - length) / max(1, count - 1)
    return [(start + i * step, start + i * step + length) for i in range(count)]
