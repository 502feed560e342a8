"""Real test audio for the speech stages, built in temporary folders.

Everything here makes genuine recordings: Asterisk's recorded English prompts (human
speech, 8 kHz mono, from the ``asterisk-core-sounds-en-wav`` package), hold music
(``asterisk-moh-opsound-wav``), sox for conversion and PyAV for the codecs where sox
writes no gapless information (MP3, Opus).  Nothing here calls the code under test.

Building blocks, each a fixture returning a plain function:

* ``prompt(name, rate)`` → float32 mono clip of an Asterisk prompt resampled by sox;
  :data:`PROMPTS` lists the ones used with their transcripts, ``prompt_duration(name)``
  their length in seconds read from the WAV header.
* ``place(segments, total_s, rate)`` → float32 array ``(total_s × rate,)`` with each
  ``(start_s, clip)`` added at its start time (clips may overlap; they are summed).
* ``write_wav(path, data, rate)`` → 16-bit PCM WAV through the stdlib ``wave`` module;
  ``data`` is ``(n,)`` or ``(channels, n)`` float in [-1, 1].
* ``sox(*args)`` → runs sox, failing the test with its stderr.
* ``encode(src_wav, dst, fmt)`` → converts a WAV to one of :data:`FORMATS`.
* ``rms(x, rate, win_s=0.05)`` → RMS per window, and ``active(x, rate)`` → the first and
  last time (s) where the 50 ms RMS exceeds a threshold.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

SOUNDS = Path("/usr/share/asterisk/sounds/en")
MOH = Path("/usr/share/asterisk/moh")

#: Prompts used by the tests, with their transcripts (core-sounds-en.txt).
PROMPTS: dict[str, str] = {
    "agent-loginok": "Agent logged in.",
    "auth-thankyou": "Thank you.",
    "all-circuits-busy-now": "All circuits are busy now.",
    "agent-pass": "Please enter your password followed by the pound key.",
    "basic-pbx-ivr-main": "Thank you for calling Super Awesome Company, ...",
}

#: Output formats ``encode`` can write: name → (extension, how).
FORMATS: dict[str, tuple[str, str]] = {
    "pcm16": ("wav", "sox"),
    "ulaw": ("wav", "sox"),
    "alaw": ("wav", "sox"),
    "flac": ("flac", "sox"),
    "vorbis": ("ogg", "sox"),
    "mp3": ("mp3", "av"),
    "opus": ("opus", "av"),
}

Float = npt.NDArray[np.float32]


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} not installed (scripts/test.sh installs it)")


def prompt_path(name: str) -> Path:
    path = SOUNDS / f"{name}.wav"
    if not path.exists():
        pytest.fail(f"{path} missing: install asterisk-core-sounds-en-wav")
    return path


def prompt_duration(name: str) -> float:
    with wave.open(str(prompt_path(name))) as w:
        return w.getnframes() / w.getframerate()


def read_wav(path: str | Path) -> tuple[Float, int]:
    """16-bit PCM WAV → float32 ``(channels, n)`` and its rate (stdlib only)."""
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2, f"{path}: expected 16-bit PCM"
        ch, rate, n = w.getnchannels(), w.getframerate(), w.getnframes()
        raw = np.frombuffer(w.readframes(n), dtype="<i2")
    return (raw.reshape(-1, ch).T.astype(np.float32) / 32768.0), rate


def write_wav(path: str | Path, data: npt.ArrayLike, rate: int) -> Path:
    """Float ``(n,)`` or ``(channels, n)`` in [-1, 1] → 16-bit PCM WAV."""
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    pcm = np.clip(np.round(arr * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(arr.shape[0])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.T.tobytes())
    return Path(path)


def sox(*args: str | Path) -> None:
    _need("sox")
    proc = subprocess.run(["sox", *map(str, args)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"sox {' '.join(map(str, args))} failed: {proc.stderr.strip()}")


def place(segments: Sequence[tuple[float, npt.ArrayLike]], total_s: float, rate: int) -> Float:
    """A ``total_s`` second mono track with each ``(start_s, clip)`` added at its start."""
    out = np.zeros(round(total_s * rate), dtype=np.float32)
    for start_s, clip in segments:
        c = np.asarray(clip, dtype=np.float32)
        i = round(start_s * rate)
        if i < 0 or i + c.size > out.size:
            raise ValueError(f"clip at {start_s}s ({c.size / rate:.3f}s) overruns {total_s}s")
        out[i : i + c.size] += c
    return out


def _encode_av(src: Path, dst: Path, codec: str, rate: int) -> None:
    import av

    data, _ = read_wav(src)
    layout = "stereo" if data.shape[0] == 2 else "mono"
    with av.open(str(dst), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        fmt = stream.codec_context.codec.audio_formats[0].name
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format="fltp", layout=layout)
        frame.sample_rate = rate
        resampler = av.AudioResampler(format=fmt, layout=layout, rate=rate)
        for f in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def encode(src: Path, dst_stem: Path, fmt: str) -> Path:
    """Convert 16-bit WAV ``src`` to ``fmt`` (a key of FORMATS); returns the new path.

    Opus only runs at 8/12/16/24/48 kHz, so a 44.1 kHz source is written at 48 kHz.
    """
    ext, how = FORMATS[fmt]
    dst = dst_stem.with_name(f"{dst_stem.name}-{fmt}.{ext}")
    if how == "sox":
        enc = {"ulaw": ["-e", "u-law"], "alaw": ["-e", "a-law"]}.get(fmt, [])
        sox(src, *enc, dst)
    else:
        with wave.open(str(src)) as w:
            rate = w.getframerate()
        if fmt == "opus":
            rate = rate if rate in (8000, 12000, 16000, 24000, 48000) else 48000
            if rate != read_wav(src)[1]:
                tmp = dst.with_suffix(".48k.wav")
                sox(src, "-r", str(rate), tmp)
                src = tmp
        _encode_av(src, dst, {"mp3": "libmp3lame", "opus": "libopus"}[fmt], rate)
    return dst


def rms(x: npt.ArrayLike, rate: int, win_s: float = 0.05) -> Float:
    """RMS of consecutive ``win_s`` windows (the last partial window dropped)."""
    a = np.asarray(x, dtype=np.float64)
    w = round(win_s * rate)
    n = a.size // w
    return np.sqrt((a[: n * w].reshape(n, w) ** 2).mean(axis=1)).astype(np.float32)


def active(
    x: npt.ArrayLike, rate: int, threshold: float = 0.01, win_s: float = 0.05
) -> tuple[float, float] | None:
    """First window start and last window end (s) with RMS over ``threshold``."""
    r = rms(x, rate, win_s)
    idx = np.flatnonzero(r > threshold)
    if idx.size == 0:
        return None
    return float(idx[0] * win_s), float((idx[-1] + 1) * win_s)


_prompt_cache: dict[tuple[str, int], Float] = {}


def prompt(name: str, rate: int = 8000) -> Float:
    """An Asterisk prompt as float32 mono at ``rate`` (resampled by sox, cached)."""
    key = (name, rate)
    if key not in _prompt_cache:
        src = prompt_path(name)
        if rate == 8000:
            data, _ = read_wav(src)
        else:
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "p.wav"
                sox(src, "-b", "16", "-r", str(rate), out)
                data, _ = read_wav(out)
        _prompt_cache[key] = data[0].copy()
    return _prompt_cache[key]


def hold_music(seconds: float, rate: int = 8000) -> Float:
    """The first ``seconds`` of an Asterisk hold-music track, mono at ``rate``."""
    tracks = sorted(MOH.glob("*.wav"))
    if not tracks:
        pytest.fail(f"no hold music in {MOH}: install asterisk-moh-opsound-wav")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "moh.wav"
        sox(tracks[0], "-b", "16", "-c", "1", "-r", str(rate), out, "trim", "0", str(seconds))
        data, _ = read_wav(out)
    return data[0].copy()


# Fixtures returning the helpers, so test modules need no imports from this file.
@pytest.fixture(name="place")
def place_fixture() -> Callable[..., Float]:
    return place


@pytest.fixture(name="prompt")
def prompt_fixture() -> Callable[..., Float]:
    return prompt


@pytest.fixture(name="prompt_duration")
def prompt_duration_fixture() -> Callable[[str], float]:
    return prompt_duration


@pytest.fixture(name="write_wav")
def write_wav_fixture() -> Callable[..., Path]:
    return write_wav


@pytest.fixture(name="read_wav")
def read_wav_fixture() -> Callable[..., tuple[Float, int]]:
    return read_wav


@pytest.fixture(name="sox")
def sox_fixture() -> Callable[..., None]:
    return sox


@pytest.fixture(name="encode")
def encode_fixture() -> Callable[[Path, Path, str], Path]:
    return encode


@pytest.fixture(name="rms")
def rms_fixture() -> Callable[..., Float]:
    return rms


@pytest.fixture(name="active")
def active_fixture() -> Callable[..., tuple[float, float] | None]:
    return active


@pytest.fixture(name="hold_music")
def hold_music_fixture() -> Callable[..., Float]:
    return hold_music


@pytest.fixture
def two_party_call(tmp_path: Path) -> Callable[..., tuple[Path, dict[str, tuple[float, float]]]]:
    """Factory: a stereo 16-bit WAV, left = agent-loginok at 1.0 s, right = auth-thankyou
    at 3.0 s, 5.0 s long, at ``rate``.  Returns the path and, per channel ('left',
    'right'), the (start, end) of activity measured on the written signal."""

    def make(rate: int = 8000, name: str = "call") -> tuple[Path, dict[str, tuple[float, float]]]:
        left = place([(1.0, prompt("agent-loginok", rate))], 5.0, rate)
        right = place([(3.0, prompt("auth-thankyou", rate))], 5.0, rate)
        path = write_wav(tmp_path / f"{name}-{rate}.wav", np.stack([left, right]), rate)
        spans = {"left": active(left, rate), "right": active(right, rate)}
        assert spans["left"] is not None and spans["right"] is not None
        return path, {k: v for k, v in spans.items() if v is not None}

    return make
