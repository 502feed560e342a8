"""``callcenter voice doctor``: what voice is configured to do, what answers, what is missing.

Each check is one line with a verdict (``ok``, ``warn``, ``fail``, ``info``) and what to do
about it.  The checks read the settings, the files a call needs (the Asterisk build,
Debian's prompts and music on hold), the ports, the tables (trunks, numbers, agents'
phones) and, unless told not to, talk to Asterisk: an external one over ARI with the
configured credentials, or an embedded one started for the check on free ports with the
configuration generated from the tables (then stopped).
"""

from __future__ import annotations

import asyncio
import enum
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from callcenter.settings import Settings
from callcenter.voice.ari import Ari, AriError, AriUnavailableError
from callcenter.voice.asterisk import (
    ASTERISK_VERSION,
    AsteriskError,
    find_install,
    start_asterisk,
)
from callcenter.voice.asterisk_config import DEBIAN_MOH, DEBIAN_SOUNDS


class Verdict(enum.StrEnum):
    OK = "ok"
    INFO = "info"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    verdict: Verdict
    detail: str


PROMPT_LANGUAGES = ("en", "ru")


def _mode(settings: Settings) -> Check:
    detail = {
        "off": "voice is off (set CALLCENTER_VOICE=embedded, or external with an ARI URL)",
        "embedded": (
            f"embedded Asterisk on {settings.voice_bind} (SIP {settings.voice_sip_port or 'any'}"
            f"/udp, HTTP {settings.voice_http_port or 'any'}), application "
            f"{settings.voice_app!r}"
        ),
        "external": f"external Asterisk at {settings.voice_ari_url or '(no voice_ari_url)'}",
    }[settings.voice]
    return Check("mode", Verdict.INFO, detail)


def _build(settings: Settings) -> Check:
    try:
        install = find_install(settings.cache_dir)
    except AsteriskError as e:
        verdict = Verdict.FAIL if settings.voice == "embedded" else Verdict.WARN
        return Check("asterisk build", verdict, str(e))
    return Check("asterisk build", Verdict.OK, f"Asterisk {ASTERISK_VERSION} at {install.prefix}")


def _files(name: str, folder: Path, package: str, pattern: str) -> Check:
    n = sum(1 for _ in folder.glob(pattern)) if folder.is_dir() else 0
    if n == 0:
        return Check(name, Verdict.WARN, f"none in {folder}: install Debian's {package}")
    return Check(name, Verdict.OK, f"{n} files in {folder}")


def _prompts() -> list[Check]:
    return [
        _files(
            f"prompts ({lang})",
            DEBIAN_SOUNDS / lang,
            f"asterisk-core-sounds-{lang}-wav",
            "*.wav",
        )
        for lang in PROMPT_LANGUAGES
    ] + [_files("music on hold", DEBIAN_MOH, "asterisk-moh-opsound-wav", "*.wav")]


def _port(host: str, port: int, kind: socket.SocketKind, what: str) -> Check:
    if port == 0:
        return Check(what, Verdict.INFO, "any free port (chosen at start)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as sock:
        try:
            sock.bind((host, port))
        except OSError as e:
            return Check(
                what,
                Verdict.WARN,
                f"{host}:{port} is in use or not ours ({e.strerror}): a running server's "
                "Asterisk, or another program — pick another port if the server will not start",
            )
    return Check(what, Verdict.OK, f"{host}:{port} is free")


async def _ari(url: str, auth: tuple[str, str], what: str) -> Check:
    try:
        async with Ari(url, auth, timeout=3.0) as ari:
            info = await ari.info()
            endpoints = await ari.request("GET", "/endpoints")
    except AriUnavailableError as e:
        return Check(what, Verdict.FAIL, str(e))
    except AriError as e:
        hint = " (check voice_ari_user / voice_ari_password)" if e.status == 401 else ""
        return Check(what, Verdict.FAIL, f"{e}{hint}")
    version = info.get("system", {}).get("version", "?")
    n = len(endpoints) if isinstance(endpoints, list) else 0
    return Check(what, Verdict.OK, f"Asterisk {version} answers at {url}; {n} SIP endpoints")


def _embedded_boot(settings: Settings, config_text: Callable[[], dict[str, str]]) -> Check:
    """Start a private Asterisk with the generated configuration, ask ARI, stop it."""
    try:
        install = find_install(settings.cache_dir)
        running = start_asterisk(install, app=settings.voice_app, extra=config_text())
    except AsteriskError as e:
        return Check("embedded start", Verdict.FAIL, str(e).splitlines()[0])
    try:
        check = asyncio.run(_ari(running.ari_url, running.ari_auth, "embedded start"))
    finally:
        running.stop()
    return check


def diagnose(
    settings: Settings,
    *,
    config_text: Callable[[], dict[str, str]] = dict,
    config_checks: Callable[[], list[Check]] = list,
    connect: bool = True,
) -> list[Check]:
    """Every check, in the order a reader follows them."""
    checks = [_mode(settings), _build(settings), *_prompts()]
    if settings.voice == "embedded":
        checks.append(
            _port(settings.voice_bind, settings.voice_sip_port, socket.SOCK_DGRAM, "SIP port")
        )
        checks.append(
            _port(settings.voice_bind, settings.voice_http_port, socket.SOCK_STREAM, "HTTP port")
        )
    checks += config_checks()
    target = None
    if settings.voice == "external":
        from callcenter.live.voice.service import VoiceError, external_target

        try:
            target = external_target(settings)
        except VoiceError as e:
            checks.append(Check("ARI settings", Verdict.FAIL, str(e)))
    if not connect:
        return checks
    if target is not None:
        checks.append(asyncio.run(_ari(target.url, target.auth, "ARI")))
    elif settings.voice == "embedded" and checks[1].verdict is Verdict.OK:
        checks.append(_embedded_boot(settings, config_text))
    return checks


__all__ = ["Check", "Verdict", "diagnose"]
