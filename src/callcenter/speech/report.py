"""Speech-analytics reports over stored per-call results: calls, agents, the center.

Input: the per-call result documents (from the database, one per call). Output: polars
frames, rendered by the CLI as a table, JSON or CSV.

Definitions (also in ``docs/speech.md``, "Reports"):

* ``silence %`` of a call: dead air / duration × 100. Per agent, the mean over calls.
* ``talk ratio``: agent talk / (agent + caller talk) per call; per agent the mean,
  median and 90th percentile over the calls where both sides were recorded.
* ``interruptions / call``: the agent's interruptions of the caller, mean per call.
* ``etiquette pass rate`` of a check: calls where it passed / calls where it could be
  decided. ``etiquette score``: passed / decided checks, summed over calls.
* ``resolved %``: calls judged resolved / calls judged (resolved or not).
* ``topic mix``: calls per topic and share of the calls in the period.
* ``keyword trend``: keyword hits per day and category.
Calls without a transcript (analysed with ``--no-transcript``) count in the
quantitative columns only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Final

import polars as pl

from callcenter.storage.analysis_store import dig

CHECKS: Final = ("greeting", "introduction", "anything_else", "thanks", "interruptions", "jargon")


def _day(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).date().isoformat()


_CALL_SCHEMA: Final = {
    "call_id": pl.String,
    "start": pl.String,
    "day": pl.String,
    "agent": pl.String,
    "queue": pl.String,
    "duration_s": pl.Float64,
    "talk_ratio": pl.Float64,
    "silence_pct": pl.Float64,
    "longest_gap_s": pl.Float64,
    "overtalk_s": pl.Float64,
    "agent_interruptions": pl.Int64,
    "caller_interruptions": pl.Int64,
    "hold_s": pl.Float64,
    "agent_wpm": pl.Float64,
    "caller_wpm": pl.Float64,
    "topic": pl.String,
    "resolved": pl.Boolean,
    "resolution_confidence": pl.Float64,
    "caller_sentiment": pl.Float64,
    "caller_trend": pl.Float64,
    "etiquette_passed": pl.Int64,
    "etiquette_known": pl.Int64,
    "keywords": pl.Int64,
    **{f"etq_{c}": pl.Boolean for c in CHECKS},
}


def calls_frame(docs: Iterable[dict[str, Any]]) -> pl.DataFrame:
    """One row per call (see the module docstring for the columns' meaning)."""
    rows = []
    for d in docs:
        m = d.get("metrics") or {}
        duration = m.get("duration_s")
        dead = m.get("dead_air_s")
        row: dict[str, Any] = {
            "call_id": d["call_id"],
            "start": dig(d, "call", "start"),
            "day": _day(dig(d, "call", "start_ts")),
            "agent": dig(d, "call", "agent"),
            "queue": dig(d, "call", "queue"),
            "duration_s": duration,
            "talk_ratio": m.get("talk_ratio"),
            "silence_pct": 100.0 * dead / duration if duration and dead is not None else None,
            "longest_gap_s": m.get("longest_gap_s"),
            "overtalk_s": m.get("overtalk_s"),
            "agent_interruptions": m.get("agent_interruptions"),
            "caller_interruptions": m.get("caller_interruptions"),
            "hold_s": m.get("hold_s"),
            "agent_wpm": m.get("agent_words_per_min"),
            "caller_wpm": m.get("caller_words_per_min"),
            "topic": dig(d, "topic", "topic"),
            "resolved": dig(d, "resolution", "resolved"),
            "resolution_confidence": dig(d, "resolution", "confidence"),
            "caller_sentiment": dig(d, "sentiment", "caller", "score"),
            "caller_trend": dig(d, "sentiment", "caller", "trend"),
            "etiquette_passed": dig(d, "etiquette", "passed"),
            "etiquette_known": dig(d, "etiquette", "known"),
            "keywords": len(d["keywords"]) if d.get("keywords") is not None else None,
        }
        for c in CHECKS:
            row[f"etq_{c}"] = dig(d, "etiquette", "checks", c, "passed")
        rows.append(row)
    return pl.DataFrame(rows, schema=_CALL_SCHEMA)


def keyword_frame(docs: Iterable[dict[str, Any]]) -> pl.DataFrame:
    """One row per keyword hit: call, agent, day, category, phrase, speaker, time."""
    rows = [
        {
            "call_id": d["call_id"],
            "agent": dig(d, "call", "agent"),
            "day": _day(dig(d, "call", "start_ts")),
            "category": h.get("category"),
            "phrase": h.get("phrase"),
            "speaker": h.get("speaker"),
            "start_s": h.get("start_s"),
        }
        for d in docs
        for h in d.get("keywords") or ()
    ]
    schema = {
        "call_id": pl.String,
        "agent": pl.String,
        "day": pl.String,
        "category": pl.String,
        "phrase": pl.String,
        "speaker": pl.String,
        "start_s": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


def _rate(col: str) -> pl.Expr:
    """Share of True among the non-null values, in %."""
    c = pl.col(col)
    return pl.when(c.count() > 0).then(100.0 * c.cast(pl.Float64).sum() / c.count())


def agents_frame(calls: pl.DataFrame, keywords: pl.DataFrame) -> pl.DataFrame:
    """Per agent: averages and distributions over their calls."""
    per = (
        calls.with_columns(pl.col("agent").fill_null("(unknown)"))
        .group_by("agent")
        .agg(
            pl.len().alias("calls"),
            (pl.col("duration_s").sum() / 60).alias("minutes"),
            pl.col("talk_ratio").mean().alias("talk_ratio_mean"),
            pl.col("talk_ratio").median().alias("talk_ratio_p50"),
            pl.col("talk_ratio").quantile(0.9, "linear").alias("talk_ratio_p90"),
            pl.col("silence_pct").mean().alias("silence_pct_mean"),
            pl.col("longest_gap_s").max().alias("longest_gap_s_max"),
            pl.col("agent_interruptions").mean().alias("interruptions_per_call"),
            pl.col("agent_wpm").mean().alias("agent_wpm_mean"),
            pl.when(pl.col("etiquette_known").sum() > 0)
            .then(100.0 * pl.col("etiquette_passed").sum() / pl.col("etiquette_known").sum())
            .alias("etiquette_score_pct"),
            *(_rate(f"etq_{c}").alias(f"{c}_pct") for c in CHECKS),
            _rate("resolved").alias("resolved_pct"),
            pl.col("caller_sentiment").mean().alias("caller_sentiment_mean"),
            pl.col("topic").drop_nulls().mode().first().alias("top_topic"),
        )
    )
    if keywords.height:
        hits = (
            keywords.with_columns(pl.col("agent").fill_null("(unknown)"))
            .group_by("agent", "category")
            .len()
            .pivot(on="category", index="agent", values="len")
        )
        hits = hits.rename({c: f"kw_{c}" for c in hits.columns if c != "agent"})
        per = per.join(hits, on="agent", how="left")
        per = per.with_columns(pl.col(c).fill_null(0) for c in per.columns if c.startswith("kw_"))
    return per.sort("agent")


def center_summary(calls: pl.DataFrame) -> dict[str, Any]:
    """Headline figures of the period."""
    n = calls.height
    judged = calls["resolved"].drop_nulls()
    return {
        "calls": n,
        "hours": round(float(calls["duration_s"].sum() or 0.0) / 3600, 3),
        "first_call": calls["start"].drop_nulls().min() if n else None,
        "last_call": calls["start"].drop_nulls().max() if n else None,
        "resolved_pct": (
            round(100.0 * int(judged.sum()) / judged.len(), 2) if judged.len() else None
        ),
        "talk_ratio_mean": _round(calls["talk_ratio"].mean()),
        "silence_pct_mean": _round(calls["silence_pct"].mean()),
        "interruptions_per_call": _round(calls["agent_interruptions"].mean()),
        "caller_sentiment_mean": _round(calls["caller_sentiment"].mean()),
    }


def _round(x: Any) -> float | None:
    return None if x is None else round(float(x), 4)


def topic_mix(calls: pl.DataFrame) -> pl.DataFrame:
    """Calls per topic, their share and resolution rate, most frequent first."""
    n = calls.height
    return (
        calls.with_columns(pl.col("topic").fill_null("(none)"))
        .group_by("topic")
        .agg(pl.len().alias("calls"), _rate("resolved").alias("resolved_pct"))
        .with_columns((100.0 * pl.col("calls") / max(n, 1)).alias("share_pct"))
        .select("topic", "calls", "share_pct", "resolved_pct")
        .sort(["calls", "topic"], descending=[True, False])
    )


def keyword_trend(keywords: pl.DataFrame) -> pl.DataFrame:
    """Keyword hits per day and category (calls of unknown day under ``(unknown)``)."""
    return (
        keywords.with_columns(pl.col("day").fill_null("(unknown)"))
        .group_by("day", "category")
        .agg(pl.len().alias("hits"), pl.col("call_id").n_unique().alias("calls"))
        .sort("day", "category")
    )
