"""Whether the caller's issue was resolved, from cue phrases weighted by position.

Definitions
-----------
*Cues*: per language, ``speech/lists/<lang>/resolution.yaml`` lists phrases that signal
a resolved call (the agent's completion statements "has been sent", "you're all set";
the caller's satisfaction "that's all", "great thanks") and an unresolved one ("I'm
unable to", "transfer you", "call back", "still not working"), per side (``agent``,
``caller``, ``anyone``), each group with a ``weight``. A phrase matches whole words,
case-insensitively, ``*`` standing for any word ending (``escalat*``); ``ё`` = ``е``;
overlapping matches of the same polarity in one utterance count once.
In a mono transcript every group applies to every utterance.

*Score*: every match counts ``weight × (0.5 + p)``, where ``p`` in [0, 1] is the
utterance's midpoint as a fraction of the call, so a cue at the end counts three times
as much as one at the start (the outcome of a call is settled at its end). ``R`` sums
the resolved matches, ``U`` the unresolved ones.

*Decision*: ``resolved = R > U``; ``None`` when there is no cue at all or ``R = U``.
*Confidence* = ``|R − U| / (R + U + 1)`` in [0, 1): the margin relative to the evidence,
with the ``+ 1`` keeping a single weak cue from looking certain (one full-weight cue at
the very end: 1.5 / 2.5 = 0.6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from callcenter.speech.conversation import Conversation, Speaker, Utterance
from callcenter.speech.lists import ListError, load_list
from callcenter.speech.topics import holds_languages, primary_language, validation_problem

_TAG: Final = re.compile(r"\[[^\]]*\]|<[^>]*>")
_SIDES: Final = ("agent", "caller", "anyone")


def normalize(text: str) -> str:
    """Lower case, tags removed, typographic apostrophes and ``ё`` folded."""
    text = _TAG.sub(" ", text).lower().replace("’", "'").replace("ё", "е")
    return " ".join(text.split())


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Whole-word regex for a cue phrase; ``*`` = any word ending."""
    words = normalize(phrase).replace(",", " ").split()
    parts = [re.escape(w[:-1]) + r"[\w']*" if w.endswith("*") else re.escape(w) for w in words]
    return re.compile(r"(?<![\w'])" + r"[\s,.;:!?-]+".join(parts) + r"(?![\w'])")


class _GroupModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weight: float = Field(default=1.0, gt=0.0, le=10.0)
    phrases: list[str] = Field(min_length=1)


class _PolarityModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: _GroupModel | None = None
    caller: _GroupModel | None = None
    anyone: _GroupModel | None = None


class _CuesModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolved: _PolarityModel
    unresolved: _PolarityModel


@dataclass(frozen=True)
class Cue:
    phrase: str
    pattern: re.Pattern[str]
    resolved: bool
    side: str  # agent | caller | anyone
    weight: float


@dataclass(frozen=True)
class ResolutionCues:
    language: str
    cues: tuple[Cue, ...]

    @classmethod
    def from_mapping(cls, data: dict[str, Any], language: str, source: str) -> ResolutionCues:
        try:
            m = _CuesModel.model_validate(data)
        except ValidationError as e:
            expected = {"": "resolved, unresolved", "resolved": "agent, caller, anyone"}
            expected["unresolved"] = expected["resolved"]
            for name in ("resolved", "unresolved"):
                for side in _SIDES:
                    expected[f"{name}.{side}"] = "weight, phrases"
            raise ListError(source, validation_problem(e, expected)) from None
        cues: list[Cue] = []
        polarities: tuple[tuple[str, _PolarityModel], ...] = (
            ("resolved", m.resolved),
            ("unresolved", m.unresolved),
        )
        for pol_name, pol in polarities:
            for side in _SIDES:
                group: _GroupModel | None = getattr(pol, side)
                for phrase in group.phrases if group else []:
                    if not normalize(phrase).strip("* "):
                        raise ListError(source, f"{pol_name}.{side}.phrases: an empty phrase")
                    cues.append(
                        Cue(
                            phrase,
                            phrase_pattern(phrase),
                            pol_name == "resolved",
                            side,
                            group.weight if group else 1.0,
                        )
                    )
        return cls(language, tuple(cues))

    def applies(self, cue: Cue, speaker: Speaker) -> bool:
        return speaker is Speaker.UNKNOWN or cue.side in ("anyone", speaker.value)


