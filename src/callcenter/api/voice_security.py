"""``GET /api/admin/voice/blocked``: the addresses the SIP guard blocks now.

Administrators only (``users.manage``, as the rest of ``/api/admin/voice``). Read-only:
the list comes from the running :class:`~callcenter.live.voice.guard.GuardService`,
which the server keeps in ``center.extras[GUARD_KEY]`` while an embedded Asterisk runs;
without one (voice off, or a center's own Asterisk, which fail2ban guards) it is empty.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from callcenter.api.admin import CenterDep
from callcenter.api.deps import require
from callcenter.auth.permissions import Permission
from callcenter.auth.service import Principal
from callcenter.live.voice.guard import GUARD_KEY, BlockedOut, GuardService

router = APIRouter(tags=["telephony"])
Admin = Annotated[Principal, Depends(require(Permission.USERS_MANAGE))]


@router.get("/api/admin/voice/blocked", response_model=list[BlockedOut])
def blocked(c: CenterDep, _p: Admin) -> list[BlockedOut]:
    """Each blocked address: ``since``/``until`` (Unix times) and the failures counted."""
    guard = c.extras.get(GUARD_KEY)
    return guard.blocked() if isinstance(guard, GuardService) else []


__all__ = ["router"]
