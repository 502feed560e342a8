"""The settings of calls (``docs/voice.md``, ``docs/ivr.md``): the telephony engine, SIP
security, recordings and their analysis, the IVR, the desk's softphone —
:class:`VoiceSettings`, on top of :class:`~callcenter.settings.base.CoreSettings`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from callcenter.settings.base import CoreSettings, comma_networks


class VoiceSettings(CoreSettings):
    """The core settings and those of calls."""

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

    @field_validator("voice_guard_allow")
    @classmethod
    def _check_guard_allow(cls, value: str) -> str:
        return comma_networks(value, "203.0.113.7 or 10.0.0.0/8")


__all__ = ["VoiceSettings"]
