"""Rules every input model shares (``docs/security.md``): numbers are finite, names are
visible text, free-text searches are short.

:class:`Input` is the base of the models that requests are parsed into (the API's and the
administration services'); it refuses ``NaN`` and ``±Infinity``, which JSON parsers take
from ``NaN``/``Infinity`` literals or from ``1e999``, and which would otherwise be stored
as null or compare false with every bound. :data:`VisibleName` is the type of a person's
or a thing's display name: no control character (NUL, C0, C1, line separators) and no
invisible format character — zero-width spaces, word joiners, the byte-order mark, bidi
embeddings, overrides and isolates, which can hide or reorder what a reader sees — except
the zero-width non-joiner and joiner (U+200C, U+200D), which Persian and other scripts
need inside words.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Final

from pydantic import AfterValidator, BaseModel, ConfigDict

MAX_SEARCH: Final = 200
"""Longest free-text search term (characters): longer ones are refused with 422."""

_ALLOWED_FORMAT: Final = frozenset({"\u200c", "\u200d"})  # ZWNJ, ZWJ: parts of words
_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


class Input(BaseModel):
    """Base of request models: no NaN or infinity in any number field."""

    model_config = ConfigDict(allow_inf_nan=False)


def invisible_character(value: str) -> str | None:
    """The first character of ``value`` a name may not hold, as ``U+XXXX (NAME)``."""
    for ch in value:
        if ch in _ALLOWED_FORMAT:
            continue
        if unicodedata.category(ch) in _REFUSED_CATEGORIES:
            name = unicodedata.name(ch, "control character")
            return f"U+{ord(ch):04X} ({name})"
    return None


def check_visible(value: str) -> str:
    """``value`` if it holds no control or invisible format character, else ValueError
    naming the character (pydantic adds the field's name)."""
    bad = invisible_character(value)
    if bad is not None:
        raise ValueError(
            f"contains {bad}; expected visible text without control or invisible format characters"
        )
    return value


VisibleName = Annotated[str, AfterValidator(check_visible)]


__all__ = ["MAX_SEARCH", "Input", "VisibleName", "check_visible", "invisible_character"]
