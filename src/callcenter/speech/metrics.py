"""Per-call conversation metrics from the two channels of a recording.

Input: the agent and caller channels as mono arrays (float32 in [-1, 1] or int16) at
``rate`` Hz, or a single mixed (mono) channel. Output: a :class:`CallMetrics`.

Pipeline: :func:`~callcenter.speech.activity.speech_segments` per channel (energy
detector by default) -> :func:`~callcenter.speech.activity.music_segments` (hold music,
removed from that channel's speech) -> interval arithmetic on the spans.

Definitions (also in ``docs/speech.md``, "Per-call metrics"):

* *talk time* of a side: total length of its speech spans (music excluded).
* *talk ratio*: agent talk / (agent talk + caller talk); ``None`` when nobody talks.
* *turn*: a maximal run of one side's speech not interrupted by the other side: the
  side's speech spans, joined across pauses shorter than ``turn_merge_s`` unless the
  other side starts speaking inside the pause. A backchannel ("mm-hm") of the other
  side during the speech itself does not split the turn (it is a turn of its own).
* *overtalk*: total time both sides speak at once.
* *interruption by A*: A starts a speech span while B is speaking, B's span began at
  least ``interrupt_min_prior_s`` earlier, and the two overlap for at least
  ``interrupt_min_overlap_s``.
* *dead air*: time over the whole call (from 0 to the end, leading and trailing
  silence included) when neither side speaks and no hold music plays. Every such gap
  is measured; gaps of at least ``long_gap_s`` are listed with their start.
* *hold*: spans of music on either channel (see ``music_segments``); optionally also
  dead air of at least ``silent_hold_s`` (off by default: silence on hold cannot be
  told from dead air from the audio alone).
* *loudness* of a side: energy mean of the frame power over its speech frames, in
  dBFS (a full-scale sine is -3 dBFS); ``None`` when the side never speaks.
* *words per minute*: needs a transcript; ``None`` until ASR fills it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from callcenter.speech.activity import (
    ActivityOptions,
    MusicOptions,
    Span,
    frame_power,
    frame_size,
    music_segments,
    speech_segments,
)


@dataclass(frozen=True)
class MetricsOptions:
    """Thresholds of the per-call metrics (see the module docstring for definitions)."""

    activity: ActivityOptions = field(default_factory=ActivityOptions)
    music: MusicOptions = field(default_factory=MusicOptions)
    detect_hold: bool = True
    long_gap_s: float = 5.0
    turn_merge_s: float = 1.0
    interrupt_min_prior_s: float = 1.0
    interrupt_min_overlap_s: float = 0.3
    silent_hold_s: float | None = None

    def __post_init__(self) -> None:
        for name in (
            "long_gap_s",
            "turn_merge_s",
            "interrupt_min_prior_s",
            "interrupt_min_overlap_s",
        ):
            value = getattr(self, name)
            if value < 0:
                raise ValueError(f"invalid {name}: {value!r}; expected >= 0")
        if self.silent_hold_s is not None and self.silent_hold_s <= 0:
            raise ValueError(f"invalid silent_hold_s: {self.silent_hold_s!r}; expected > 0 or None")


@dataclass(frozen=True)
class Gap:
    """A stretch of dead air: where it starts and how long it lasts, in seconds."""

    start_s: float
    duration_s: float


@dataclass(frozen=True)
class CallMetrics:
    """Quantitative metrics of one call. Seconds are floats, counts ints; ``None`` where
    the recording cannot tell (per-side values of a mono mix, words/min before ASR)."""

    duration_s: float
    speech_s: float
    agent_talk_s: float | None
    caller_talk_s: float | None
    talk_ratio: float | None
    agent_turns: int | None
    caller_turns: int | None
    dead_air_s: float
    longest_gap_s: float
    long_gaps: tuple[Gap, ...]
    overtalk_s: float | None
    agent_interruptions: int | None
    caller_interruptions: int | None
    hold_s: float
    hold_spans: tuple[Span, ...]
    agent_words_per_min: float | None
    caller_words_per_min: float | None
    agent_loudness_dbfs: float | None
    caller_loudness_dbfs: float | None
    loudness_dbfs: float | None
    agent_segments: tuple[Span, ...] = ()
    caller_segments: tuple[Span, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict. Keys are the field names above, except that
        ``long_gaps`` becomes a list of ``{"start_s", "duration_s"}``, ``hold_spans`` a
        list of ``[start_s, end_s]``, and the raw speech spans (``agent_segments``,
        ``caller_segments``) are left out."""
        out: dict[str, Any] = {
            "duration_s": self.duration_s,
            "speech_s": self.speech_s,
            "agent_talk_s": self.agent_talk_s,
            "caller_talk_s": self.caller_talk_s,
            "talk_ratio": self.talk_ratio,
            "agent_turns": self.agent_turns,
            "caller_turns": self.caller_turns,
            "dead_air_s": self.dead_air_s,
            "longest_gap_s": self.longest_gap_s,
            "long_gaps": [
                {"start_s": g.start_s, "duration_s": g.duration_s} for g in self.long_gaps
            ],
            "overtalk_s": self.overtalk_s,
            "agent_interruptions": self.agent_interruptions,
            "caller_interruptions": self.caller_interruptions,
            "hold_s": self.hold_s,
            "hold_spans": [[s, e] for s, e in self.hold_spans],
            "agent_words_per_min": self.agent_words_per_min,
            "caller_words_per_min": self.caller_words_per_min,
            "agent_loudness_dbfs": self.agent_loudness_dbfs,
            "caller_loudness_dbfs": self.caller_loudness_dbfs,
            "loudness_dbfs": self.loudness_dbfs,
        }
        return out


