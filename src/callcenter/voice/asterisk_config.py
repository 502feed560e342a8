"""The configuration files of an embedded Asterisk, as text.

A minimal set: Asterisk reads only what is written here (``asterisk -C`` names our
``asterisk.conf``, whose ``[directories]`` point every other folder into the instance's
own directory), so nothing of a system-wide ``/etc/asterisk`` is ever read.

- ``http.conf`` — Asterisk's HTTP server (ARI, and later SIP over WebSocket) on
  127.0.0.1 and a port of ours;
- ``ari.conf`` — one ARI user with a random password (the file is mode 0600);
- ``extensions.conf`` — one context, whose every extension enters our Stasis
  application: calls are routed by our router, never by a dialplan, and nothing dials out;
- ``pjsip.conf`` — a UDP transport on 127.0.0.1 and no endpoint (later slices add them),
  and ``#tryinclude pjsip_blocked.conf``: the SIP guard's block list (written empty here,
  rewritten by ``live/voice/guard.py``);
- ``modules.conf``, ``logger.conf`` (notices to ``messages.log``, security events to
  ``security.log``: what the SIP guard reads), ``rtp.conf``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from callcenter.voice.sip_guard import BLOCKED_FILE, render_acl

__all__ = ["DEBIAN_MOH", "DEBIAN_SOUNDS", "INBOUND_CONTEXT", "AsteriskConfig", "write_config"]

DEBIAN_SOUNDS = Path("/usr/share/asterisk/sounds")
DEBIAN_MOH = Path("/usr/share/asterisk/moh")

INBOUND_CONTEXT = "callcenter-in"
"""The dialplan context of incoming calls: every extension in it enters the Stasis app."""


@dataclass(frozen=True, slots=True)
class AsteriskConfig:
    """What the generated files depend on."""

    modules_dir: Path
    """The install's ``lib/asterisk/modules``."""
    base_dir: Path
    """The instance's own folder: ``etc/`` (these files), ``run/``, ``log/``, ``spool/``..."""
    http_port: int
    sip_port: int
    ari_user: str
    ari_password: str = field(repr=False)
    app: str = "callcenter"
    host: str = "127.0.0.1"
    rtp_ports: tuple[int, int] = (10000, 20000)
    sounds_dir: Path | None = DEBIAN_SOUNDS
    """Prompts (``sound:`` media): linked as ``<astdatadir>/sounds``; Debian's
    ``asterisk-core-sounds-*`` packages install into ``/usr/share/asterisk/sounds``."""
    moh_dir: Path | None = DEBIAN_MOH
    """Music on hold (class ``default``): Debian's ``asterisk-moh-opsound-wav``."""
    db_dir: Path | None = None
    """Where Asterisk keeps its own database (``astdb.sqlite3``: phones' registrations
    among others). Given, it outlives the instance: a restarted Asterisk still knows
    where every registered phone is. None: inside the instance's folder."""
    extra: Mapping[str, str] = field(default_factory=dict)
    """Text appended to a generated file, by file name (e.g. endpoints for
    ``pjsip.conf``); a name that is not generated becomes a file of its own."""

    @property
    def etc_dir(self) -> Path:
        return self.base_dir / "etc"

    @property
    def log_dir(self) -> Path:
        return self.base_dir / "log"

    @property
    def recordings_dir(self) -> Path:
        """Where ARI's recordings are written (``<astspooldir>/recording``)."""
        return self.base_dir / "spool" / "recording"


