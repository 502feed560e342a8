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

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.errors import UserError
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


def table_checks(s: Session, settings: Settings) -> list[Check]:
    """What the tables configure: trunks, numbers (each leading somewhere that works),
    agents' phones, IVR flows (each still passing the check it passed when saved)."""
    from callcenter.live.voice import flows
    from callcenter.storage.tables import (
        IvrFlowRow,
        QueueRow,
        VoiceDevice,
        VoiceNumber,
        VoiceTrunk,
    )
    from callcenter.storage.tables.people import User
    from callcenter.voice.ivr import FlowError

    out: list[Check] = []
    trunks = s.scalars(select(VoiceTrunk).where(VoiceTrunk.active)).all()
    out.append(
        Check("trunks", Verdict.OK if trunks else Verdict.WARN,
              ", ".join(f"{t.name} ({t.kind})" for t in trunks)
              or "none active: no carrier can call in (admin → Telephony: trunks)")
    )  # fmt: skip
    voice_queues = set(s.scalars(select(QueueRow.name).where(QueueRow.channel == "voice")))
    catalogue = flows.prompt_catalogue(settings)
    flow_rows = {f.name: f for f in s.scalars(select(IvrFlowRow))}
    broken: dict[str, str] = {}
    for name, row in flow_rows.items():
        try:
            flows.parse_and_check(s, name, row.source, catalogue)
        except (FlowError, UserError) as e:
            broken[name] = str(e)
    numbers = s.scalars(select(VoiceNumber).where(VoiceNumber.active)).all()
    if not numbers:
        out.append(Check("numbers", Verdict.WARN, "none: no call is answered"))
    for n in numbers:
        if n.target_kind == "queue" and n.target not in voice_queues:
            verdict, what = Verdict.FAIL, f"queue {n.target!r} is not a voice queue"
        elif n.target_kind == "ivr" and n.target not in flow_rows:
            verdict, what = Verdict.FAIL, f"IVR flow {n.target!r} does not exist"
        elif n.target_kind == "ivr" and n.target in broken:
            verdict, what = Verdict.FAIL, broken[n.target]
        else:
            verdict, what = Verdict.OK, f"{n.target_kind} {n.target} ({n.language})"
        out.append(Check(f"number {n.number}", verdict, what))
    phones = s.execute(
        select(User.username, VoiceDevice.kind)
        .join(VoiceDevice, VoiceDevice.user_id == User.id)
        .order_by(User.username)
    ).all()
    out.append(
        Check("agents' phones", Verdict.OK if phones else Verdict.WARN,
              ", ".join(f"{a} ({k})" for a, k in phones)
              or "none: offers of calls cannot ring anywhere (admin → Telephony: phones)")
    )  # fmt: skip
    for name, err in broken.items():
        out.append(Check(f"IVR flow {name}", Verdict.FAIL, err))
    return out


__all__ = ["Check", "Verdict", "diagnose", "table_checks"]
