"""Password hashing with Argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from callcenter.errors import UserError

_HASHER = PasswordHasher()
MIN_LENGTH = 8


class PasswordError(UserError):
    """A password that cannot be used."""


def check_password_rules(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordError(
            f"password too short: {len(password)} characters (at least {MIN_LENGTH})"
        )


def hash_password(password: str) -> str:
    check_password_rules(password)
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)


__all__ = [
    "MIN_LENGTH",
    "PasswordError",
    "check_password_rules",
    "hash_password",
    "needs_rehash",
    "verify_password",
]