def load_cues(language: str, path: str | Path | None = None) -> ResolutionCues | None:
    """The resolution cues of ``language`` (``None`` when there are none built in)."""
    language = primary_language(language)
    data = load_list("resolution", language, path)
    if not data:
        if path is not None and not holds_languages(Path(path)):
            raise ListError(path, f"no resolution cues for language {language!r}")
        return None
    source = str(path) if path is not None else f"resolution.yaml ({language}, built in)"
    return ResolutionCues.from_mapping(data, language, source)


@cache
def _builtin(language: str) -> ResolutionCues | None:
    return load_cues(language)


@dataclass(frozen=True)
class Resolution:
    """Whether the issue was resolved (``None``: no evidence either way)."""

    resolved: bool | None
    confidence: float
    method: str
    evidence: tuple[str, ...]
    resolved_score: float = 0.0
    unresolved_score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "resolved": self.resolved,
            "confidence": round(self.confidence, 4),
            "method": self.method,
            "evidence": list(self.evidence),
            "resolved_score": round(self.resolved_score, 4),
            "unresolved_score": round(self.unresolved_score, 4),
        }


def position(u: Utterance, end_s: float) -> float:
    """The utterance's midpoint as a fraction of the call, in [0, 1]."""
    if end_s <= 0:
        return 1.0
    return min(1.0, max(0.0, (u.start + u.end) / 2 / end_s))


def find_cues(conv: Conversation, cues: ResolutionCues) -> list[tuple[Utterance, Cue, float]]:
    """Every cue match: ``(utterance, cue, position-weighted score)``.

    Within one utterance, a match overlapping one already counted for the same polarity
    ("is there anything else" / "anything else I can help") is not counted again.
    """
    end_s = conv.end_s
    out: list[tuple[Utterance, Cue, float]] = []
    for u in conv.utterances:
        text = normalize(u.text)
        if not text:
            continue
        taken: list[tuple[bool, int, int]] = []  # counted spans, by polarity
        for cue in cues.cues:
            m = cue.pattern.search(text) if cues.applies(cue, u.speaker) else None
            if m is None or any(
                pol == cue.resolved and a < m.end() and m.start() < b for pol, a, b in taken
            ):
                continue
            taken.append((cue.resolved, m.start(), m.end()))
            out.append((u, cue, cue.weight * (0.5 + position(u, end_s))))
    return out


def assess_resolution(
    conv: Conversation,
    language: str | None = None,
    *,
    cues_path: str | Path | None = None,
) -> Resolution:
    """Resolved or not, with confidence and evidence (see the module docstring)."""
    lang = primary_language(language or conv.language)
    cues = load_cues(lang, cues_path) if cues_path is not None else _builtin(lang)
    if cues is None:
        return Resolution(None, 0.0, "none", ())
    matches = find_cues(conv, cues)
    r = float(sum(s for _, c, s in matches if c.resolved))
    un = float(sum(s for _, c, s in matches if not c.resolved))
    evidence = tuple(
        f"{u.speaker.value} {u.start:.0f}s {'+' if c.resolved else '-'}{s:.2f} "
        f"{c.phrase!r}: {u.text.strip()[:100]}"
        for u, c, s in matches
    )
    method = f"cues:{lang}"
    if r == un:
        return Resolution(None, 0.0, method, evidence, r, un)
    return Resolution(r > un, abs(r - un) / (r + un + 1.0), method, evidence, r, un)
