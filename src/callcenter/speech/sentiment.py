"""Sentiment of each side of a call, and how it moved from start to end.

Definitions
-----------
*Utterance score* in [-1, 1]. English: VADER's ``compound`` score (Hutto & Gilbert
2014; rule-based, lexicon shipped with ``vaderSentiment``, made for short informal
text). Other languages: the lexicon of ``speech/lists/<lang>/sentiment.yaml``, scored
the VADER way — each word's valence ``v`` (−4..4; ``stem*`` matches any ending), scaled
by ``1 + b`` after a booster ``b`` (``очень`` +0.3), multiplied by −0.74 when a negator
stands within ``negation_window`` words before it (or, for ``negators_after``, after
it), summed to ``S`` and squashed: ``S / sqrt(S² + 15)``.

*Side score*: the mean of that side's utterance scores weighted by their word counts.
*start* / *end*: the same mean over the words of the first / last third of that side's
words (an utterance counts with the number of its words inside the third); *trend* =
end − start (> 0: the side ended the call happier than it began it). A side with no
words gets ``None``; so does every side when the language has no lexicon (``method``
is then ``"none"``). ``overall`` is everyone's speech (the only one for a mono call).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from callcenter.speech.conversation import Conversation, Speaker, Utterance
from callcenter.speech.lists import ListError, load_list
from callcenter.speech.topics import holds_languages, primary_language, validation_problem

NEGATION_SCALAR: Final = -0.74  # VADER's N_SCALAR
ALPHA: Final = 15.0  # VADER's normalisation constant
_TAG: Final = re.compile(r"\[[^\]]*\]|<[^>]*>")
_WORD: Final = re.compile(r"[^\W\d_]+(?:[-'\u200c][^\W\d_]+)*")  # \u200c: Persian ZWNJ


class _LexiconModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    words: dict[str, float] = Field(min_length=1)
    negators: list[str] = Field(default_factory=list)
    negators_after: list[str] = Field(default_factory=list)
    boosters: dict[str, float] = Field(default_factory=dict)
    negation_window: int = Field(default=3, ge=0, le=10)


@dataclass(frozen=True)
class Lexicon:
    """A validated ``sentiment.yaml``: exact words, prefix stems, negators, boosters."""

    exact: dict[str, float]
    stems: tuple[tuple[str, float], ...]  # longest stem first
    negators: frozenset[str]
    negators_after: frozenset[str]
    boosters: dict[str, float]
    window: int

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str) -> Lexicon:
        try:
            m = _LexiconModel.model_validate(data)
        except ValidationError as e:
            keys = "words, negators, negators_after, boosters, negation_window"
            raise ListError(source, validation_problem(e, {"": keys})) from None
        for w, v in m.words.items():
            if not -4.0 <= v <= 4.0:
                raise ListError(source, f"words.{w}: expected a valence from -4 to 4, got {v}")
        exact = {w.lower(): v for w, v in m.words.items() if not w.endswith("*")}
        stems = sorted(
            ((w[:-1].lower(), v) for w, v in m.words.items() if w.endswith("*")),
            key=lambda s: -len(s[0]),
        )
        return cls(
            exact,
            tuple(stems),
            frozenset(x.lower() for x in m.negators),
            frozenset(x.lower() for x in m.negators_after),
            {k.lower(): v for k, v in m.boosters.items()},
            m.negation_window,
        )

    def valence(self, word: str) -> float:
        if word in self.exact:
            return self.exact[word]
        for stem, v in self.stems:
            if word.startswith(stem):
                return v
        return 0.0

    def score(self, text: str) -> float:
        """One utterance's score in [-1, 1] (see the module docstring)."""
        tokens = [t.lower() for t in _WORD.findall(text)]
        total = 0.0
        for i, tok in enumerate(tokens):
            v = self.valence(tok)
            if v == 0.0 or tok in self.negators or tok in self.boosters:
                continue
            if i > 0 and tokens[i - 1] in self.boosters:
                v *= 1.0 + self.boosters[tokens[i - 1]]
            before = tokens[max(0, i - self.window) : i]
            after = tokens[i + 1 : i + 1 + self.window]
            if any(t in self.negators for t in before) or any(
                t in self.negators_after for t in after
            ):
                v *= NEGATION_SCALAR
            total += v
        return total / math.sqrt(total * total + ALPHA) if total else 0.0


