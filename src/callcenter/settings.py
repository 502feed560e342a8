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
from typing import Any, Literal, get_args

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
    signin_account_failures: int = Field(
        default=5,
        ge=1,
        le=1000,
        description=(
            "Failed sign-ins of one account before it is locked (every attempt, the right "
            "password too, then answers 429 with `Retry-After` until the lock ends)."
        ),
    )
    signin_address_failures: int = Field(
        default=50,
        ge=1,
        le=100000,
        description=(
            "Failed sign-ins from one client address (an IPv6 /64) before it is locked; "
            "higher than the account's, as an office may share one address (sign-ins in "
            "flight count until they are decided: at most this many at once)."
        ),
    )
    signin_backoff_s: float = Field(
        default=1.0,
        gt=0,
        le=86400,
        description=(
            "Seconds of the first lock; each further failure doubles it, up to "
            "`signin_backoff_max_s`."
        ),
    )
    signin_backoff_max_s: float = Field(
        default=900.0,
        gt=0,
        le=86400,
        description="Seconds of the longest lock of an account or address.",
    )
    signin_forget_s: float = Field(
        default=900.0,
        gt=0,
        le=7 * 86400,
        description=(
            "Seconds without a failure (after its lock ended) before an account's or "
            "address's failures are forgotten."
        ),
    )
    signin_tracked_max: int = Field(
        default=10000,
        ge=10,
        le=10_000_000,
        description=(
            "Most accounts, and most addresses, whose failures are kept in memory (the "
            "least recently seen are dropped first)."
        ),
    )
    password_hash_threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description=(
            "Password checks and hashes run at once (Argon2: 64 MiB and 4 CPU threads "
            "each while it runs; this × 64 MiB is the memory hashing may take). One keeps "
            "a 2-core server responsive during a sign-in flood; raise it with the cores."
        ),
    )
    password_hash_queue: int = Field(
        default=64,
        ge=0,
        le=10000,
        description=(
            "Sign-ins (and password changes) that may wait for a hashing thread; beyond "
            "it the server answers 503 with `Retry-After` at once."
        ),
    )
    trusted_proxies: str = Field(
        default="",
        description=(
            "Addresses of reverse proxies whose `X-Forwarded-For` names the client (comma-"
            "separated addresses or networks, e.g. `127.0.0.1, 10.0.0.0/8`); empty: the "
            "header is ignored and the client is the connection's peer (what sign-in "
            "throttling and the chat limits count by)."
        ),
    )

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
    chat_starts_burst: int = Field(
        default=10,
        ge=1,
        description=(
            "Chats one client address may start at once (`POST /api/chat/start`); more "
            "answer 429 with `Retry-After`. Refilled at `chat_starts_per_minute`."
        ),
    )
    chat_starts_per_minute: float = Field(
        default=10.0,
        gt=0,
        le=1e6,
        description="Chat starts a client address regains a minute (see `chat_starts_burst`).",
    )
    chat_messages_burst: int = Field(
        default=20,
        ge=1,
        description=(
            "Messages a customer may send at once in one chat; more answer 429 with "
            "`Retry-After`. Refilled at `chat_messages_per_minute`."
        ),
    )
    chat_messages_per_minute: float = Field(
        default=60.0,
        gt=0,
        le=1e6,
        description="Messages one chat regains a minute (see `chat_messages_burst`).",
    )
    chat_address_messages_burst: int = Field(
        default=60,
        ge=1,
        description=(
            "Customer messages one client address may send at once over all its chats "
            "(customers behind one shared address). Refilled at "
            "`chat_address_messages_per_minute`."
        ),
    )
    chat_address_messages_per_minute: float = Field(
        default=240.0,
        gt=0,
        le=1e6,
        description="Messages a client address regains a minute over all its chats.",
    )
    chat_reads_burst: int = Field(
        default=30,
        ge=1,
        description=(
            "Requests about one chat other than messages (`GET /api/chat/{id}`, `/end`, "
            "`/csat`) at once; more answer 429 with `Retry-After`. Refilled at "
            "`chat_reads_per_minute`. The same numbers bound `GET /api/chat/availability` "
            "per client address."
        ),
    )
    chat_reads_per_minute: float = Field(
        default=120.0,
        gt=0,
        le=1e6,
        description="Reads one chat regains a minute (see `chat_reads_burst`).",
    )
    chat_sockets_per_chat: int = Field(
        default=3,
        ge=1,
        description=(
            "WebSockets open at once on one chat (`/ws/chat/{id}`: a customer's tabs); "
            "one more is closed with code 4429."
        ),
    )
    chat_sockets_per_address: int = Field(
        default=30,
        ge=1,
        description="Chat WebSockets open at once from one client address (more: 4429).",
    )
    chat_socket_ticket_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description=(
            "How long a chat WebSocket ticket (`POST /api/chat/{id}/socket`) stays valid; "
            "each opens one socket once."
        ),
    )
    chat_socket_tickets_per_minute: float = Field(
        default=20.0,
        gt=0,
        le=1e6,
        description=(
            "Socket tickets one chat may get a minute (after a burst of 10): a widget "
            "reconnecting in a loop is slowed, not served."
        ),
    )

    # --- customers (docs/crm.md)
    phone_region: str = Field(
        default="US",
        description=(
            "The country whose national phone numbers the center reads (ISO 3166, e.g. "
            "`IR`, `RU`, `LT`): a caller id like `89161234567` or `09121234567`, a phone "
            "typed without `+` in the CRM or the chat form, becomes E.164 in this "
            "country's plan. The CRM API's `region` parameter overrides it per request."
        ),
    )

    # --- e-mail (SMTP) for one-time codes (docs/security.md)
    smtp_host: str | None = Field(
        default=None,
        description=(
            "SMTP server that sends the one-time codes a chat customer proves its e-mail "
            "with (`docs/chat.md`). Not set: verification by e-mail is not offered (503)."
        ),
    )
    smtp_port: int = Field(
        default=587, ge=1, le=65535, description="Port of the SMTP server (465 with `ssl`)."
    )
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls",
        description=(
            "How the SMTP connection is protected: `starttls` (upgrade after connecting, "
            "port 587), `ssl` (TLS from the start, port 465) or `none` (a local relay)."
        ),
    )
    smtp_user: str | None = Field(
        default=None, description="User name for SMTP AUTH (not set: no authentication)."
    )
    smtp_password: SecretStr | None = Field(
        default=None, description="Password for SMTP AUTH. Never shown or logged."
    )
    smtp_from: str = Field(
        default="callcenter@localhost",
        description="The From address of the one-time-code e-mails.",
    )
    smtp_timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="Seconds to wait for the SMTP server."
    )
    otp_ttl_s: float = Field(
        default=600.0, ge=30, le=86_400, description="How long a one-time code is valid."
    )
    otp_max_attempts: int = Field(
        default=5, ge=1, le=20, description="Wrong codes allowed per code before it is void."
    )
    otp_max_sends: int = Field(default=3, ge=1, le=20, description="Codes one chat may have sent.")
    otp_resend_interval_s: float = Field(
        default=30.0, ge=0, le=3600, description="Seconds a chat waits before another code."
    )
    otp_max_per_address_hour: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Codes sent to one e-mail address per hour, over all chats (no mail bomb).",
    )

    # --- voice: the telephony engine (docs/voice.md)
    voice: Literal["off", "embedded", "external"] = Field(
        default="off",
        description=(
            "Calls: `off`; `embedded` (the server starts and supervises its own Asterisk, "
            "built by `scripts/asterisk.sh`, its configuration generated from the tables); "
            "`external` (a center's own Asterisk 18+, reached at `voice_ari_url`, whose "
            "dialplan sends chosen numbers to `Stasis(<voice_app>)`)."
        ),
    )
    voice_app: str = Field(
        default="callcenter",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="The Stasis application name calls enter (letters, digits, `_`, `-`).",
    )
    voice_bind: str = Field(
        default="127.0.0.1",
        description=(
            "Embedded Asterisk: the address its SIP, HTTP (ARI, WebSocket) and RTP listen "
            "on. 127.0.0.1 keeps telephony on this machine; name a LAN address to take "
            "calls from phones and trunks."
        ),
    )
    voice_sip_port: int = Field(
        default=5060, ge=0, le=65535, description="Embedded Asterisk's SIP (UDP) port; 0: any free."
    )
    voice_http_port: int = Field(
        default=8088,
        ge=0,
        le=65535,
        description="Embedded Asterisk's HTTP port (ARI, SIP over WebSocket); 0: any free.",
    )
    voice_ari_url: str | None = Field(
        default=None,
        description="External Asterisk: ARI's base URL, e.g. `http://pbx.example:8088/ari`.",
    )
    voice_ari_user: str | None = Field(default=None, description="External Asterisk: ARI user.")
    voice_ari_password: SecretStr | None = Field(
        default=None, description="External Asterisk: ARI password. Never shown or logged."
    )

    # --- voice: SIP security (docs/voice.md#sip-security)
    voice_guard_max_failures: int = Field(
        default=10,
        ge=1,
        le=10_000,
        description=(
            "Embedded Asterisk: failed SIP authentications (unknown user, wrong password, "
            "refused by an ACL) from one address within `voice_guard_window_s` that block it."
        ),
    )
    voice_guard_window_s: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        description="Seconds over which an address's SIP failures are counted.",
    )
    voice_guard_block_s: float = Field(
        default=900.0,
        gt=0,
        le=7 * 86_400,
        description=(
            "Seconds a blocked address stays blocked (PJSIP answers its every request with "
            "403); then its count starts again from zero."
        ),
    )
    voice_guard_max_tracked: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description=(
            "Most addresses whose failures are counted at once (memory bound; the one "
            "seen least recently is forgotten first)."
        ),
    )
    voice_guard_max_blocked: int = Field(
        default=1_000,
        ge=1,
        le=100_000,
        description="Most addresses blocked at once; a new offender beyond that is logged.",
    )
    voice_guard_allow: str = Field(
        default="",
        description=(
            "Addresses and networks never blocked, comma-separated (e.g. the carrier's "
            "`203.0.113.0/24`); the IP trunks' networks are added to it."
        ),
    )

    # --- voice: recordings and their analysis ---
    recordings_dir: Path | None = Field(
        default=None,
        description=(
            "Folder of the calls' recordings, one stereo WAV per answered call (agent "
            "left, caller right) at `<YYYY>/<MM>/<DD>/<contact id>.wav` (the UTC day of "
            "answer). Unset: `recordings/` in `data_dir`."
        ),
    )
    recording_retention_days: int = Field(
        default=90,
        ge=0,
        le=36500,
        description=(
            "Days a recording is kept: a call of day D is deleted by the first sweep "
            "more than this many days after D. 0 keeps every recording."
        ),
    )
    recording_analysis_workers: int = Field(
        default=1,
        ge=0,
        le=16,
        description=(
            "Recorded calls the server analyses at the same time (each in a worker "
            "thread, never on the event loop). 0 turns automatic analysis off."
        ),
    )
    recording_analysis_transcribe: bool = Field(
        default=True,
        description=(
            "Transcribe recorded calls in the automatic analysis (speech model, "
            "keywords, topic, sentiment, etiquette); false: audio metrics only, "
            "hundreds of times faster."
        ),
    )

    @property
    def recordings_path(self) -> Path:
        """``recordings_dir``, else ``<data_dir>/recordings``."""
        return self.recordings_dir or self.data_dir / "recordings"

    # --- voice: IVR (docs/ivr.md) ---
    ivr_prompts_dir: Path | None = Field(
        default=None,
        description=(
            "Folder of the center's own IVR prompts, `<language>/<name>.wav` (uploads are "
            "converted into it); unset: `prompts/` in `data_dir`."
        ),
    )
    ivr_sounds_dir: Path = Field(
        default=Path("/usr/share/asterisk/sounds"),
        description=(
            "Folder of the recorded prompts every flow may use (Debian's "
            "`asterisk-core-sounds-*-wav`), `<language>/<name>.wav`."
        ),
    )
    ivr_prompt_max_seconds: float = Field(
        default=600.0, gt=0, le=3600, description="Longest prompt upload accepted, in seconds."
    )

    @property
    def ivr_prompts(self) -> Path:
        """The center's own prompt folder (``ivr_prompts_dir`` or ``data_dir/prompts``)."""
        return (
            self.ivr_prompts_dir if self.ivr_prompts_dir is not None else self.data_dir / "prompts"
        )

    # --- voice: IVR admin (docs/ivr.md, "Administration") ---
    ivr_prompt_max_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description=(
            "Largest prompt upload accepted (`POST /api/admin/ivr/prompts`), in bytes; "
            "only that route: every other one keeps `max_body_bytes`."
        ),
    )

    # --- voice: the desk's softphone on calls (docs/voice.md, "The desk on a call") ---
    desk_phone_ttl_s: float = Field(
        default=43_200.0,
        ge=60,
        le=86_400,
        description=(
            "Seconds a WebRTC softphone credential issued to the desk (`POST "
            "/api/desk/phone`, each time the desk page opens) stays valid; a new one "
            "replaces the old at once. Cover a shift: an expired credential stops "
            "registering at Asterisk's next reload."
        ),
    )
    voice_ws_url: str | None = Field(
        default=None,
        description=(
            "The SIP-over-WebSocket URL browsers reach Asterisk at, e.g. "
            "`wss://pbx.example/ws`. Unset: `ws://<voice_bind>:<voice_http_port>/ws` "
            "(the embedded Asterisk); required with `voice = external`."
        ),
    )

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

    @field_validator("phone_region")
    @classmethod
    def _check_phone_region(cls, value: str) -> str:
        import phonenumbers  # here: importing settings stays quick

        code = value.strip().upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(
                f"{value!r} is not a phone region (expected an ISO 3166 code such as "
                "IR, RU, LT or US)"
            )
        return code

    @field_validator("voice_guard_allow")
    @classmethod
    def _check_guard_allow(cls, value: str) -> str:
        import ipaddress  # here: importing settings stays quick

        items = [x.strip() for x in value.split(",") if x.strip()]
        for item in items:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network (expected e.g. 203.0.113.7 "
                    "or 10.0.0.0/8, comma-separated)"
                ) from None
        return ", ".join(items)

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        import ipaddress  # here: importing settings stays quick

        items = [x.strip() for x in value.split(",") if x.strip()]
        for item in items:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network (expected e.g. 127.0.0.1 or "
                    "10.0.0.0/8, comma-separated)"
                ) from None
        return ", ".join(items)

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
