"""JSONL encoding of events in compact tuple form: the log writer's hot loop.

Compiled with mypyc (see setup.py): the explicit loop below is ~4x faster compiled than
a dict comprehension in CPython, which matters at a million and more events a run.
"""

from __future__ import annotations

from typing import Any

import orjson

from callcenter.events.model import RAW_KEYS


def encode_raw(events: list[tuple[Any, ...]]) -> bytes:
    """One JSON object per line for each ``(t, type, contact, queue, agent, *extras)``,
    with unset (None) fields left out."""
    dumps = orjson.dumps
    opt = orjson.OPT_APPEND_NEWLINE
    keys = RAW_KEYS
    parts: list[bytes] = []
    for r in events:
        names = keys[r[1]]
        d: dict[str, Any] = {}
        for i, name in enumerate(names):
            v = r[i]
            if v is not None:
                d[name] = v
        parts.append(dumps(d, option=opt))
    return b"".join(parts)
