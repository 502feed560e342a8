"""Administration of IVR flows and prompts, and what the call controller reads of them.

Functions over a :class:`Session` (they flush, never commit), called inside a
:class:`~callcenter.live.admin.uow.UnitOfWork`, which records every ``ivr_flows`` row
written in the audit log; a prompt upload writes no row, so :func:`upload_prompt`
records its own entry (``ivr_prompt.upload``, with the name and language).

**Saving a flow** parses its YAML (:func:`~callcenter.voice.ivr.load_flow`) and checks it
(:func:`~callcenter.voice.ivr.check_flow`) against the prompt catalogue (the center's
own prompts over Debian's), the active voice queues' names and the business hours'
names: a flow that cannot work is refused with the check's one line (422).  A flow
that numbers lead to cannot be deleted (409 names them); a number's ``ivr`` target
must name a stored flow (:func:`check_flow_exists`, used by ``admin.py``).

**For the controller**: :func:`flow_by_name` (the parsed flow, cached while its row's
``updated_at`` stays the same) and :func:`queue_voice` (a queue's four voice columns as
a :class:`~callcenter.live.voice.model.QueueVoice`).
"""

from __future__ import annotations

import threading
import wave
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.events import Channel
from callcenter.live.admin.checks import ConflictError, InvalidError, NotFoundError
from callcenter.live.voice.model import QueueVoice
from callcenter.settings import Settings
from callcenter.storage.audit import Actor, AuditAction, record
from callcenter.storage.tables import BusinessHours, IvrFlowRow, QueueRow, VoiceNumber
from callcenter.voice.ivr import (
    Flow,
    FlowError,
    PromptCatalogue,
    check_flow,
    convert_prompt,
    load_flow,
)
from callcenter.voice.ivr.prompts import AUDIO_SUFFIXES

MAX_SOURCE: Final = 200_000
"""Longest flow text accepted, in characters (the examples are ~3,000)."""

# --------------------------------------------------------------------------- schemas


class FlowIn(BaseModel):
    """``PUT /api/admin/ivr/flows/{name}``: the flow's YAML text (its ``name:`` must be
    the name in the URL)."""

    model_config = ConfigDict(strict=True, extra="forbid")
    source: str = Field(description="The flow in YAML (docs/ivr.md).")


class FlowSummary(BaseModel):
    name: str
    nodes: int = Field(description="How many nodes the flow has.")
    languages: list[str] = Field(description="The languages it offers, the default first.")
    numbers: list[str] = Field(description="The telephone numbers that lead to it.")
    updated_at: float
    updated_by: str | None


class FlowOut(FlowSummary):
    source: str = Field(description="The YAML text as saved.")


class PromptLanguage(BaseModel):
    """The prompt names a flow may use in one language."""

    language: str
    own: list[str] = Field(description="The center's own recordings (uploads), by name.")
    system: list[str] = Field(description="Debian's recorded prompts, by name.")


class PromptOut(BaseModel):
    """A prompt just uploaded and converted (8 kHz mono 16-bit WAV)."""

    name: str
    language: str
    seconds: float
    replaced: bool = Field(description="An upload of the same name and language was replaced.")


# --------------------------------------------------------------------------- prompts

_lock = threading.Lock()
_system: dict[Path, PromptCatalogue] = {}


def _own_stamp(own: Path) -> tuple[float, ...]:
    """The own folder's and its language folders' modification times: a file added or
    replaced there changes one of them (sub-folders such as ``digits/`` aside)."""
    if not own.is_dir():
        return ()
    dirs = [own, *sorted(p for p in own.iterdir() if p.is_dir())]
    return tuple(d.stat().st_mtime for d in dirs)


_own: dict[Path, tuple[tuple[float, ...], PromptCatalogue]] = {}


def _system_catalogue(settings: Settings) -> PromptCatalogue:
    root = settings.ivr_sounds_dir
    with _lock:
        if root not in _system:
            _system[root] = PromptCatalogue([root])  # Debian's: read once (~150 ms)
        return _system[root]


def _own_catalogue(settings: Settings) -> PromptCatalogue:
    root = settings.ivr_prompts
    stamp = _own_stamp(root)
    with _lock:
        cached = _own.get(root)
        if cached is None or cached[0] != stamp:
            cached = (stamp, PromptCatalogue([root]))
            _own[root] = cached
        return cached[1]


