"""Keyword and phrase spotting: where the organisation's words were said, and by whom.

A keyword list (YAML, see ``docs/speech-rules.md``) groups phrases under categories of
the organisation's choosing (``abusive``, ``products``, ``competitors`` ...). A *hit* is
one occurrence of one phrase in one utterance:

* matching is on normalised words (:func:`callcenter.speech.lang.normalize`: case,
  punctuation, Persian letter variants, ``ё``/``е``, Persian digits), whole words only —
  ``card`` never matches inside ``cardinal``;
* a phrase of several words matches those words in a row within one utterance;
* a word ending in ``*`` is a stem and matches any word that starts with it (``дурак*``
  matches ``дурака``, ``дураки``), as Russian and Lithuanian inflection needs;
* a word ``_`` matches any one word (``my name is _``);
* the hit's time is the ASR start of its first word when the utterance carries word
  timings, else the utterance's start; its ``text`` is the matched words as written.

Occurrences of one phrase in one utterance do not overlap; different phrases may match
the same words (each is reported).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, ValidationError

from callcenter.speech.conversation import Conversation, Speaker, Utterance
from callcenter.speech.lang import base_language, strip_tags, tokens
from callcenter.speech.lists import ListError, load_list

ANY: Final = "_"
_MIN_STEM: Final = 2


@dataclass(frozen=True)
class Phrase:
    """A compiled phrase: ``parts`` are ``(kind, word)`` with kind exact, stem or any."""

    text: str
    parts: tuple[tuple[str, str], ...]

    def matches_at(self, words: Sequence[str], i: int) -> bool:
        if i + len(self.parts) > len(words):
            return False
        for (kind, w), token in zip(self.parts, words[i:], strict=False):
            if kind == "exact" and token != w:
                return False
            if kind == "stem" and not token.startswith(w):
                return False
        return True


def compile_phrase(text: str, language: str) -> Phrase:
    """A phrase as written in a list → :class:`Phrase`; ``ValueError`` if unusable."""
    parts: list[tuple[str, str]] = []
    for raw in text.split():
        if raw == ANY:
            parts.append(("any", ""))
            continue
        stem = raw.endswith("*")
        words = tokens(raw.rstrip("*"), language)
        if not words:
            raise ValueError(f"{text!r}: {raw!r} has no letters or digits")
        parts.extend(("exact", w) for w in words[:-1])
        if stem and len(words[-1]) < _MIN_STEM:
            raise ValueError(f"{text!r}: stem {raw!r} is too short (2 letters at least)")
        parts.append(("stem" if stem else "exact", words[-1]))
    if not parts:
        raise ValueError("empty phrase")
    if all(kind == "any" for kind, _ in parts):
        raise ValueError(f"{text!r}: a phrase needs at least one word besides _")
    return Phrase(text, tuple(parts))


@dataclass(frozen=True)
class Match:
    """Where a phrase matched inside one utterance (``index``, ``length``: in tokens)."""

    start_s: float
    text: str
    index: int
    length: int

    def overlaps(self, other: Match) -> bool:
        return self.index < other.index + other.length and other.index < self.index + self.length


@dataclass(frozen=True)
class _Units:
    """An utterance's tokens; per token the index, time and text of its unit."""

    tokens: tuple[str, ...]
    owner: tuple[tuple[int, float, str], ...]
    first: Mapping[str, tuple[int, ...]]  # token → positions


@lru_cache(maxsize=1024)
def _units(u: Utterance, language: str) -> _Units:
    """A unit is an ASR word when there are word timings, else a whitespace-separated
    chunk of the utterance text (bracketed annotations removed)."""
    toks: list[str] = []
    owner: list[tuple[int, float, str]] = []
    if u.words:
        units = [(w.start, w.text.strip()) for w in u.words]
    else:
        units = [(u.start, chunk) for chunk in strip_tags(u.text).split()]
    positions: dict[str, list[int]] = {}
    for k, (start, raw) in enumerate(units):
        for t in tokens(raw, language):
            positions.setdefault(t, []).append(len(toks))
            toks.append(t)
            owner.append((k, start, raw))
    first = {t: tuple(ps) for t, ps in positions.items()}
    return _Units(tuple(toks), tuple(owner), first)


