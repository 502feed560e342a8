"""What every importer shares: the import's bookkeeping and where its events go.

An importer reads a foreign file line by line and produces :class:`~callcenter.events.Event`
objects. Real logs are dirty, so nothing is ever dropped silently: a line that cannot be
parsed is counted with its line number and reason (:meth:`ImportStats.bad_line`), an
event the mapping does not know is counted by name and its line kept raw
(:meth:`ImportStats.unmapped`) — the raw lines go to ``<out>.unmapped.jsonl`` beside the
event log — and the closing summary shows all of it.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from callcenter.events import Event

SHOWN_BAD_LINES: Final = 5


@dataclass
class ImportStats:
    """Counts of one import; ``to_dict()`` is what ``--format json`` prints."""

    source: str  # e.g. "import:asterisk"
    path: str = ""
    lines: int = 0  # lines read (blank lines included)
    events: int = 0  # events written
    bad: int = 0  # lines that could not be parsed
    bad_lines: list[tuple[int, str]] = field(default_factory=list)  # first few: (line, why)
    duplicates: int = 0  # identical lines seen before, skipped
    unmapped_events: Counter[str] = field(default_factory=Counter)  # name -> lines kept raw
    raw: list[dict[str, Any]] = field(default_factory=list)  # the unmapped lines themselves
    notes: list[str] = field(default_factory=list)  # e.g. "12 calls never left the queue"

    def bad_line(self, lineno: int, reason: str) -> None:
        self.bad += 1
        if len(self.bad_lines) < SHOWN_BAD_LINES:
            self.bad_lines.append((lineno, reason))

    def unmapped(self, lineno: int, name: str, line: str) -> None:
        self.unmapped_events[name] += 1
        self.raw.append({"line": lineno, "event": name, "raw": line})

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "path": self.path,
            "lines": self.lines,
            "events": self.events,
            "bad": self.bad,
            "bad_lines": [{"line": n, "reason": r} for n, r in self.bad_lines],
            "duplicates": self.duplicates,
            "unmapped": dict(sorted(self.unmapped_events.items())),
            "notes": list(self.notes),
        }


def sort_events(events: Iterable[Event]) -> list[Event]:
    """Events in time order (stable: lines with the same time keep their file order)."""
    return sorted(events, key=lambda e: e.t)


def write_unmapped(log_path: Path, stats: ImportStats) -> Path | None:
    """The unmapped raw lines beside the log, ``<log>.unmapped.jsonl`` (atomic)."""
    if not stats.raw:
        return None
    path = log_path.with_name(log_path.name + ".unmapped.jsonl")
    part = path.with_name(path.name + ".part")
    with part.open("w", encoding="utf-8") as f:
        for row in stats.raw:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(part, path)
    return path
