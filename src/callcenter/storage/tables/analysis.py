"""Speech-analytics results: ``call_analyses`` (one row per analysed call: metadata, the
headline numbers as columns, the whole result document) and ``call_keywords`` (one row
per keyword hit). Read and written by :class:`~callcenter.storage.analysis_store.AnalysisStore`.
"""

from __future__ import annotations

import datetime as dt
from typing import Final, cast

from sqlalchemy import Boolean, DateTime, Double, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.storage.base import Base


class CallAnalysis(Base):
    __tablename__ = "call_analyses"

    call_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    start_ts: Mapped[float | None] = mapped_column(Double, index=True)
    agent: Mapped[str | None] = mapped_column(String(128), index=True)
    queue: Mapped[str | None] = mapped_column(String(128), index=True)
    caller: Mapped[str | None] = mapped_column(String(255))
    layout: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    duration_s: Mapped[float | None] = mapped_column(Double)
    agent_talk_s: Mapped[float | None] = mapped_column(Double)
    caller_talk_s: Mapped[float | None] = mapped_column(Double)
    talk_ratio: Mapped[float | None] = mapped_column(Double)
    dead_air_s: Mapped[float | None] = mapped_column(Double)
    longest_gap_s: Mapped[float | None] = mapped_column(Double)
    overtalk_s: Mapped[float | None] = mapped_column(Double)
    hold_s: Mapped[float | None] = mapped_column(Double)
    agent_words_per_min: Mapped[float | None] = mapped_column(Double)
    caller_words_per_min: Mapped[float | None] = mapped_column(Double)
    topic_score: Mapped[float | None] = mapped_column(Double)
    resolution_confidence: Mapped[float | None] = mapped_column(Double)
    agent_sentiment: Mapped[float | None] = mapped_column(Double)
    caller_sentiment: Mapped[float | None] = mapped_column(Double)
    caller_sentiment_trend: Mapped[float | None] = mapped_column(Double)
    long_gaps: Mapped[int | None] = mapped_column(Integer)
    agent_interruptions: Mapped[int | None] = mapped_column(Integer)
    caller_interruptions: Mapped[int | None] = mapped_column(Integer)
    etiquette_passed: Mapped[int | None] = mapped_column(Integer)
    etiquette_checked: Mapped[int | None] = mapped_column(Integer)
    topic: Mapped[str | None] = mapped_column(String(128), index=True)
    resolved: Mapped[bool | None] = mapped_column(Boolean)
    analyzed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    result: Mapped[str] = mapped_column(Text)


class CallKeyword(Base):
    __tablename__ = "call_keywords"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(
        ForeignKey("call_analyses.call_id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(64), index=True)
    phrase: Mapped[str] = mapped_column(String(255))
    speaker: Mapped[str] = mapped_column(String(16))
    t: Mapped[float] = mapped_column(Double)


analyses_table: Final = cast(Table, CallAnalysis.__table__)
keywords_table: Final = cast(Table, CallKeyword.__table__)


__all__ = ["CallAnalysis", "CallKeyword", "analyses_table", "keywords_table"]
