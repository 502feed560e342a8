"""Parquet event logs: exact round trip, same KPIs as JSON Lines, clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from callcenter.errors import InputFileError
from callcenter.events import Event, EventType
from callcenter.kpi import Breakdown, KpiSettings, compute_kpis
from callcenter.storage.columnar import jsonl_to_parquet, parquet_to_jsonl, read_parquet_header
from callcenter.storage.jsonl import read_events, write_events

EXAMPLE = Path(__file__).parents[2] / "examples" / "helpdesk.yaml"


def _log(path: Path) -> Path:
    E = EventType  # noqa: N806 - the enum, short
    events = [
        Event(0.0, E.AGENT_LOGIN, agent="a1"),
        Event(10.0, E.ARRIVE, "c1", channel="voice", caller='+1 "555"'),
        Event(10.0, E.ENQUEUE, "c1", "q", position=1, priority=2),
        Event(12.5, E.OFFER, "c1", "q", "a1", wait=2.5),
        Event(14.0, E.CONNECT, "c1", "q", "a1", wait=4.0, ring=1.5),
        Event(100.0, E.COMPLETE, "c1", "q", "a1", by="caller", talk=86.0, hold=0.0),
        Event(130.0, E.WRAPUP_END, "c1", "q", "a1", acw=30.0),
        Event(140.0, E.AGENT_STATE, agent="a1", state="paused", reason="lunch"),
    ]
    write_events(path, events, source="test")
    return path


def test_round_trip_is_exact(tmp_path: Path) -> None:
    src = _log(tmp_path / "a.jsonl")
    assert jsonl_to_parquet(src, tmp_path / "a.parquet") == 9  # header + 8 events
    assert read_parquet_header(tmp_path / "a.parquet")["source"] == "test"
    parquet_to_jsonl(tmp_path / "a.parquet", tmp_path / "b.jsonl")
    assert list(read_events(tmp_path / "b.jsonl", with_header=True)) == list(
        read_events(src, with_header=True)
    )
    assert not list(tmp_path.glob("*.part"))


def test_kpis_from_parquet_equal_kpis_from_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "hd.jsonl"
    r = subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "simulate", str(EXAMPLE), "-q",
         "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    jsonl_to_parquet(out, tmp_path / "hd.parquet")
    for by in (Breakdown.QUEUE, Breakdown.AGENT, Breakdown.INTERVAL):
        a = compute_kpis(out, KpiSettings(by=by)).to_dict()
        b = compute_kpis(tmp_path / "hd.parquet", KpiSettings(by=by)).to_dict()
        assert a == b


def test_simulate_straight_to_parquet_equals_its_jsonl(tmp_path: Path) -> None:
    """``simulate --out X.parquet`` (written through the event-log door's writer) holds
    the same events as the JSON Lines run with the same seed, and leaves no part file."""
    for name in ("hd.jsonl", "hd.parquet"):
        r = subprocess.run(
            [sys.executable, "-m", "callcenter.cli.main", "simulate", str(EXAMPLE), "-q",
             "--seed", "7", "--out", str(tmp_path / name)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
    assert (tmp_path / "hd.parquet").read_bytes()[:4] == b"PAR1"
    parquet_to_jsonl(tmp_path / "hd.parquet", tmp_path / "back.jsonl")
    assert list(read_events(tmp_path / "back.jsonl", with_header=True)) == list(
        read_events(tmp_path / "hd.jsonl", with_header=True)
    )
    assert not list(tmp_path.glob("*.part"))


def test_bad_line_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    src = _log(tmp_path / "a.jsonl")
    lines = src.read_text().splitlines()
    lines[4] = lines[4][:25]  # truncate line 5
    src.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError, match=r"a\.jsonl:5: not a JSON object"):
        jsonl_to_parquet(src, tmp_path / "a.parquet")
    assert not list(tmp_path.glob("a.parquet*"))


def test_not_an_event_log(tmp_path: Path) -> None:
    junk = tmp_path / "junk.parquet"
    junk.write_text("hello")
    with pytest.raises(InputFileError, match="not a readable Parquet file"):
        read_parquet_header(junk)
    with pytest.raises(InputFileError, match="no such file"):
        read_parquet_header(tmp_path / "missing.parquet")


def test_convert_cli(tmp_path: Path) -> None:
    src = _log(tmp_path / "a.jsonl")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "callcenter.cli.main", "convert", *args],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    ok = cli(str(src), str(tmp_path / "a.parquet"))
    assert ok.returncode == 0, ok.stderr
    assert "8 events" in ok.stdout
    bad = cli(str(src), str(tmp_path / "a.csv"))
    assert bad.returncode == 2
    assert "convert goes from .jsonl to .parquet" in bad.stderr
    assert "Traceback" not in bad.stderr
