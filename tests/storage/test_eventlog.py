"""The event log's front door (storage.eventlog): one hand-written log read back the same
from JSON Lines, Parquet and SQL with a chosen set of columns; errors name file and line."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from callcenter.errors import InputFileError
from callcenter.events import Event, EventType
from callcenter.storage import eventlog
from callcenter.storage.db import DatabaseError, event_logs_table, make_engine, upgrade
from callcenter.storage.eventlog import DatabaseLog, FileLog, open_log

FIXTURE = Path(__file__).parent / "data" / "hand.jsonl"
T0 = 1_714_550_400.0
COLUMNS = ["t", "type", "contact", "queue", "agent", "wait", "caller"]

# The fixture's events (the header left out) in COLUMNS, written out by hand.
EXPECTED: list[dict[str, object]] = [
    {"t": T0, "type": "agent_login", "agent": "a1"},
    {"t": T0 + 10, "type": "arrive", "contact": "c1", "caller": "+15550001"},
    {"t": T0 + 10, "type": "enqueue", "contact": "c1", "queue": "sales"},
    {"t": T0 + 15.5, "type": "connect", "contact": "c1", "queue": "sales", "agent": "a1",
     "wait": 5.5},
    {"t": T0 + 100, "type": "complete", "contact": "c1", "queue": "sales", "agent": "a1"},
    {"t": T0 + 130, "type": "wrapup_end", "contact": "c1", "queue": "sales", "agent": "a1"},
    {"t": T0 + 140, "type": "arrive", "contact": "c2", "caller": "+15550002"},
    {"t": T0 + 141, "type": "enqueue", "contact": "c2", "queue": "sales"},
    {"t": T0 + 161, "type": "abandon", "contact": "c2", "queue": "sales", "wait": 20.0},
    {"t": T0 + 200, "type": "agent_state", "agent": "a1"},
]  # fmt: skip


def rows(frame: pl.DataFrame) -> list[dict[str, object]]:
    """The frame's rows with unset fields left out, ``type`` as text."""
    assert frame.columns == COLUMNS
    plain = frame.with_columns(pl.col("type").cast(pl.String))
    return [{k: v for k, v in r.items() if v is not None} for r in plain.iter_rows(named=True)]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cc.db'}"
    upgrade(url)
    return url


def test_jsonl_header_and_chosen_columns() -> None:
    log = open_log(FIXTURE)
    assert isinstance(log, FileLog) and not log.parquet
    header = log.header()
    assert (header.type, header.source, header.version, header.t) == (
        EventType.HEADER,
        "hand",
        1,
        T0,
    )
    assert rows(log.read_frame(COLUMNS)) == EXPECTED
    frame = log.read_frame(["agent", "t"])  # only these, in this order
    assert frame.columns == ["agent", "t"] and frame.height == len(EXPECTED)


def test_query_runs_before_collect() -> None:
    def answered(events: pl.LazyFrame) -> pl.LazyFrame:
        return events.filter(pl.col("type") == "connect").select("contact", "wait")

    frame = FileLog(FIXTURE).read_frame(COLUMNS, query=answered, streaming=True)
    assert frame.to_dicts() == [{"contact": "c1", "wait": 5.5}]


def test_parquet_round_trip(tmp_path: Path) -> None:
    events = list(FileLog(FIXTURE).events())
    pq = FileLog(tmp_path / "day.parquet")
    assert pq.parquet
    assert pq.write(events, source="hand", start=T0) == len(EXPECTED)
    assert not list(tmp_path.glob("*.part"))
    assert pq.header().source == "hand" and pq.header().t == T0
    assert rows(pq.read_frame(COLUMNS)) == EXPECTED
    assert list(pq.events()) == events
    # and back to JSON Lines through the frame writer
    back = FileLog(tmp_path / "back.jsonl")
    back.write_frame(pq.read_frame(), source="hand")
    assert list(back.events()) == events


def test_sql_round_trip(db_url: str) -> None:
    events = list(FileLog(FIXTURE).events())
    log = open_log(db_url)
    assert isinstance(log, DatabaseLog)
    with log:
        assert log.append(events, "hand") == len(events)
        assert rows(log.read_frame(COLUMNS)) == EXPECTED
        assert list(log.events()) == events
        assert log.read_frame(COLUMNS, source="other").height == 0
        # the header-only fields have no column: null, typed as in the file frames
        framing = log.read_frame(["t", "source", "version"], queue="sales")
        assert framing.height == 6
        assert framing["source"].null_count() == 6
        assert framing.schema["version"] == pl.Int64


def test_unknown_or_header_only_columns_are_refused_by_name(db_url: str) -> None:
    with pytest.raises(ValueError, match="not event fields: 'colour'"):
        FileLog(FIXTURE).read_frame(["t", "colour"])
    with make_engine(db_url).connect() as conn:
        assert eventlog.read_rows(conn, ["t"]) == []
        with pytest.raises(ValueError, match="not stored event fields: 'version', 'source'"):
            eventlog.read_rows(conn, ["t", "version", "source"])


