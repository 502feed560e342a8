"""Reports over stored results (per call, per agent, center) and the SQL result store.

The documents are written by hand with round numbers; every expected figure below is
worked out in the comments, not taken from the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from callcenter.speech import report as rp
from callcenter.storage.analysis_store import AnalysisStore, analyses_table, keywords_table
from callcenter.storage.db import make_engine, upgrade

DAY1 = 1_795_072_000.0  # 2026-11-19T07:06:40Z
DAY2 = DAY1 + 86_400


def doc(
    cid: str,
    agent: str | None,
    start: float | None,
    duration: float,
    dead: float,
    talk_ratio: float | None,
    interruptions: int | None,
    topic: str | None,
    resolved: bool | None,
    checks: dict[str, bool | None] | None,
    keywords: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    etq = None
    if checks is not None:
        etq = {
            "checks": {k: {"passed": v, "at_s": None, "evidence": None} for k, v in checks.items()},
            "passed": sum(v is True for v in checks.values()),
            "known": sum(v is not None for v in checks.values()),
        }
    return {
        "schema": "callcenter.call_analysis",
        "version": 1,
        "call_id": cid,
        "layout": "stereo" if talk_ratio is not None else "mono",
        "analyzed_at": "2026-11-23T08:00:00Z",
        "call": {
            "agent": agent,
            "caller": None,
            "queue": "support",
            "start": None if start is None else "x",
            "start_ts": start,
        },
        "metrics": {
            "duration_s": duration,
            "dead_air_s": dead,
            "talk_ratio": talk_ratio,
            "agent_interruptions": interruptions,
            "long_gaps": [],
        },
        "topic": None if topic is None else {"topic": topic, "score": 0.5},
        "resolution": {"resolved": resolved, "confidence": 0.8},
        "sentiment": {"caller": {"score": 0.2, "trend": 0.1}, "agent": None},
        "etiquette": etq,
        "keywords": [
            {"category": c, "phrase": p, "speaker": "caller", "start_s": 1.0} for c, p in keywords
        ],
    }


ALL = ("greeting", "introduction", "anything_else", "thanks", "interruptions", "jargon")


def checks(**failed: bool | None) -> dict[str, bool | None]:
    return {c: failed.get(c, True) for c in ALL}


DOCS = [
    # anna: 100 s, 10 s dead air (10 %), ratio 0.4, 1 interruption, 4 of 6 checks passed
    doc("c1", "anna", DAY1, 100, 10, 0.4, 1, "card", True, checks(thanks=False, jargon=False),
        [("abusive", "damn"), ("products", "gold card")]),
    # anna: 200 s, 50 s dead air (25 %), ratio 0.6, 3 interruptions, 5 of 6 passed
    doc("c2", "anna", DAY2, 200, 50, 0.6, 3, "card", False, checks(jargon=False),
        [("competitors", "acme")]),
    # ben: a mono call, no per-side values, no transcript-derived results
    doc("c3", "ben", DAY2 + 60, 60, 0, None, None, "balance", None, None),
]  # fmt: skip


def test_calls_frame() -> None:
    calls = rp.calls_frame(DOCS)
    assert calls["call_id"].to_list() == ["c1", "c2", "c3"]
    assert calls["silence_pct"].to_list() == [10.0, 25.0, 0.0]
    assert calls["day"].to_list() == ["2026-11-19", "2026-11-20", "2026-11-20"]
    assert calls["keywords"].to_list() == [2, 1, 0]
    assert calls["etq_thanks"].to_list() == [False, True, None]


def test_agents_frame() -> None:
    calls = rp.calls_frame(DOCS)
    agents = {r["agent"]: r for r in rp.agents_frame(calls, rp.keyword_frame(DOCS)).to_dicts()}
    anna, ben = agents["anna"], agents["ben"]
    assert anna["calls"] == 2
    assert anna["minutes"] == pytest.approx(5.0)  # 300 s
    assert anna["talk_ratio_mean"] == pytest.approx(0.5)  # (0.4 + 0.6) / 2
    assert anna["talk_ratio_p90"] == pytest.approx(0.58)  # 0.4 + 0.9 * (0.6 - 0.4)
    assert anna["silence_pct_mean"] == pytest.approx(17.5)  # (10 + 25) / 2
    assert anna["interruptions_per_call"] == pytest.approx(2.0)
    assert anna["etiquette_score_pct"] == pytest.approx(75.0)  # 9 of 12
    assert anna["greeting_pct"] == pytest.approx(100.0)
    assert anna["thanks_pct"] == pytest.approx(50.0)
    assert anna["jargon_pct"] == pytest.approx(0.0)
    assert anna["resolved_pct"] == pytest.approx(50.0)
    assert anna["top_topic"] == "card"
    assert (anna["kw_abusive"], anna["kw_products"], anna["kw_competitors"]) == (1, 1, 1)
    assert ben["calls"] == 1
    assert ben["talk_ratio_mean"] is None
    assert ben["resolved_pct"] is None
    assert ben["etiquette_score_pct"] is None
    assert ben["kw_abusive"] == 0


def test_center() -> None:
    calls = rp.calls_frame(DOCS)
    s = rp.center_summary(calls)
    assert s["calls"] == 3
    assert s["hours"] == pytest.approx(0.1)  # 360 s
    assert s["resolved_pct"] == pytest.approx(50.0)  # 1 of the 2 judged
    mix = rp.topic_mix(calls).to_dicts()
    assert [(m["topic"], m["calls"]) for m in mix] == [("card", 2), ("balance", 1)]
    assert mix[0]["share_pct"] == pytest.approx(200 / 3)
    assert mix[0]["resolved_pct"] == pytest.approx(50.0)
    assert mix[1]["resolved_pct"] is None
    trend = rp.keyword_trend(rp.keyword_frame(DOCS)).to_dicts()
    assert [(t["day"], t["category"], t["hits"]) for t in trend] == [
        ("2026-11-19", "abusive", 1),
        ("2026-11-19", "products", 1),
        ("2026-11-20", "competitors", 1),
    ]


def test_empty_report() -> None:
    calls = rp.calls_frame([])
    assert rp.agents_frame(calls, rp.keyword_frame([])).height == 0
    assert rp.center_summary(calls)["calls"] == 0
    assert rp.topic_mix(calls).height == 0


def test_store_roundtrip_replace_and_period(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        store = AnalysisStore(conn)
        for d in DOCS:
            store.save(d)
        store.save(DOCS[0])  # again: replaced, not duplicated
    with engine.connect() as conn:
        store = AnalysisStore(conn)
        assert store.call_ids() == {"c1", "c2", "c3"}
        assert conn.scalar(select(func.count()).select_from(keywords_table)) == 3
        row = (
            conn.execute(select(analyses_table).where(analyses_table.c.call_id == "c2"))
            .one()
            ._asdict()
        )
        assert (row["agent"], row["topic"], row["resolved"]) == ("anna", "card", False)
        assert (row["etiquette_passed"], row["etiquette_checked"]) == (5, 6)
        assert row["dead_air_s"] == 50.0
        assert [d["call_id"] for d in store.results()] == ["c1", "c2", "c3"]
        assert [d["call_id"] for d in store.results(DAY2, None)] == ["c2", "c3"]
        assert [d["call_id"] for d in store.results(None, DAY2)] == ["c1"]
        assert list(store.results(DAY2 + 1, DAY2 + 2)) == []
        assert store.results().__next__() == DOCS[0]  # the whole document comes back
    engine.dispose()
