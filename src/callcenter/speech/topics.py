"""Topic of a call, from a configurable taxonomy of example phrases.

Definitions
-----------
*Taxonomy*: per language, a set of topics, each a name (``card_replacement``), an
optional label and one or more example phrases, plus a ``threshold``; read from
``speech/lists/<lang>/topics.yaml`` or a center's own file (:func:`load_taxonomy`).

*Topic score*: the cosine similarity between the call's text vector and the topic's
centroid — the normalised mean of its examples' vectors — in a TF-IDF space of
character n-grams (3–5 characters within word boundaries, sublinear term frequency,
IDF fitted on the taxonomy's examples plus its ``background`` phrases: small talk such
as greetings and spelling out names, listed so that their n-grams weigh little). The
call's vector is the sum of its utterances' unit vectors, each weighted

    w = side × exp(−words_before / 60)

where ``words_before`` counts that side's words said earlier in the call and ``side`` is
1 for the caller and 0.5 for the agent (1 for everyone in a mono transcript).

*Support*: the highest similarity of a single caller utterance to any topic's centroid,
among the caller's utterances that are closer to that topic than to the centroid of the
``background`` phrases (all utterances when the caller never speaks). The *topic* is
the best-scoring topic, or ``"other"`` when the support is below the taxonomy's
``threshold`` (default 0.2): no caller utterance sounds more like a topic than like
small talk. (A threshold on the call-level score would not do: character n-grams give
any text of the language a similarity of 0.1–0.25 to every topic.)

Why this method: a call center's taxonomy is a handful of phrases per topic, not a
labelled corpus, so there is nothing to train a classifier on; nearest-centroid
similarity uses the phrases as they are and a new topic needs only new lines of YAML.
Character n-grams match across inflection (Russian ``карту``/``карта``/``карты``),
spelling and ASR errors without a stemmer per language. Callers state their reason
early, so early speech counts more; the agent's words (who repeats and confirms the
request) count half. The vectorizer is fitted once per taxonomy (about 0.1 s);
classifying a call is one transform and one sparse product (about 5 ms for a call of
twenty utterances).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sklearn.feature_extraction.text import TfidfVectorizer

from callcenter.speech.conversation import Conversation, Speaker
from callcenter.speech.lists import ListError, load_list

OTHER: Final = "other"
DECAY_WORDS: Final = 60.0
AGENT_WEIGHT: Final = 0.5
_TAG: Final = re.compile(r"\[[^\]]*\]|<[^>]*>")
_NAME: Final = re.compile(r"[a-z0-9_][a-z0-9_\-]*")


def primary_language(code: str | None) -> str:
    """``en-US`` / ``ru_RU`` / ``EN`` -> ``en``, ``ru``, ``en``; ``""`` if unknown."""
    return (code or "").strip().lower().replace("_", "-").split("-")[0]


def clean_text(text: str) -> str:
    """Lower-case text without transcript tags (``[noise]``, ``<unk>``)."""
    return " ".join(_TAG.sub(" ", text).lower().split())


class _TopicModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str | None = None
    examples: list[str] = Field(min_length=1)

    @field_validator("examples")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        if any(not e.strip() for e in v):
            raise ValueError("an example is empty")
        return v


class _TaxonomyModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(default=0.2, ge=0.0, le=1.0)
    topics: dict[str, _TopicModel] = Field(min_length=1)
    background: list[str] = Field(default_factory=list)

    @field_validator("topics")
    @classmethod
    def _names(cls, v: dict[str, _TopicModel]) -> dict[str, _TopicModel]:
        for name in v:
            if name == OTHER:
                raise ValueError(f"'{OTHER}' is reserved for calls that match no topic")
            if not _NAME.fullmatch(name):
                raise ValueError(f"topic name {name!r} must be lower-case letters, digits, _ or -")
        return v


def validation_problem(e: ValidationError, expected: dict[str, str] | None = None) -> str:
    """One line from pydantic's first error: the key path and what was expected."""
    errors = e.errors()
    # an unknown key is most likely a misspelt one: name it before what is then missing
    err = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0])
    loc = ".".join(str(p) for p in err["loc"]) or "(top)"
    if err["type"] == "extra_forbidden":
        parent = ".".join(str(p) for p in err["loc"][:-1])
        hint = (expected or {}).get(parent, "")
        return f"{loc}: unknown key" + (f" (expected {hint})" if hint else "")
    if err["type"] == "missing":
        return f"{loc}: missing"
    msg = re.sub(r" or instance of \w+", "", str(err["msg"]).removeprefix("Value error, "))
    return f"{loc}: {msg}"


@dataclass(frozen=True)
class Topic:
    name: str
    examples: tuple[str, ...]
    label: str | None = None


@dataclass(frozen=True)
class Taxonomy:
    """Validated topics of one language (see the module docstring)."""

    language: str
    topics: tuple[Topic, ...]
    threshold: float = 0.2
    source: str = ""
    background: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.topics)

    def topic(self, name: str) -> Topic:
        for t in self.topics:
            if t.name == name:
                return t
        raise KeyError(name)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], language: str, source: str) -> Taxonomy:
        """Validate a ``topics.yaml`` mapping; :class:`ListError` naming the bad key."""
        try:
            model = _TaxonomyModel.model_validate(data)
        except ValidationError as e:
            expected = {"": "threshold, topics, background"}
            topics = data.get("topics")
            if isinstance(topics, dict):
                expected.update({f"topics.{k}": "label, examples" for k in topics})
            raise ListError(source, validation_problem(e, expected)) from None
        topics = tuple(
            Topic(name, tuple(" ".join(x.split()) for x in t.examples), t.label)
            for name, t in model.topics.items()
        )
        background = tuple(" ".join(x.split()) for x in model.background if x.strip())
        return cls(language, topics, model.threshold, source, background)


