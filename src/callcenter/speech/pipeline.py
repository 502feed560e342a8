"""One call, every stage: recording(s) in, the per-call result document out.

Stages, each a typed function of the previous one's output::

    load_call ─► compute_metrics ─► transcribe_call (gated by the speech spans)
        ─► Conversation ─► redact ─► keywords · topic · sentiment · resolution
                                     · etiquette · summary ─► document (dict)

Redaction comes before every text stage, so nothing derived from the transcript (hits,
summary, evidence) can carry a card number, phone number or e-mail address into what
is stored. The document's format (``schema: callcenter.call_analysis``) is described in
``docs/speech.md``; :class:`Analyzer` holds what is costly to load (the speech model,
the compiled word lists) and is reused for every call of a batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from callcenter.speech.audio import AudioError, AudioOptions, CallAudio, load_call
from callcenter.speech.conversation import Conversation, Speaker
from callcenter.speech.metadata import CallMeta
from callcenter.speech.metrics import (
    CallMetrics,
    MetricsOptions,
    compute_metrics,
    compute_mono_metrics,
)
from callcenter.speech.transcribe import AsrOptions, Transcriber, Transcript

SCHEMA: Final = "callcenter.call_analysis"
VERSION: Final = 1
DEFAULT_LANGUAGE: Final = "en"


@dataclass(frozen=True)
class AnalyzeOptions:
    """Everything that decides a call's result (a batch uses one for every call)."""

    audio: AudioOptions = field(default_factory=AudioOptions)
    metrics: MetricsOptions = field(default_factory=MetricsOptions)
    asr: AsrOptions | None = field(default_factory=AsrOptions)  # None: no transcript
    keywords: Path | None = None  # organisation keyword lists (else built in)
    topics: Path | None = None  # topic taxonomy (else built in)
    etiquette: Path | None = None  # etiquette phrases (else built in)
    redact: bool = True


class _Lists:
    """Word lists and models per language, loaded once per analyzer."""

    def __init__(self, options: AnalyzeOptions) -> None:
        self.options = options
        self._cache: dict[tuple[str, str], Any] = {}

    def get(self, kind: str, language: str) -> Any:
        key = (kind, language)
        if key not in self._cache:
            self._cache[key] = self._load(kind, language)
        return self._cache[key]

    def _load(self, kind: str, language: str) -> Any:
        o = self.options
        if kind == "keywords":
            from callcenter.speech.keywords import load_keywords

            return load_keywords(language, o.keywords)
        if kind == "etiquette":
            from callcenter.speech.etiquette import load_etiquette

            return load_etiquette(language, o.etiquette)
        if kind == "topics":
            from callcenter.speech.topics import TopicClassifier, load_taxonomy

            taxonomy = load_taxonomy(language, o.topics)
            return TopicClassifier(taxonomy) if taxonomy.topics else None
        raise KeyError(kind)


