"""A two-line extractive summary of a call: what the caller wanted, what the agent did.

Definitions
-----------
Both lines are utterances of the call, quoted as said (extractive: nothing is made
up). ``p`` in [0, 1] is an utterance's midpoint as a fraction of the call; *content
words* are words of three or more letters not in the language's ``stopwords``.

*caller_wanted*: among the caller's utterances in the first half of the call (all of
them if there are none there; everyone's in a mono transcript), the one with the
highest ``(sim + 0.03 × min(content, 10)) × (1 − 0.5 p)``, where ``sim`` is its cosine
similarity to the call's topic's examples (see :mod:`callcenter.speech.topics`; 0 when
no topic or ``"other"``) — the early utterance that sounds most like the reason for
the call, or, with no topic, the earliest wordy one.

*agent_did*: among the agent's utterances after the first 30 % of the call, the one
with the highest ``(a + 0.02 × content) × (0.5 + p)``, where ``a`` counts the
``actions`` phrases it holds (``speech/lists/<lang>/summary.yaml``: "sent",
"transferred", "balance is" ...), late statements counting more; ``None`` when no agent
utterance holds an action phrase. Its text is cut before a trailing closing phrase
("is there anything else ...") when at least three words remain.
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
from callcenter.speech.redact import KINDS
from callcenter.speech.resolution import normalize, phrase_pattern, position
from callcenter.speech.topics import (
    OTHER,
    TopicClassifier,
    TopicResult,
    holds_languages,
    load_taxonomy,
    primary_language,
    validation_problem,
)

_WORD: Final = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
CALLER_SPAN: Final = 0.5
AGENT_FROM: Final = 0.3


class _SummaryModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actions: list[str] = Field(min_length=1)
    closings: list[str] = Field(default_factory=list)
    stopwords: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class SummaryCues:
    actions: tuple[re.Pattern[str], ...]
    closings: tuple[re.Pattern[str], ...]
    stopwords: frozenset[str]

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str) -> SummaryCues:
        try:
            m = _SummaryModel.model_validate(data)
        except ValidationError as e:
            raise ListError(
                source, validation_problem(e, {"": "actions, closings, stopwords"})
            ) from None
        if any(not normalize(p).strip("* ") for p in m.actions + m.closings):
            raise ListError(source, "actions/closings: an empty phrase")
        return cls(
            tuple(phrase_pattern(p) for p in m.actions),
            tuple(phrase_pattern(p) for p in m.closings),
            frozenset(normalize(w) for w in m.stopwords),
        )

    def content_words(self, text: str) -> int:
        return sum(1 for w in _WORD.findall(text) if len(w) >= 3 and w not in self.stopwords)


def load_summary_cues(language: str, path: str | Path | None = None) -> SummaryCues | None:
    language = primary_language(language)
    data = load_list("summary", language, path)
    if not data:
        if path is not None and not holds_languages(Path(path)):
            raise ListError(path, f"no summary cues for language {language!r}")
        return None
    source = str(path) if path is not None else f"summary.yaml ({language}, built in)"
    return SummaryCues.from_mapping(data, source)


@cache
def _builtin_cues(language: str) -> SummaryCues | None:
    return load_summary_cues(language)


@cache
def _builtin_classifier(language: str) -> TopicClassifier | None:
    taxonomy = load_taxonomy(language)
    return TopicClassifier(taxonomy) if taxonomy.topics else None


@dataclass(frozen=True)
class Summary:
    """The caller's reason and the agent's action, each an utterance (or ``None``)."""

    caller_wanted: str | None
    agent_did: str | None
    caller_at: float | None = None  # start (s) of the quoted utterances
    agent_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "caller_wanted": self.caller_wanted,
            "agent_did": self.agent_did,
            "caller_at": self.caller_at,
            "agent_at": self.agent_at,
        }


def _pick_caller(
    conv: Conversation,
    cues: SummaryCues | None,
    topic: TopicResult | None,
    classifier: TopicClassifier | None,
) -> Utterance | None:
    side = Speaker.CALLER if conv.has_speakers else Speaker.UNKNOWN
    said = [u for u in conv.by(side) if normalize(u.text)]
    end_s = conv.end_s
    pool = [u for u in said if position(u, end_s) <= CALLER_SPAN] or said
    if not pool:
        return None
    sims = [0.0] * len(pool)
    if topic is not None and classifier is not None and topic.topic in classifier.taxonomy.names():
        sims = classifier.similarity([u.text for u in pool], topic.topic)

    def content(u: Utterance) -> int:
        text = normalize(u.text)
        return cues.content_words(text) if cues else len(_WORD.findall(text))

    scores = [
        (s + 0.03 * min(content(u), 10)) * (1 - 0.5 * position(u, end_s))
        for u, s in zip(pool, sims, strict=True)
    ]
    best = max(range(len(pool)), key=lambda i: (scores[i], -i))
    return pool[best] if scores[best] > 0 else None


def _pick_agent(conv: Conversation, cues: SummaryCues) -> tuple[Utterance, str] | None:
    side = Speaker.AGENT if conv.has_speakers else Speaker.UNKNOWN
    said = [(u, normalize(u.text)) for u in conv.by(side)]
    end_s = conv.end_s
    pool = [(u, t) for u, t in said if t and position(u, end_s) >= AGENT_FROM]
    best: tuple[float, Utterance, str] | None = None
    for u, text in pool:
        a = sum(1 for p in cues.actions if p.search(text))
        if a == 0:
            continue
        score = (a + 0.02 * cues.content_words(text)) * (0.5 + position(u, end_s))
        if best is None or score > best[0]:
            best = (score, u, text)
    if best is None:
        return None
    _, u, _ = best
    return u, _cut_closing(u.text, cues)


# Transcriber tags such as [noise] or <unk> go; redaction tokens ([CARD] ...) stay, so a
# summary shows that a number was given without showing the number.
_TAG: Final = re.compile(r"\[(?!(?:" + "|".join(k.upper() for k in KINDS) + r")\])[^\]]*\]|<[^>]*>")


def _untagged(text: str) -> str:
    return " ".join(_TAG.sub(" ", text).split())


def _cut_closing(text: str, cues: SummaryCues) -> str:
    """The text before a trailing closing phrase, if at least three words remain."""
    clean = _untagged(text)
    low = normalize(clean)
    starts = [m.start() for p in cues.closings if (m := p.search(low)) is not None]
    if starts and len(low) == len(clean):  # same length: offsets line up
        head = clean[: min(starts)].rstrip(" ,.;:-")
        if len(head.split()) >= 3:
            return head
    return clean


def summarize(
    conv: Conversation,
    topic: TopicResult | None = None,
    *,
    classifier: TopicClassifier | None = None,
    cues_path: str | Path | None = None,
) -> Summary:
    """What the caller wanted and what the agent did (see the module docstring).

    ``classifier``: the one that produced ``topic`` (default: the built-in taxonomy of
    the conversation's language, when ``topic`` is given).
    """
    lang = primary_language(conv.language)
    cues = load_summary_cues(lang, cues_path) if cues_path is not None else _builtin_cues(lang)
    if topic is not None and classifier is None and topic.topic != OTHER:
        classifier = _builtin_classifier(lang)
    caller = _pick_caller(conv, cues, topic, classifier)
    agent = _pick_agent(conv, cues) if cues is not None else None
    return Summary(
        _untagged(caller.text) if caller else None,
        agent[1] if agent else None,
        caller.start if caller else None,
        agent[0].start if agent else None,
    )
