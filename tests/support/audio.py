"""Known audio for the voice tests: speech and tones whose timing is known by construction.

Everything is generated at test time by programs nobody here wrote — ``espeak-ng``
(speech, English and Russian voices) and ``sox`` (resampling, trimming, padding, tones,
G.711 encoding) — never downloaded and never captured once from our own code.

What is known, and how (the independent truth the tests compare against):

- **duration**: the exact sample count at 8 kHz (``Clip.samples``), because the file is
  built as ``lead`` zeros + the clip + ``tail`` zeros, each of a sample count we choose;
- **the speech-active span**: ``[lead_s, lead_s + active_s]``: espeak's output is trimmed
  by sox's ``silence`` effect at both ends (threshold :data:`TRIM_THRESHOLD`), so the
  first and last samples of the trimmed clip are speech; its length is counted from
  the trimmed file, then exact silence is added around it;
- **tones**: frequency, amplitude and length given to ``sox synth``.

Each clip exists in two encodings of the same samples (8 kHz mono):

- ``Clip.pcm``: 16-bit signed PCM WAV — what baresip's ``aufile`` plays and records,
  and what Asterisk records (``format=wav``);
- ``Clip.ulaw``: G.711 µ-law — a raw file (no header), what SIPp's ``rtp_stream``
  sends as the RTP payload unchanged (SIPp 3.6 does not encode: the file must already
  be in the payload's codec; a µ-law WAV's header went out as a loud 7 ms burst,
  measured, so the raw form is given). ``sox -t ul`` reads it back.

:class:`AudioKit` caches each clip by its parameters in its folder;
:func:`session_audio_kit` is the one of this test session (a temporary folder removed
when the process exits), e.g. behind a session fixture::

    @pytest.fixture(scope="session")
    def audio_kit() -> AudioKit:
        return session_audio_kit()

Reading results back: :func:`read_wav` (any WAV sox understands → float samples in
[-1, 1]), :func:`rms_dbfs` and :func:`active_span` (first and last 20 ms window above a
level), :func:`dominant_frequency`.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = [
    "RATE",
    "TRIM_THRESHOLD",
    "AudioKit",
    "Clip",
    "active_span",
    "dominant_frequency",
    "read_wav",
    "rms_dbfs",
    "session_audio_kit",
]

RATE = 8000
"""Telephone audio: 8 kHz mono (G.711)."""
TRIM_THRESHOLD = "0.5%"
"""sox ``silence`` threshold used to trim espeak's leading and trailing silence."""
VOICES = {"en": "en-us", "ru": "ru"}
"""Our language codes → espeak-ng voices."""

Samples = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Clip:
    """One generated clip: the same samples as 16-bit PCM and as raw µ-law."""

    pcm: Path
    """8 kHz mono 16-bit signed PCM WAV."""
    ulaw: Path
    """The same samples as raw G.711 µ-law bytes (no header): SIPp ``rtp_stream``."""
    samples: int
    """Exact length in samples at :data:`RATE`."""
    active_start_s: float
    """Where the speech (or tone) begins, seconds from the start of the file."""
    active_end_s: float
    """Where it ends."""
    label: str

    @property
    def duration_s(self) -> float:
        return self.samples / RATE

    @property
    def active_s(self) -> float:
        return self.active_end_s - self.active_start_s


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({done.returncode}): {' '.join(args)}\n{done.stderr}")


def _need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise RuntimeError(f"{program} is not installed (Debian package: {program})")
    return path


def _wav_samples(path: Path) -> int:
    with wave.open(str(path), "rb") as w:
        return w.getnframes()


