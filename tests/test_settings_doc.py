"""Settings: the one table of docs/settings.md, secrets, and who reads the environment."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from callcenter.settings import NOT_SET, Settings, SettingsError, settings_table

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "settings.md"
SRC = ROOT / "src" / "callcenter"


def test_the_docs_table_is_describe() -> None:
    """docs/settings.md holds Settings.describe() as generated: rerun the script if not."""
    text = DOC.read_text(encoding="utf-8")
    begin, end = "from Settings.describe() -->\n", "<!-- end of the settings table -->"
    table = text[text.index(begin) + len(begin) : text.index(end)]
    assert table == settings_table(), "run: .venv/bin/python scripts/settings_doc.py"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "settings_doc.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_each_setting_is_documented_once() -> None:
    """Only docs/settings.md lists the settings with their defaults; others link to it."""
    for doc in (ROOT / "docs").glob("*.md"):
        if doc.name == "settings.md":
            continue
        text = doc.read_text(encoding="utf-8")
        assert "| `CALLCENTER_" not in text, f"{doc.name}: a settings table; link settings.md"


def test_password_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_PASSWORD", "s3cret-pass")
    settings = Settings.load()
    assert settings.password is not None
    assert settings.password.get_secret_value() == "s3cret-pass"
    for shown in (repr(settings), str(settings), settings.model_dump_json(), settings_table()):
        assert "s3cret-pass" not in shown
    info = {i.name: i for i in Settings.describe()}["password"]
    assert info.default == NOT_SET
    monkeypatch.setenv("CALLCENTER_PASSWORD", "")
    assert Settings.load().password is None  # empty: not set (asked for)
    monkeypatch.setenv("CALLCENTER_PORT", "")
    assert Settings.load().port == 8000  # every empty variable: the default


def test_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from callcenter.speech.models import cache_dir

    monkeypatch.setenv("CALLCENTER_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path / "models"
    monkeypatch.setenv("CALLCENTER_CACHE_DIR", "")
    assert cache_dir() == Path.home() / ".cache" / "callcenter" / "models"
    monkeypatch.delenv("CALLCENTER_CACHE_DIR")
    assert cache_dir() == Path.home() / ".cache" / "callcenter" / "models"
    assert cache_dir(tmp_path / "x") == tmp_path / "x" / "models"


_ENV_READ = re.compile(r"\bos\.environ\b|\bgetenv\b|\bfrom os import\b.*\benviron\b")


def test_only_settings_reads_the_environment() -> None:
    """Every environment read goes through callcenter.settings.Settings."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path.is_relative_to(SRC / "settings"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _ENV_READ.search(line):
                found.append(f"{path.relative_to(SRC)}:{n}: {line.strip()}")
    assert found == [], "read it through Settings instead:\n" + "\n".join(found)


def test_trusted_proxies_are_addresses_or_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_TRUSTED_PROXIES", " 127.0.0.1,10.0.0.0/8 ,::1")
    assert Settings.load().trusted_proxies == "127.0.0.1, 10.0.0.0/8, ::1"
    monkeypatch.setenv("CALLCENTER_TRUSTED_PROXIES", "127.0.0.1, proxy.example")
    with pytest.raises(SettingsError) as e:
        Settings.load()
    assert str(e.value) == (
        "CALLCENTER_TRUSTED_PROXIES '127.0.0.1, proxy.example': 'proxy.example' is not an IP "
        "address or network (expected e.g. 127.0.0.1 or 10.0.0.0/8, comma-separated)"
    )