def write_config(cfg: AsteriskConfig) -> Path:
    """Write the files into ``cfg.etc_dir`` (and make the instance's folders).

    Returns the path of ``asterisk.conf``, which ``asterisk -C`` takes.
    """
    # spool/recording: ARI writes recordings there and does not create it (a record
    # request answers 500 "No such file or directory" without it).
    for sub in ("etc", "run", "log", "spool", "spool/recording", "lib", "agi"):
        (cfg.base_dir / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
    files = {
        "asterisk.conf": _asterisk_conf(cfg),
        "modules.conf": _MODULES_CONF,
        "logger.conf": _LOGGER_CONF,
        "http.conf": _http_conf(cfg),
        "ari.conf": _ari_conf(cfg),
        "extensions.conf": _extensions_conf(cfg),
        "pjsip.conf": _pjsip_conf(cfg),
        "rtp.conf": _rtp_conf(cfg),
        "musiconhold.conf": _moh_conf(cfg),
        BLOCKED_FILE: render_acl(()),
        **_QUIET_FILES,
    }
    for name, text in cfg.extra.items():
        files[name] = files.get(name, "") + "\n" + text
    if cfg.sounds_dir is not None:
        (cfg.base_dir / "lib" / "sounds").symlink_to(cfg.sounds_dir, target_is_directory=True)
    for name, text in files.items():
        path = cfg.etc_dir / name
        # Created 0600 before the secret is written: never readable by others.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
    return cfg.etc_dir / "asterisk.conf"


def _asterisk_conf(cfg: AsteriskConfig) -> str:
    b = cfg.base_dir
    return (
        "[directories]\n"
        f"astetcdir => {cfg.etc_dir}\n"
        f"astmoddir => {cfg.modules_dir}\n"
        f"astvarlibdir => {b / 'lib'}\n"
        f"astdbdir => {cfg.db_dir or b / 'lib'}\n"
        f"astkeydir => {b / 'lib'}\n"
        f"astdatadir => {b / 'lib'}\n"
        f"astagidir => {b / 'agi'}\n"
        f"astspooldir => {b / 'spool'}\n"
        f"astrundir => {b / 'run'}\n"
        f"astlogdir => {cfg.log_dir}\n"
        "\n[options]\n"
        "verbose = 0\n"
        "debug = 0\n"
        "nocolor = yes\n"
        "dontwarn = yes\n"
        "hideconnect = yes\n"
    )


# Every module the build installed (scripts/asterisk.sh keeps it to the call-center set).
_MODULES_CONF = "[modules]\nautoload = yes\n"

_LOGGER_CONF = (
    "[general]\n"
    "dateformat = %F %T.%3q\n"
    "\n[logfiles]\n"
    "messages.log => notice,warning,error\n"
    # res_security_log's level: failed authentications, unknown endpoints (the SIP guard)
    "security.log => security\n"
    "console => warning,error\n"
)


# Files Asterisk complains about when absent, or that a module needs to load at all
# (app_confbridge, res_pjsip_notify): present and minimal. CDR, CEL and the manager
# interface (AMI) are off: the event log is ours and ARI is the one control channel.
_QUIET_FILES = {
    "cdr.conf": "[general]\nenable = no\n",
    "cel.conf": "[general]\nenable = no\n",
    "manager.conf": "[general]\nenabled = no\n",
    "stasis.conf": "",
    "features.conf": "",
    "ccss.conf": "",
    "acl.conf": "",
    "udptl.conf": "",
    "confbridge.conf": "",
    "pjsip_notify.conf": "",
    "pjsip_wizard.conf": "",
    "pjproject.conf": "",
    "geolocation.conf": "",
    "websocket_client.conf": "",
    "chan_websocket.conf": "",
    # Tones for ringing, busy and congestion (ITU/North American values).
    "indications.conf": (
        "[general]\ncountry = us\n\n[us]\ndescription = United States\n"
        "ringcadence = 2000,4000\ndial = 350+440\nbusy = 480+620/500,0/500\n"
        "ring = 440+480/2000,0/4000\ncongestion = 480+620/250,0/250\n"
        "callwaiting = 440/300,0/10000\nrecord = 1400/500,0/15000\n"
    ),
}


def _http_conf(cfg: AsteriskConfig) -> str:
    return (
        "[general]\n"
        "enabled = yes\n"
        f"bindaddr = {cfg.host}\n"
        f"bindport = {cfg.http_port}\n"
        "servername = callcenter-asterisk\n"
    )


def _ari_conf(cfg: AsteriskConfig) -> str:
    return (
        "[general]\n"
        "enabled = yes\n"
        "pretty = no\n"
        "\n"
        f"[{cfg.ari_user}]\n"
        "type = user\n"
        "read_only = no\n"
        "password_format = plain\n"
        f"password = {cfg.ari_password}\n"
    )


def _extensions_conf(cfg: AsteriskConfig) -> str:
    enter = f"Stasis({cfg.app})"
    return (
        "[general]\n"
        "static = yes\n"
        "writeprotect = yes\n"
        "clearglobalvars = yes\n"
        "\n[globals]\n"
        "\n; Every incoming call enters our application; nothing here dials anywhere.\n"
        f"[{INBOUND_CONTEXT}]\n"
        f"exten => s,1,{enter}\n"
        " same => n,Hangup()\n"
        f"exten => _X.,1,{enter}\n"
        " same => n,Hangup()\n"
        f"exten => _+X.,1,{enter}\n"
        " same => n,Hangup()\n"
        "\n; Calls that arrive in any other context are hung up.\n"
        "[default]\n"
        "exten => _[+*#0-9a-zA-Z].,1,Hangup()\n"
    )


def _pjsip_conf(cfg: AsteriskConfig) -> str:
    return (
        "[global]\n"
        "type = global\n"
        # phones (digest auth) are found by their user name before trunks by address:
        # a desk phone on a trunk's network still registers as itself
        "endpoint_identifier_order = username,ip\n"
        "user_agent = callcenter\n"
        "\n[transport-udp]\n"
        "type = transport\n"
        "protocol = udp\n"
        f"bind = {cfg.host}:{cfg.sip_port}\n"
        "\n; the SIP guard's block list (a type=acl section; live/voice/guard.py)\n"
        f"#tryinclude {BLOCKED_FILE}\n"
    )


def _moh_conf(cfg: AsteriskConfig) -> str:
    if cfg.moh_dir is None:
        return ""
    return f"[default]\nmode = files\ndirectory = {cfg.moh_dir}\nsort = alpha\n"


def _rtp_conf(cfg: AsteriskConfig) -> str:
    low, high = cfg.rtp_ports
    return f"[general]\nrtpstart = {low}\nrtpend = {high}\n"
