"""The event log as a Parquet file: the same events, stored by column.

JSON Lines is the interchange format (readable, appendable, what every tool writes);
Parquet is the fast one to read back: parsing JSON costs ~1.2 µs a line on this
project's 2-core reference machine, so ten million events take ~12 s just to parse,
while the same log in Parquet loads in about a second.  A Parquet log has one column
per event field (:data:`EVENT_SCHEMA`) and its first row is the header event, exactly as
the first line of a JSONL log.

Conversions are streaming (polars) and atomic (``.part`` file renamed at the end).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import polars as pl

from callcenter.errors import InputFileError
from callcenter.events import FIELD_NAMES, SCHEMA_NAME, SCHEMA_VERSION, EventType
from callcenter.storage.jsonl import find_bad_line, read_header

EVENT_TYPE_DTYPE: Final = pl.Enum([e.value for e in EventType])

_FLOATS: Final = frozenset({"t", "wait", "ring", "talk", "hold", "acw"})
_INTS: Final = frozenset({"priority", "position", "version"})


def _dtype(name: str) -> pl.DataType:
    if name == "type":
        return EVENT_TYPE_DTYPE
    if name in _FLOATS:
        return pl.Float64()
    if name in _INTS:
        return pl.Int64()
    return pl.String()


EVENT_SCHEMA: Final[dict[str, pl.DataType]] = {name: _dtype(name) for name in FIELD_NAMES}
"""Every event field with its column type (JSON reader schema and Parquet columns)."""

PARQUET_SUFFIXES: Final = (".parquet", ".pq")


def is_parquet(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() in PARQUET_SUFFIXES


def read_parquet_header(path: str | os.PathLike[str]) -> dict[str, object]:
    """Check that ``path`` is a Parquet event log; return its header row."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(p, "no such file" if not p.exists() else "not a regular file")
    try:
        first = pl.read_parquet(p, n_rows=1)
    except (pl.exceptions.PolarsError, OSError) as e:
        raise InputFileError(p, f"not a readable Parquet file ({type(e).__name__})") from None
    missing = [c for c in ("t", "type", "schema", "version") if c not in first.columns]
    if missing:
        raise InputFileError(p, f"not a callcenter event log (no column {missing[0]!r})")
    if first.height == 0:
        raise InputFileError(p, "empty event log (expected a header row, then events)")
    row = first.row(0, named=True)
    if row["type"] != EventType.HEADER.value or row["schema"] != SCHEMA_NAME:
        raise InputFileError(p, "the first row is not the event log header")
    version = row["version"]
    if not isinstance(version, int) or not 1 <= version <= SCHEMA_VERSION:
        raise InputFileError(
            p, f"unsupported schema version {version!r} (this build reads 1..{SCHEMA_VERSION})"
        )
    return row


def jsonl_to_parquet(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> int:
    """Convert a JSONL event log to Parquet (streaming, atomic); return the row count."""
    s, d = Path(src), Path(dst)
    read_header(s)
    if not d.parent.exists():
        raise InputFileError(d.parent, "output folder does not exist")
    tmp = d.with_name(d.name + ".part")
    try:
        pl.scan_ndjson(s, schema=EVENT_SCHEMA).sink_parquet(tmp, compression="zstd")
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as e:
        tmp.unlink(missing_ok=True)
        find_bad_line(s)  # raises at the first bad line
        raise InputFileError(s, f"cannot be converted: {str(e).splitlines()[0]}") from None
    os.replace(tmp, d)
    return int(pl.scan_parquet(d).select(pl.len()).collect().item())


def parquet_to_jsonl(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> int:
    """Convert a Parquet event log back to JSON Lines (atomic); return the line count."""
    s, d = Path(src), Path(dst)
    read_parquet_header(s)
    if not d.parent.exists():
        raise InputFileError(d.parent, "output folder does not exist")
    frame = pl.read_parquet(s).select(FIELD_NAMES)
    _write_jsonl(frame, d)
    return frame.height


def _write_jsonl(frame: pl.DataFrame, dst: Path) -> None:
    """``frame`` (header row first) as JSON Lines, atomically, in slices."""
    tmp = dst.with_name(dst.name + ".part")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            for chunk in frame.iter_slices(500_000):
                # unset fields are left out of each line, as the JSONL writer does
                lines = chunk.select(
                    pl.struct(pl.all()).struct.json_encode().str.replace_all(r',"[a-z_]+":null', "")
                ).to_series()
                fh.write("\n".join(lines.to_list()) + "\n")
        os.replace(tmp, dst)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise InputFileError(dst, f"cannot write: {e.strerror or e}") from None


def header_frame(source: str) -> pl.DataFrame:
    """The header row of an event log written by ``source``, as an ``EVENT_SCHEMA`` frame."""
    row = {n: None for n in FIELD_NAMES} | {
        "t": 0.0,
        "type": EventType.HEADER.value,
        "schema": SCHEMA_NAME,
        "version": SCHEMA_VERSION,
        "source": source,
    }
    return pl.DataFrame([row], schema=EVENT_SCHEMA)


def write_event_frame(events: pl.DataFrame, dst: str | os.PathLike[str], source: str) -> None:
    """Write events held as an ``EVENT_SCHEMA`` frame (time order, no header) to an
    event log: Parquet or JSON Lines by the suffix (atomic)."""
    d = Path(dst)
    frame = pl.concat([header_frame(source), events.select(FIELD_NAMES)], rechunk=False)
    if not is_parquet(d):
        _write_jsonl(frame, d)
        return
    tmp = d.with_name(d.name + ".part")
    try:
        frame.write_parquet(tmp, compression="zstd")
        os.replace(tmp, d)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise InputFileError(d, f"cannot write: {e.strerror or e}") from None
