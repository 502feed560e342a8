"""Call metadata from sidecars, CSV/JSON files and event logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callcenter.errors import UserError
from callcenter.events import Event, EventType
from callcenter.speech.metadata import (
    CallMeta,
    MetadataError,
    iso,
    load_event_metadata,
    load_metadata_file,
    parse_time,
    sidecar,
)
from callcenter.storage.columnar import jsonl_to_parquet
from callcenter.storage.jsonl import write_events

T0 = 1_795_072_000.0  # 2026-11-19T07:06:40Z (date -d 2026-11-19T07:06:40Z +%s)


def test_parse_time_forms() -> None:
    assert parse_time("2026-11-19T07:06:40Z") == T0
    assert parse_time("2026-11-19T07:06:40") == T0  # naive = UTC
    assert parse_time("2026-11-19T09:06:40+02:00") == T0
    assert parse_time(T0) == T0
    assert parse_time(str(int(T0))) == T0
    assert iso(T0) == "2026-11-19T07:06:40Z"
    for bad in ("yesterday", "", True, float("nan")):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_csv_file(tmp_path: Path) -> None:
    p = tmp_path / "calls.csv"
    p.write_text(
        "call_id,agent,caller,queue,start,extra\n"
        "c1,anna,+15551230001,support,2026-11-19T07:06:40Z,x\n"
        "c2,,,sales,,\n",
        encoding="utf-8",
    )
    meta = load_metadata_file(p)
    assert meta == {
        "c1": CallMeta("anna", "+15551230001", "support", T0),
        "c2": CallMeta(None, None, "sales", None),
    }


def test_json_list_and_mapping(tmp_path: Path) -> None:
    a = tmp_path / "a.json"
    a.write_text(json.dumps([{"call_id": "c1", "agent": "anna", "start": T0}]))
    b = tmp_path / "b.json"
    b.write_text(json.dumps({"c1": {"agent": "anna", "start": "2026-11-19T07:06:40Z"}}))
    assert (
        load_metadata_file(a) == load_metadata_file(b) == {"c1": CallMeta("anna", None, None, T0)}
    )


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.csv", "id,agent\nc1,a\n", "expected a CSV header with a call_id column"),
        ("m.csv", "call_id,start\nc1,soon\n", "m.csv:2: start: 'soon' is not a time"),
        ("m.csv", "call_id,agent\n,anna\n", "m.csv:2: a row without call_id"),
        ("m.json", "[1, 2]", "item 0: expected an object of call fields"),
        ("m.json", '"x"', "expected a JSON list of calls or an object keyed by call id"),
        ("m.json", "{", "m.json:1: not valid JSON"),
    ],
)
def test_bad_metadata_files(tmp_path: Path, name: str, text: str, message: str) -> None:
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(MetadataError) as err:
        load_metadata_file(p)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_metadata_file(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match="no such metadata file"):
        load_metadata_file(tmp_path / "nope.csv")


def test_sidecar(tmp_path: Path) -> None:
    audio = tmp_path / "c7.wav"
    assert sidecar(audio, "c7") is None
    (tmp_path / "c7.json").write_text(json.dumps({"agent": "bo", "queue": "vip"}))
    assert sidecar(audio, "c7") == CallMeta("bo", None, "vip", None)
    (tmp_path / "c7.json").write_text("[]")
    with pytest.raises(MetadataError, match="expected one JSON object"):
        sidecar(audio, "c7")


def test_merged_prefers_own_fields() -> None:
    own = CallMeta(agent="a", start=None)
    other = CallMeta(agent="b", caller="c", start=T0)
    assert own.merged(other) == CallMeta("a", "c", None, T0)
    assert own.merged(None) is own


def _log(tmp_path: Path) -> Path:
    events = [
        Event(t=T0, type=EventType.ARRIVE, contact="c1", channel="voice", caller="+1555000"),
        Event(t=T0, type=EventType.ENQUEUE, contact="c1", queue="support", priority=0),
        Event(t=T0 + 5, type=EventType.OFFER, contact="c1", queue="support", agent="ann"),
        Event(t=T0 + 8, type=EventType.CONNECT, contact="c1", queue="support", agent="ann"),
        Event(t=T0 + 90, type=EventType.TRANSFER, contact="c1", queue="support", agent="ann",
              target="sales", target_type="queue", kind="blind"),
        Event(t=T0 + 99, type=EventType.CONNECT, contact="c1", queue="sales", agent="ben"),
        Event(t=T0 + 20, type=EventType.ARRIVE, contact="c2", channel="voice", caller="+1555999"),
        Event(t=T0 + 20, type=EventType.ABANDON, contact="c2", queue="support", wait=3.0),
    ]  # fmt: skip
    p = tmp_path / "day.jsonl"
    write_events(p, events, source="test")
    return p


def test_event_log_metadata_first_connect(tmp_path: Path) -> None:
    log = _log(tmp_path)
    meta = load_event_metadata(log)
    # c1: answered first by ann in support (then transferred); c2 never answered
    assert meta["c1"] == CallMeta("ann", "+1555000", "support", T0 + 8)
    assert meta["c2"] == CallMeta(None, "+1555999", None, None)
    only = load_event_metadata(log, ["c2"])
    assert set(only) == {"c2"}
    pq = tmp_path / "day.parquet"
    jsonl_to_parquet(log, pq)
    assert load_event_metadata(pq) == meta


def test_event_log_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"none\.jsonl: no such file"):
        load_event_metadata(tmp_path / "none.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    with pytest.raises(UserError, match=r"bad\.jsonl"):
        load_event_metadata(bad)
