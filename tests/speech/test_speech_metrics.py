"""Per-call metrics on a call built from real speech placed at known times.

The call (8 kHz, agent and caller channels):

* agent "agent-loginok" at 0.5 s; caller "all-circuits-busy-now" at 3.0 s;
* agent "cannot-complete-as-dialed" at 5.5 s, and the caller's "call-waiting" starting
  0.5 s before the agent's speech ends (an interruption by the caller: the agent had
  spoken for > 1 s, the overlap is 0.5 s > 0.3 s);
* 6 s of dead air, then agent "auth-thankyou";
* 2 s later 20 s of hold music (opsound "macroform-cold_day") on the agent channel;
* 1 s after the music the caller's "all-circuits-busy-now" again, then 1.5 s of silence.

The true speech extent of every prompt (they carry leading and trailing silence) is
measured here independently of the code under test: first and last sample whose
magnitude exceeds 0.003 (-50 dBFS). Expected metrics are computed from those extents
with plain arithmetic. Tolerance: ±0.25 s for every duration (talk, gaps, overtalk,
hold), ±0.03 for the talk ratio, ±1.5 dB for loudness; counts exact.
"""

from __future__ import annotations

import json
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from callcenter.speech.metrics import (
    CallMetrics,
    MetricsOptions,
    compute_metrics,
    compute_mono_metrics,
    count_interruptions,
    count_turns,
    intersect,
    subtract,
    union,
)

SOUNDS = Path("/usr/share/asterisk/sounds/en")
MOH = Path("/usr/share/asterisk/moh")
RATE = 8000
TOL = 0.25
Float = npt.NDArray[np.float32]


def load(path: Path) -> Float:
    if not path.exists():
        pytest.fail(f"{path} missing: install asterisk-core-sounds-en-wav / -moh-opsound-wav")
    with wave.open(str(path)) as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return raw.astype(np.float32) / 32768.0


def extent(x: Float, threshold: float = 0.003) -> tuple[float, float]:
    idx = np.flatnonzero(np.abs(x) > threshold)
    return idx[0] / RATE, (idx[-1] + 1) / RATE


@dataclass
class Call:
    agent: Float
    caller: Float
    agent_speech: list[tuple[float, float]]
    caller_speech: list[tuple[float, float]]
    agent_clips: list[tuple[float, Float]]
    hold: tuple[float, float]
    duration: float


def build_call() -> Call:
    p = {
        n: load(SOUNDS / f"{n}.wav")
        for n in (
            "agent-loginok",
            "all-circuits-busy-now",
            "cannot-complete-as-dialed",
            "call-waiting",
            "auth-thankyou",
        )
    }
    music = load(MOH / "macroform-cold_day.wav")[: 20 * RATE]
    agent: list[tuple[float, Float]] = []
    caller: list[tuple[float, Float]] = []

    def speech(start: float, clip: Float) -> tuple[float, float]:
        s, e = extent(clip)
        return start + s, start + e

    agent.append((0.5, p["agent-loginok"]))
    caller.append((3.0, p["all-circuits-busy-now"]))
    agent.append((5.5, p["cannot-complete-as-dialed"]))
    agent_end = speech(5.5, p["cannot-complete-as-dialed"])[1]
    cw_start = agent_end - 0.5 - extent(p["call-waiting"])[0]  # caller cuts in 0.5 s early
    caller.append((cw_start, p["call-waiting"]))
    cw_end = speech(cw_start, p["call-waiting"])[1]
    ty_start = cw_end + 6.0 - extent(p["auth-thankyou"])[0]  # 6 s of dead air
    agent.append((ty_start, p["auth-thankyou"]))
    hold_start = speech(ty_start, p["auth-thankyou"])[1] + 2.0
    last = hold_start + 20.0 + 1.0
    caller.append((last, p["all-circuits-busy-now"]))
    duration = round((last + p["all-circuits-busy-now"].size / RATE + 1.5) * RATE) / RATE

    def track(clips: list[tuple[float, Float]]) -> Float:
        out = np.zeros(round(duration * RATE), dtype=np.float32)
        for start, clip in clips:
            i = round(start * RATE)
            out[i : i + clip.size] += clip
        return out

    a = track(agent)
    i = round(hold_start * RATE)
    a[i : i + music.size] += music
    return Call(
        agent=a,
        caller=track(caller),
        agent_speech=[speech(round(s * RATE) / RATE, c) for s, c in agent],
        caller_speech=[speech(round(s * RATE) / RATE, c) for s, c in caller],
        agent_clips=agent,
        hold=(round(hold_start * RATE) / RATE, round(hold_start * RATE) / RATE + 20.0),
        duration=duration,
    )


@pytest.fixture(scope="module")
def call() -> Call:
    return build_call()


