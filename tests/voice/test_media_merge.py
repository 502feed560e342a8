"""Merging the two sides of a recorded call, measuring it, and the bad inputs.

Truth is made by hand: each side a tone of known frequency and length written with the
standard ``wave`` module; the merged file is read back with ``wave`` and each channel's
strongest frequency found with an FFT, its loud and silent stretches counted sample by
sample, and compared with the arithmetic of the scenario.
"""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
import pytest

from callcenter.errors import UserError
from callcenter.voice.recording import (
    RecordingError,
    dropouts,
    merge_sides,
    wav_info,
)

RATE = 8000


def tone(freq: float, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (amp * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def write(path: Path, x: np.ndarray, *, rate: int = RATE, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(x.astype("<i2").tobytes())
    return path


def read(path: Path) -> tuple[int, int, np.ndarray]:
    with wave.open(str(path), "rb") as w:
        rate, ch = w.getframerate(), w.getnchannels()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, ch)
    return rate, ch, x


def peak_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(float)))
    return float(np.fft.rfftfreq(x.size, 1 / RATE)[int(np.argmax(spectrum))])


def loud(x: np.ndarray) -> int:
    return int(np.count_nonzero(x))


def test_each_side_on_its_channel_agent_left_and_the_shorter_padded(tmp_path: Path) -> None:
    agent = write(tmp_path / "a.wav", tone(440, 3.0))
    caller = write(tmp_path / "c.wav", tone(1000, 2.0))
    info = merge_sides(agent, caller, tmp_path / "out.wav")
    rate, ch, x = read(tmp_path / "out.wav")
    assert (rate, ch, x.shape[0]) == (8000, 2, 3 * RATE)
    assert peak_hz(x[:, 0]) == pytest.approx(440, abs=1)
    assert peak_hz(x[: 2 * RATE, 1]) == pytest.approx(1000, abs=1)
    assert loud(x[2 * RATE :, 1]) == 0  # the caller's side padded with silence
    assert info.duration_s == pytest.approx(3.0)
    assert info.channels == 2 and info.rate == 8000
    # A 0.5-amplitude sine has RMS 0.5/sqrt(2): -9.03 dBFS.
    assert info.rms_dbfs[0] == pytest.approx(20 * math.log10(0.5 / math.sqrt(2)), abs=0.05)


def test_pauses_are_silence_in_both_channels_and_later_audio_keeps_its_place(
    tmp_path: Path,
) -> None:
    # A 10 s call paused from 2 s to 5 s and from 7 s to 8 s: ARI's files hold the
    # 6 s that were not paused (measured: paused time is left out of the file).
    agent = write(tmp_path / "a.wav", tone(500, 6.0))
    # The caller's audio: 1 s of silence, then a 1200 Hz tone for the rest.
    caller = write(tmp_path / "c.wav", np.concatenate([np.zeros(RATE, np.int16), tone(1200, 5.0)]))
    merge_sides(agent, caller, tmp_path / "out.wav", pauses=[(2.0, 5.0), (7.0, 8.0)])
    _, _, x = read(tmp_path / "out.wav")
    assert x.shape[0] == 10 * RATE  # the call's length
    for left, right in ((2, 5), (7, 8)):
        assert loud(x[left * RATE : right * RATE]) == 0  # both channels silent
    # Outside the pauses the agent's file plays on, sample for sample: 0-2 s of the
    # call is 0-2 s of the file, 5-7 s is 2-4 s, 8-10 s is 4-6 s.
    a = tone(500, 6.0)
    for (left, right), (f_left, f_right) in zip(
        ((0, 2), (5, 7), (8, 10)), ((0, 2), (2, 4), (4, 6)), strict=True
    ):
        assert np.array_equal(x[left * RATE : right * RATE, 0], a[f_left * RATE : f_right * RATE])
    # The caller's tone starts 1 s after answer, and continues after the pauses.
    assert loud(x[:RATE, 1]) == 0
    assert peak_hz(x[RATE : 2 * RATE, 1]) == pytest.approx(1200, abs=1)
    assert peak_hz(x[8 * RATE :, 1]) == pytest.approx(1200, abs=1)


def test_a_pause_after_a_side_ended_still_makes_the_file_as_long_as_the_call(
    tmp_path: Path,
) -> None:
    # Paused from 3 s to hang-up at 6 s: the files stop at 3 s.
    agent = write(tmp_path / "a.wav", tone(500, 3.0))
    caller = write(tmp_path / "c.wav", tone(900, 3.0))
    info = merge_sides(agent, caller, tmp_path / "out.wav", pauses=[(3.0, 6.0)])
    assert info.duration_s == pytest.approx(6.0)
    _, _, x = read(tmp_path / "out.wav")
    assert loud(x[3 * RATE :]) == 0


def test_wav_info_measures_a_file_it_did_not_write(tmp_path: Path) -> None:
    x = np.stack([tone(300, 1.5, amp=0.25), np.zeros(12000, np.int16)], axis=1).reshape(-1)
    p = write(tmp_path / "s.wav", x, channels=2)
    info = wav_info(p)
    assert (info.rate, info.channels, info.frames) == (8000, 2, 12000)
    assert info.duration_s == pytest.approx(1.5)
    assert info.rms_dbfs[0] == pytest.approx(20 * math.log10(0.25 / math.sqrt(2)), abs=0.05)
    assert info.rms_dbfs[1] == -math.inf


