"""A whole call center with voice on, for end-to-end call tests.

:func:`voice_center` seeds the standard test center (``tests/support/seed.py``) plus a
voice queue ``phones`` and the IVR flow ``support``, starts a real ``callcenter serve``
child process with voice on, and sets telephony up through the admin API as a center
would: an ip trunk for 127.0.0.1, number :data:`DID` → queue ``phones``, number
:data:`IVR_DID` → flow ``support``, SIP desk phones for the agents asked for (their
passwords, shown once, are returned).

``embedded``: the server starts its own Asterisk on a free SIP port.  ``external``: the
test starts a separate Asterisk (bring-your-own) whose dialplan sends the numbers to
our Stasis application and whose endpoints are the configuration the server would
generate; the server only reaches it over ARI.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.settings import Settings
from callcenter.storage.db import EventRow, make_engine
from callcenter.storage.tables import ContactRow, IvrFlowRow, QueueRow
from callcenter.voice.asterisk import RunningAsterisk, find_install, start_asterisk
from tests.support.seed import seed
from tests.support.server import LiveServer

DID: Final = "5551000"  # straight to the queue
IVR_DID: Final = "5552000"  # through the IVR flow FLOW
CALLER: Final = "+79161234567"
# Debian's recorded prompts only (beep, goodbye): short, and present in every language
FLOW: Final = """
name: support
language: en
languages: [en]
start: account
nodes:
  account:
    kind: collect
    prompt: beep
    variable: account
    label: Account number
    min_digits: 4
    max_digits: 8
    tries: 2
    on_valid: main
    on_invalid: main
  main:
    kind: menu
    prompt: beep
    options: {1: phones, 2: bye}
    timeout: 5
    tries: 2
    on_invalid: bye
  phones: {kind: queue, queue: phones}
  bye: {kind: hangup, prompt: goodbye}