# --- interval arithmetic on sorted, disjoint span lists ---------------------------------


def total(spans: list[Span]) -> float:
    return float(sum(e - s for s, e in spans))


def union(*groups: list[Span]) -> list[Span]:
    out: list[list[float]] = []
    for s, e in sorted(span for group in groups for span in group):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def intersect(a: list[Span], b: list[Span]) -> list[Span]:
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        s = max(a[i][0], b[j][0])
        e = min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: list[Span], b: list[Span]) -> list[Span]:
    return complement(union(complement(a, 0.0, _end(a, b)), b), 0.0, _end(a, b))


def _end(*groups: list[Span]) -> float:
    return max((g[-1][1] for g in groups if g), default=0.0)


def complement(spans: list[Span], start: float, end: float) -> list[Span]:
    out: list[Span] = []
    cursor = start
    for s, e in spans:
        if s > cursor:
            out.append((cursor, min(s, end)))
        cursor = max(cursor, e)
    if cursor < end:
        out.append((cursor, end))
    return [(s, e) for s, e in out if e > s]


def _side_turns(own: list[Span], other: list[Span], merge_s: float) -> int:
    other_starts = [s for s, _ in other]
    turns = 0
    previous_end: float | None = None
    for s, e in own:
        if previous_end is None or s - previous_end >= merge_s:
            turns += 1
        else:
            # a short pause, bridged unless the other side started speaking in it
            i = bisect.bisect_right(other_starts, previous_end)
            if i < len(other_starts) and other_starts[i] < s:
                turns += 1
        previous_end = e if previous_end is None else max(previous_end, e)
    return turns


def count_turns(a: list[Span], b: list[Span], merge_s: float) -> tuple[int, int]:
    """Turns of each side: its speech spans, joined across pauses shorter than
    ``merge_s`` unless the other side starts speaking inside the pause."""
    return _side_turns(a, b, merge_s), _side_turns(b, a, merge_s)


def count_interruptions(
    by: list[Span], of: list[Span], min_prior_s: float, min_overlap_s: float
) -> int:
    """Spans of ``by`` that start inside a span of ``of`` under the module's rule."""
    count = 0
    j = 0
    for s, e in by:
        while j < len(of) and of[j][1] <= s:
            j += 1
        if j == len(of):
            break
        os_, oe = of[j]
        if os_ <= s and s - os_ >= min_prior_s and min(e, oe) - s >= min_overlap_s:
            count += 1
    return count


def _loudness(
    samples: npt.NDArray[np.generic], rate: int, spans: list[Span], frame_ms: float
) -> float | None:
    if not spans:
        return None
    frame = frame_size(rate, frame_ms)
    power = frame_power(samples, frame)
    hop = frame / rate
    mask = np.zeros(power.shape[0], dtype=bool)
    for s, e in spans:
        mask[int(s / hop) : int(np.ceil(e / hop))] = True
    if not mask.any():
        return None
    return float(10.0 * np.log10(float(power[mask].mean()) + 1e-10))


def _gaps(silence: list[Span], long_gap_s: float) -> tuple[float, float, tuple[Gap, ...]]:
    longest = max((e - s for s, e in silence), default=0.0)
    long_gaps = tuple(Gap(s, e - s) for s, e in silence if e - s >= long_gap_s)
    return total(silence), longest, long_gaps


def _channel(
    samples: npt.NDArray[np.generic], rate: int, options: MetricsOptions
) -> tuple[list[Span], list[Span]]:
    """Speech spans (music removed) and music spans of one channel."""
    active = speech_segments(samples, rate, options.activity)
    if not options.detect_hold:
        return active, []
    music = music_segments(samples, rate, active, options.music, options.activity)
    if not music:
        return active, []
    return subtract(active, music), music


