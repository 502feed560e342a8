"""Prompts: the catalogue of recordings a flow may name, and the conversion of an
uploaded WAV or MP3 file into the format Asterisk plays without transcoding.

A catalogue is a list of sound folders laid out as Asterisk's (``<root>/<language>/
<name>.wav``, names may have sub-folders: ``digits/1``): the center's own prompts
first, then Debian's recorded prompts (``/usr/share/asterisk/sounds``, packages
``asterisk-core-sounds-{en,ru}-wav``, whose transcripts are in
``/usr/share/doc/asterisk-core-sounds-<language>/core-sounds-<language>.txt.gz``).

Conversion: ``sox`` reads WAV (and many other formats) but Debian's sox has no MP3
reader here (no ``libsox-fmt-mp3``), so an MP3 is first decoded with PyAV (FFmpeg's
decoders, already a dependency) to a temporary WAV; ``sox`` then makes every upload
8 kHz, mono, 16-bit signed PCM (Asterisk's ``format_wav``, the rate of G.711 calls).
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from callcenter.errors import NotFoundError, UserError

SYSTEM_SOUNDS: Final = Path("/usr/share/asterisk/sounds")
SYSTEM_TRANSCRIPTS: Final = Path("/usr/share/doc")
AUDIO_SUFFIXES: Final = (".wav", ".sln", ".ulaw", ".alaw")
"""The file formats the embedded Asterisk build plays (format_wav, format_sln, format_pcm)."""

PROMPT_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
LANGUAGE: Final = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
RATE: Final = 8000
MAX_SECONDS: Final = 600.0


class PromptError(UserError):
    """A prompt upload that cannot be used, in one line."""


class PromptCatalogue:
    """The prompt names available per language in ``roots`` (searched in order)."""

    def __init__(self, roots: Sequence[Path]) -> None:
        self.roots = [Path(r) for r in roots]
        self._files: dict[str, dict[str, Path]] = {}
        for root in reversed(self.roots):  # earlier roots win
            if not root.is_dir():
                continue
            for lang_dir in sorted(p for p in root.iterdir() if p.is_dir()):
                if not LANGUAGE.match(lang_dir.name):
                    continue
                names = self._files.setdefault(lang_dir.name, {})
                names.update(_scan(lang_dir))

    @classmethod
    def default(cls, own: Path | None = None, system: Path = SYSTEM_SOUNDS) -> PromptCatalogue:
        """The center's own prompts (``own``, when given) over Debian's recorded ones."""
        return cls([own, system] if own is not None else [system])

    def languages(self) -> list[str]:
        return sorted(self._files)

    def names(self, language: str) -> set[str]:
        return set(self._files.get(language, {}))

    def has(self, name: str, language: str) -> bool:
        return name in self._files.get(language, {})

    def path(self, name: str, language: str) -> Path:
        """The file that plays ``name`` in ``language``."""
        try:
            return self._files[language][name]
        except KeyError:
            raise NotFoundError("prompt", f"{language}/{name}") from None

    def media(self, name: str, language: str) -> str:
        """The ARI media URI of ``name`` in ``language``: ``sound:`` and the absolute
        path without its suffix (Asterisk picks the file by format)."""
        return "sound:" + str(self.path(name, language).with_suffix(""))

    def transcript(self, name: str, language: str) -> str | None:
        """What Debian's recording of ``name`` says (None for the center's own)."""
        return _transcripts(language).get(name)


def _scan(lang_dir: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in sorted(lang_dir.rglob("*")):
        rel = path.relative_to(lang_dir)
        if any(part.startswith(".") for part in rel.parts):  # a conversion in progress
            continue
        if path.suffix in AUDIO_SUFFIXES and path.is_file():
            name = rel.with_suffix("").as_posix()
            out.setdefault(name, path)
    return out


_TRANSCRIPTS: dict[str, dict[str, str]] = {}


def _transcripts(language: str) -> dict[str, str]:
    if language not in _TRANSCRIPTS:
        lines: Iterable[str] = ()
        path = (
            SYSTEM_TRANSCRIPTS
            / f"asterisk-core-sounds-{language}"
            / (f"core-sounds-{language}.txt.gz")
        )
        if path.is_file():
            with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        table: dict[str, str] = {}
        for line in lines:
            name, sep, text = line.partition(":")
            if sep and not line.startswith(";"):
                table[name.strip()] = text.strip()
        _TRANSCRIPTS[language] = table
    return _TRANSCRIPTS[language]


# --- conversion ---------------------------------------------------------------------


def _sox() -> str:
    sox = shutil.which("sox")
    if sox is None:
        raise PromptError("sox not found: install Debian's sox package to convert prompts")
    return sox


def _sox_duration(path: Path) -> float | None:
    """The length in seconds sox reads, or None when sox cannot read the file."""
    proc = subprocess.run(
        [_sox(), "--info", "-D", str(path)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        return None
    try:
        return float(proc.stdout.strip())
    except ValueError:
        return None


def _decode_with_av(src: Path, wav: Path, max_seconds: float) -> float:
    """Decode ``src`` (an MP3, or anything FFmpeg reads) to a 16-bit WAV; its length."""
    import av  # here: a heavy import, only for uploads sox cannot read

    try:
        container = av.open(str(src))
    except (av.error.FFmpegError, UnicodeDecodeError):
        raise PromptError(f"{src.name}: not an audio file (expected WAV or MP3)") from None
    with container:
        if not container.streams.audio:
            raise PromptError(f"{src.name}: has no audio (expected WAV or MP3)")
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate or RATE
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        chunks: list[bytes] = []
        samples = 0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(bytes(out.planes[0])[: out.samples * 2])
                    samples += out.samples
                if samples > (max_seconds + 1) * rate:
                    break
            for out in resampler.resample(None):
                chunks.append(bytes(out.planes[0])[: out.samples * 2])
                samples += out.samples
        except av.error.FFmpegError:
            raise PromptError(f"{src.name}: the audio cannot be decoded (damaged file?)") from None
    _write_wav(wav, b"".join(chunks), rate)
    return samples / rate


def _write_wav(path: Path, pcm: bytes, rate: int) -> None:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)


def convert_prompt(
    src: Path, dest_dir: Path, name: str, language: str, *, max_seconds: float = MAX_SECONDS
) -> Path:
    """Convert the upload ``src`` (WAV or MP3) to ``dest_dir/<language>/<name>.wav``,
    8 kHz mono 16-bit, and return that path.

    Raises :class:`PromptError` (one line) for a bad name or language, a file that is not
    audio, no sound at all, or more than ``max_seconds``. The result is written to a
    temporary file beside it and renamed: a failure leaves nothing behind, and a prompt
    being replaced is never half-written.
    """
    if not PROMPT_NAME.match(name):
        raise PromptError(
            f"prompt name {name!r}: expected 1-64 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    if not LANGUAGE.match(language):
        raise PromptError(
            f"prompt language {language!r}: expected a code like 'en', 'ru' or 'pt_BR'"
        )
    if not src.is_file():
        raise PromptError(f"{src}: no such file")
    out_dir = dest_dir / language
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".prompt-", dir=out_dir) as tmp:
        source = src
        seconds = _sox_duration(src)
        if seconds is None:  # not a format sox reads here: MP3, or not audio at all
            source = Path(tmp) / "decoded.wav"
            seconds = _decode_with_av(src, source, max_seconds)
        if seconds <= 0:
            raise PromptError(f"{src.name}: has no sound (0 s long)")
        if seconds > max_seconds:
            raise PromptError(
                f"{src.name}: {seconds:.1f} s long; a prompt may last at most {max_seconds:g} s"
            )
        part = Path(tmp) / f"{name}.wav"
        proc = subprocess.run(
            [_sox(), "-V1", str(source), "-r", str(RATE), "-c", "1", "-b", "16",
             "-e", "signed-integer", str(part)],
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            why = (proc.stderr.strip().splitlines() or ["sox failed"])[-1]
            raise PromptError(f"{src.name}: cannot convert it: {why}")
        dest = out_dir / f"{name}.wav"
        os.replace(part, dest)
    return dest
