"""The telephony tables as Asterisk sees them, and applying a change to a running one.

- :func:`pjsip_text` / :func:`extra_files` — the configuration text of the active
  trunks and every agent's device (:mod:`callcenter.voice.pjsip_config`), for
  ``start_asterisk(..., extra=extra_files(s, options))``;
- :func:`number_target` — where a call to a telephone number goes (queue or IVR flow,
  and its language);
- :func:`agent_endpoint` — the channel an agent's device is dialled on;
- :func:`apply_pjsip` — rewrite a running instance's ``pjsip.conf`` (its generated
  head kept, our part replaced) and reload ``res_pjsip`` over ARI: no restart, calls in
  progress keep going.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.storage.tables import VoiceDevice, VoiceNumber, VoiceTrunk
from callcenter.storage.tables.people import User
from callcenter.voice import pjsip_config as pc

__all__ = [
    "MARKER",
    "NumberTarget",
    "ReloadError",
    "agent_endpoint",
    "apply_pjsip",
    "extra_files",
    "host_ipv4_addresses",
    "number_target",
    "parse_ip_addr",
    "phone_specs",
    "pjsip_text",
    "trunk_specs",
]

log = logging.getLogger("callcenter.voice")

MARKER = pc.GENERATED_MARKER
"""The first line of our part of ``pjsip.conf``: :func:`apply_pjsip` replaces from it on."""
_RELOAD = "asterisk/modules/res_pjsip.so"


class ReloadError(RuntimeError):
    """Asterisk did not take the new configuration (the message says what it answered)."""


def trunk_specs(s: Session) -> list[pc.TrunkSpec]:
    """The active trunks."""
    rows = s.scalars(select(VoiceTrunk).where(VoiceTrunk.active).order_by(VoiceTrunk.name))
    return [
        pc.TrunkSpec(
            name=r.name,
            kind="ip" if r.kind == "ip" else "register",
            networks=tuple(r.networks),
            server=r.server,
            username=r.username,
            password=r.password,
            codecs=tuple(r.codecs),
            dtmf_mode=r.dtmf_mode,
        )
        for r in rows
    ]


def phone_specs(s: Session, now: float | None = None) -> list[pc.PhoneSpec]:
    """Every agent's device; one without a valid secret (a WebRTC credential expired or
    never issued) gets :data:`~callcenter.voice.pjsip_config.LOCKED_HA1`."""
    t = time.time() if now is None else now
    out: list[pc.PhoneSpec] = []
    for r in s.scalars(select(VoiceDevice).order_by(VoiceDevice.sip_username)):
        valid = r.ha1 is not None and (r.expires_at is None or r.expires_at > t)
        out.append(
            pc.PhoneSpec(
                username=r.sip_username,
                kind="webrtc" if r.kind == "webrtc" else "sip",
                ha1=r.ha1 if valid and r.ha1 else pc.LOCKED_HA1,
            )
        )
    return out


def pjsip_text(s: Session, options: pc.PjsipOptions, *, now: float | None = None) -> str:
    """``pjsip.conf``'s part generated from the tables (after the transport-udp)."""
    return pc.render_pjsip(trunk_specs(s), phone_specs(s, now), options)


def extra_files(
    s: Session,
    options: pc.PjsipOptions,
    *,
    now: float | None = None,
    host_addresses: Sequence[str] = (),
) -> dict[str, str]:
    """``start_asterisk``'s ``extra``: ``pjsip.conf``, ``rtp.conf``, ``extensions.conf``
    (``host_addresses``: the machine's IPv4 addresses, see :func:`host_ipv4_addresses`)."""
    return pc.render_files(trunk_specs(s), phone_specs(s, now), options, host_addresses)


def parse_ip_addr(text: str) -> list[str]:
    """The IPv4 addresses in the output of ``ip -4 -o addr show up`` (one line per
    address: ``2: eth0    inet 192.0.2.2/24 brd ... scope global eth0``)."""
    out: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if "inet" in words and words.index("inet") + 1 < len(words):
            out.append(words[words.index("inet") + 1].split("/", 1)[0])
    return out


def host_ipv4_addresses() -> list[str]:
    """This machine's IPv4 addresses that are up (``ip -4 -o addr show up``, iproute2,
    which Debian always has; the standard library has no portable way to list
    interfaces' addresses). Empty, with a warning, when ``ip`` is missing or fails: the
    rendered ``rtp.conf`` then has no ``[ice_host_candidates]`` and a browser on the same
    machine cannot reach a loopback media address."""
    try:
        done = subprocess.run(
            ["ip", "-4", "-o", "addr", "show", "up"],
            capture_output=True, text=True, check=True, timeout=5,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as e:
        log.warning("voice: cannot list this machine's addresses (ip -4 addr): %s", e)
        return []
    return parse_ip_addr(done.stdout)


@dataclass(frozen=True, slots=True)
class NumberTarget:
    """Where calls to ``number`` go: ``kind`` ``queue`` or ``ivr``, ``target`` its name."""

    number: str
    kind: str
    target: str
    language: str
    trunk: str | None


def number_target(s: Session, did: str) -> NumberTarget | None:
    """The active number ``did`` (as dialled: ``+7495…`` also finds ``7495…`` and back),
    or None."""
    forms = [did, did[1:] if did.startswith("+") else f"+{did}"]
    for form in forms:
        row = s.scalar(select(VoiceNumber).where(VoiceNumber.number == form, VoiceNumber.active))
        if row is not None:
            trunk = s.get(VoiceTrunk, row.trunk_id) if row.trunk_id is not None else None
            return NumberTarget(
                row.number, row.target_kind, row.target, row.language, trunk.name if trunk else None
            )
    return None


def agent_endpoint(s: Session, agent: str) -> str | None:
    """``PJSIP/<sip username>`` of the phone of ``agent`` (an agent's name is its
    username; a supervisor's phone is found the same way), or None without one."""
    user = s.scalar(
        select(VoiceDevice.sip_username)
        .join(User, User.id == VoiceDevice.user_id)
        .where(User.username == agent)
    )
    return None if user is None else f"PJSIP/{user}"


def apply_pjsip(
    etc_dir: Path, text: str, ari_url: str, ari_auth: tuple[str, str], *, timeout_s: float = 10.0
) -> None:
    """Make a running Asterisk take ``text`` (from :func:`pjsip_text`) without a restart.

    ``<etc_dir>/pjsip.conf`` keeps what precedes :data:`MARKER` (the transport written at
    start) and gets ``text`` after it, written to a temporary file (0600: a register
    trunk's password is in it) and renamed over the old one; then
    ``PUT <ari_url>/asterisk/modules/res_pjsip.so`` reloads PJSIP's objects (endpoints,
    auths, AORs, identifies, registrations).  :class:`ReloadError` if ARI refuses.
    """
    if not text.startswith(MARKER):
        raise ValueError("text must come from pjsip_text (it starts with the marker line)")
    path = etc_dir / "pjsip.conf"
    current = path.read_text(encoding="utf-8")
    head = current.split(MARKER, 1)[0].rstrip("\n") + "\n\n"
    tmp = path.with_name(".pjsip.conf.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(head + text)
    tmp.replace(path)
    try:
        r = httpx.put(f"{ari_url.rstrip('/')}/{_RELOAD}", auth=ari_auth, timeout=timeout_s)
    except httpx.TransportError as e:
        raise ReloadError(f"Asterisk's ARI at {ari_url} did not answer the reload: {e}") from e
    if r.status_code != httpx.codes.NO_CONTENT:
        raise ReloadError(f"Asterisk refused to reload res_pjsip: {r.status_code} {r.text[:200]}")
