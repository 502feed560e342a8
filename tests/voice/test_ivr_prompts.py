"""Prompts: the catalogue (Debian's recordings and the center's own) and the conversion of
uploads, checked on audio made here with a known length and pitch."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from callcenter.errors import NotFoundError
from callcenter.voice.ivr import PromptCatalogue, PromptError, convert_prompt
from callcenter.voice.ivr.prompts import SYSTEM_SOUNDS

debian_sounds = pytest.mark.skipif(
    not (SYSTEM_SOUNDS / "en" / "vm-intro.wav").exists(),
    reason="Debian's asterisk-core-sounds-en-wav is not installed",
)


def _sine(path: Path, seconds: float, rate: int = 44100, channels: int = 2) -> None:
    subprocess.run(
        ["sox", "-n", "-r", str(rate), "-c", str(channels), "-b", "16", str(path),
         "synth", str(seconds), "sine", "440", "vol", "0.5"],
        check=True,
    )  # fmt: skip


def _mp3(path: Path, seconds: float, rate: int = 44100) -> None:
    """An MP3 of a 440 Hz tone, encoded by PyAV (FFmpeg's libmp3lame)."""
    import av

    t = np.arange(int(seconds * rate)) / rate
    pcm = (0.5 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libmp3lame", rate=rate, layout="mono")
        for start in range(0, len(pcm), 1152):
            frame = av.AudioFrame.from_ndarray(pcm[None, start : start + 1152], "s16", "mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def _read(path: Path) -> tuple[int, int, int, np.ndarray]:
    with wave.open(str(path)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), data


def _pitch(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def test_a_wav_upload_becomes_8khz_mono_16bit_of_the_same_length_and_pitch(
    tmp_path: Path,
) -> None:
    src = tmp_path / "upload.wav"
    _sine(src, 1.5)  # 44.1 kHz stereo
    dest = convert_prompt(src, tmp_path / "prompts", "welcome", "en")
    assert dest == tmp_path / "prompts" / "en" / "welcome.wav"
    rate, channels, width, data = _read(dest)
    assert (rate, channels, width) == (8000, 1, 2)
    assert len(data) == 12000  # 1.5 s at 8 kHz
    assert _pitch(data, rate) == pytest.approx(440, abs=1)
    assert 0.3 < np.abs(data).max() / 32767 < 0.6  # the level kept (0.5 played)
    assert sorted(p.name for p in (tmp_path / "prompts" / "en").iterdir()) == ["welcome.wav"]


def test_an_mp3_upload_is_decoded_and_converted(tmp_path: Path) -> None:
    src = tmp_path / "upload.mp3"
    _mp3(src, 2.0)
    dest = convert_prompt(src, tmp_path / "prompts", "menu-main", "ru")
    rate, channels, width, data = _read(dest)
    assert (rate, channels, width) == (8000, 1, 2)
    # MP3 frames are 1152 samples (26 ms at 44.1 kHz): the encoder's padding may remain
    assert len(data) / rate == pytest.approx(2.0, abs=0.06)
    assert _pitch(data, rate) == pytest.approx(440, abs=1)


@pytest.mark.parametrize(
    ("name", "language", "line"),
    [
        ("Welcome!", "en", "prompt name 'Welcome!': expected 1-64 lower-case letters, digits, "
         "'-' or '_', starting with a letter or digit"),
        ("../evil", "en", "prompt name '../evil': expected 1-64 lower-case letters, digits, "
         "'-' or '_', starting with a letter or digit"),
        ("welcome", "english", "prompt language 'english': expected a code like 'en', 'ru' "
         "or 'pt_BR'"),
    ],
)  # fmt: skip
def test_bad_names_are_refused(tmp_path: Path, name: str, language: str, line: str) -> None:
    src = tmp_path / "upload.wav"
    _sine(src, 0.5)
    with pytest.raises(PromptError) as err:
        convert_prompt(src, tmp_path / "prompts", name, language)
    assert str(err.value) == line
    assert not (tmp_path / "prompts").exists()


def test_a_file_that_is_not_audio_leaves_nothing_behind(tmp_path: Path) -> None:
    dest_dir = tmp_path / "prompts"
    _sine(tmp_path / "old.wav", 0.5)
    old = convert_prompt(tmp_path / "old.wav", dest_dir, "welcome", "en")
    before = old.read_bytes()
    for fake in ("notes.wav", "notes.mp3", "notes.txt"):
        (tmp_path / fake).write_text("this is not a recording\n")
        with pytest.raises(PromptError) as err:
            convert_prompt(tmp_path / fake, dest_dir, "welcome", "en")
        assert str(err.value) == f"{fake}: not an audio file (expected WAV or MP3)"
    assert old.read_bytes() == before  # the prompt in use is untouched
    assert [p.name for p in (dest_dir / "en").iterdir()] == ["welcome.wav"]


def test_too_long_empty_and_missing_uploads(tmp_path: Path) -> None:
    src = tmp_path / "long.wav"
    _sine(src, 2.5)
    with pytest.raises(PromptError) as err:
        convert_prompt(src, tmp_path / "p", "long", "en", max_seconds=2)
    assert str(err.value) == "long.wav: 2.5 s long; a prompt may last at most 2 s"
    with wave.open(str(tmp_path / "empty.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
    with pytest.raises(PromptError) as err:
        convert_prompt(tmp_path / "empty.wav", tmp_path / "p", "empty", "en")
    assert str(err.value) == "empty.wav: has no sound (0 s long)"
    with pytest.raises(PromptError) as err:
        convert_prompt(tmp_path / "gone.wav", tmp_path / "p", "gone", "en")
    assert str(err.value) == f"{tmp_path / 'gone.wav'}: no such file"
    assert list((tmp_path / "p").rglob("*.wav")) == []


@debian_sounds
def test_the_catalogue_has_debians_prompts_and_the_centers_own_first(tmp_path: Path) -> None:
    own = tmp_path / "own"
    _sine(tmp_path / "a.wav", 0.3)
    convert_prompt(tmp_path / "a.wav", own, "bank-welcome", "ru")
    convert_prompt(tmp_path / "a.wav", own, "goodbye", "en")  # the center's own goodbye
    (own / "en" / ".prompt-x").mkdir()
    (own / "en" / ".prompt-x" / "half.wav").write_bytes(b"")  # a conversion under way
    cat = PromptCatalogue.default(own)
    assert {"en", "ru"} <= set(cat.languages())
    assert cat.has("vm-intro", "en") and cat.has("vm-intro", "ru")
    assert cat.has("digits/1", "ru")
    assert cat.has("bank-welcome", "ru") and not cat.has("bank-welcome", "en")
    assert not cat.has(".prompt-x/half", "en")
    assert cat.path("goodbye", "en") == own / "en" / "goodbye.wav"
    assert cat.media("vm-intro", "ru") == f"sound:{SYSTEM_SOUNDS}/ru/vm-intro"
    assert cat.transcript("vm-intro", "en") == (
        "Please leave your message after the tone.  When done hang up or press the pound "
        "key. (simple tone sound plays)"
    )
    assert cat.transcript("goodbye", "ru") == "До свидания!"
    with pytest.raises(NotFoundError) as err:
        cat.path("nope", "en")
    assert str(err.value) == "no prompt 'en/nope'"