def test_dropouts_find_digital_silence_inside_audio_only(tmp_path: Path) -> None:
    # Left: tone 0-2 s, 1.5 s of zeros, tone 3.5-5 s: one dropout at 2.0-3.5 s.
    # Right: 2 s of zeros (the caller had not spoken yet), then tone: no dropout.
    left = np.concatenate([tone(400, 2.0), np.zeros(12000, np.int16), tone(400, 1.5)])
    right = np.concatenate([np.zeros(16000, np.int16), tone(800, 3.0)])
    p = write(tmp_path / "d.wav", np.stack([left, right], axis=1).reshape(-1), channels=2)
    found = dropouts(p, min_s=1.0)
    assert len(found) == 1
    assert found[0].channel == 0
    assert found[0].start_s == pytest.approx(2.0, abs=2 / RATE)
    assert found[0].end_s == pytest.approx(3.5, abs=2 / RATE)  # the tone starts at sin(0) = 0
    assert dropouts(p, min_s=2.0) == []  # shorter than asked for
    assert dropouts(p, min_s=1.0, pauses=[(2.2, 3.0)]) == []  # a pause, not a dropout


def test_the_merge_leaves_nothing_behind_when_an_input_is_bad(tmp_path: Path) -> None:
    agent = write(tmp_path / "a.wav", tone(440, 1.0))
    out = tmp_path / "rec" / "out.wav"
    with pytest.raises(RecordingError):
        merge_sides(agent, tmp_path / "missing.wav", out)
    assert not out.exists()
    # An existing result is not replaced by a failed merge.
    merge_sides(agent, agent, out)
    before = out.read_bytes()
    with pytest.raises(RecordingError):
        merge_sides(agent, tmp_path / "missing.wav", out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["out.wav"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "missing.wav: no such file"),
        (lambda p: (p.write_bytes(b""), p)[1], "missing.wav: empty file (0 bytes)"),
        (lambda p: (p.write_text("hello"), p)[1], "missing.wav: not a PCM WAV file"),
        (
            lambda p: write(p, tone(440, 0.5), rate=16000),
            "missing.wav: sample rate 16000 Hz; the caller side must be 8000 Hz",
        ),
        (
            lambda p: write(p, np.zeros(800, np.int16), channels=2),
            "missing.wav: has 2 channels; the caller side must be mono",
        ),
    ],
    ids=["missing", "empty", "text", "16k", "stereo"],
)
def test_a_bad_side_is_one_clear_error_naming_the_file(
    tmp_path: Path, make: object, message: str
) -> None:
    agent = write(tmp_path / "a.wav", tone(440, 0.5))
    bad = make(tmp_path / "missing.wav")  # type: ignore[operator]
    with pytest.raises(RecordingError) as e:
        merge_sides(agent, bad, tmp_path / "out.wav")
    assert message in str(e.value)
    assert str(tmp_path) in str(e.value)


def test_an_8_bit_wav_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "u8.wav"
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(bytes(800))
    with pytest.raises(RecordingError, match="8-bit samples; expected 16-bit PCM"):
        merge_sides(p, p, tmp_path / "out.wav")


@pytest.mark.parametrize(
    ("pauses", "message"),
    [
        ([(3.0, 2.0)], r"pauses\[0\]: \(3, 2\) is not a span after answer"),
        ([(-1.0, 2.0)], r"pauses\[0\]: \(-1, 2\) is not a span after answer"),
        ([(1.0, float("nan"))], r"pauses\[0\]: \(1, nan\) is not a span"),
        ([(1.0, 3.0), (2.0, 4.0)], r"pauses\[1\]: \(2, 4\) starts before the previous pause"),
        ([("a", 1)], r"pauses\[0\]: \('a', 1\) is not a \(start_s, end_s\) pair"),
    ],
)
def test_bad_pauses_are_one_clear_error(
    tmp_path: Path, pauses: list[tuple[float, float]], message: str
) -> None:
    agent = write(tmp_path / "a.wav", tone(440, 0.5))
    with pytest.raises(UserError, match=message):
        merge_sides(agent, agent, tmp_path / "out.wav", pauses=pauses)
    assert not (tmp_path / "out.wav").exists()


def test_dropouts_refuse_bad_thresholds(tmp_path: Path) -> None:
    p = write(tmp_path / "a.wav", tone(440, 0.5))
    with pytest.raises(UserError, match=r"min_s: 0 is not a duration \(expected > 0 seconds\)"):
        dropouts(p, min_s=0)
    with pytest.raises(UserError, match=r"level: -1 is not a sample magnitude"):
        dropouts(p, level=-1)


def test_a_side_whose_header_says_no_data_is_read_to_the_end_of_the_file(tmp_path: Path) -> None:
    # Asterisk writes the RIFF and data sizes when it closes a recording: a call cut by
    # an Asterisk crash leaves both at 0.  The samples are still there.
    agent = write(tmp_path / "a.wav", tone(440, 2.0))
    raw = bytearray(agent.read_bytes())
    assert raw[36:40] == b"data"
    raw[4:8] = raw[40:44] = bytes(4)
    agent.write_bytes(bytes(raw))
    caller = write(tmp_path / "c.wav", tone(1000, 1.0))
    info = merge_sides(agent, caller, tmp_path / "out.wav")
    assert info.duration_s == pytest.approx(2.0)
    _, _, x = read(tmp_path / "out.wav")
    assert np.array_equal(x[:, 0], tone(440, 2.0))


def test_a_wav_without_a_data_chunk_is_refused(tmp_path: Path) -> None:
    p = write(tmp_path / "a.wav", tone(440, 0.1))
    raw = bytearray(p.read_bytes())
    raw[36:40] = b"junk"  # the data chunk renamed: a header and no samples
    p.write_bytes(bytes(raw))
    with pytest.raises(RecordingError, match="not a PCM WAV file"):
        merge_sides(p, p, tmp_path / "out.wav")
