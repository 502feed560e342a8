"""Passwords: one policy, and hashing with Argon2id (argon2-cffi's defaults, RFC 9106
low-memory profile).

:func:`check_password_rules` is the one policy, applied wherever a password is set —
:func:`hash_password` runs it, so the API's user creation and reset, ``callcenter user
add`` and the demo's seed all go through it.  Sign-in accepts the same lengths
(:data:`MIN_LENGTH` … :data:`MAX_LENGTH`), so a password that could be set can be used.

A password must be 8 to 1,024 characters, not blank, not one character repeated, hold
no control character (NUL, tab, new line …: they cannot be typed in a sign-in form and
often are a pasting accident), and not be one of the 30,000 most common passwords of
zxcvbn's ranked list (compared without regard to case or surrounding spaces).  Messages
name ``password`` and never repeat the password itself.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from callcenter.errors import UserError

_HASHER = PasswordHasher()
MIN_LENGTH: Final = 8
MAX_LENGTH: Final = 1024
_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cs"})  # control characters, lone surrogates


class PasswordError(UserError):
    """A password that cannot be used."""


@cache
def common_passwords() -> frozenset[str]:
    """zxcvbn's ranked list of common passwords (30,000, lower case), loaded once."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # here: a large module

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password_rules(password: object) -> str:
    """``password`` if it may be set, else :class:`PasswordError` saying which rule."""
    if not isinstance(password, str):
        raise PasswordError("password: expected text")
    n = len(password)
    if n < MIN_LENGTH or n > MAX_LENGTH:
        raise PasswordError(
            f"password: {n} characters; expected {MIN_LENGTH} to {MAX_LENGTH} characters"
        )
    bad = next((c for c in password if unicodedata.category(c) in _REFUSED_CATEGORIES), None)
    if bad is not None:
        raise PasswordError(
            f"password: holds the control character U+{ord(bad):04X}; expected printable "
            "characters only"
        )
    if not password.strip():
        raise PasswordError("password: only spaces; expected letters, digits or signs")
    if len(set(password)) == 1:
        raise PasswordError("password: one character repeated; expected a mix of characters")
    if password.strip().lower() in common_passwords():
        raise PasswordError(
            "password: one of the 30,000 most common passwords (zxcvbn's list); "
            "expected one that is not"
        )
    return password


def hash_password(password: str) -> str:
    check_password_rules(password)
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError, UnicodeEncodeError):  # a lone surrogate
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)


__all__ = [
    "MAX_LENGTH",
    "MIN_LENGTH",
    "PasswordError",
    "check_password_rules",
    "common_passwords",
    "hash_password",
    "needs_rehash",
    "verify_password",
]
