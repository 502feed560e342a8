"""Reading the project's YAML input files (scenarios, shift templates, agents) with one
clear error line for each way a file can be unusable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from callcenter.errors import InputFileError


def read_yaml(path: Path, error: type[InputFileError]) -> Any:
    """The parsed content of the YAML file ``path``; ``error`` (path, problem, line) for a
    missing or unreadable file or invalid YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(path, "no such file") from None
    except (IsADirectoryError, UnicodeDecodeError) as e:
        raise error(path, f"cannot read it as a YAML text file ({type(e).__name__})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(e, "problem", None) or "invalid YAML"
        raise error(path, f"invalid YAML: {problem}", line) from None


def error_location(loc: tuple[int | str, ...], skip: tuple[str, ...] = ()) -> str:
    """A pydantic error location as a key path (``queues[0].aht``), leaving out the
    validator and union-member names pydantic puts in it (and the names in ``skip``)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not part.startswith(("function-", "tagged-union")) and part not in skip:
            out += f".{part}" if out else part
    return out