def test_append_inside_the_callers_transaction(db_url: str) -> None:
    events = list(FileLog(FIXTURE).events())
    engine = make_engine(db_url)
    try:
        with pytest.raises(RuntimeError), engine.begin() as conn:
            log_id = eventlog.load_id(conn, "live")
            eventlog.append_in_transaction(conn, events, log_id=log_id, source="live")
            assert eventlog.last_id(conn) == len(events)  # visible inside ...
            raise RuntimeError("the caller's transaction fails")
        with engine.begin() as conn:  # ... and gone with it
            assert eventlog.last_id(conn) == 0
            assert conn.execute(select(event_logs_table.c.id)).all() == []
        with engine.begin() as conn:
            log_id = eventlog.load_id(conn, "live")
            eventlog.append_in_transaction(conn, events[:4], log_id=log_id, source="live")
        with engine.begin() as conn:
            assert eventlog.load_id(conn, "live") == log_id  # one open-ended load
            eventlog.append_in_transaction(conn, events[4:], log_id=log_id, source="live")
        with engine.connect() as conn:
            assert rows(eventlog.read_frame(conn, COLUMNS, source="live")) == EXPECTED
            top = eventlog.last_id(conn)
            new = eventlog.read_rows(conn, ["type", "contact"], after_id=top - 2, types=["abandon"])
            assert [tuple(r) for r in new] == [(top - 1, "abandon", "c2")]
            first = eventlog.read_rows(conn, ["t"], through_id=2, start=T0 + 1)
            assert [tuple(r) for r in first] == [(2, T0 + 10)]
        with pytest.raises(ValueError, match="header"), engine.begin() as conn:
            header = Event(t=0.0, type=EventType.HEADER, schema="callcenter.events", version=1)
            eventlog.append_in_transaction(conn, [header], log_id=log_id, source="live")
    finally:
        engine.dispose()


def test_missing_database_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="no database at"):
        open_log(f"sqlite:///{tmp_path / 'none.db'}")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"t": 1714550450.0, "type": "arrive", "contact": "c9"', "not a JSON object"),
        ('{"t": 1714550450.0, "type": "teleport", "contact": "c9"}', "unknown event type"),
        ('{"t": "noon", "type": "arrive", "contact": "c9"}', "must be a number"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path: Path, line: str, problem: str) -> None:
    lines = FIXTURE.read_text().splitlines()
    lines.insert(5, line)  # becomes line 6
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError) as err:
        FileLog(bad).read_frame(COLUMNS)
    assert (err.value.path, err.value.line) == (str(bad), 6)
    assert str(err.value).startswith(f"{bad}:6: ") and problem in str(err.value)


def test_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    lines = FIXTURE.read_text().splitlines()
    future = tmp_path / "future.jsonl"
    future.write_text("\n".join([lines[0].replace('"version": 1', '"version": 99'), *lines[1:]]))
    with pytest.raises(InputFileError, match=r"unsupported schema version 99 \(this build reads"):
        FileLog(future).header()
    with pytest.raises(InputFileError, match="unsupported schema version 99"):
        FileLog(future).read_frame(COLUMNS)
    pq = tmp_path / "future.parquet"
    FileLog(pq).write(FileLog(FIXTURE).events(), source="hand")
    frame = pl.read_parquet(pq).with_columns(
        pl.when(pl.col("type") == "header").then(99).otherwise(pl.col("version")).alias("version")
    )
    frame.write_parquet(pq)
    with pytest.raises(InputFileError, match=f"{pq}: unsupported schema version 99"):
        FileLog(pq).header()


def test_foreign_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        FileLog(tmp_path / "none.jsonl").read_frame(COLUMNS)
    other = tmp_path / "other.jsonl"
    other.write_text('{"hello": "world"}\n')
    with pytest.raises(InputFileError, match=f"{other}:1: expected the header line"):
        FileLog(other).read_frame(COLUMNS)
    with pytest.raises(ValueError, match="not event fields: 'colour'"):
        FileLog(FIXTURE).read_frame(["t", "colour"])


def test_append_starts_or_continues_a_jsonl_log(tmp_path: Path) -> None:
    events = list(FileLog(FIXTURE).events())
    log = FileLog(tmp_path / "follow.jsonl")
    assert log.append([], "import:asterisk") == 0  # a new log: just its header
    assert log.header().source == "import:asterisk"
    log.append(events[:3], "import:asterisk")
    FileLog(log.path).append(events[3:], "import:asterisk")  # a second writer checks it
    assert list(log.events()) == events
    other = tmp_path / "other.jsonl"
    other.write_text('{"hello": "world"}\n')
    with pytest.raises(InputFileError, match="expected the header line"):
        FileLog(other).append(events, "x")
    with pytest.raises(InputFileError, match="cannot be appended"):
        FileLog(tmp_path / "x.parquet").append(events, "x")


def test_writer_is_atomic_for_both_formats(tmp_path: Path) -> None:
    events = list(FileLog(FIXTURE).events())
    for name in ("w.jsonl", "w.parquet"):
        log = FileLog(tmp_path / name)
        with pytest.raises(RuntimeError), log.writer("hand") as w:
            w.write_many(events)
            raise RuntimeError("interrupted")
        assert list(tmp_path.iterdir()) == []  # nothing under the name, no .part left
        with log.writer("hand", start=T0) as w:
            w.write_many(events)
        assert w.count == len(events)
        header, *rest = log.events(with_header=True)
        assert (header.type, header.t, rest) == (EventType.HEADER, T0, events)
        log.path.unlink()
