"""IVR administration: ``/api/admin/ivr/flows`` (the flows' YAML, checked on save) and
``/api/admin/ivr/prompts`` (the prompt names per language; uploads of WAV or MP3 files).

Administrators only (``users.manage``, as the telephony routes: a flow decides where
every call goes).  Each route parses, calls :mod:`callcenter.live.voice.flows` in the
center's unit of work (every flow written, and every upload, is on the audit log) and
renders its result.  A prompt upload has its own body limit (``ivr_prompt_max_bytes``,
applied by :class:`~callcenter.api.http_guard.BodyLimit` to :data:`PROMPTS` only).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Final

from fastapi import APIRouter, Depends, File, Form, UploadFile

from callcenter.api.admin import CenterDep, Work
from callcenter.api.deps import Db, require
from callcenter.auth.permissions import Permission
from callcenter.auth.service import Principal
from callcenter.errors import UserError
from callcenter.live.voice import flows
from callcenter.live.voice.flows import FlowIn, FlowOut, FlowSummary, PromptLanguage, PromptOut
from callcenter.voice.ivr.prompts import LANGUAGE

router = APIRouter(tags=["ivr"])
Admin = Annotated[Principal, Depends(require(Permission.USERS_MANAGE))]
FLOWS: Final = "/api/admin/ivr/flows"
PROMPTS: Final = "/api/admin/ivr/prompts"
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")
CHUNK: Final = 1 << 20


# --------------------------------------------------------------------------- flows


@router.get(FLOWS, response_model=list[FlowSummary])
def list_flows(s: Db, _p: Admin) -> list[FlowSummary]:
    return flows.list_flows(s)


@router.get(FLOWS + "/{name}", response_model=FlowOut)
def get_flow(name: str, s: Db, _p: Admin) -> FlowOut:
    return flows.get_flow(s, name)


@router.put(FLOWS + "/{name}", response_model=FlowOut)
def save_flow(name: str, body: FlowIn, s: Db, w: Work, c: CenterDep, _p: Admin) -> FlowOut:
    """Create or replace the flow: its YAML is checked (one line, 422, if it cannot work)."""
    catalogue = flows.prompt_catalogue(c.settings)
    by = w.actor.username
    return w.commit(s, lambda t: flows.save_flow(t, name, body, catalogue, by=by, now=w.clock()))


@router.delete(FLOWS + "/{name}", status_code=204)
def delete_flow(name: str, s: Db, w: Work, _p: Admin) -> None:
    """Remove a flow no number leads to (409 names the numbers)."""
    w.commit(s, lambda t: flows.delete_flow(t, name))


# --------------------------------------------------------------------------- prompts


@router.get(PROMPTS, response_model=list[PromptLanguage])
def list_prompts(c: CenterDep, _p: Admin, language: str | None = None) -> list[PromptLanguage]:
    """The prompt names per language: the center's own (uploads) and Debian's."""
    if language is not None and not LANGUAGE.match(language):
        raise UserError(
            f"language: {language!r} is not a language code; expected e.g. 'en', 'ru' or 'pt_BR'"
        )
    return flows.list_prompts(c.settings, language)


def _file_name(upload: UploadFile) -> str:
    """The client's file name, reduced to a safe base name (errors name it)."""
    base = Path(upload.filename or "").name
    return _UNSAFE.sub("_", base).strip("._")[:80] or "upload"


@router.post(PROMPTS, response_model=PromptOut, status_code=201)
def upload_prompt(
    name: Annotated[str, Form(description="The prompt's name (a-z, 0-9, - and _).")],
    language: Annotated[str, Form(description="Its language: en, ru, pt_BR ...")],
    file: Annotated[UploadFile, File(description="A WAV or MP3 file.")],
    s: Db,
    w: Work,
    c: CenterDep,
    _p: Admin,
) -> PromptOut:
    """Convert an uploaded WAV or MP3 file into the center's own prompt ``name`` in
    ``language`` (8 kHz mono 16-bit WAV), replacing one of the same name."""
    with tempfile.TemporaryDirectory(prefix="callcenter-upload-") as tmp:
        src = Path(tmp) / _file_name(file)
        with src.open("wb") as out:
            while chunk := file.file.read(CHUNK):
                out.write(chunk)
        actor = w.actor
        return w.commit(
            s,
            lambda t: flows.upload_prompt(t, actor, c.settings, src, name, language, w.clock()),
        )


__all__ = ["FLOWS", "PROMPTS", "router"]
