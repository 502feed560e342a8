"""Finding the calls in files and folders (and pairing agent/caller files)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from callcenter.speech.audio import (
    AUDIO_EXTENSIONS,
    AudioError,
    AudioOptions,
    Layout,
    Side,
    split_side,
)


@dataclass(frozen=True)
class Discovery:
    """What :func:`discover` found: the calls (each a list of files) and the problems."""

    calls: list[list[Path]]
    errors: list[AudioError]


def _audio_files(paths: Iterable[str | os.PathLike[str]], errors: list[AudioError]) -> list[Path]:
    found: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found.update(
                f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS
            )
        elif p.is_file():
            found.add(p)
        else:
            errors.append(AudioError(p, "no such file or folder"))
    return sorted(found)


def discover(paths: Iterable[str | os.PathLike[str]], layout: Layout | str) -> Discovery:
    """Find the calls in files and folders (folders searched recursively).

    Files named explicitly are taken whatever their extension; in folders only audio
    extensions count (:data:`AUDIO_EXTENSIONS`).  ``stereo``/``mono``: one call per file.
    ``pair``: files grouped by name, ``<call>-agent.<ext>`` with ``<call>-caller.<ext>``
    (also ``_agent``/``_caller``, and ``-out``/``-in`` as Asterisk MixMonitor writes them:
    ``-out`` is the agent, ``-in`` the caller).  A file without a partner, or without a
    side suffix, goes to :attr:`Discovery.errors`.  Calls are sorted by path.
    """
    lay = AudioOptions(layout=layout).layout  # type: ignore[arg-type]  # str is checked there
    errors: list[AudioError] = []
    files = _audio_files(paths, errors)
    if lay is not Layout.PAIR:
        return Discovery([[f] for f in files], errors)
    groups: dict[tuple[Path, str], dict[Side, list[Path]]] = {}
    for f in files:
        call, side = split_side(f)
        if side is None:
            errors.append(
                AudioError(
                    f,
                    "name has no side suffix; --layout pair needs <call>-agent / "
                    "<call>-caller (or _agent/_caller, -out/-in)",
                )
            )
            continue
        groups.setdefault((f.parent, call), {}).setdefault(side, []).append(f)
    calls: list[list[Path]] = []
    for (_parent, call), sides in sorted(groups.items()):
        agents = sides.get(Side.AGENT, [])
        callers = sides.get(Side.CALLER, [])
        if len(agents) == 1 and len(callers) == 1:
            calls.append([agents[0], callers[0]])
            continue
        for f in agents + callers:
            if len(agents) > 1 or len(callers) > 1:
                others = [str(x.name) for x in (agents + callers) if x != f]
                problem = (
                    f"call {call!r} has more than one file per side (also {', '.join(others)})"
                )
            else:
                _, side = split_side(f)
                missing = "caller" if side is Side.AGENT else "agent"
                problem = f"unpaired: no {missing} file for call {call!r}"
            errors.append(AudioError(f, problem))
    calls.sort(key=lambda c: c[0])
    errors.sort(key=lambda e: e.path)
    return Discovery(calls, errors)
