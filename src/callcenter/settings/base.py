"""The settings of the whole center but its calls: :class:`CoreSettings` (the database,
folders, the server, sign-in, HTTP and chat limits, customers, e-mail). The package's
:class:`~callcenter.settings.Settings` adds the voice settings (:mod:`.voice`) after them,
in that order: the order of ``docs/settings.md``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "CALLCENTER_"


def comma_networks(value: str, example: str) -> str:
    """A comma-separated list of IP addresses or networks, tidied (``a, b``); a
    ``ValueError`` naming the first item that is neither (``example`` shows good ones)."""
    import ipaddress  # here: importing settings stays quick

    items = [x.strip() for x in value.split(",") if x.strip()]
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(
                f"{item!r} is not an IP address or network (expected e.g. {example}, "
                "comma-separated)"
            ) from None
    return ", ".join(items)


class CoreSettings(BaseSettings):
    """The settings every command shares; every field can be set as ``CALLCENTER_<NAME>``."""

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

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        return comma_networks(value, "127.0.0.1 or 10.0.0.0/8")


__all__ = ["ENV_PREFIX", "CoreSettings", "comma_networks"]
