"""``callcenter voice doctor``: each check's verdict against the state it looks at.

Truth is what the test set up: a real Asterisk answering (or not) with the given
credentials, a port the test holds, tables with a number that leads nowhere.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from tests.support.seed import seed
from typer.testing import CliRunner

from callcenter.cli.app import app
from callcenter.cli.main import _register
from callcenter.errors import UserError
from callcenter.settings import Settings
from callcenter.storage.db import make_engine
from callcenter.storage.tables import IvrFlowRow, QueueRow, VoiceNumber
from callcenter.voice.asterisk import RunningAsterisk, find_install, start_asterisk

_register()


def _doctor(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *args: str) -> tuple[int, str]:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    result = CliRunner().invoke(app, ["voice", "doctor", *args], terminal_width=200)
    return result.exit_code, result.output


def _line(out: str, check: str) -> str:
    found = [ln for ln in out.splitlines() if ln.strip("│ ").startswith(check)]
    assert found, f"no {check!r} line in:\n{out}"
    return found[0]


@pytest.fixture(scope="module")
def asterisk() -> Iterator[RunningAsterisk]:
    running = start_asterisk(find_install(Settings.load().cache_dir))
    try:
        yield running
    finally:
        running.stop()


def test_voice_off_says_so_and_passes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    code, out = _doctor(monkeypatch, {"CALLCENTER_VOICE": "off"}, "--database",
                        f"sqlite:///{tmp_path / 'none.db'}", "--no-connect")  # fmt: skip
    assert code == 0, out
    assert "voice is off" in _line(out, "mode")
    assert "ok" in _line(out, "asterisk build") and "22.10.1" in _line(out, "asterisk build")


def test_external_without_credentials_fails_naming_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, out = _doctor(
        monkeypatch,
        {"CALLCENTER_VOICE": "external", "CALLCENTER_VOICE_ARI_URL": "http://127.0.0.1:9/ari"},
        "--database", f"sqlite:///{tmp_path / 'none.db'}", "--no-connect",
    )  # fmt: skip
    assert code == 1
    line = _line(out, "ARI settings")
    assert "fail" in line and "CALLCENTER_VOICE_ARI_USER" in line


def test_external_asterisk_answers_or_refuses_the_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, asterisk: RunningAsterisk
) -> None:
    user, password = asterisk.ari_auth
    env = {
        "CALLCENTER_VOICE": "external",
        "CALLCENTER_VOICE_ARI_URL": asterisk.ari_url,
        "CALLCENTER_VOICE_ARI_USER": user,
        "CALLCENTER_VOICE_ARI_PASSWORD": password,
    }
    db = ["--database", f"sqlite:///{tmp_path / 'none.db'}"]
    code, out = _doctor(monkeypatch, env, *db)
    assert code == 0, out
    assert "Asterisk 22.10.1 answers" in _line(out, "ARI ")
    code, out = _doctor(monkeypatch, {**env, "CALLCENTER_VOICE_ARI_PASSWORD": "wrong"}, *db)
    assert code == 1
    line = _line(out, "ARI ")
    assert "401" in line and "voice_ari_password" in out
    assert password not in out and "wrong" not in out  # no secret is shown


def test_embedded_boots_with_the_tables_configuration_and_names_a_taken_port(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    seed(url)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        code, out = _doctor(
            monkeypatch,
            {"CALLCENTER_VOICE": "embedded", "CALLCENTER_VOICE_SIP_PORT": str(port),
             "CALLCENTER_VOICE_HTTP_PORT": "0"},
            "--database", url,
        )  # fmt: skip
    assert "warn" in _line(out, "SIP port") and f"127.0.0.1:{port} is in use" in out
    assert "Asterisk 22.10.1 answers" in _line(out, "embedded start")
    # no trunk, no number, no phone yet: warnings, not failures
    assert "warn" in _line(out, "trunks") and "warn" in _line(out, "numbers")
    assert code == 0, out


def test_numbers_that_lead_nowhere_fail_one_line_each(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    seed(url)
    now = time.time()
    broken = "name: broken\nlanguage: en\nstart: a\nnodes:\n  a: {kind: play, prompt: no-such-prompt-x, next: b}\n  b: {kind: hangup}\n"  # noqa: E501
    engine = make_engine(url)
    with Session(engine) as s, s.begin():
        s.add(QueueRow(name="phones", channel="voice", requirements=[]))
        s.add(IvrFlowRow(name="broken", source=broken, updated_at=now))
        for number, kind, target in [
            ("100", "queue", "phones"), ("200", "queue", "support"),  # support: a chat queue
            ("300", "ivr", "missing"), ("400", "ivr", "broken"),
        ]:  # fmt: skip
            s.add(VoiceNumber(number=number, target_kind=kind, target=target,
                              created_at=now, updated_at=now))  # fmt: skip
    engine.dispose()
    code, out = _doctor(monkeypatch, {"CALLCENTER_VOICE": "embedded"}, "--database", url,
                        "--no-connect")  # fmt: skip
    assert code == 1
    assert "ok" in _line(out, "number 100")
    assert "'support' is not a voice queue" in _line(out, "number 200")
    assert "'missing' does not exist" in _line(out, "number 300")
    assert "fail" in _line(out, "number 400") and "no-such-prompt-x" in out
    assert "fail" in _line(out, "IVR flow broken")


def test_serve_refuses_voice_it_cannot_run_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    runner = CliRunner()
    external = runner.invoke(app, ["serve", "--database", db, "--port", "0", "--voice", "external"])
    # a UserError: `callcenter` (cli/main.py) prints it as one line and exits 1
    assert isinstance(external.exception, UserError)
    assert "voice = external needs CALLCENTER_VOICE_ARI_URL" in str(external.exception)
    monkeypatch.setenv("CALLCENTER_CACHE_DIR", str(tmp_path / "no-cache"))
    embedded = runner.invoke(app, ["serve", "--database", db, "--port", "0", "--voice", "embedded"])
    assert isinstance(embedded.exception, UserError)
    assert "run `bash scripts/asterisk.sh`" in str(embedded.exception)
