"""Agent etiquette (seed 002's conversation rules) from the transcript and its timing.

Six checks, each a :class:`Check` — ``passed`` True/False, or None when it cannot be
told — with the time and the words that decided it:

* ``greeting``: the agent greets (a ``greeting`` phrase) in one of their first
  ``first_agent_utterances`` utterances that start within ``within_s`` of the call's
  start;
* ``introduction``: the agent says their name (``my name is _``, ``меня зовут _``,
  ``_ هستم``) under the same kind of window;
* ``anything_else``: near the end the agent offers more help ("anything else I can help
  you with?"): in one of their last ``last_agent_utterances`` utterances that reach
  into the last ``last_s`` seconds and into the second half of the call;
* ``thanks``: the agent thanks the caller under the same kind of window;
* ``interruptions``: the agent interrupted the caller at most ``max`` times; the count
  comes from the audio metrics, unknown count → unknown;
* ``jargon``: the agent used at most ``max`` phrases of the ``jargon`` list.

Utterances without words (``[noise]`` only) are not counted as the agent's utterances.
When agent and caller are not told apart (a mono transcript) every phrase check is
unknown: a greeting could be the caller's. A check whose phrase list is empty (no
built-in list for the language) is unknown too. A matched phrase is discarded when one
of its rule's ``exclude`` phrases matches overlapping words (``در خدمت شما هستم`` is not
an introduction).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from callcenter.speech.conversation import Conversation, Speaker, Utterance
from callcenter.speech.keywords import (
    Match,
    Phrase,
    compile_all,
    error_line,
    find,
    source_name,
)
from callcenter.speech.lang import base_language, tokens
from callcenter.speech.lists import ListError, load_list


@dataclass(frozen=True)
class PhraseRule:
    """Phrases to find in a window of the agent's utterances.

    ``seconds``/``utterances``: from the start (opening checks) or before the end
    (closing checks) of the call.
    """

    phrases: tuple[Phrase, ...]
    seconds: float
    utterances: int
    exclude: tuple[Phrase, ...] = ()


@dataclass(frozen=True)
class EtiquetteRules:
    language: str
    greeting: PhraseRule
    introduction: PhraseRule
    anything_else: PhraseRule
    thanks: PhraseRule
    max_interruptions: int
    jargon: tuple[Phrase, ...]
    max_jargon: int


@dataclass(frozen=True)
class Check:
    passed: bool | None  # None: cannot tell
    at_s: float | None = None
    evidence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "at_s": None if self.at_s is None else round(self.at_s, 3),
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class Etiquette:
    greeting: Check
    introduction: Check
    anything_else: Check
    thanks: Check
    interruptions: Check
    jargon: Check

    @property
    def checks(self) -> dict[str, Check]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def passed(self) -> int:
        """How many checks passed."""
        return sum(c.passed is True for c in self.checks.values())

    @property
    def known(self) -> int:
        """How many checks could be decided (passed or failed)."""
        return sum(c.passed is not None for c in self.checks.values())

    @property
    def score(self) -> float | None:
        """``passed / known``; None when nothing could be decided."""
        return self.passed / self.known if self.known else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "checks": {name: c.to_dict() for name, c in self.checks.items()},
            "passed": self.passed,
            "known": self.known,
            "score": None if self.score is None else round(self.score, 4),
        }


class _Opening(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    phrases: list[str] = []
    exclude: list[str] = []
    within_s: float = Field(30.0, gt=0)
    first_agent_utterances: int = Field(3, ge=1)


class _Closing(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    phrases: list[str] = []
    exclude: list[str] = []
    last_s: float = Field(60.0, gt=0)
    last_agent_utterances: int = Field(3, ge=1)


class _Interruptions(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    max: int = Field(2, ge=0)


class _Jargon(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    phrases: list[str] = []
    max: int = Field(0, ge=0)


class _EtiquetteFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    greeting: _Opening = _Opening()
    introduction: _Opening = _Opening(within_s=60.0, first_agent_utterances=5)
    anything_else: _Closing = _Closing(last_s=120.0, last_agent_utterances=4)
    thanks: _Closing = _Closing()
    interruptions: _Interruptions = _Interruptions()
    jargon: _Jargon = _Jargon()


def load_etiquette(language: str, path: str | Path | None = None) -> EtiquetteRules:
    """The etiquette rules for ``language``: from ``path``, else built in.

    No built-in list for the language: every phrase check will be unknown.
    """
    lang = base_language(language)
    data = load_list("etiquette", lang, path)
    source = source_name("etiquette", lang, path)
    try:
        m = _EtiquetteFile.model_validate(data)
    except ValidationError as e:
        raise ListError(source, error_line(e, _EtiquetteFile)) from None

    def rule(name: str, r: _Opening | _Closing) -> PhraseRule:
        seconds, n = (
            (r.within_s, r.first_agent_utterances)
            if isinstance(r, _Opening)
            else (r.last_s, r.last_agent_utterances)
        )
        return PhraseRule(
            compile_all(source, f"{name}.phrases", r.phrases, lang),
            seconds,
            n,
            compile_all(source, f"{name}.exclude", r.exclude, lang),
        )

    return EtiquetteRules(
        lang,
        rule("greeting", m.greeting),
        rule("introduction", m.introduction),
        rule("anything_else", m.anything_else),
        rule("thanks", m.thanks),
        m.interruptions.max,
        compile_all(source, "jargon.phrases", m.jargon.phrases, lang),
        m.jargon.max,
    )


def _first(us: list[Utterance], rule: PhraseRule, lang: str) -> tuple[float, str] | None:
    """The first match of the rule's phrases in ``us`` (time order), exclusions applied."""
    for u in us:
        found = find(u, rule.phrases, lang)
        if not found:
            continue
        banned: list[Match] = [m for _, m in find(u, rule.exclude, lang)]
        kept = [m for _, m in found if not any(m.overlaps(b) for b in banned)]
        if kept:
            m = min(kept, key=lambda m: (m.start_s, m.index))
            return m.start_s, u.text.strip()
    return None


