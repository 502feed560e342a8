"""Per-side transcription of a call, gated by voice activity, in call time.

:func:`transcribe_call` gives each side of a stereo or pair recording its own
:class:`~callcenter.speech.transcribe.Transcript`, running Whisper only where the
energy VAD found speech (hold music removed, as the metrics stage does):

1. *Pieces*: each speech span is padded by ``pad_s`` on both sides, and spans closer
   than ``merge_gap_s`` are merged (the short pause stays in the audio).  A piece longer
   than ``max_chunk_s`` is cut at its quietest 20 ms frame in the second half of the
   window.
2. *Chunks*: pieces are packed in order into chunks of at most ``max_chunk_s`` seconds
   of audio, ``joiner_s`` of silence between two pieces, so one Whisper window (30 s,
   whose encoder costs the same however little audio it holds) carries as much speech
   as it can.  Silence, hold music and the other party's turns are never encoded.
3. *Decoding*: chunks go through faster-whisper's ``BatchedInferencePipeline``
   (``batch_size`` at a time, one decode per chunk, word timestamps on), or one by one
   through ``WhisperModel.transcribe`` when ``batch_size`` is 1.
4. *Times*: every word's time inside its chunk is mapped back to call time through the
   piece it falls in (a word in a joiner gap is clamped to the nearest piece edge), and
   the words of each piece become one :class:`Segment`.  Segments Whisper itself marks
   as non-speech (``no_speech_prob`` > 0.6 with ``avg_logprob`` < -1, Whisper's own
   rule) are dropped.

Language: ``AsrOptions.language`` when given; ``en`` for an English-only model;
otherwise detected once per call on up to ``detect_s`` seconds of speech taken
alternately from both sides' first pieces (one encoder pass), and that language is used
for both sides.
"""

from __future__ import annotations

import bisect
import importlib
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from callcenter.speech.activity import (
    Span,
    frame_power,
    frame_size,
    music_segments,
    speech_segments,
    to_16k,
)
from callcenter.speech.audio import CallAudio
from callcenter.speech.conversation import Speaker
from callcenter.speech.transcribe import (
    RATE,
    ModelError,
    Segment,
    Transcriber,
    Transcript,
    Word,
)

__all__ = ["GateOptions", "speech_spans", "transcribe_call", "words_per_minute"]

Float = npt.NDArray[np.float32]
_NO_SPEECH_PROB: Final = 0.6
_LOW_LOGPROB: Final = -1.0
_BATCHES_PER_GROUP: Final = 4  # batches handed to faster-whisper at once (memory bound)


