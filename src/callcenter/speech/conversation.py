"""The text stages' input: a call as who-said-what-when.

Every text stage (keywords, topics, sentiment, resolution, redaction, summary,
etiquette) takes a :class:`Conversation` and returns a dataclass, whatever made the
conversation: the per-side ASR transcripts of a recording
(:meth:`Conversation.from_transcripts`), a mono transcript (speaker unknown), or a
human transcript from a corpus or a chat log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from callcenter.speech.transcribe import Transcript, Word


class Speaker(StrEnum):
    """Who said an utterance; ``unknown`` for a mono recording."""

    AGENT = "agent"
    CALLER = "caller"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Utterance:
    """One stretch of speech by one speaker, times in seconds from the call's start.

    ``words`` carries ASR word timings when there are any (empty for human
    transcripts); stages that report a time use the word's time when they can and the
    utterance's start otherwise.
    """

    speaker: Speaker
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "speaker", Speaker(self.speaker))
        if self.end < self.start:
            raise ValueError(f"utterance ends before it starts: {self.start}..{self.end}")


@dataclass(frozen=True)
class Conversation:
    """A call's utterances in time order, and its language (ISO code, "" if unknown)."""

    language: str
    utterances: tuple[Utterance, ...] = field(default_factory=tuple)
    duration_s: float | None = None

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.utterances, key=lambda u: (u.start, u.end)))
        object.__setattr__(self, "utterances", ordered)

    @property
    def end_s(self) -> float:
        """The call's length: ``duration_s`` if known, else the last utterance's end."""
        if self.duration_s is not None:
            return self.duration_s
        return max((u.end for u in self.utterances), default=0.0)

    @property
    def has_speakers(self) -> bool:
        """Whether agent and caller are told apart (not a mono transcript)."""
        return any(u.speaker is not Speaker.UNKNOWN for u in self.utterances)

    def by(self, speaker: Speaker) -> tuple[Utterance, ...]:
        return tuple(u for u in self.utterances if u.speaker is speaker)

    def text(self, speaker: Speaker | None = None) -> str:
        """All the text of one speaker (or of everyone), in time order."""
        us = self.utterances if speaker is None else self.by(speaker)
        return " ".join(u.text.strip() for u in us if u.text.strip())

    @classmethod
    def from_transcripts(
        cls,
        agent: Transcript | None,
        caller: Transcript | None,
        *,
        mixed: Transcript | None = None,
        language: str | None = None,
        duration_s: float | None = None,
    ) -> Conversation:
        """Merge per-side transcripts (or one mono transcript) into one conversation.

        Each ASR segment becomes an utterance. ``language``: given, else the language
        the transcripts report (the agent's first).
        """
        parts: list[tuple[Speaker, Transcript]] = []
        if agent is not None:
            parts.append((Speaker.AGENT, agent))
        if caller is not None:
            parts.append((Speaker.CALLER, caller))
        if mixed is not None:
            parts.append((Speaker.UNKNOWN, mixed))
        utterances = [
            Utterance(speaker, s.start, s.end, s.text.strip(), s.words)
            for speaker, t in parts
            for s in t.segments
            if s.text.strip()
        ]
        lang = language or next((t.language for _, t in parts if t.language), "")
        return cls(lang, tuple(utterances), duration_s)

    @classmethod
    def from_turns(
        cls,
        turns: Iterable[tuple[str, float, float, str]],
        language: str,
        duration_s: float | None = None,
    ) -> Conversation:
        """From ``(speaker, start_s, end_s, text)`` rows, e.g. a human transcript."""
        return cls(
            language,
            tuple(Utterance(Speaker(sp), s, e, text) for sp, s, e, text in turns),
            duration_s,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: each utterance with its speaker, times, text and, when the
        transcript has them, its timed words as ``[start, end, word, probability]``."""
        return {
            "language": self.language,
            "utterances": [_utterance_dict(u) for u in self.utterances],
        }


def _utterance_dict(u: Utterance) -> dict[str, Any]:
    out: dict[str, Any] = {
        "speaker": u.speaker.value,
        "start": round(u.start, 3),
        "end": round(u.end, 3),
        "text": u.text,
    }
    if u.words:
        out["words"] = [
            [round(w.start, 3), round(w.end, 3), w.text.strip(), round(w.probability, 3)]
            for w in u.words
        ]
    return out
