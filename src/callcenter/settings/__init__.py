"""Run-time settings, read from the environment (``CALLCENTER_*``).

One :class:`Settings` object is built at start-up (:meth:`Settings.load`, called by the
CLI) and passed down to whatever needs it; nothing reads the environment at import time.
Command-line options (``--database ...``) override the settings they correspond to.

Each field's ``description`` is its help text; :meth:`Settings.describe` lists name,
environment variable, default and help, and :func:`settings_table` renders that list as
the table of ``docs/settings.md`` (``python scripts/settings_doc.py`` writes it; a test
fails when the two differ). This package is the only place that reads the environment:
the fields are in :mod:`.base` (all but calls) and :mod:`.voice` (calls); this module
loads and describes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import SecretStr, ValidationError

from callcenter.errors import UserError
from callcenter.settings.base import ENV_PREFIX
from callcenter.settings.voice import VoiceSettings


class SettingsError(UserError):
    """A setting (environment variable) with a value that cannot be used."""


@dataclass(frozen=True, slots=True)
class SettingInfo:
    """One setting as documented: field name, environment variable, default and help."""

    name: str
    env_var: str
    default: str
    help: str


NOT_SET = "(not set)"
"""How :meth:`Settings.describe` shows a setting without a default (and every secret)."""


def _is_secret(annotation: object) -> bool:
    return annotation is SecretStr or SecretStr in get_args(annotation)


class Settings(VoiceSettings):
    """Settings shared by the commands; every field can be set as ``CALLCENTER_<NAME>``."""

    @classmethod
    def load(cls, *, names: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build the settings from the environment (plus ``overrides``), once, at start-up.

        A bad value raises :class:`SettingsError` naming where it came from: the
        environment variable, or for an override its name in ``names`` (a command-line
        option such as ``--port``) and the value given.
        """
        try:
            return cls(**overrides)
        except ValidationError as e:
            err = e.errors()[0]
            loc = str(err["loc"][0]) if err["loc"] else ""
            msg = str(err["msg"]).removeprefix("Value error, ")
            if loc in overrides:
                name = (names or {}).get(loc, loc)
            else:
                name = f"{ENV_PREFIX}{loc.upper()}" if loc else "settings"
            secret = loc in cls.model_fields and _is_secret(cls.model_fields[loc].annotation)
            value = "" if secret or "input" not in err else f" {err['input']!r}"
            raise SettingsError(f"{name}{value}: {msg}") from None

    @classmethod
    def describe(cls) -> list[SettingInfo]:
        """Every setting with its environment variable, default and help text."""
        out: list[SettingInfo] = []
        for name, field in cls.model_fields.items():
            secret = _is_secret(field.annotation)
            default = NOT_SET if secret or field.default is None else str(field.default)
            out.append(
                SettingInfo(
                    name=name,
                    env_var=f"{ENV_PREFIX}{name.upper()}",
                    default=default,
                    help=field.description or "",
                )
            )
        return out


def settings_table() -> str:
    """:meth:`Settings.describe` as a Markdown table (the one in ``docs/settings.md``)."""
    lines = ["| Setting | Environment variable | Default | Help |", "|---|---|---|---|"]
    for i in Settings.describe():
        default = f"`{i.default}`" if i.default != NOT_SET else i.default
        text = i.help.replace("|", "\\|")
        lines.append(f"| `{i.name}` | `{i.env_var}` | {default} | {text} |")
    return "\n".join(lines) + "\n"


__all__ = ["ENV_PREFIX", "NOT_SET", "SettingInfo", "Settings", "SettingsError", "settings_table"]
