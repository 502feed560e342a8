"""Run-time settings, read from the environment (``CALLCENTER_*``).

One :class:`Settings` object is built at start-up (:meth:`Settings.load`, called by the
CLI) and passed down to whatever needs it; nothing reads the environment at import time.
Command-line options (``--database ...``) override the settings they correspond to.

Each field's ``description`` is its help text; :meth:`Settings.describe` lists name,
environment variable, default and help, and :func:`settings_table` renders that list as
the table of ``docs/settings.md`` (``python scripts/settings_doc.py`` writes it; a test
fails when the two differ). This is the only module that reads the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from callcenter.errors import UserError

ENV_PREFIX = "CALLCENTER_"


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


class Settings(BaseSettings):
    """Settings shared by the commands; every field can be set as ``CALLCENTER_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        case_sensitive=False,
        extra="ignore",
        frozen=True,
        env_ignore_empty=True,  # CALLCENTER_X= (set, empty) means "not set": the default
    )

    database_url: str = Field(
        default="sqlite:///callcenter.db",
        description=(
            "SQLAlchemy URL of the event database; the default is the SQLite file "
            "`callcenter.db` in the current folder. Example: "
            "`postgresql+psycopg://user@host/callcenter`."
        ),
    )
    data_dir: Path = Field(
        default=Path("."),
        description=(
            "Folder where generated files go when no path is given: the per-call results "
            "of `callcenter analyze` (`analysis/` in it). Relative paths are taken from the "
            "current folder."
        ),
    )
    cache_dir: Path = Field(
        default=Path("~/.cache/callcenter"),
        description=(
            "Folder for files made once and reused: the speech model `base`, joined from "
            "its two packages, goes to `models/whisper-base` in it."
        ),
    )

    host: str = Field(
        default="127.0.0.1",
        description="Address `callcenter serve` listens on (`0.0.0.0`: every interface).",
    )
    port: int = Field(default=8000, ge=0, le=65535, description="Port of `callcenter serve`.")
    cookie_secure: bool = Field(
        default=False,
        description=(
            "Mark the session cookie Secure (send it over HTTPS only); set it when the "
            "server sits behind a TLS proxy."
        ),
    )
    password: SecretStr | None = Field(
        default=None,
        description=(
            "Password of `callcenter user add` when `--password` is not given (else it is "
            "asked for). Never shown or logged."
        ),
    )

    # --- sign-in throttling and password hashing (docs/security.md)

    # --- HTTP limits, headers and API docs (docs/security.md)
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        le=1_073_741_824,
        description=(
            "Largest request body the server accepts, in bytes (default 1 MiB; no route "
            "needs more: the largest is an administrator's configuration change, a few "
            "KiB). A larger body is refused with 413 before it is read: by its "
            "`Content-Length`, or for a chunked body once the bytes received pass the "
            "limit."
        ),
    )
    api_docs: bool = Field(
        default=False,
        description=(
            "Serve the API documentation (`/docs`, `/openapi.json`) to signed-in users. "
            "Off by default: the routes answer 404. Its assets are served by the "
            "server itself (the `swagger-ui-py` package), never from a CDN."
        ),
    )

    # --- chat limits (docs/security.md)

    # --- e-mail (SMTP) for one-time codes (docs/security.md)

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url  # here: importing settings stays quick
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value)
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            raise ValueError("not a database URL (expected e.g. sqlite:///callcenter.db)") from None
        return value

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
