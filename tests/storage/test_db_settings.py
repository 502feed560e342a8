"""Settings: environment variables, defaults, documentation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from callcenter.settings import Settings, SettingsError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLCENTER_DATABASE_URL", raising=False)
    monkeypatch.delenv("CALLCENTER_DATA_DIR", raising=False)
    s = Settings.load()
    assert s.database_url == "sqlite:///callcenter.db"
    assert s.data_dir == Path(".")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CALLCENTER_DATABASE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("CALLCENTER_DATA_DIR", str(tmp_path))
    s = Settings.load()
    assert s.database_url == "sqlite:///elsewhere.db"
    assert s.data_dir == tmp_path
    assert Settings.load(database_url="sqlite://").database_url == "sqlite://"


def test_bad_url_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_DATABASE_URL", "no url here")
    with pytest.raises(SettingsError) as info:
        Settings.load()
    msg = str(info.value)
    assert msg == (
        "CALLCENTER_DATABASE_URL 'no url here': not a database URL "
        "(expected e.g. sqlite:///callcenter.db)"
    )
    assert info.value.exit_code == 2


def test_a_bad_override_names_the_option_and_never_shows_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.load(names={"port": "--port"}, port=70_000)
    assert str(info.value) == "--port 70000: Input should be less than or equal to 65535"
    with pytest.raises(SettingsError) as info:
        Settings.load(port="eighty")  # no name given: the field's own
    assert str(info.value).startswith("port 'eighty': Input should be a valid integer")
    with pytest.raises(SettingsError) as info:
        Settings.load(password=["not", "a", "string"])
    assert str(info.value) == "password: Input should be a valid string"


def test_not_read_at_import_time() -> None:
    """Importing the modules that use settings must not read the environment."""
    env = {**os.environ, "CALLCENTER_DATABASE_URL": "no url here"}
    code = "import callcenter.settings, callcenter.storage.db, callcenter.cli.db"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_describe_lists_every_setting_with_help() -> None:
    infos = Settings.describe()
    assert [i.name for i in infos] == list(Settings.model_fields)
    for info in infos:
        assert info.env_var == f"CALLCENTER_{info.name.upper()}"
        assert info.help


def test_docs_list_every_setting() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for info in Settings.describe():
        assert info.env_var in text
        assert info.default in text