class Catalogue:
    """The prompt catalogue flows are checked against: the center's own prompts
    (``settings.ivr_prompts``) over Debian's (``settings.ivr_sounds_dir``) — the
    :class:`PromptCatalogue` ``[ivr_prompts, ivr_sounds_dir]`` — built from two cached
    halves (Debian's read once, the center's again when its folders change)."""

    def __init__(self, settings: Settings) -> None:
        self.own = _own_catalogue(settings)
        self.system = _system_catalogue(settings)

    def has(self, name: str, language: str) -> bool:
        return self.own.has(name, language) or self.system.has(name, language)

    def languages(self) -> list[str]:
        return sorted({*self.own.languages(), *self.system.languages()})

    def in_any_language(self, name: str) -> bool:
        return any(self.has(name, lang) for lang in self.languages())

    def media(self, name: str, language: str) -> str:
        """The ARI media URI of ``name`` in ``language`` (the center's own first): a
        prompt uploaded after the server started is found too."""
        own = self.own.has(name, language)
        return (self.own if own else self.system).media(name, language)


def prompt_catalogue(settings: Settings) -> Catalogue:
    return Catalogue(settings)


def list_prompts(settings: Settings, language: str | None = None) -> list[PromptLanguage]:
    """The prompt names per language (the center's own and Debian's), by language."""
    cat = prompt_catalogue(settings)
    langs = cat.languages() if language is None else [language]
    return [
        PromptLanguage(
            language=lang,
            own=sorted(cat.own.names(lang)),
            system=sorted(cat.system.names(lang)),
        )
        for lang in langs
    ]


def _seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def upload_prompt(
    s: Session, actor: Actor, settings: Settings, src: Path, name: str, language: str, now: float
) -> PromptOut:
    """Convert the upload ``src`` (WAV or MP3; its file name is the one errors show) into
    the center's own prompt ``name`` in ``language`` and record it on the audit log.
    A bad file, name or language raises :class:`~callcenter.voice.ivr.PromptError` (422)
    and leaves nothing behind."""
    replaced = any(
        (settings.ivr_prompts / language / f"{name}{suffix}").is_file() for suffix in AUDIO_SUFFIXES
    )
    dest = convert_prompt(
        src, settings.ivr_prompts, name, language, max_seconds=settings.ivr_prompt_max_seconds
    )
    seconds = round(_seconds(dest), 3)
    after = {"name": name, "language": language, "file": src.name, "seconds": seconds,
             "replaced": replaced}  # fmt: skip
    record(s, actor, AuditAction.IVR_PROMPT_UPLOAD, "ivr_prompt", f"{language}/{name}", {}, after,
           at=now)  # fmt: skip
    return PromptOut(name=name, language=language, seconds=seconds, replaced=replaced)


# --------------------------------------------------------------------------- flows


def voice_queue_names(s: Session) -> list[str]:
    """The active voice queues' names (what a flow's ``queue`` nodes may name)."""
    q = select(QueueRow.name).where(QueueRow.channel == Channel.VOICE.value, QueueRow.active)
    return list(s.scalars(q.order_by(QueueRow.name)))


def hours_names(s: Session) -> list[str]:
    return list(s.scalars(select(BusinessHours.name).order_by(BusinessHours.name)))


def _numbers_of(s: Session, name: str) -> list[str]:
    q = select(VoiceNumber.number).where(
        VoiceNumber.target_kind == "ivr", VoiceNumber.target == name
    )
    return list(s.scalars(q.order_by(VoiceNumber.number)))


def _row(s: Session, name: str) -> IvrFlowRow:
    row = s.scalar(select(IvrFlowRow).where(IvrFlowRow.name == name))
    if row is None:
        raise NotFoundError("IVR flow", name)
    return row


def _summary(s: Session, row: IvrFlowRow, flow: Flow) -> dict[str, object]:
    return {
        "name": row.name,
        "nodes": len(flow.nodes),
        "languages": flow.offered,
        "numbers": _numbers_of(s, row.name),
        "updated_at": row.updated_at,
        "updated_by": row.updated_by,
    }


def list_flows(s: Session) -> list[FlowSummary]:
    rows = s.scalars(select(IvrFlowRow).order_by(IvrFlowRow.name))
    return [FlowSummary.model_validate(_summary(s, r, _parsed(r))) for r in rows]