"""


def free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class VoiceCenter:
    """The running server, its database and the SIP address of its Asterisk."""

    server: LiveServer
    db_url: str
    sip: tuple[str, int]
    data: Path
    passwords: dict[str, str] = field(default_factory=dict)
    asterisk: RunningAsterisk | None = None  # the bring-your-own one (external)

    def __post_init__(self) -> None:
        self.db = make_engine(self.db_url)

    def events(self, contact: str) -> list[EventRow]:
        with Session(self.db) as s:
            rows = s.scalars(
                select(EventRow).where(EventRow.contact == contact).order_by(EventRow.id)
            )
            return list(rows)

    def all_events(self) -> list[EventRow]:
        with Session(self.db) as s:
            return list(s.scalars(select(EventRow).order_by(EventRow.id)))

    def contacts(self) -> list[ContactRow]:
        with Session(self.db) as s:
            return list(s.scalars(select(ContactRow).where(ContactRow.channel == "voice")))

    def new_contacts(self, before: set[str]) -> list[ContactRow]:
        return [r for r in self.contacts() if r.id not in before]

    def wait(self, what: str, check: Any, timeout_s: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            got = check()
            if got:
                return got
            time.sleep(0.1)
        raise AssertionError(f"{what} did not happen within {timeout_s} s\n{self.server.log()}")


def types(rows: list[EventRow]) -> list[str]:
    return [r.type for r in rows]


def _seed(
    url: str, *, announce_every_s: float, callback_digit: str | None, max_wait_s: float | None
) -> None:
    seed(url)
    db = make_engine(url)
    with Session(db) as s, s.begin():
        s.add(QueueRow(name="phones", channel="voice", sl_threshold_s=20.0, ring_timeout_s=15.0,
                       requirements=[{"skill": "support", "min_level": 1}],
                       announce_every_s=announce_every_s, max_wait_s=max_wait_s,
                       callback_digit=callback_digit))  # fmt: skip
        s.add(IvrFlowRow(name="support", source=FLOW, updated_at=time.time()))
    db.dispose()


def _configure(server: LiveServer, agents: tuple[str, ...]) -> dict[str, str]:
    with server.client("admin") as admin:
        admin.ok("POST", "/api/admin/voice/trunks",
                 json={"name": "carrier", "kind": "ip", "networks": ["127.0.0.1"]})  # fmt: skip
        admin.ok("POST", "/api/admin/voice/numbers",
                 json={"number": DID, "target_kind": "queue", "target": "phones"})  # fmt: skip
        to_ivr = {"number": IVR_DID, "target_kind": "ivr", "target": "support"}
        admin.ok("POST", "/api/admin/voice/numbers", json=to_ivr)
        return {
            a: admin.ok("PUT", f"/api/admin/voice/agents/{a}/device", json={"kind": "sip"})[
                "password"
            ]
            for a in agents
        }


@contextlib.contextmanager
def voice_center(
    tmp: Path,
    *,
    agents: tuple[str, ...] = ("ann",),
    announce_every_s: float = 0.0,
    callback_digit: str | None = None,
    max_wait_s: float | None = None,
    external: bool = False,
) -> Iterator[VoiceCenter]:
    url = f"sqlite:///{tmp / 'center.db'}"
    _seed(url, announce_every_s=announce_every_s, callback_digit=callback_digit,
          max_wait_s=max_wait_s)  # fmt: skip
    env = {
        "CALLCENTER_DATA_DIR": str(tmp / "data"),
        "CALLCENTER_RECORDING_ANALYSIS_TRANSCRIBE": "false",
    }
    theirs: RunningAsterisk | None = None
    if external:
        theirs = _their_asterisk(url, agents)
        user, password = theirs.ari_auth
        sip_port = theirs.config.sip_port
        env |= {
            "CALLCENTER_VOICE": "external",
            "CALLCENTER_VOICE_ARI_URL": theirs.ari_url,
            "CALLCENTER_VOICE_ARI_USER": user,
            "CALLCENTER_VOICE_ARI_PASSWORD": password,
        }
    else:
        sip_port = free_port(socket.SOCK_DGRAM)
        env |= {
            "CALLCENTER_VOICE": "embedded",
            "CALLCENTER_VOICE_SIP_PORT": str(sip_port),
            "CALLCENTER_VOICE_HTTP_PORT": str(free_port(socket.SOCK_STREAM)),
        }
    server = LiveServer(db_url=url, workdir=tmp, log_level="info", env=env)
    try:
        server.start()
        passwords = _configure(server, agents)
        if theirs is not None:  # their Asterisk takes the devices as the center set them
            _reload_theirs(theirs, url)
        yield VoiceCenter(server, url, ("127.0.0.1", sip_port), tmp / "data", passwords, theirs)
    finally:
        server.stop()
        if theirs is not None:
            theirs.stop()


def _their_files(url: str) -> dict[str, str]:
    from callcenter.live.voice.config import extra_files
    from callcenter.live.voice.setup import pjsip_options

    engine = make_engine(url)
    try:
        with Session(engine) as s:
            return extra_files(s, pjsip_options(Settings.load()))
    finally:
        engine.dispose()


def _their_asterisk(url: str, agents: tuple[str, ...]) -> RunningAsterisk:
    """A center's own Asterisk: started apart from our server (which never starts or
    configures it), its dialplan sending every number to ``Stasis(callcenter)``."""
    del agents
    return start_asterisk(find_install(Settings.load().cache_dir), extra=_their_files(url))


def _reload_theirs(theirs: RunningAsterisk, url: str) -> None:
    """The center's administrator gives their Asterisk the endpoints (as our admin set
    them: what the documented bring-your-own set-up does by hand)."""
    from callcenter.live.voice.config import apply_pjsip, pjsip_text
    from callcenter.live.voice.setup import pjsip_options

    engine = make_engine(url)
    try:
        with Session(engine) as s:
            text = pjsip_text(s, pjsip_options(Settings.load()))
    finally:
        engine.dispose()
    apply_pjsip(theirs.config.etc_dir, text, theirs.ari_url, theirs.ari_auth)


__all__ = [
    "CALLER",
    "DID",
    "FLOW",
    "IVR_DID",
    "VoiceCenter",
    "free_port",
    "types",
    "voice_center",
]