def _check_pair(
    agent: npt.NDArray[np.generic] | None, caller: npt.NDArray[np.generic] | None, rate: int
) -> None:
    if rate <= 0:
        raise ValueError(f"invalid sample rate: {rate!r}; expected a positive number of Hz")
    if agent is None and caller is None:
        raise ValueError("no audio: agent and caller are both None; give at least one channel")
    if agent is not None and caller is not None and agent.shape != caller.shape:
        raise ValueError(
            f"channel lengths differ: agent {agent.shape!r}, caller {caller.shape!r}; "
            "expected equal-length channels"
        )


def compute_metrics(
    agent: npt.NDArray[np.generic] | None,
    caller: npt.NDArray[np.generic] | None,
    rate: int,
    options: MetricsOptions | None = None,
) -> CallMetrics:
    """Metrics of one call from its agent and caller channels.

    When one channel is ``None`` the other is taken as a mixed mono recording and
    :func:`compute_mono_metrics` is used (per-side values are ``None``).
    """
    _check_pair(agent, caller, rate)
    opts = options or MetricsOptions()
    if agent is None or caller is None:
        mono = agent if agent is not None else caller
        assert mono is not None
        return compute_mono_metrics(mono, rate, opts)
    duration = agent.shape[0] / rate
    a_speech, a_music = _channel(agent, rate, opts)
    c_speech, c_music = _channel(caller, rate, opts)
    hold = union(a_music, c_music)
    speech = union(a_speech, c_speech)
    silence = complement(union(speech, hold), 0.0, duration)
    hold, silence = _silent_hold(hold, silence, opts)
    dead_air, longest, long_gaps = _gaps(silence, opts.long_gap_s)
    a_talk, c_talk = total(a_speech), total(c_speech)
    a_turns, c_turns = count_turns(a_speech, c_speech, opts.turn_merge_s)
    frame_ms = opts.activity.frame_ms
    return CallMetrics(
        duration_s=duration,
        speech_s=total(speech),
        agent_talk_s=a_talk,
        caller_talk_s=c_talk,
        talk_ratio=a_talk / (a_talk + c_talk) if a_talk + c_talk > 0 else None,
        agent_turns=a_turns,
        caller_turns=c_turns,
        dead_air_s=dead_air,
        longest_gap_s=longest,
        long_gaps=long_gaps,
        overtalk_s=total(intersect(a_speech, c_speech)),
        agent_interruptions=count_interruptions(
            a_speech, c_speech, opts.interrupt_min_prior_s, opts.interrupt_min_overlap_s
        ),
        caller_interruptions=count_interruptions(
            c_speech, a_speech, opts.interrupt_min_prior_s, opts.interrupt_min_overlap_s
        ),
        hold_s=total(hold),
        hold_spans=tuple(hold),
        agent_words_per_min=None,
        caller_words_per_min=None,
        agent_loudness_dbfs=_loudness(agent, rate, a_speech, frame_ms),
        caller_loudness_dbfs=_loudness(caller, rate, c_speech, frame_ms),
        loudness_dbfs=None,
        agent_segments=tuple(a_speech),
        caller_segments=tuple(c_speech),
    )


def _silent_hold(
    hold: list[Span], silence: list[Span], options: MetricsOptions
) -> tuple[list[Span], list[Span]]:
    if options.silent_hold_s is None:
        return hold, silence
    flagged = [(s, e) for s, e in silence if e - s >= options.silent_hold_s]
    if not flagged:
        return hold, silence
    rest = [(s, e) for s, e in silence if e - s < options.silent_hold_s]
    return union(hold, flagged), rest


def compute_mono_metrics(
    samples: npt.NDArray[np.generic], rate: int, options: MetricsOptions | None = None
) -> CallMetrics:
    """Metrics of a mixed (mono) recording: duration, total speech, dead air, hold and
    overall loudness; every per-side value is ``None``."""
    _check_pair(samples, None, rate)
    if samples.ndim != 1:
        raise ValueError(f"invalid samples shape: {samples.shape!r}; expected one channel (1-D)")
    opts = options or MetricsOptions()
    duration = samples.shape[0] / rate
    speech, hold = _channel(samples, rate, opts)
    silence = complement(union(speech, hold), 0.0, duration)
    hold, silence = _silent_hold(hold, silence, opts)
    dead_air, longest, long_gaps = _gaps(silence, opts.long_gap_s)
    return CallMetrics(
        duration_s=duration,
        speech_s=total(speech),
        agent_talk_s=None,
        caller_talk_s=None,
        talk_ratio=None,
        agent_turns=None,
        caller_turns=None,
        dead_air_s=dead_air,
        longest_gap_s=longest,
        long_gaps=long_gaps,
        overtalk_s=None,
        agent_interruptions=None,
        caller_interruptions=None,
        hold_s=total(hold),
        hold_spans=tuple(hold),
        agent_words_per_min=None,
        caller_words_per_min=None,
        agent_loudness_dbfs=None,
        caller_loudness_dbfs=None,
        loudness_dbfs=_loudness(samples, rate, speech, opts.activity.frame_ms),
    )
