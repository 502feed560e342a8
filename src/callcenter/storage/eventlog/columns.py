"""The one check of a chosen column set, shared by the file and SQL sides."""

from __future__ import annotations

from collections.abc import Sequence

from callcenter.events import FIELD_NAMES


def checked_columns(columns: Sequence[str]) -> list[str]:
    """``columns`` as a list; ValueError naming any that is not an event field."""
    cols = list(columns)
    unknown = [c for c in cols if c not in FIELD_NAMES]
    if unknown:
        raise ValueError(f"not event fields: {', '.join(map(repr, unknown))}")
    return cols


__all__ = ["checked_columns"]
