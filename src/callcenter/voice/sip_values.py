"""The values that go into Asterisk's SIP configuration, checked (pure: no I/O).

Every value :mod:`callcenter.voice.pjsip_config` writes passes one of these checks
first: a newline, ``;`` (a comment), ``[`` (a new section), ``,`` where a list is parsed
or any other character outside the value's rule is refused with
:class:`ConfigValueError` (one line naming the value and what was expected), so nothing
stored in a table can add a line to the configuration. Also here: the names Asterisk
knows our objects by (:func:`phone_username`, :func:`trunk_endpoint`) and the digest
secret of a phone (:func:`ha1`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable
from typing import Final

from callcenter.errors import UserError

REALM: Final = "callcenter"
"""The digest realm of every phone (fixed: the stored HA1 depends on it)."""
CODECS: Final = ("ulaw", "alaw")
DTMF_MODES: Final = ("rfc4733", "info", "inband", "auto")
LOCKED_HA1: Final = "0" * 32
"""The digest of a phone with no valid secret (a WebRTC credential expired or never
issued): no password hashes to it, so nobody can register."""

_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$")
NAME_RULE: Final = "1-48 lower-case letters, digits or '-', not starting or ending with '-'"
_SIP_USER = re.compile(r"^[A-Za-z0-9._~+-]{1,64}$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"^(?:{_LABEL}\.)*{_LABEL}$")
_NUMBER = re.compile(r"^\+?[0-9]{1,20}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:_[A-Z]{2})?$")
_HA1 = re.compile(r"^[0-9a-f]{32}$")
# A carrier's password: printable ASCII without space and the characters that mean
# something in Asterisk's configuration files (';' comment, '[' ']' section, '\' escape,
# '"' quoting, ',' list separator in some options).
_SECRET_BAD: Final = frozenset(';[]\\",')


class ConfigValueError(UserError):
    """A value that cannot go into Asterisk's configuration (names the field and value)."""


# --------------------------------------------------------------------------- value checks


def fail(what: str, value: object, expected: str) -> ConfigValueError:
    return ConfigValueError(f"{what}: {value!r} is not valid; expected {expected}")


def check_name(value: str, what: str = "name") -> str:
    """A trunk name: ``[a-z0-9-]``, 1-48 characters."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise fail(what, value, NAME_RULE)
    return value


def check_sip_user(value: str, what: str = "username") -> str:
    """A SIP user part (RFC 3261 unreserved characters), 1-64 characters."""
    if not isinstance(value, str) or not _SIP_USER.fullmatch(value):
        raise fail(what, value, "1-64 letters, digits or . _ ~ + -")
    return value


def check_secret(value: str, what: str = "password") -> str:
    """A carrier's password: 1-128 printable ASCII characters, no space or ``;[]\\",``.
    The message never shows the value."""
    bad = (
        not isinstance(value, str)
        or not 1 <= len(value) <= 128
        or any(not 0x21 <= ord(c) <= 0x7E or c in _SECRET_BAD for c in value)
    )
    if bad:
        raise ConfigValueError(
            f"{what}: the value given is not usable; expected 1-128 printable ASCII "
            'characters without spaces or any of ; [ ] \\ " ,'
        )
    return value


def check_host_port(value: str, what: str = "server") -> str:
    """``host`` or ``host:port`` (a DNS name or IPv4 address; ``[v6]:port``), port 1-65535."""
    if not isinstance(value, str):
        raise fail(what, value, "host or host:port")
    host, port = value, None
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if sep and rest.startswith(":"):
            port = rest[1:]
        elif not sep or rest:
            raise fail(what, value, "host or host:port (e.g. sip.example.net:5060)")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise fail(what, value, "host or host:port (e.g. sip.example.net:5060)") from None
    else:
        if value.count(":") == 1:
            host, port = value.split(":")
        if not _HOST.fullmatch(host) or len(host) > 253:
            raise fail(what, value, "host or host:port (e.g. sip.example.net:5060)")
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise fail(what, value, "a port from 1 to 65535 after ':'")
    return value


def check_networks(values: Iterable[str], what: str = "networks") -> tuple[str, ...]:
    """IP addresses or networks (``203.0.113.7``, ``198.51.100.0/24``, ``2001:db8::/32``),
    normalised (``198.51.100.0/24``); at least one."""
    out: list[str] = []
    for v in values:
        try:
            net = ipaddress.ip_network(v, strict=False) if isinstance(v, str) else None
        except ValueError:
            net = None
        if net is None or (isinstance(v, str) and v.strip() != v):
            raise fail(what, v, "an IP address or network such as 198.51.100.0/24")
        out.append(str(net))
    if not out:
        raise ConfigValueError(f"{what}: empty; expected at least one IP address or network")
    return tuple(dict.fromkeys(out))


def check_codecs(values: Iterable[str], what: str = "codecs") -> tuple[str, ...]:
    out = tuple(values)
    for v in out:
        if v not in CODECS:
            raise fail(what, v, f"one of {', '.join(CODECS)} (G.711; this build has no opus)")
    if not out:
        raise ConfigValueError(f"{what}: empty; expected one or more of {', '.join(CODECS)}")
    return tuple(dict.fromkeys(out))


def check_dtmf_mode(value: str, what: str = "dtmf_mode") -> str:
    if value not in DTMF_MODES:
        raise fail(what, value, f"one of {', '.join(DTMF_MODES)}")
    return value


def check_number(value: str, what: str = "number") -> str:
    """A telephone number as a carrier sends it: digits with an optional leading +."""
    if not isinstance(value, str) or not _NUMBER.fullmatch(value):
        raise ConfigValueError(
            f"{what}: {value!r} is not a telephone number; "
            "expected 1-20 digits with an optional leading +"
        )
    return value


def check_language(value: str, what: str = "language") -> str:
    """A prompt language such as ``en``, ``ru``, ``pt_BR`` (Asterisk's sounds folders)."""
    if not isinstance(value, str) or not _LANGUAGE.fullmatch(value):
        raise fail(what, value, "a language code such as en, ru or pt_BR")
    return value


def check_ha1(value: str, what: str = "ha1") -> str:
    if not isinstance(value, str) or not _HA1.fullmatch(value):
        raise ConfigValueError(f"{what}: not an MD5 digest; expected 32 lower-case hex digits")
    return value


def ha1(username: str, password: str, realm: str = REALM) -> str:
    """The digest secret ``md5(username:realm:password)`` (RFC 2617 HA1), hex."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()


def phone_username(agent: str) -> str:
    """The SIP user (and endpoint id) of an agent's device: ``agent-<username>``.

    Agent usernames are ``[a-z0-9._-]`` (``live/admin/checks.NAME_RULE``), all SIP
    unreserved characters, so only the prefix is added: it keeps phones apart from trunks
    (``trunk-<name>``) in Asterisk's one namespace of endpoints."""
    return check_sip_user(f"agent-{agent}", "agent")


def trunk_endpoint(name: str) -> str:
    """The endpoint id of trunk ``name``."""
    return f"trunk-{check_name(name, 'trunk')}"


__all__ = [
    "CODECS",
    "DTMF_MODES",
    "LOCKED_HA1",
    "NAME_RULE",
    "REALM",
    "ConfigValueError",
    "check_codecs",
    "check_dtmf_mode",
    "check_ha1",
    "check_host_port",
    "check_language",
    "check_name",
    "check_networks",
    "check_number",
    "check_secret",
    "check_sip_user",
    "fail",
    "ha1",
    "phone_username",
    "trunk_endpoint",
]
