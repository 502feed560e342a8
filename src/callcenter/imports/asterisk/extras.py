"""What an Asterisk import can add from beside the queue_log: the CDR (``Master.csv``) for
the caller number, and call recordings matched to calls by uniqueid.

``Master.csv`` (cdr_csv) has no header row; its columns are accountcode, src, dst,
dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer, end, duration,
billsec, disposition, amaflags, uniqueid, userfield.  A file whose first row names the
columns (a database export) is read by those names instead.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from callcenter.errors import InputFileError
from callcenter.events import Event, EventType
from callcenter.imports.asterisk.queue_log import CallInfo, caller_number
from callcenter.speech.metadata import iso

CDR_COLUMNS: Final = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
)
AUDIO_SUFFIXES: Final = frozenset({".wav", ".wav49", ".gsm", ".mp3", ".ogg", ".opus", ".flac"})
_UNIQUEID: Final = re.compile(r"\d{9,}\.\d+")
METADATA_COLUMNS: Final = ("call_id", "agent", "caller", "queue", "start", "recording")


def load_cdr_callers(path: Path) -> dict[str, str]:
    """uniqueid → caller number (``src``, else the number in ``clid``) from a CDR CSV."""
    if not path.is_file():
        raise InputFileError(path, "no such CDR file")
    data = path.read_bytes()
    if b"\0" in data[:65536]:
        raise InputFileError(path, "binary file, not an Asterisk CDR CSV")
    rows = csv.reader(data.decode("utf-8", "replace").splitlines())
    out: dict[str, str] = {}
    names: dict[str, int] = {c: i for i, c in enumerate(CDR_COLUMNS)}
    wide_enough = False
    for n, row in enumerate(rows, start=1):
        if n == 1 and "uniqueid" in (c.strip().lower() for c in row):
            names = {c.strip().lower(): i for i, c in enumerate(row)}
            continue
        if len(row) <= names["uniqueid"]:
            continue
        wide_enough = True
        uid = row[names["uniqueid"]].strip()
        src = row[names["src"]].strip() if "src" in names else ""
        number = caller_number(src) if src else None
        if number is None and "clid" in names:
            number = caller_number(row[names["clid"]])
        if uid and number:
            out[uid] = number
    if not wide_enough and data.strip():
        raise InputFileError(
            path, "not an Asterisk CDR CSV: no row has a uniqueid column (17th, or by header)"
        )
    return out


def fill_callers(
    events: Iterable[Event], callers: dict[str, str], calls: dict[str, CallInfo]
) -> int:
    """Set the caller of each ``arrive`` without one from the CDR; return how many."""
    filled = 0
    for ev in events:
        if ev.type is EventType.ARRIVE and ev.caller is None and ev.contact in callers:
            ev.caller = callers[ev.contact]
            info = calls.get(ev.contact)
            if info is not None:
                info.caller = ev.caller
            filled += 1
    return filled


@dataclass(frozen=True)
class RecordingMatch:
    call_id: str  # the recording's stem (what `callcenter analyze` calls the call)
    uniqueid: str
    path: Path


def find_recordings(folder: Path, calls: Container[str]) -> tuple[list[RecordingMatch], int]:
    """Audio files under ``folder`` whose name holds a known call's uniqueid.

    ``q-support-5551234-20240501-080000-1714550400.12.wav`` and ``1714550400.12-in.wav``
    both match call ``1714550400.12``.  Returns the matches and the unmatched count.
    """
    if not folder.is_dir():
        raise InputFileError(folder, "no such recordings folder")
    matches: list[RecordingMatch] = []
    unmatched = 0
    for root, _dirs, files in os.walk(folder):
        for name in sorted(files):
            p = Path(root, name)
            if p.suffix.lower() not in AUDIO_SUFFIXES:
                continue
            uid = next((u for u in _UNIQUEID.findall(p.stem) if u in calls), None)
            if uid is None:
                unmatched += 1
            else:
                matches.append(RecordingMatch(p.stem, uid, p))
    matches.sort(key=lambda m: (m.call_id, str(m.path)))
    return matches, unmatched


def write_recordings_csv(
    out: Path, matches: list[RecordingMatch], calls: Mapping[str, CallInfo]
) -> None:
    """The metadata CSV ``callcenter analyze --metadata`` reads (atomic write)."""
    part = out.with_name(out.name + ".part")
    with part.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(METADATA_COLUMNS)
        for m in matches:
            info = calls[m.uniqueid]
            w.writerow(
                [
                    m.call_id,
                    info.agent or "",
                    info.caller or "",
                    info.queue or "",
                    iso(info.start) or "",
                    str(m.path),
                ]
            )
    os.replace(part, out)


__all__ = [
    "CDR_COLUMNS",
    "RecordingMatch",
    "fill_callers",
    "find_recordings",
    "load_cdr_callers",
    "write_recordings_csv",
]
