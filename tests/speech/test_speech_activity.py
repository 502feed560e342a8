"""Voice activity on real speech (Asterisk prompts) and real hold music (opsound).

Reference extents are measured here with an independent method — the first and last
sample whose magnitude exceeds 0.003 (-50 dBFS, the detector's absolute floor) — not
with the detector under test.
Tolerance: each span boundary within ±0.25 s of the reference.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from callcenter.speech.activity import (
    ActivityOptions,
    MusicOptions,
    music_segments,
    speech_segments,
    to_16k,
)

SOUNDS = Path("/usr/share/asterisk/sounds/en")
MOH = Path("/usr/share/asterisk/moh")
RATE = 8000
TOL = 0.25


def load(path: Path) -> npt.NDArray[np.float32]:
    if not path.exists():
        pytest.fail(f"{path} missing: install asterisk-core-sounds-en-wav / -moh-opsound-wav")
    with wave.open(str(path)) as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return raw.astype(np.float32) / 32768.0


def extent(x: npt.NDArray[np.float32], threshold: float = 0.003) -> tuple[float, float]:
    idx = np.flatnonzero(np.abs(x) > threshold)
    return idx[0] / RATE, (idx[-1] + 1) / RATE


def track(total_s: float, *clips: tuple[float, npt.NDArray[np.float32]]) -> npt.NDArray[np.float32]:
    out = np.zeros(round(total_s * RATE), dtype=np.float32)
    for start, clip in clips:
        i = round(start * RATE)
        out[i : i + clip.size] += clip
    return out


@pytest.mark.parametrize("detector", ["energy", "silero"])
def test_two_prompts_found_at_their_true_extent(detector: str) -> None:
    one = load(SOUNDS / "agent-loginok.wav")
    two = load(SOUNDS / "all-circuits-busy-now.wav")
    x = track(8.0, (0.5, one), (4.0, two))
    expected = [
        (0.5 + extent(one)[0], 0.5 + extent(one)[1]),
        (4.0 + extent(two)[0], 4.0 + extent(two)[1]),
    ]
    got = speech_segments(x, RATE, ActivityOptions(detector=detector))  # type: ignore[arg-type]
    assert len(got) == 2, got
    for (gs, ge), (es, ee) in zip(got, expected, strict=True):
        assert gs == pytest.approx(es, abs=TOL)
        assert ge == pytest.approx(ee, abs=TOL)


def test_int16_input_gives_the_same_spans() -> None:
    x = track(4.0, (1.0, load(SOUNDS / "agent-loginok.wav")))
    pcm = np.round(x * 32767).astype(np.int16)
    got = [t for span in speech_segments(pcm, RATE) for t in span]
    ref = [t for span in speech_segments(x, RATE) for t in span]
    assert got == pytest.approx(ref, abs=0.03)


def test_silence_and_empty_input_have_no_speech() -> None:
    assert speech_segments(np.zeros(RATE * 5, np.float32), RATE) == []
    assert speech_segments(np.zeros(0, np.float32), RATE) == []
    rng = np.random.default_rng(1)
    hiss = (rng.standard_normal(RATE * 5) * 0.003).astype(np.float32)  # -50 dBFS noise
    assert speech_segments(hiss, RATE) == []


def test_speech_over_background_noise_uses_the_noise_floor() -> None:
    clip = load(SOUNDS / "all-circuits-busy-now.wav")
    rng = np.random.default_rng(2)
    x = track(6.0, (2.0, clip)) + (rng.standard_normal(6 * RATE) * 0.01).astype(np.float32)
    got = speech_segments(x, RATE)
    s, e = extent(clip)
    assert len(got) == 1
    assert got[0][0] == pytest.approx(2.0 + s, abs=TOL)
    assert got[0][1] == pytest.approx(2.0 + e, abs=TOL)


def test_short_pauses_merge_and_short_blips_drop() -> None:
    clip = load(SOUNDS / "auth-thankyou.wav")
    s, e = extent(clip)
    gap = 0.15  # shorter than min_silence_s = 0.3
    x = track(5.0, (1.0, clip), (1.0 + e + gap - s, clip))
    assert len(speech_segments(x, RATE)) == 1
    assert len(speech_segments(x, RATE, ActivityOptions(min_silence_s=0.05))) == 2
    blip = np.zeros(RATE * 2, np.float32)
    blip[RATE : RATE + 400] = 0.3  # 50 ms click
    assert speech_segments(blip, RATE) == []


def test_hold_music_is_music_and_prompts_are_not() -> None:
    music = load(MOH / "macroform-cold_day.wav")[: 20 * RATE]
    speech = load(SOUNDS / "basic-pbx-ivr-main.wav")  # 25 s of continuous speech
    x = track(50.0, (1.0, music), (24.0, speech))
    active = speech_segments(x, RATE)
    found = music_segments(x, RATE, active)
    assert len(found) == 1, found
    assert found[0][0] == pytest.approx(1.0, abs=TOL)
    assert found[0][1] == pytest.approx(21.0, abs=TOL)


@pytest.mark.parametrize("name", ["macroform-robot_dity", "manolo_camp-morning_coffee"])
def test_other_hold_music_is_music(name: str) -> None:
    music = load(MOH / f"{name}.wav")[60 * RATE : 90 * RATE]
    x = track(32.0, (1.0, music))
    active = speech_segments(x, RATE)
    found = music_segments(x, RATE, active, MusicOptions())
    assert sum(e - s for s, e in found) >= 0.8 * sum(e - s for s, e in active) > 0


def test_to_16k_doubles_the_length_and_keeps_the_level() -> None:
    t = np.arange(RATE) / RATE
    x = (0.5 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    y = to_16k(x, RATE)
    assert y.dtype == np.float32 and y.size == 2 * RATE
    assert float(np.sqrt(np.mean(y**2))) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"detector": "webrtc"}, "invalid detector: 'webrtc'"),
        ({"frame_ms": 5.0}, "invalid frame_ms: 5.0"),
        ({"start_db": 6.0, "stop_db": 9.0}, "invalid stop_db: 9.0"),
        ({"min_speech_s": -1.0}, "invalid min_speech_s: -1.0"),
    ],
)
def test_bad_options_name_the_value(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ActivityOptions(**kwargs)  # type: ignore[arg-type]


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid sample rate: 0"):
        speech_segments(np.zeros(10, np.float32), 0)
    with pytest.raises(ValueError, match=r"invalid samples shape: \(2, 5\)"):
        speech_segments(np.zeros((2, 5), np.float32), RATE)