def _phrase_check(conv: Conversation, rule: PhraseRule, lang: str, *, at_end: bool) -> Check:
    if not rule.phrases:
        return Check(None, None, "no phrases for this language")
    if not conv.has_speakers:
        found = _first(list(conv.utterances), rule, lang)
        evidence = "speakers unknown" + (f": {found[1]}" if found else "")
        return Check(None, found[0] if found else None, evidence)
    said = [u for u in conv.by(Speaker.AGENT) if tokens(u.text, lang)]
    if not said:
        return Check(None, None, "the agent says nothing")
    if at_end:
        # The closing window: the last N agent utterances that reach into the last S
        # seconds and into the second half of the call (so that in a short call the
        # opening "thank you for calling" does not count as the closing thanks).
        since = max(conv.end_s - rule.seconds, conv.end_s / 2)
        window = [u for u in said[-rule.utterances :] if u.end >= since]
        found = _first(window, rule, lang)
    else:
        window = [u for u in said[: rule.utterances] if u.start <= rule.seconds]
        found = _first(window, rule, lang)
    if found is None:
        return Check(False, None, None)
    return Check(True, found[0], found[1])


def check_etiquette(
    conv: Conversation, rules: EtiquetteRules, *, agent_interruptions: int | None = None
) -> Etiquette:
    """The six checks on one conversation (see the module docstring)."""
    lang = rules.language or base_language(conv.language)
    if agent_interruptions is None:
        interrupt = Check(None, None, "interruption count unknown")
    else:
        interrupt = Check(
            agent_interruptions <= rules.max_interruptions,
            None,
            f"{agent_interruptions} agent interruptions (limit {rules.max_interruptions})",
        )
    if not rules.jargon:
        jargon = Check(None, None, "no jargon list for this language")
    elif not conv.has_speakers:
        jargon = Check(None, None, "speakers unknown")
    else:
        hits = [
            (m.start_s, m.text)
            for u in conv.by(Speaker.AGENT)
            for _, m in find(u, rules.jargon, lang)
        ]
        hits.sort()
        jargon = Check(
            len(hits) <= rules.max_jargon,
            hits[0][0] if hits else None,
            ", ".join(t for _, t in hits) or None,
        )
    return Etiquette(
        greeting=_phrase_check(conv, rules.greeting, lang, at_end=False),
        introduction=_phrase_check(conv, rules.introduction, lang, at_end=False),
        anything_else=_phrase_check(conv, rules.anything_else, lang, at_end=True),
        thanks=_phrase_check(conv, rules.thanks, lang, at_end=True),
        interruptions=interrupt,
        jargon=jargon,
    )