def load_lexicon(language: str, path: str | Path | None = None) -> Lexicon | None:
    """The sentiment lexicon of ``language`` (``None`` if there is none)."""
    language = primary_language(language)
    data = load_list("sentiment", language, path)
    if not data:
        if path is not None and not holds_languages(Path(path)):
            raise ListError(path, f"no sentiment lexicon for language {language!r}")
        return None
    source = str(path) if path is not None else f"sentiment.yaml ({language}, built in)"
    return Lexicon.from_mapping(data, source)


@cache
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def vader_score(text: str) -> float:
    """VADER's compound score of one English utterance."""
    return float(_vader().polarity_scores(text)["compound"])


@dataclass(frozen=True)
class SideSentiment:
    """One side's sentiment in [-1, 1]: overall, first third, last third, end - start."""

    score: float
    start: float
    end: float
    trend: float
    words: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "start": round(self.start, 4),
            "end": round(self.end, 4),
            "trend": round(self.trend, 4),
            "words": self.words,
        }


@dataclass(frozen=True)
class Sentiment:
    agent: SideSentiment | None
    caller: SideSentiment | None
    overall: SideSentiment | None
    method: str  # "vader", "lexicon:<lang>" or "none"

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": None if self.agent is None else self.agent.to_dict(),
            "caller": None if self.caller is None else self.caller.to_dict(),
            "overall": None if self.overall is None else self.overall.to_dict(),
            "method": self.method,
        }


def _mean_in(scored: Sequence[tuple[float, int]], lo: float, hi: float) -> float:
    """Word-weighted mean of the scores of the words numbered [lo, hi)."""
    total = weight = 0.0
    pos = 0
    for s, n in scored:
        overlap = max(0.0, min(pos + n, hi) - max(pos, lo))
        total += s * overlap
        weight += overlap
        pos += n
    return total / weight if weight else 0.0


def side_sentiment(scored: Sequence[tuple[float, int]]) -> SideSentiment | None:
    """From ``(utterance score, word count)`` in time order; ``None`` with no words."""
    n = sum(w for _, w in scored)
    if n == 0:
        return None
    score = _mean_in(scored, 0, n)
    start = _mean_in(scored, 0, n / 3)
    end = _mean_in(scored, 2 * n / 3, n)
    return SideSentiment(score, start, end, end - start, n)


def utterance_scorer(
    language: str, lexicon_path: str | Path | None = None
) -> tuple[Callable[[str], float] | None, str]:
    """The per-utterance scorer for a language and its method name."""
    language = primary_language(language)
    if language == "en" and lexicon_path is None:
        return vader_score, "vader"
    lexicon = load_lexicon(language, lexicon_path)
    if lexicon is None:
        return None, "none"
    return lexicon.score, f"lexicon:{language}"


def analyze_sentiment(conv: Conversation, *, lexicon_path: str | Path | None = None) -> Sentiment:
    """Each side's sentiment and trend (see the module docstring)."""
    scorer, method = utterance_scorer(conv.language, lexicon_path)
    if scorer is None:
        return Sentiment(None, None, None, method)
    rows: list[tuple[Utterance, float, int]] = []
    for u in conv.utterances:
        text = " ".join(_TAG.sub(" ", u.text).split())
        n = len(_WORD.findall(text))
        if n:
            rows.append((u, scorer(text), n))

    def side(speaker: Speaker | None) -> SideSentiment | None:
        return side_sentiment([(s, n) for u, s, n in rows if speaker in (None, u.speaker)])

    return Sentiment(side(Speaker.AGENT), side(Speaker.CALLER), side(None), method)