@pytest.fixture(scope="module")
def metrics(call: Call) -> CallMetrics:
    return compute_metrics(call.agent, call.caller, RATE, MetricsOptions())


def spans_total(spans: list[tuple[float, float]]) -> float:
    return sum(e - s for s, e in spans)


def test_duration_and_talk_per_side(call: Call, metrics: CallMetrics) -> None:
    assert metrics.duration_s == pytest.approx(call.duration, abs=1e-9)
    assert metrics.agent_talk_s == pytest.approx(spans_total(call.agent_speech), abs=TOL)
    assert metrics.caller_talk_s == pytest.approx(spans_total(call.caller_speech), abs=TOL)
    expected_ratio = spans_total(call.agent_speech) / (
        spans_total(call.agent_speech) + spans_total(call.caller_speech)
    )
    assert metrics.talk_ratio == pytest.approx(expected_ratio, abs=0.03)
    both = union(call.agent_speech, call.caller_speech)
    assert metrics.speech_s == pytest.approx(spans_total(both), abs=TOL)


def test_turns_overtalk_and_interruption(metrics: CallMetrics) -> None:
    assert (metrics.agent_turns, metrics.caller_turns) == (3, 3)
    assert metrics.overtalk_s == pytest.approx(0.5, abs=TOL)
    assert metrics.caller_interruptions == 1
    assert metrics.agent_interruptions == 0


def test_dead_air_and_long_gaps(call: Call, metrics: CallMetrics) -> None:
    busy = union(call.agent_speech, call.caller_speech, [call.hold])
    expected_dead = call.duration - spans_total(busy)
    assert metrics.dead_air_s == pytest.approx(expected_dead, abs=TOL)
    assert metrics.longest_gap_s == pytest.approx(6.0, abs=TOL)
    assert len(metrics.long_gaps) == 1
    gap = metrics.long_gaps[0]
    assert gap.start_s == pytest.approx(call.caller_speech[1][1], abs=TOL)
    assert gap.duration_s == pytest.approx(6.0, abs=TOL)


def test_hold_music_is_hold_not_talk(call: Call, metrics: CallMetrics) -> None:
    assert metrics.hold_s == pytest.approx(20.0, abs=TOL)
    assert len(metrics.hold_spans) == 1
    start, end = metrics.hold_spans[0]
    assert start == pytest.approx(call.hold[0], abs=TOL)
    assert end == pytest.approx(call.hold[1], abs=TOL)
    # the music does not count as agent speech
    assert all(
        e <= call.hold[0] + TOL or s >= call.hold[1] - TOL for s, e in metrics.agent_segments
    )


def test_loudness_is_the_speech_level(call: Call, metrics: CallMetrics) -> None:
    for level, clips in ((metrics.agent_loudness_dbfs, call.agent_clips[:3]),):
        parts = [c[round(extent(c)[0] * RATE) : round(extent(c)[1] * RATE)] for _, c in clips]
        x = np.concatenate(parts).astype(np.float64)
        assert level == pytest.approx(10 * np.log10(np.mean(x * x)), abs=1.5)
    assert metrics.caller_loudness_dbfs is not None
    assert -30.0 < metrics.caller_loudness_dbfs < -10.0


def test_words_per_minute_waits_for_asr(metrics: CallMetrics) -> None:
    assert metrics.agent_words_per_min is None
    assert metrics.caller_words_per_min is None


def test_to_dict_is_json_ready_with_documented_keys(metrics: CallMetrics) -> None:
    d = metrics.to_dict()
    assert set(d) == {
        "duration_s",
        "speech_s",
        "agent_talk_s",
        "caller_talk_s",
        "talk_ratio",
        "agent_turns",
        "caller_turns",
        "dead_air_s",
        "longest_gap_s",
        "long_gaps",
        "overtalk_s",
        "agent_interruptions",
        "caller_interruptions",
        "hold_s",
        "hold_spans",
        "agent_words_per_min",
        "caller_words_per_min",
        "agent_loudness_dbfs",
        "caller_loudness_dbfs",
        "loudness_dbfs",
    }
    again = json.loads(json.dumps(d))
    assert again["long_gaps"][0]["duration_s"] == pytest.approx(6.0, abs=TOL)
    assert again["caller_interruptions"] == 1


def test_int16_channels_match_float(call: Call, metrics: CallMetrics) -> None:
    a = np.round(call.agent * 32767).astype(np.int16)
    c = np.round(call.caller * 32767).astype(np.int16)
    m = compute_metrics(a, c, RATE)
    assert m.agent_talk_s == pytest.approx(metrics.agent_talk_s, abs=0.05)
    assert m.hold_s == pytest.approx(metrics.hold_s, abs=0.05)