class AudioKit:
    """Makes and caches clips under ``folder`` (one folder per test session)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._sox = _need("sox")

    def _paths(self, key: str) -> tuple[Path, Path]:
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return self.folder / f"{digest}.wav", self.folder / f"{digest}.ulaw"

    def _finish(self, core: Path, key: str, lead_s: float, tail_s: float, label: str) -> Clip:
        """Pad ``core`` (8 kHz 16-bit mono, active from its first to its last sample)
        with exact silence and write both encodings."""
        pcm, ulaw = self._paths(key)
        lead, tail = round(lead_s * RATE), round(tail_s * RATE)
        active = _wav_samples(core)
        if active == 0:
            raise RuntimeError(f"{label}: the generated audio is empty")
        _run([self._sox, str(core), str(pcm), "pad", f"{lead}s", f"{tail}s"])
        _run([self._sox, str(pcm), "-t", "ul", "-r", str(RATE), "-c", "1", str(ulaw)])
        core.unlink()
        total = _wav_samples(pcm)
        if total != lead + active + tail:  # sox pads exactly; anything else is a bug here
            raise RuntimeError(f"{label}: {total} samples, expected {lead + active + tail}")
        return Clip(pcm, ulaw, total, lead / RATE, (lead + active) / RATE, label)

    def speech(
        self, text: str, *, lang: str = "en", lead_s: float = 0.5, tail_s: float = 0.5
    ) -> Clip:
        """``text`` spoken by espeak-ng (``lang``: ``en`` or ``ru``), trimmed to the speech
        and padded with ``lead_s``/``tail_s`` seconds of digital silence."""
        if lang not in VOICES:
            raise ValueError(f"lang {lang!r}: expected one of {sorted(VOICES)}")
        key = f"speech|{lang}|{text}|{lead_s}|{tail_s}"
        pcm, ulaw = self._paths(key)
        if pcm.exists() and ulaw.exists():
            return self._cached(pcm, ulaw, lead_s, tail_s, f"speech {lang}")
        raw = pcm.with_suffix(".espeak.wav")
        core = pcm.with_suffix(".core.wav")
        _run([_need("espeak-ng"), "-v", VOICES[lang], "-s", "150", "-w", str(raw), text])
        _run(
            [self._sox, str(raw), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
             str(core), "silence", "1", "1s", TRIM_THRESHOLD, "reverse",
             "silence", "1", "1s", TRIM_THRESHOLD, "reverse"]
        )  # fmt: skip
        raw.unlink()
        return self._finish(core, key, lead_s, tail_s, f"speech {lang}")

    def tone(
        self,
        freq_hz: float,
        seconds: float,
        *,
        amplitude: float = 0.5,
        lead_s: float = 0.5,
        tail_s: float = 0.5,
    ) -> Clip:
        """A sine of ``freq_hz`` for ``seconds`` at ``amplitude`` (of full scale)."""
        if not 0 < freq_hz < RATE / 2:
            raise ValueError(f"freq_hz {freq_hz}: expected 0 < f < {RATE // 2}")
        key = f"tone|{freq_hz}|{seconds}|{amplitude}|{lead_s}|{tail_s}"
        pcm, ulaw = self._paths(key)
        if pcm.exists() and ulaw.exists():
            return self._cached(pcm, ulaw, lead_s, tail_s, f"tone {freq_hz:g} Hz")
        core = pcm.with_suffix(".core.wav")
        _run(
            [self._sox, "-r", str(RATE), "-n", "-c", "1", "-b", "16", "-e", "signed-integer",
             str(core), "synth", f"{round(seconds * RATE)}s", "sine", f"{freq_hz:g}",
             "vol", f"{amplitude:g}"]
        )  # fmt: skip
        return self._finish(core, key, lead_s, tail_s, f"tone {freq_hz:g} Hz")

    def silence(self, seconds: float) -> Clip:
        """Digital silence (all zeros) of ``seconds``."""
        key = f"silence|{seconds}"
        pcm, ulaw = self._paths(key)
        n = round(seconds * RATE)
        if not (pcm.exists() and ulaw.exists()):
            _run(
                [self._sox, "-r", str(RATE), "-n", "-c", "1", "-b", "16", "-e", "signed-integer",
                 str(pcm), "trim", "0", f"{n}s"]
            )  # fmt: skip
            _run([self._sox, str(pcm), "-t", "ul", str(ulaw)])
        return Clip(pcm, ulaw, n, 0.0, 0.0, "silence")

    @staticmethod
    def _cached(pcm: Path, ulaw: Path, lead_s: float, tail_s: float, label: str) -> Clip:
        total = _wav_samples(pcm)
        lead, tail = round(lead_s * RATE), round(tail_s * RATE)
        return Clip(pcm, ulaw, total, lead / RATE, (total - tail) / RATE, label)


@functools.cache
def session_audio_kit() -> AudioKit:
    """The :class:`AudioKit` of this process (test session): one temporary folder, made
    on first use and removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix="cc-audio-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return AudioKit(folder)


def read_wav(path: Path) -> tuple[int, Samples]:
    """(rate, mono samples in [-1, 1]) of a file sox reads: WAV (PCM or G.711), or a raw
    ``.ulaw`` file of :data:`RATE`. Decoded by sox, so every encoding reads the same way;
    several channels are averaged."""
    sox = _need("sox")
    if path.suffix == ".ulaw":
        head, rate = ["-t", "ul", "-r", str(RATE), "-c", "1"], RATE
    else:
        head = []
        soxi = subprocess.run([sox, "--i", "-r", str(path)], capture_output=True, text=True)
        if soxi.returncode != 0:
            raise RuntimeError(f"sox could not read {path}: {soxi.stderr.strip()}")
        rate = int(float(soxi.stdout))
    done = subprocess.run(
        [sox, *head, str(path), "-t", "raw", "-b", "16", "-e", "signed-integer", "-c", "1", "-"],
        capture_output=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"sox could not read {path}: {done.stderr.decode(errors='replace')}")
    return rate, np.frombuffer(done.stdout, dtype="<i2").astype(np.float64) / 32768.0


def rms_dbfs(samples: Samples) -> float:
    """RMS level in dB of full scale (-inf for digital silence)."""
    if samples.size == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(samples**2)))
    return 20 * np.log10(rms) if rms > 0 else float("-inf")


def window_levels(samples: Samples, rate: int, window_s: float = 0.02) -> list[float]:
    """RMS level (dBFS) of each consecutive ``window_s`` window."""
    n = max(1, round(window_s * rate))
    return [rms_dbfs(samples[i : i + n]) for i in range(0, samples.size - n + 1, n)]


def active_span(
    samples: Samples, rate: int, *, threshold_dbfs: float = -40.0, window_s: float = 0.02
) -> tuple[float, float] | None:
    """(start, end) seconds of the first and last ``window_s`` window whose level is above
    ``threshold_dbfs``; None when no window is."""
    levels = window_levels(samples, rate, window_s)
    loud = [i for i, level in enumerate(levels) if level > threshold_dbfs]
    if not loud:
        return None
    return loud[0] * window_s, (loud[-1] + 1) * window_s


def dominant_frequency(samples: Samples, rate: int) -> float:
    """The frequency (Hz) of the largest peak of the spectrum."""
    if samples.size == 0:
        return 0.0
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[int(np.argmax(spectrum))])