def load_taxonomy(language: str, path: str | Path | None = None) -> Taxonomy:
    """The topic taxonomy for ``language``: from ``path`` if given, else built in.

    A language with no built-in taxonomy, or missing from a user file that lists
    several under ``languages:``, gives an empty taxonomy (``topics == ()``): the stage
    then reports no topic rather than guessing. An empty user file is an error.
    """
    language = primary_language(language)
    source = str(path) if path is not None else f"topics.yaml ({language}, built in)"
    data = load_list("topics", language, path)
    if not data:
        if path is None or holds_languages(Path(path)):
            return Taxonomy(language, (), source=source)
        raise ListError(source, f"topics: expected at least one topic for language {language!r}")
    return Taxonomy.from_mapping(data, language, source)


def holds_languages(path: Path) -> bool:
    """Whether a (valid, already read) list file holds several languages."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return isinstance(data, dict) and "languages" in data


@dataclass(frozen=True)
class TopicResult:
    """The call's topic (``"other"``: too little support), its score, the runner-up."""

    topic: str
    score: float
    runner_up: str | None
    scores: dict[str, float] = field(default_factory=dict)
    support: float = 0.0  # the strongest single caller utterance (see the module doc)

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "score": round(self.score, 4),
            "runner_up": self.runner_up,
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "support": round(self.support, 4),
        }


def utterance_weights(conv: Conversation) -> list[tuple[str, float, bool]]:
    """``(clean text, weight, said by the caller)`` per non-empty utterance.

    The weight is as in the module docstring; in a mono transcript every utterance
    counts as the caller's.
    """
    mono = not conv.has_speakers
    said: dict[Speaker, int] = {}
    out: list[tuple[str, float, bool]] = []
    for u in conv.utterances:
        text = clean_text(u.text)
        if not text:
            continue
        before = said.get(u.speaker, 0)
        said[u.speaker] = before + len(text.split())
        caller = mono or u.speaker is not Speaker.AGENT
        side = 1.0 if caller else AGENT_WEIGHT
        out.append((text, side * math.exp(-before / DECAY_WORDS), caller))
    return out


class TopicClassifier:
    """Nearest-centroid topic classifier over one taxonomy; fit once, reuse per call."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        if not taxonomy.topics:
            raise ValueError(f"{taxonomy.source or 'taxonomy'}: no topics to classify into")
        self.taxonomy = taxonomy
        self._names = taxonomy.names()
        examples = [clean_text(e) for t in taxonomy.topics for e in t.examples]
        owner = np.array([i for i, t in enumerate(taxonomy.topics) for _ in t.examples])
        self._vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        background = [clean_text(b) for b in taxonomy.background]
        self._vec.fit(examples + background)
        x = self._vec.transform(examples)  # rows are L2-normalised
        centroids = np.vstack(
            [np.asarray(x[owner == i].mean(axis=0)).ravel() for i in range(len(self._names))]
        )
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        self._centroids: npt.NDArray[np.float64] = centroids / np.maximum(norms, 1e-12)
        small_talk = np.zeros(centroids.shape[1])
        if background:
            small_talk = np.asarray(self._vec.transform(background).mean(axis=0)).ravel()
            small_talk /= max(float(np.linalg.norm(small_talk)), 1e-12)
        self._small_talk: npt.NDArray[np.float64] = small_talk

    def vectorize(self, texts: list[str]) -> Any:
        """Unit TF-IDF rows (scipy sparse) for cleaned texts, in this taxonomy's space."""
        return self._vec.transform(texts)

    def similarity(self, texts: list[str], topic: str) -> list[float]:
        """Cosine of each text to one topic's centroid (for picking utterances)."""
        if not texts:
            return []
        i = self._names.index(topic)
        sims = self.vectorize([clean_text(t) for t in texts]) @ self._centroids[i]
        return [float(s) for s in np.asarray(sims).ravel()]

    def classify(self, conv: Conversation) -> TopicResult:
        weighted = utterance_weights(conv)
        empty = TopicResult(OTHER, 0.0, None, {n: 0.0 for n in self._names})
        if not weighted:
            return empty
        rows = self.vectorize([t for t, _, _ in weighted])
        w = np.array([wt for _, wt, _ in weighted])
        doc = np.asarray(rows.T @ w).ravel()
        norm = float(np.linalg.norm(doc))
        if norm == 0.0:
            return empty
        sims = self._centroids @ (doc / norm)
        order = np.argsort(-sims)
        scores = {self._names[i]: float(sims[i]) for i in order}
        best, second = int(order[0]), (int(order[1]) if len(order) > 1 else None)
        score = float(sims[best])
        support = self._support(rows, [c for _, _, c in weighted])
        topic = self._names[best] if support >= self.taxonomy.threshold else OTHER
        runner = self._names[second] if second is not None else None
        return TopicResult(topic, score, runner, scores, support)

    def _support(self, rows: Any, by_caller: list[bool]) -> float:
        """The best topic similarity of one caller utterance that beats small talk."""
        per_topic = np.asarray(rows @ self._centroids.T)  # utterances x topics
        small_talk = np.asarray(rows @ self._small_talk).ravel()
        best = per_topic.max(axis=1)
        mine = np.array(by_caller) if any(by_caller) else np.ones(len(by_caller), dtype=bool)
        ok = mine & (best > small_talk)
        return float(best[ok].max()) if ok.any() else 0.0