def test_all_silence_is_all_dead_air() -> None:
    z = np.zeros(30 * RATE, dtype=np.float32)
    m = compute_metrics(z, z, RATE)
    assert m.agent_talk_s == 0.0 and m.caller_talk_s == 0.0 and m.speech_s == 0.0
    assert m.talk_ratio is None
    assert (m.agent_turns, m.caller_turns) == (0, 0)
    assert m.dead_air_s == pytest.approx(30.0)
    assert m.longest_gap_s == pytest.approx(30.0)
    assert [(g.start_s, g.duration_s) for g in m.long_gaps] == [(0.0, 30.0)]
    assert m.overtalk_s == 0.0 and m.hold_s == 0.0
    assert m.agent_loudness_dbfs is None and m.caller_loudness_dbfs is None


def test_mono_mix_gives_no_per_side_values(call: Call) -> None:
    mix = call.agent + call.caller
    m = compute_metrics(mix, None, RATE)
    assert m == compute_mono_metrics(mix, RATE)
    for name in (
        "agent_talk_s",
        "caller_talk_s",
        "talk_ratio",
        "agent_turns",
        "caller_turns",
        "overtalk_s",
        "agent_interruptions",
        "caller_interruptions",
        "agent_loudness_dbfs",
        "caller_loudness_dbfs",
    ):
        assert getattr(m, name) is None, name
    both = union(call.agent_speech, call.caller_speech)
    assert m.speech_s == pytest.approx(spans_total(both), abs=TOL)
    assert m.hold_s == pytest.approx(20.0, abs=TOL)
    assert m.longest_gap_s == pytest.approx(6.0, abs=TOL)
    assert m.loudness_dbfs is not None


def test_silent_hold_option_turns_long_dead_air_into_hold(call: Call) -> None:
    m = compute_metrics(call.agent, call.caller, RATE, MetricsOptions(silent_hold_s=4.0))
    assert m.hold_s == pytest.approx(26.0, abs=2 * TOL)
    assert m.long_gaps == ()


def test_interruption_rule() -> None:
    b = [(0.0, 3.0)]
    assert count_interruptions([(1.5, 4.0)], b, 1.0, 0.3) == 1  # B spoke 1.5 s, overlap 1.5
    assert count_interruptions([(0.5, 4.0)], b, 1.0, 0.3) == 0  # B had spoken only 0.5 s
    assert count_interruptions([(2.8, 4.0)], b, 1.0, 0.3) == 0  # overlap 0.2 s
    assert count_interruptions([(3.5, 4.0)], b, 1.0, 0.3) == 0  # no overlap: a reply
    assert count_interruptions([(1.2, 1.4)], b, 1.0, 0.3) == 0  # 0.2 s backchannel


def test_turn_rule() -> None:
    # A's pause of 0.5 s (< 1 s) does not split its turn; B speaking between does.
    a = [(0.0, 1.0), (1.5, 2.0), (5.0, 6.0)]
    b = [(3.0, 4.0)]
    assert count_turns(a, b, 1.0) == (2, 1)
    assert count_turns(a, [], 1.0) == (2, 0)  # 2.0 -> 5.0 is a 3 s pause: new turn
    assert count_turns([], [], 1.0) == (0, 0)
    # a backchannel of B inside A's speech is B's turn but does not split A's
    assert count_turns([(0.0, 4.0)], [(1.0, 1.3)], 1.0) == (1, 1)


def test_interval_helpers() -> None:
    assert union([(0.0, 1.0)], [(0.5, 2.0), (3.0, 4.0)]) == [(0.0, 2.0), (3.0, 4.0)]
    assert intersect([(0.0, 2.0), (3.0, 5.0)], [(1.0, 4.0)]) == [(1.0, 2.0), (3.0, 4.0)]
    assert subtract([(0.0, 10.0)], [(2.0, 3.0), (5.0, 12.0)]) == [(0.0, 2.0), (3.0, 5.0)]
    assert subtract([], [(1.0, 2.0)]) == []


@pytest.mark.parametrize(
    ("agent", "caller", "rate", "message"),
    [
        (None, None, RATE, "no audio"),
        (np.zeros(10, np.float32), np.zeros(11, np.float32), RATE, "channel lengths differ"),
        (np.zeros(10, np.float32), np.zeros(10, np.float32), -8000, "invalid sample rate: -8000"),
    ],
)
def test_bad_input_is_refused(
    agent: Float | None, caller: Float | None, rate: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        compute_metrics(agent, caller, rate)


def test_bad_options_name_the_value() -> None:
    with pytest.raises(ValueError, match="invalid long_gap_s: -1"):
        MetricsOptions(long_gap_s=-1)
    with pytest.raises(ValueError, match="invalid silent_hold_s: 0"):
        MetricsOptions(silent_hold_s=0)
