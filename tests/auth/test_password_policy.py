"""The one password policy (:func:`callcenter.auth.passwords.check_password_rules`)."""

from __future__ import annotations

import pytest
from tests.support.seed import PASSWORD

from callcenter.auth.passwords import (
    MAX_LENGTH,
    PasswordError,
    check_password_rules,
    common_passwords,
    hash_password,
    verify_password,
)
from callcenter.live.demo.seed import DEMO_PASSWORD


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "password: 5 characters; expected 8 to 1024 characters"),
        ("x" * 100_000, "password: 100000 characters; expected 8 to 1024 characters"),
        (" " * 8, "password: only spaces; expected letters, digits or signs"),
        ("\u3000" * 4 + "\u00a0" * 4, "password: only spaces; expected letters, digits or signs"),
        ("\x00" * 8, "password: holds the control character U+0000; expected printable "
         "characters only"),
        ("good-pass\nword", "password: holds the control character U+000A; expected "
         "printable characters only"),
        ("\ud800" + "abcdefgh", "password: holds the control character U+D800; expected "
         "printable characters only"),
        ("aaaaaaaa", "password: one character repeated; expected a mix of characters"),
        ("password", "password: one of the 30,000 most common passwords (zxcvbn's list); "
         "expected one that is not"),
        ("Password123", "password: one of the 30,000 most common passwords (zxcvbn's list); "
         "expected one that is not"),
        (" qwerty123 ", "password: one of the 30,000 most common passwords (zxcvbn's list); "
         "expected one that is not"),
    ],
)  # fmt: skip
def test_bad_passwords_are_refused_naming_the_rule(password: str, message: str) -> None:
    with pytest.raises(PasswordError) as e:
        check_password_rules(password)
    assert str(e.value) == message
    with pytest.raises(PasswordError):
        hash_password(password)  # every path that sets a password hashes it


@pytest.mark.parametrize(
    "password",
    [
        "Lantern-Wolf-42",
        "x" * 7 + "y",
        "z" * (MAX_LENGTH - 1) + "!",
        "пароль-для-входа",  # Russian
        "رمز\u200cعبور-امن",  # Persian, with the zero-width non-joiner its spelling needs
        "slaptažodis-9",  # Lithuanian
        "two  spaces inside",
    ],
)
def test_good_passwords_pass_and_verify(password: str) -> None:
    assert check_password_rules(password) == password
    assert verify_password(hash_password(password), password)


def test_the_list_is_zxcvbns_and_the_seed_passwords_pass() -> None:
    common = common_passwords()
    assert len(common) == 30_000
    assert {"123456", "password", "qwerty", "letmein", "password123"} <= common
    for pw in (PASSWORD, DEMO_PASSWORD):
        check_password_rules(pw)


def test_a_lone_surrogate_at_sign_in_is_just_wrong() -> None:
    assert verify_password(hash_password("Lantern-Wolf-42"), "\ud800abcdefgh") is False
