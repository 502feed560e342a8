"""Loading and checking events, settings, benchmarks and the CSV/JSON forms of a report."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from kpi_logs import T0, Log

from callcenter.errors import InputFileError, UserError
from callcenter.kpi import (
    BENCHMARKS,
    Breakdown,
    KpiRow,
    KpiSettings,
    KpiSettingsError,
    RowLevel,
    SlMode,
    compute_kpis,
    events_to_frame,
    load_events,
    report_to_csv,
    report_to_json,
)
from callcenter.kpi.benchmarks import evaluate
from callcenter.kpi.results import AgentTimeMetrics, HandlingMetrics, VisitMetrics


def simple() -> Log:
    log = Log().login(0, "a1")
    log.answered("c1", "sales", "a1", enq=0, wait=10, talk=240, acw=60)
    return log.enqueue(500, "c2", "sales").abandon(530, "c2", "sales", wait=30)


def test_load_events_encodes_and_drops_the_header(tmp_path: Path) -> None:
    frame = load_events(simple().write(tmp_path / "log.jsonl"))
    assert frame.height == 8  # login + 5 for c1 + 2 for c2; the header line is not an event
    assert frame["type"].to_list()[:2] == ["agent_login", "enqueue"]
    assert frame.schema["cid"] == pl.UInt64 and frame.schema["agent"] == pl.Categorical
    assert frame["t"][0] == T0


def test_negative_duration_names_the_line(tmp_path: Path) -> None:
    path = simple().write(tmp_path / "neg.jsonl")
    lines = path.read_text().splitlines()
    lines[-1] = lines[-1].replace('"wait":30', '"wait":-30')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError, match=r"neg\.jsonl:9: field 'wait' must be >= 0"):
        load_events(path)


def test_frame_source_errors() -> None:
    frame = events_to_frame(simple().sorted_events())
    bad_type = frame.with_columns(pl.col("type").cast(pl.String).str.replace("abandon", "x"))
    with pytest.raises(UserError, match="does not fit the event schema"):
        compute_kpis(bad_type)
    no_wait = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias("wait"))
    with pytest.raises(UserError, match=r"events: event 4 does not fit"):
        compute_kpis(no_wait)  # the connect (4th event) needs its wait
    with pytest.raises(UserError, match="needs the columns 't' and 'type'"):
        compute_kpis(frame.drop("t"))
    minimal = frame.select("t", "type", "contact", "queue", "agent", "wait", "talk", "acw")
    assert compute_kpis(minimal).total.visits is not None  # optional columns may be absent


def test_empty_frame_has_no_events() -> None:
    empty = events_to_frame([])
    with pytest.raises(UserError, match="has no events"):
        compute_kpis(empty)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"interval_s": 420}, "divides a day"),  # 7 min
        ({"interval_s": 90}, "whole number of minutes"),
        ({"interval_s": 0}, "whole number of minutes"),
        ({"sl_threshold_s": -1.0}, "service-level threshold must be >= 0"),
        ({"short_abandon_s": float("nan")}, "short-abandon threshold"),
    ],
)
def test_settings_are_checked(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(KpiSettingsError, match=message):
        KpiSettings(**kwargs).validated()  # type: ignore[arg-type]


def _total(*, sl: float | None, abandon: float | None, occ: float | None, talk: float | None,
           acw: float | None) -> KpiRow:  # fmt: skip
    visits = VisitMetrics(
        offered=10, answered=9, abandoned=1, short_abandoned=0, timed_out=0, overflowed=0,
        exited=0, callbacks_requested=0, open=0, answered_within=8, service_level=sl,
        service_level_answered=None, service_level_offered=None,
        service_level_excl_short=None, abandon_rate=abandon, asa_s=12.0, avg_wait_s=None,
        max_wait_s=None,
    )  # fmt: skip
    handling = HandlingMetrics(
        offers=9, connects=9, ring_noanswer=0, handled=9, in_progress=0, aht_s=None,
        avg_talk_s=talk, avg_hold_s=0.0, avg_acw_s=acw, transfers=0, transfer_rate=0.0,
        callbacks_made=0,
    )  # fmt: skip
    agents = AgentTimeMetrics(
        staffed_s=1.0, available_s=0.0, ringing_s=0.0, on_contact_s=1.0, wrap_up_s=0.0,
        paused_s=0.0, paused_by_reason_s={}, occupancy=occ, utilisation=None,
    )  # fmt: skip
    return KpiRow(RowLevel.TOTAL, None, None, None, None, visits, handling, agents)


def test_benchmarks_met_and_not_met() -> None:
    assert [b.key for b in BENCHMARKS] == [
        "service_level", "asa_s", "abandon_rate", "occupancy", "avg_talk_s", "avg_acw_s",
    ]  # fmt: skip
    good = _total(sl=0.85, abandon=0.08, occ=0.60, talk=240.0, acw=360.0)
    results = {b.key: b for b in evaluate(good, KpiSettings(), 0.80)}
    assert results["service_level"].met is True  # 80 % in 20 s is exactly the benchmark
    assert results["service_level"].value == 0.80  # measured at 20 s, not the report's T
    assert results["abandon_rate"].met is True  # 8 % is the top of the 5-8 % range
    assert results["occupancy"].met is True  # 60 % is inside 60-80 %
    assert results["avg_talk_s"].met is True and results["avg_acw_s"].met is True
    assert results["asa_s"].met is None and results["asa_s"].benchmark == "—"
    assert results["asa_s"].value == 12.0
    bad = _total(sl=0.5, abandon=0.081, occ=0.81, talk=241.0, acw=361.0)
    results = {b.key: b for b in evaluate(bad, KpiSettings(sl_threshold_s=30), 0.79)}
    assert {k: r.met for k, r in results.items()} == {
        "service_level": False, "asa_s": None, "abandon_rate": False, "occupancy": False,
        "avg_talk_s": False, "avg_acw_s": False,
    }  # fmt: skip
    assert "report's own threshold is 30 s" in (results["service_level"].note or "")
    low = _total(sl=None, abandon=None, occ=0.59, talk=None, acw=None)
    results = {b.key: b for b in evaluate(low, KpiSettings(), None)}
    assert results["occupancy"].met is False  # below 60 % is outside the range too
    assert results["service_level"].met is None  # no value: neither met nor missed


def test_json_and_csv_agree(tmp_path: Path) -> None:
    report = simple().report(tmp_path, by=Breakdown.AGENT, sl_mode=SlMode.ANSWERED)
    data = json.loads(report_to_json(report))
    assert data == json.loads(json.dumps(report.to_dict()))
    rows = list(csv.DictReader(io.StringIO(report_to_csv(report))))
    assert [r["level"] for r in rows] == ["agent", "total"]
    assert rows[0]["agent"] == "a1" and rows[0]["offered"] == ""  # no visits on agent rows
    assert float(rows[0]["aht_s"]) == data["rows"][0]["handling"]["aht_s"] == 300.0
    assert float(rows[1]["service_level"]) == 1.0  # answered mode: 1 of 1 within 20 s
    assert rows[1]["abandon_rate"] == "0.5"


def test_paused_reasons_become_csv_columns(tmp_path: Path) -> None:
    log = simple().pause(600, "a1", "lunch").available(900, "a1")
    rows = list(csv.DictReader(io.StringIO(report_to_csv(log.report(tmp_path)))))
    assert rows[-1]["paused_s:lunch"] == "300.0"


def test_report_dates_are_utc(tmp_path: Path) -> None:
    report = simple().report(tmp_path, by=Breakdown.INTERVAL, interval_s=900)
    assert report.period.start == datetime(2024, 1, 1, tzinfo=UTC)
    assert report.rows[0].interval_start == datetime(2024, 1, 1, tzinfo=UTC)
    data = report.to_dict()
    assert data["rows"][0]["interval_start"] == "2024-01-01T00:00:00Z"
    assert data["period"]["end"] == "2024-01-01T00:08:50Z"
    assert replace(report.settings, by=Breakdown.DAY).by is Breakdown.DAY