def get_flow(s: Session, name: str) -> FlowOut:
    row = _row(s, name)
    return FlowOut.model_validate({**_summary(s, row, _parsed(row)), "source": row.source})


def parse_and_check(s: Session, name: str, source: str, catalogue: Catalogue) -> Flow:
    """The flow in ``source``, checked as a save checks it (:class:`FlowError`, 422)."""
    if len(source) > MAX_SOURCE:
        raise InvalidError(
            f"source: {len(source)} characters; a flow may have at most {MAX_SOURCE}"
        )
    flow = load_flow(source)
    if flow.name != name:
        raise FlowError(
            f"name: the flow's text says {flow.name!r} but it is saved as {name!r}; "
            "expected the same name"
        )
    check_flow(flow, catalogue, queues=voice_queue_names(s), hours=hours_names(s))
    return flow


def save_flow(
    s: Session, name: str, body: FlowIn, catalogue: Catalogue, *, by: str, now: float
) -> FlowOut:
    """Create or replace the flow ``name`` with ``body.source`` once it passes the check."""
    flow = parse_and_check(s, name, body.source, catalogue)
    row = s.scalar(select(IvrFlowRow).where(IvrFlowRow.name == name))
    if row is None:
        row = IvrFlowRow(name=name)
        s.add(row)
    row.source, row.updated_at, row.updated_by = body.source, now, by[:64]
    s.flush()
    _remember(row, flow)
    return FlowOut.model_validate({**_summary(s, row, flow), "source": row.source})


def delete_flow(s: Session, name: str) -> None:
    """Remove a flow no number leads to (409 names the numbers)."""
    row = _row(s, name)
    used = _numbers_of(s, name)
    if used:
        raise ConflictError(
            f"IVR flow {name!r} is used by numbers {', '.join(used)}; "
            "point them elsewhere or delete them first"
        )
    s.delete(row)
    s.flush()


def check_flow_exists(s: Session, name: object) -> None:
    """A number's ``ivr`` target must name a stored flow (422 otherwise)."""
    known = list(s.scalars(select(IvrFlowRow.name).order_by(IvrFlowRow.name)))
    if name not in known:
        choices = ", ".join(known) if known else "none yet"
        raise InvalidError(
            f"target: no IVR flow {name!r}; expected an IVR flow's name (known: {choices})"
        )


# --------------------------------------------------------------------------- the controller

_flows: dict[str, tuple[float, str, Flow]] = {}


def _remember(row: IvrFlowRow, flow: Flow) -> None:
    with _lock:
        _flows[row.name] = (row.updated_at, row.source, flow)


def _parsed(row: IvrFlowRow) -> Flow:
    with _lock:
        cached = _flows.get(row.name)
    if cached is not None and cached[0] == row.updated_at and cached[1] == row.source:
        return cached[2]
    flow = load_flow(row.source)
    _remember(row, flow)
    return flow


def flow_by_name(s: Session, name: str) -> Flow | None:
    """The stored flow ``name``, parsed (cached while its ``updated_at`` is unchanged), or
    None when there is none.  Stored flows passed the check when saved; a text that no
    longer parses (written around the API) raises :class:`FlowError`."""
    row = s.scalar(select(IvrFlowRow).where(IvrFlowRow.name == name))
    return None if row is None else _parsed(row)


def queue_voice(s: Session, queue: str) -> QueueVoice:
    """A queue's settings for calls (its four voice columns); the defaults for a queue
    that does not exist."""
    row = s.scalar(select(QueueRow).where(QueueRow.name == queue))
    if row is None:
        return QueueVoice()
    return QueueVoice(
        announce_every_s=row.announce_every_s,
        callback_digit=row.callback_digit,
        callback_prompt=row.callback_prompt,
        record=row.record_calls,
    )


__all__ = [
    "MAX_SOURCE",
    "Catalogue",
    "FlowIn",
    "FlowOut",
    "FlowSummary",
    "PromptLanguage",
    "PromptOut",
    "check_flow_exists",
    "delete_flow",
    "flow_by_name",
    "get_flow",
    "hours_names",
    "list_flows",
    "list_prompts",
    "parse_and_check",
    "prompt_catalogue",
    "queue_voice",
    "save_flow",
    "upload_prompt",
    "voice_queue_names",
]