class Analyzer:
    """Analyses calls with one set of options; loads the model and lists on first use."""

    def __init__(self, options: AnalyzeOptions | None = None) -> None:
        self.options = options or AnalyzeOptions()
        self._transcriber: Transcriber | None = None
        self._lists = _Lists(self.options)

    @property
    def transcriber(self) -> Transcriber | None:
        if self.options.asr is None:
            return None
        if self._transcriber is None:
            self._transcriber = Transcriber(self.options.asr)
        return self._transcriber

    def check(self) -> None:
        """Fail early (one line) on a bad model or bad list file, before any call."""
        if self.options.asr is not None:
            from callcenter.speech.transcribe import resolve_model

            resolve_model(self.options.asr.model, self.options.asr.cache_dir)
        language = (self.options.asr.language if self.options.asr else None) or DEFAULT_LANGUAGE
        if self.options.asr is not None:
            for kind in ("keywords", "etiquette", "topics"):
                self._lists.get(kind, language)

    def analyze(
        self, files: Sequence[str | Path], call_id: str, meta: CallMeta | None = None
    ) -> dict[str, Any]:
        """The result document of one call. Raises :class:`AudioError` for a bad recording."""
        audio = load_call(files, self.options.audio, call_id)
        if audio.has_sides:
            metrics = compute_metrics(audio.agent, audio.caller, audio.rate, self.options.metrics)
        else:
            metrics = compute_mono_metrics(audio.mix(), audio.rate, self.options.metrics)
        if metrics.speech_s <= 0.0:
            what = "music only" if metrics.hold_s > 0 else "all silence"
            raise AudioError(audio.sources[0], f"no speech found ({what})")
        doc: dict[str, Any] = {
            "schema": SCHEMA,
            "version": VERSION,
            "call_id": call_id,
            "layout": audio.layout.value,
            "sources": list(audio.sources),
            "analyzed_at": dt.datetime.now(dt.UTC)
            .isoformat(timespec="seconds")
            .replace("+00:00", "Z"),
            "call": (meta or CallMeta()).to_dict(),
            "notes": list(audio.notes),
        }
        transcriber = self.transcriber
        if transcriber is None:
            doc.update(language=None, model=None, metrics=metrics.to_dict())
            return doc
        metrics, conv = self._transcribe(audio, metrics, transcriber)
        doc.update(
            language=conv.language,
            model=self.options.asr.model if self.options.asr else None,
            metrics=metrics.to_dict(),
        )
        doc.update(self.text_stages(conv, metrics))
        return doc

    def _transcribe(
        self, audio: CallAudio, metrics: CallMetrics, transcriber: Transcriber
    ) -> tuple[CallMetrics, Conversation]:
        from callcenter.speech.asr import transcribe_call, words_per_minute

        spans = None
        if audio.has_sides:
            spans = {
                Speaker.AGENT: metrics.agent_segments,
                Speaker.CALLER: metrics.caller_segments,
            }
        transcripts: dict[Speaker, Transcript] = transcribe_call(audio, transcriber, spans)
        agent = transcripts.get(Speaker.AGENT)
        caller = transcripts.get(Speaker.CALLER)
        if agent is not None and caller is not None:
            metrics = replace(
                metrics,
                agent_words_per_min=words_per_minute(agent, metrics.agent_segments),
                caller_words_per_min=words_per_minute(caller, metrics.caller_segments),
            )
        conv = Conversation.from_transcripts(
            agent,
            caller,
            mixed=transcripts.get(Speaker.UNKNOWN),
            language=self.options.asr.language if self.options.asr else None,
            duration_s=metrics.duration_s,
        )
        if not conv.language:
            conv = replace(conv, language=DEFAULT_LANGUAGE)
        return metrics, conv

    def text_stages(self, conv: Conversation, metrics: CallMetrics | None) -> dict[str, Any]:
        """Redaction, then keywords, topic, sentiment, resolution, etiquette, summary."""
        from callcenter.speech.etiquette import check_etiquette
        from callcenter.speech.keywords import spot
        from callcenter.speech.redact import redact_conversation
        from callcenter.speech.resolution import assess_resolution
        from callcenter.speech.sentiment import analyze_sentiment
        from callcenter.speech.summary import summarize

        language = conv.language or DEFAULT_LANGUAGE
        redactions: dict[str, Any] | None = None
        if self.options.redact:
            conv, found = redact_conversation(conv)
            redactions = found.to_dict()
        classifier = self._lists.get("topics", language)
        topic = classifier.classify(conv) if classifier is not None else None
        etiquette = check_etiquette(
            conv,
            self._lists.get("etiquette", language),
            agent_interruptions=metrics.agent_interruptions if metrics is not None else None,
        )
        return {
            "transcript": conv.to_dict(),
            "redactions": redactions,
            "keywords": [h.to_dict() for h in spot(conv, self._lists.get("keywords", language))],
            "topic": topic.to_dict() if topic is not None else None,
            "sentiment": analyze_sentiment(conv).to_dict(),
            "resolution": assess_resolution(conv, language).to_dict(),
            "etiquette": etiquette.to_dict(),
            "summary": summarize(conv, topic, classifier=classifier).to_dict(),
        }
