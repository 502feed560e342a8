"""Who, when and where of a recorded call: agent, caller number, queue, start time.

Recordings rarely carry this themselves, so it comes from one of (first match wins,
field by field):

1. a sidecar file beside the recording, ``<call id>.json`` (one JSON object);
2. ``--metadata FILE``: a CSV with a header row, or JSON (a list of objects, or an
   object keyed by call id); the column/key ``call_id`` names the call;
3. ``--events LOG``: the project's event log (also an imported PBX history), where the
   call id is the contact id: ``agent``/``queue`` and the start come from the contact's
   first ``connect``, the caller number from its ``arrive``.

Keys: ``call_id``, ``agent``, ``caller``, ``queue``, ``start`` (ISO 8601 — a time
without a zone is UTC — or seconds since the Unix epoch). Unknown keys are ignored,
so a PBX's own CDR export can be used as it is when its column names match.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callcenter.errors import InputFileError

FIELDS = ("agent", "caller", "queue", "start")


class MetadataError(InputFileError):
    """A metadata file that cannot be used: ``<file>[:<line>]: <problem>``."""


@dataclass(frozen=True)
class CallMeta:
    """What is known about a call besides its audio; ``None`` where unknown."""

    agent: str | None = None
    caller: str | None = None
    queue: str | None = None
    start: float | None = None  # seconds since the Unix epoch, UTC

    def merged(self, fallback: CallMeta | None) -> CallMeta:
        """This record, with fields it lacks taken from ``fallback``."""
        if fallback is None:
            return self
        return CallMeta(
            self.agent if self.agent is not None else fallback.agent,
            self.caller if self.caller is not None else fallback.caller,
            self.queue if self.queue is not None else fallback.queue,
            self.start if self.start is not None else fallback.start,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "caller": self.caller,
            "queue": self.queue,
            "start": iso(self.start),
            "start_ts": self.start,
        }


def iso(ts: float | None) -> str | None:
    """Seconds since the epoch as ISO 8601 UTC (``2026-11-23T09:30:00Z``)."""
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: object) -> float:
    """ISO 8601 (naive = UTC) or epoch seconds → epoch seconds; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(value)
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.timestamp()


def _text(value: object) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def _record(source: str, line: int | None, row: Mapping[str, Any]) -> CallMeta:
    start_raw = row.get("start")
    start = None
    if _text(start_raw) is not None:
        try:
            start = parse_time(start_raw)
        except ValueError:
            raise MetadataError(
                source,
                f"start: {start_raw!r} is not a time (expected ISO 8601 like "
                "2026-11-23T09:30:00Z, or seconds since 1970)",
                line,
            ) from None
    return CallMeta(
        _text(row.get("agent")), _text(row.get("caller")), _text(row.get("queue")), start
    )


def _rows_from_json(path: Path, data: Any) -> Iterable[tuple[int | None, Mapping[str, Any]]]:
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(value, dict):
                raise MetadataError(path, f"{key}: expected an object of call fields")
            yield None, {"call_id": key, **value}
    elif isinstance(data, list):
        for i, value in enumerate(data):
            if not isinstance(value, dict):
                raise MetadataError(path, f"item {i}: expected an object of call fields")
            yield None, value
    else:
        raise MetadataError(path, "expected a JSON list of calls or an object keyed by call id")


def load_metadata_file(path: str | Path) -> dict[str, CallMeta]:
    """Call id → metadata from a CSV or JSON file (see the module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise MetadataError(p, "no such metadata file")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise MetadataError(p, "not UTF-8 text") from None
    rows: Iterable[tuple[int | None, Mapping[str, Any]]]
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise MetadataError(p, f"not valid JSON ({e.msg})", e.lineno) from None
        rows = list(_rows_from_json(p, data))
    else:
        reader = csv.DictReader(text.splitlines())
        if reader.fieldnames is None or "call_id" not in reader.fieldnames:
            raise MetadataError(
                p, "expected a CSV header with a call_id column (and agent, caller, queue, start)"
            )
        rows = [(reader.line_num, r) for r in reader]
    out: dict[str, CallMeta] = {}
    for line, row in rows:
        cid = _text(row.get("call_id"))
        if cid is None:
            raise MetadataError(p, "a row without call_id", line)
        out[cid] = _record(str(p), line, row)
    return out


def load_event_metadata(
    path: str | Path, call_ids: Iterable[str] | None = None
) -> dict[str, CallMeta]:
    """Contact id → metadata from an event log (JSONL or Parquet, validated as for KPIs)."""
    import polars as pl

    from callcenter.storage.eventlog import FileLog

    wanted = None if call_ids is None else list(call_ids)

    def calls(frame: pl.LazyFrame) -> pl.LazyFrame:
        if wanted is not None:
            frame = frame.filter(pl.col("contact").is_in(wanted))
        arrive = (
            frame.filter(pl.col("type") == "arrive")
            .group_by("contact")
            .agg(pl.col("caller").first())
        )
        connect = (
            frame.filter(pl.col("type") == "connect")
            .sort("t")
            .group_by("contact")
            .agg(
                pl.col("agent").first(), pl.col("queue").first(), pl.col("t").first().alias("start")
            )
        )
        return connect.join(arrive, on="contact", how="full", coalesce=True)

    cols = ["t", "type", "contact", "agent", "queue", "caller"]
    rows = FileLog(path).read_frame(cols, query=calls)
    return {
        r["contact"]: CallMeta(r["agent"], r["caller"], r["queue"], r["start"])
        for r in rows.iter_rows(named=True)
    }


def sidecar(audio: Path, call_id: str) -> CallMeta | None:
    """The ``<call id>.json`` beside a recording, if there is one."""
    p = audio.with_name(f"{call_id}.json")
    if not p.is_file():
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise MetadataError(p, f"sidecar is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise MetadataError(p, "sidecar: expected one JSON object of call fields")
    return _record(str(p), None, data)
