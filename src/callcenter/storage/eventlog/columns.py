"""The one check of a chosen column set, shared by the file and SQL sides."""

from __future__ import annotations

from collections.abc import Sequence

from callcenter.events import FIELD_NAMES


def checked_columns(
    columns: Sequence[str], allowed: Sequence[str] = FIELD_NAMES, what: str = "event fields"
) -> list[str]:
    """``columns`` as a list; ValueError naming any that is not one of ``allowed``."""
    cols = list(columns)
    unknown = [c for c in cols if c not in allowed]
    if unknown:
        raise ValueError(f"not {what}: {', '.join(map(repr, unknown))}")
    return cols


__all__ = ["checked_columns"]
