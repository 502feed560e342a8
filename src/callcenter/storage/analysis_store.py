"""Speech-analytics results in the SQL database, keyed by call id.

``call_analyses``
    one row per analysed call: the call's metadata (start, agent, queue, caller), the
    headline numbers as columns (for SQL dashboards and filters), and ``result``, the
    whole per-call JSON document that ``callcenter analyze`` also writes as
    ``<out>/<call id>.json`` (its format: ``docs/speech.md``).
``call_keywords``
    one row per keyword hit (category, phrase, speaker, time in the call), for keyword
    trends across calls.

Saving a call again replaces its rows (``--force`` re-analysis).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import (
    delete,
    insert,
    select,
)
from sqlalchemy.engine import Connection

from callcenter.storage.tables.analysis import (
    analyses_table,
    keywords_table,
)

_METRIC_COLUMNS: Final = (
    "duration_s",
    "agent_talk_s",
    "caller_talk_s",
    "talk_ratio",
    "dead_air_s",
    "longest_gap_s",
    "overtalk_s",
    "hold_s",
    "agent_words_per_min",
    "caller_words_per_min",
    "agent_interruptions",
    "caller_interruptions",
)


def dig(doc: dict[str, Any] | None, *keys: str) -> Any:
    """``doc[k1][k2]...``, or None where a level is missing or not a mapping."""
    cur: Any = doc
    for k in keys:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(k)
    return cur


def row_from_result(doc: dict[str, Any]) -> dict[str, Any]:
    """The ``call_analyses`` row of one per-call result document."""
    metrics = doc.get("metrics") or {}
    call = doc.get("call") or {}
    etiquette = doc.get("etiquette") or {}
    row: dict[str, Any] = {n: metrics.get(n) for n in _METRIC_COLUMNS}
    row.update(
        call_id=doc["call_id"],
        start_ts=call.get("start_ts"),
        agent=call.get("agent"),
        queue=call.get("queue"),
        caller=call.get("caller"),
        layout=doc["layout"],
        language=doc.get("language") or None,
        long_gaps=len(metrics.get("long_gaps") or ()),
        topic=dig(doc, "topic", "topic"),
        topic_score=dig(doc, "topic", "score"),
        resolved=dig(doc, "resolution", "resolved"),
        resolution_confidence=dig(doc, "resolution", "confidence"),
        agent_sentiment=dig(doc, "sentiment", "agent", "score"),
        caller_sentiment=dig(doc, "sentiment", "caller", "score"),
        caller_sentiment_trend=dig(doc, "sentiment", "caller", "trend"),
        etiquette_passed=etiquette.get("passed"),
        etiquette_checked=etiquette.get("known"),
        analyzed_at=dt.datetime.fromisoformat(doc["analyzed_at"].replace("Z", "+00:00")),
        result=json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
    )
    return row


class AnalysisStore:
    """Reads and writes per-call results; the caller owns the transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def save(self, doc: dict[str, Any]) -> None:
        """Insert or replace one call's result (and its keyword hits)."""
        cid = doc["call_id"]
        self.conn.execute(delete(keywords_table).where(keywords_table.c.call_id == cid))
        self.conn.execute(delete(analyses_table).where(analyses_table.c.call_id == cid))
        self.conn.execute(insert(analyses_table), [row_from_result(doc)])
        hits = [
            {
                "call_id": cid,
                "category": str(h.get("category")),
                "phrase": str(h.get("phrase")),
                "speaker": str(h.get("speaker")),
                "t": float(h.get("start_s") or 0.0),
            }
            for h in doc.get("keywords") or ()
        ]
        if hits:
            self.conn.execute(insert(keywords_table), hits)

    def call_ids(self) -> set[str]:
        return set(self.conn.scalars(select(analyses_table.c.call_id)))

    def results(
        self, start_from: float | None = None, start_to: float | None = None
    ) -> Iterable[dict[str, Any]]:
        """The stored documents whose call started in ``[start_from, start_to)``, by start.

        With a period given, calls of unknown start time are left out.
        """
        q = select(analyses_table.c.result).order_by(
            analyses_table.c.start_ts, analyses_table.c.call_id
        )
        if start_from is not None:
            q = q.where(analyses_table.c.start_ts >= start_from)
        if start_to is not None:
            q = q.where(analyses_table.c.start_ts < start_to)
        for text in self.conn.scalars(q):
            yield json.loads(text)
