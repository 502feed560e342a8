"""Language-aware text normalisation: the one way every text stage compares words.

:func:`normalize` maps a piece of transcript to a canonical form in which two spellings
of the same word are equal strings:

* Unicode NFKC (Arabic presentation forms, full-width letters → their plain letters),
  then case folding;
* every digit → ASCII (:func:`to_ascii_digits`: Persian ``۰-۹``, Arabic-Indic ``٠-٩``);
* annotations in square or angle brackets (``[noise]``, ``<unk>``, Whisper's
  ``[MUSIC]``) are dropped: they are not words anybody said;
* apostrophes are removed inside words (``don't`` → ``dont``); every other punctuation
  mark or symbol becomes a space; runs of spaces collapse to one;
* Russian (and any Cyrillic text): ``ё`` → ``е``;
* Persian (``fa``): Arabic letter variants → Persian (``ي``/``ى`` → ``ی``, ``ك`` →
  ``ک``, ``ة``/``ۀ`` → ``ه``, ``أ``/``إ``/``ٱ`` → ``ا``, ``ؤ`` → ``و``; ``آ`` is kept, it
  is a letter of its own); tatweel and short-vowel diacritics (harakat, superscript
  alef) are removed in every language;
* the zero-width non-joiner (ZWNJ, U+200C) separates the parts of a Persian compound
  (``می‌خواهم``, ``کارت‌ها``), and writers use a space or ZWNJ interchangeably there, so
  it becomes a space: ``می‌خواهم`` and ``می خواهم`` normalise alike, and a keyword
  ``کارت`` matches ``کارت‌ها``. Other invisible format characters (ZWJ, LRM/RLM and the
  bidirectional controls, BOM) are removed.

:func:`tokens` is the normalised text split into words.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

_DIGITS: Final = str.maketrans(
    "۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩",
    "01234567890123456789",
)

_PERSIAN: Final = str.maketrans(
    {
        "ي": "ی",  # Arabic yeh
        "ى": "ی",  # alef maksura
        "ك": "ک",  # Arabic kaf
        "ة": "ه",  # teh marbuta
        "ۀ": "ه",  # heh with yeh above (ezafe)
        "أ": "ا",
        "إ": "ا",
        "ٱ": "ا",
        "ؤ": "و",
    }
)

_ZWNJ: Final = "\u200c"
_TATWEEL: Final = "\u0640"
# harakat, superscript alef and Quranic marks: pronunciation hints, not letters
_ARABIC_MARKS: Final = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
_TAGS: Final = re.compile(r"\[[^\]\n]*\]|<[^>\n]*>")
_APOSTROPHES: Final = frozenset("'’ʼ`´")
_SPACES: Final = re.compile(r"\s+")

PERSIAN_LANGUAGES: Final = frozenset({"fa", "fas", "per", "prs"})


def base_language(language: str) -> str:
    """``"fa-IR"`` → ``"fa"``; lower case, the part before any region."""
    return (language or "").strip().lower().replace("_", "-").split("-")[0]


def to_ascii_digits(text: str) -> str:
    """Persian (``۰-۹``) and Arabic-Indic (``٠-٩``) digits → ``0-9``, nothing else changed.

    The mapping is one character for one character, so offsets in the result are
    offsets in ``text``.
    """
    return text.translate(_DIGITS)


def _char(ch: str) -> str:
    """What one (already folded) character becomes: itself, a space, or nothing."""
    if ch == _ZWNJ:
        return " "
    if ch in _APOSTROPHES or ch == _TATWEEL:
        return ""
    cat = unicodedata.category(ch)
    if cat == "Cf":  # ZWJ, LRM/RLM, bidi controls, BOM
        return ""
    if cat[0] in "PS" or cat in ("Zl", "Zp"):
        return " "
    return ch


def normalize(text: str, language: str) -> str:
    """The canonical form of ``text`` for matching (see the module docstring)."""
    lang = base_language(language)
    s = unicodedata.normalize("NFKC", text)
    s = _TAGS.sub(" ", s)
    s = to_ascii_digits(s).casefold()
    s = s.replace("ё", "е")
    if lang in PERSIAN_LANGUAGES:
        s = s.translate(_PERSIAN)
    s = _ARABIC_MARKS.sub("", s)
    s = "".join(_char(ch) for ch in s)
    return _SPACES.sub(" ", s).strip()


def strip_tags(text: str) -> str:
    """``text`` without bracketed annotations (``[noise]``, ``<unk>``)."""
    return _TAGS.sub(" ", text)


def tokens(text: str, language: str) -> list[str]:
    """The words of ``text`` in normalised form."""
    return normalize(text, language).split()
