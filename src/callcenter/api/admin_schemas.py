"""Request and response bodies of the administration API (``api/admin.py``, ``api/users.py``).

They are the administration services' own types, declared once in
:mod:`callcenter.live.admin.schemas`: request bodies check JSON types only (strictly:
``"3"`` is not a number, ``true`` not an integer; unknown fields are refused); ranges,
formats and references are checked by the services (:mod:`callcenter.live.admin`), so
every edge gets the same rules and messages.  ``*In`` bodies create (POST), ``*Patch``
bodies change only the fields sent (PATCH).

The OpenAPI document names a body by its class, or by module and class where two share
a name: the wallboard (``api/wallboard.py``) has an ``AgentOut`` and a ``QueueOut`` too,
so the administration API answers with subclasses defined here, which keep the names
``callcenter__api__admin_schemas__AgentOut`` and ``..._QueueOut``.  The services return
the base classes; the subclasses add nothing.
"""

from __future__ import annotations

from callcenter.live.admin import schemas
from callcenter.live.admin.schemas import (
    AgentIn,
    AgentPatch,
    DispositionIn,
    DispositionOut,
    DispositionPatch,
    HoursIn,
    HoursOut,
    HoursPatch,
    PauseReasonIn,
    PauseReasonOut,
    PauseReasonPatch,
    QueueIn,
    QueuePatch,
    Requirement,
    SkillIn,
    SkillOut,
    SkillPatch,
    TeamIn,
    TeamOut,
    TeamPatch,
    UserIn,
    UserOut,
    UserPatch,
)


class AgentOut(schemas.AgentOut):
    pass


class QueueOut(schemas.QueueOut):
    pass


__all__ = [
    "AgentIn",
    "AgentOut",
    "AgentPatch",
    "DispositionIn",
    "DispositionOut",
    "DispositionPatch",
    "HoursIn",
    "HoursOut",
    "HoursPatch",
    "PauseReasonIn",
    "PauseReasonOut",
    "PauseReasonPatch",
    "QueueIn",
    "QueueOut",
    "QueuePatch",
    "Requirement",
    "SkillIn",
    "SkillOut",
    "SkillPatch",
    "TeamIn",
    "TeamOut",
    "TeamPatch",
    "UserIn",
    "UserOut",
    "UserPatch",
]
