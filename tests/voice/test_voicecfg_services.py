"""The telephony services without a server: the WebRTC softphone's short-lived
credentials (issued, replaced, expired), the listeners called after a change, and
:func:`apply_pjsip` keeping the generated head of ``pjsip.conf``."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from sqlalchemy.orm import Session
from tests.support.seed import seed

from callcenter.api.center import Center
from callcenter.api.telephony import changed
from callcenter.live.admin.checks import ConflictError, InvalidError
from callcenter.live.voice import admin
from callcenter.live.voice.config import ReloadError, apply_pjsip, phone_specs
from callcenter.live.voice.schemas import DeviceIn
from callcenter.storage.db import make_engine
from callcenter.voice import pjsip_config as pc


@pytest.fixture
def s(tmp_path: Path) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    seed(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def test_webrtc_credentials_are_short_lived_and_replace_each_other(s: Session) -> None:
    admin.set_device(s, "bob", DeviceIn(kind="webrtc"), now=900.0)
    first = admin.issue_webrtc_credential(s, "bob", now=1000.0, ttl_s=600.0)
    assert (first.username, first.realm, first.expires_at) == ("agent-bob", "callcenter", 1600.0)
    assert len(first.password) >= 24
    (spec,) = phone_specs(s, now=1500.0)
    assert spec.ha1 == pc.ha1("agent-bob", first.password)
    assert phone_specs(s, now=1600.0)[0].ha1 == pc.LOCKED_HA1  # expired
    second = admin.issue_webrtc_credential(s, "bob", now=1100.0, ttl_s=600.0)
    assert phone_specs(s, now=1200.0)[0].ha1 == pc.ha1("agent-bob", second.password)
    assert second.password != first.password


def test_webrtc_credentials_refused(s: Session) -> None:
    with pytest.raises(ConflictError, match=r"^agent 'ann' has no webrtc device$"):
        admin.issue_webrtc_credential(s, "ann", now=1.0, ttl_s=600.0)
    admin.set_device(s, "ann", DeviceIn(kind="sip"), now=1.0)
    with pytest.raises(ConflictError, match=r"^agent 'ann' has no webrtc device$"):
        admin.issue_webrtc_credential(s, "ann", now=1.0, ttl_s=600.0)
    with pytest.raises(InvalidError, match=r"^ttl_s: 5 is out of range; expected 60 to 86400$"):
        admin.issue_webrtc_credential(s, "ann", now=1.0, ttl_s=5.0)


def test_listeners_are_called_and_one_failing_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []

    def broken() -> None:
        calls.append("broken")
        raise RuntimeError("asterisk is down")

    center = cast(Center, SimpleNamespace(voice_listeners=[broken, lambda: calls.append("ok")]))
    with caplog.at_level(logging.ERROR):
        assert changed(center, 42) == 42
    assert calls == ["broken", "ok"]
    assert "a voice listener failed" in caplog.text


def test_apply_keeps_the_head_and_replaces_our_part(tmp_path: Path) -> None:
    head = "[global]\ntype = global\n\n[transport-udp]\ntype = transport\n"
    (tmp_path / "pjsip.conf").write_text(head + "\n" + pc.GENERATED_MARKER + "[old]\n")
    new = pc.render_pjsip([], [pc.PhoneSpec("agent-x", "sip")], pc.PjsipOptions())
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(ReloadError, match="did not answer the reload"):
        apply_pjsip(tmp_path, new, f"http://127.0.0.1:{port}/ari", ("u", "p"), timeout_s=2)
    text = (tmp_path / "pjsip.conf").read_text()
    assert text == head + "\n" + new and "[old]" not in text
    assert (tmp_path / "pjsip.conf").stat().st_mode & 0o077 == 0
    with pytest.raises(ValueError, match="must come from pjsip_text"):
        apply_pjsip(tmp_path, "[evil]\n", "http://127.0.0.1:1/ari", ("u", "p"))