def find(u: Utterance, phrases: Sequence[Phrase], language: str) -> list[tuple[Phrase, Match]]:
    """Every non-overlapping occurrence of each phrase in ``u``, in phrase order."""
    units = _units(u, language)
    toks, owner = units.tokens, units.owner
    out: list[tuple[Phrase, Match]] = []
    for p in phrases:
        kind, word = p.parts[0]
        starts: Sequence[int] = units.first.get(word, ()) if kind == "exact" else range(len(toks))
        after = 0  # occurrences of one phrase do not overlap
        for i in starts:
            if i < after or not p.matches_at(toks, i):
                continue
            n = len(p.parts)
            seen: dict[int, str] = {}
            for k, _, raw in owner[i : i + n]:
                seen.setdefault(k, raw)
            out.append((p, Match(owner[i][1], " ".join(seen.values()), i, n)))
            after = i + n
    return out


@dataclass(frozen=True)
class KeywordHit:
    category: str
    phrase: str  # as written in the list
    speaker: Speaker
    start_s: float
    text: str  # the matched words as said

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "phrase": self.phrase,
            "speaker": self.speaker.value,
            "start_s": round(self.start_s, 3),
            "text": self.text,
        }


@dataclass(frozen=True)
class KeywordList:
    """Compiled phrases per category, for one language."""

    language: str
    categories: Mapping[str, tuple[Phrase, ...]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(self.categories.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "categories": {c: [p.text for p in ps] for c, ps in self.categories.items()},
        }


class _KeywordsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    categories: dict[str, list[str]] = {}


def _keys_at(model: type[BaseModel], path: Sequence[int | str]) -> list[str]:
    """The keys the model allows at ``path`` (empty when not a model there)."""
    for key in path:
        info = model.model_fields.get(str(key))
        sub = info.annotation if info is not None else None
        if not (isinstance(sub, type) and issubclass(sub, BaseModel)):
            return []
        model = sub
    return list(model.model_fields)


def error_line(e: ValidationError, model: type[BaseModel] | None = None) -> str:
    """A pydantic error as one line: ``key.path: what was expected (got ...)``."""
    err = e.errors()[0]
    loc = ".".join(str(x) for x in err["loc"]) or "(top)"
    if err["type"] == "extra_forbidden":
        keys = _keys_at(model, err["loc"][:-1]) if model is not None else []
        return f"{loc}: unknown key" + (f" (expected one of: {', '.join(keys)})" if keys else "")
    if err["type"] == "missing":
        return f"{loc}: required key missing"
    got = err.get("input")
    shown = repr(got) if len(repr(got)) <= 40 else repr(got)[:37] + "..."
    kind = type(got).__name__ if got is not None else "nothing"
    return f"{loc}: {err['msg'].lower()} (got {kind} {shown})"


def source_name(kind: str, language: str, path: str | Path | None) -> str:
    return str(path) if path is not None else f"{kind}.yaml ({language}, built in)"


def compile_all(
    source: str, where: str, phrases: Sequence[str], language: str
) -> tuple[Phrase, ...]:
    """Compile a list of phrases, each problem a :class:`ListError` naming its key."""
    out = []
    for i, text in enumerate(phrases):
        try:
            out.append(compile_phrase(text, language))
        except ValueError as e:
            raise ListError(source, f"{where}.{i}: {e}") from None
    return tuple(out)


def load_keywords(language: str, path: str | Path | None = None) -> KeywordList:
    """The keyword list for ``language``: from ``path``, else the built-in one.

    No built-in list for the language gives an empty list (nothing is spotted).
    """
    lang = base_language(language)
    data = load_list("keywords", lang, path)
    source = source_name("keywords", lang, path)
    try:
        model = _KeywordsFile.model_validate(data)
    except ValidationError as e:
        raise ListError(source, error_line(e, _KeywordsFile)) from None
    cats: dict[str, tuple[Phrase, ...]] = {}
    for name, phrases in model.categories.items():
        if not name.strip():
            raise ListError(source, "categories: a category name is empty")
        cats[name] = compile_all(source, f"categories.{name}", phrases, lang)
    return KeywordList(lang, cats)


def spot(conv: Conversation, keywords: KeywordList) -> tuple[KeywordHit, ...]:
    """Every hit of every phrase in the conversation, in time order."""
    lang = keywords.language or base_language(conv.language)
    hits: list[KeywordHit] = []
    for u in conv.utterances:
        for category, phrases in keywords.categories.items():
            for p, m in find(u, phrases, lang):
                hits.append(KeywordHit(category, p.text, u.speaker, m.start_s, m.text))
    return tuple(sorted(hits, key=lambda h: (h.start_s, h.category, h.phrase)))