@dataclass(frozen=True)
class GateOptions:
    """How speech spans become Whisper chunks (see the module docstring)."""

    pad_s: float = 0.2
    merge_gap_s: float = 0.6
    joiner_s: float = 0.5
    max_chunk_s: float = 28.0
    batch_size: int = 4
    detect_s: float = 30.0

    def __post_init__(self) -> None:
        if not 1.0 <= self.max_chunk_s <= 30.0:
            raise ValueError(f"invalid max_chunk_s: {self.max_chunk_s!r}; expected 1 to 30")
        for name in ("pad_s", "merge_gap_s", "joiner_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"invalid {name}: {getattr(self, name)!r}; expected >= 0")
        if self.batch_size < 1:
            raise ValueError(f"invalid batch_size: {self.batch_size!r}; expected >= 1")
        if self.detect_s <= 0:
            raise ValueError(f"invalid detect_s: {self.detect_s!r}; expected > 0")


@dataclass(frozen=True)
class _Piece:
    """A stretch of call time [start, end) placed at ``offset`` s in a chunk."""

    start: float
    end: float
    offset: float


@dataclass(frozen=True)
class _Chunk:
    """Pieces of one side packed into one Whisper window. The samples are cut from the
    side's 16 kHz channel only when the chunk is decoded (:attr:`audio`), so a long call
    never holds a second copy of its speech."""

    source: Float  # the side's whole 16 kHz channel (a reference, not a copy)
    pieces: tuple[_Piece, ...]
    joiner_s: float

    @property
    def audio(self) -> Float:
        gap = np.zeros(round(self.joiner_s * RATE), dtype=np.float32)
        parts: list[Float] = []
        for i, p in enumerate(self.pieces):
            if i:
                parts.append(gap)
            parts.append(self.source[round(p.start * RATE) : round(p.end * RATE)])
        return np.concatenate(parts)


def speech_spans(samples: npt.NDArray[np.generic], rate: int) -> list[Span]:
    """Speech of one channel as the metrics stage finds it: energy VAD, hold music out."""
    from callcenter.speech.metrics import subtract

    active = speech_segments(samples, rate)
    music = music_segments(samples, rate, active)
    return subtract(active, music) if music else active


def _pieces(spans: Iterable[Span], duration: float, opts: GateOptions) -> list[Span]:
    merged: list[list[float]] = []
    for s, e in sorted(spans):
        s, e = max(0.0, s - opts.pad_s), min(duration, e + opts.pad_s)
        if e <= s:
            continue
        if merged and s - merged[-1][1] < opts.merge_gap_s:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def _cut_long(span: Span, samples: Float, opts: GateOptions) -> list[Span]:
    """Cut a span longer than a chunk at quiet frames (16 kHz samples of the side)."""
    out: list[Span] = []
    s, e = span
    frame = frame_size(RATE, 20.0)
    while e - s > opts.max_chunk_s:
        lo, hi = s + opts.max_chunk_s / 2, s + opts.max_chunk_s
        power = frame_power(samples[int(lo * RATE) : int(hi * RATE)], frame)
        cut = lo + (int(np.argmin(power)) + 0.5) * frame / RATE if power.size else hi
        out.append((s, cut))
        s = cut
    out.append((s, e))
    return out


def _chunks(samples: Float, spans: Iterable[Span], opts: GateOptions) -> list[_Chunk]:
    duration = samples.size / RATE
    pieces = [p for sp in _pieces(spans, duration, opts) for p in _cut_long(sp, samples, opts)]
    chunks: list[_Chunk] = []
    placed: list[_Piece] = []
    used = 0.0

    def flush() -> None:
        if placed:
            chunks.append(_Chunk(samples, tuple(placed), opts.joiner_s))
            placed.clear()

    for s, e in pieces:
        a, b = round(s * RATE), round(e * RATE)
        need = (b - a) / RATE + (opts.joiner_s if placed else 0.0)
        if placed and used + need > opts.max_chunk_s:
            flush()
            used, need = 0.0, (b - a) / RATE
        placed.append(_Piece(a / RATE, b / RATE, used + need - (b - a) / RATE))
        used += need
    flush()
    return chunks


def _to_call_time(t: float, piece: _Piece) -> float:
    """A time inside a chunk, in call time through its piece (clamped to the piece)."""
    return min(piece.end, max(piece.start, piece.start + (t - piece.offset)))


def _piece_of(t: float, offsets: Sequence[float]) -> int:
    return max(0, bisect.bisect_right(offsets, t) - 1)


def _is_noise(seg: Any) -> bool:
    return bool(seg.no_speech_prob > _NO_SPEECH_PROB and seg.avg_logprob < _LOW_LOGPROB)


def _decode(
    transcriber: Transcriber, chunks: Sequence[_Chunk], language: str, opts: GateOptions
) -> list[list[Any]]:
    """faster-whisper segments of each chunk, times relative to the chunk."""
    model = transcriber.model
    o = transcriber.options
    common: dict[str, Any] = {
        "language": language,
        "beam_size": o.beam_size,
        "word_timestamps": True,
        "vad_filter": False,
    }
    if opts.batch_size == 1:
        return [
            list(model.transcribe(c.audio, condition_on_previous_text=False, **common)[0])
            for c in chunks
        ]
    module = importlib.import_module("faster_whisper")
    pipeline = module.BatchedInferencePipeline(model)
    out: list[list[Any]] = []
    # The pipeline computes the features of every clip it is given before decoding, so
    # it gets a bounded group of chunks at a time: memory stays flat however long the call.
    group = opts.batch_size * _BATCHES_PER_GROUP
    for g in range(0, len(chunks), group):
        part = [c.audio for c in chunks[g : g + group]]
        starts = np.cumsum([0] + [a.size for a in part])
        audio = np.concatenate(part)
        del part
        clips = [{"start": a / RATE, "end": b / RATE} for a, b in itertools.pairwise(starts)]
        segments, _ = pipeline.transcribe(
            audio, clip_timestamps=clips, batch_size=opts.batch_size, **common
        )
        found: list[list[Any]] = [[] for _ in clips]
        bounds = [c["start"] for c in clips]
        for seg in segments:  # times are in the joined buffer: shift back to each chunk
            i = max(0, bisect.bisect_right(bounds, float(seg.start) + 0.05) - 1)  # rounded
            found[i].append(_Shifted(seg, bounds[i]))
        out.extend(found)
    return out


class _Shifted:
    """A faster-whisper segment whose times are moved by ``-shift`` seconds."""

    def __init__(self, seg: Any, shift: float) -> None:
        self.no_speech_prob = seg.no_speech_prob
        self.avg_logprob = seg.avg_logprob
        self.words = [
            _W(w.start - shift, w.end - shift, w.word, w.probability) for w in (seg.words or [])
        ]


@dataclass(frozen=True)
class _W:
    start: float
    end: float
    word: str
    probability: float


def _side_transcript(
    chunks: Sequence[_Chunk], decoded: Sequence[Sequence[Any]], language: str, prob: float
) -> Transcript:
    segments: list[Segment] = []
    for chunk, segs in zip(chunks, decoded, strict=True):
        offsets = [p.offset for p in chunk.pieces]
        by_piece: dict[int, list[Word]] = {}
        for seg in segs:
            if _is_noise(seg):
                continue
            for w in seg.words or ():
                mid = (float(w.start) + float(w.end)) / 2
                k = _piece_of(mid, offsets)
                start = _to_call_time(float(w.start), chunk.pieces[k])
                end = _to_call_time(float(w.end), chunk.pieces[k])
                by_piece.setdefault(k, []).append(
                    Word(start, max(start, end), str(w.word), float(w.probability))
                )
        for k in sorted(by_piece):
            words = by_piece[k]
            text = "".join(w.text for w in words)
            segments.append(Segment(words[0].start, words[-1].end, text, tuple(words)))
    segments.sort(key=lambda s: s.start)
    return Transcript(language, prob, tuple(segments))


def _detect(
    transcriber: Transcriber, sides: Sequence[tuple[Float, list[Span]]], opts: GateOptions
) -> tuple[str, float]:
    o = transcriber.options
    if o.language is not None:
        if o.language != "en" and not transcriber.multilingual:
            raise ModelError(
                f"the model {o.model!r} is English-only; --language {o.language} "
                "needs a multilingual model (--model base or DIR)"
            )
        return o.language, 1.0
    if not transcriber.multilingual:
        return "en", 1.0
    pools = [[(x, p) for p in _pieces(sp, x.size / RATE, opts)] for x, sp in sides]
    parts: list[Float] = []
    total = 0
    limit = round(opts.detect_s * RATE)
    for i in range(max((len(p) for p in pools), default=0)):
        for pool in pools:
            if i < len(pool) and total < limit:
                x, (s, e) = pool[i]
                clip = x[round(s * RATE) : round(e * RATE)][: limit - total]
                parts.append(clip)
                total += clip.size
    if total == 0:
        return "", 0.0
    lang, prob, _ = transcriber.model.detect_language(audio=np.concatenate(parts))
    return str(lang), float(prob)


def transcribe_call(
    audio: CallAudio,
    transcriber: Transcriber,
    spans: Mapping[Speaker, Sequence[Span]] | None = None,
    *,
    options: GateOptions | None = None,
) -> dict[Speaker, Transcript]:
    """Each side's transcript in call time, Whisper run only on that side's speech.

    ``spans``: the speech spans per speaker (``CallMetrics.agent_segments`` /
    ``caller_segments``; ``Speaker.UNKNOWN`` for mono); missing ones are found with
    :func:`speech_spans`.  Stereo and pair give ``{AGENT: ..., CALLER: ...}``, mono
    ``{UNKNOWN: ...}``.  The language is decided once per call (module docstring).
    """
    opts = options or GateOptions()
    given = spans or {}
    if audio.has_sides:
        who = [Speaker.AGENT, Speaker.CALLER]
        raw = [audio.agent, audio.caller]
    else:
        who = [Speaker.UNKNOWN]
        raw = [audio.mixed if audio.mixed is not None else audio.mix()]
    sides: list[tuple[Float, list[Span]]] = []
    for speaker, x in zip(who, raw, strict=True):
        assert x is not None
        s16 = to_16k(x, audio.rate)
        found = given.get(speaker)
        sides.append((s16, list(found) if found is not None else speech_spans(x, audio.rate)))
    language, prob = _detect(transcriber, sides, opts)
    per_side = [_chunks(x, sp, opts) for x, sp in sides]
    every = [c for chunks in per_side for c in chunks]  # both sides share the batches
    decoded = _decode(transcriber, every, language, opts) if every else []
    out: dict[Speaker, Transcript] = {}
    first = 0
    for speaker, chunks in zip(who, per_side, strict=True):
        mine = decoded[first : first + len(chunks)]
        out[speaker] = _side_transcript(chunks, mine, language, prob)
        first += len(chunks)
    return out


def words_per_minute(transcript: Transcript, spans: Sequence[Span]) -> float | None:
    """Talk speed: words of the transcript per minute of that side's speech spans
    (the talk time of the metrics stage); ``None`` when the spans hold no speech."""
    minutes = sum(max(0.0, e - s) for s, e in spans) / 60.0
    if minutes <= 0:
        return None
    return len(transcript.words) / minutes
