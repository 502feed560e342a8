"""What the administration services take and return: typed changes and results.

``*In`` models create a thing, with a default for every field that may be left out;
``*Patch`` models change one, and only the fields that were set count
(``model_fields_set``): a field left out keeps its stored value, a field set to None
asks for None — which the field's check may refuse (``name: null is not a valid
name``).  Both check types only, strictly (``"3"`` is not a number, ``true`` not an
integer) and refuse unknown fields; ranges, formats and references are checked by the
services (:mod:`.config`, :mod:`.agents`, :mod:`.hours`, :mod:`.people`), so every edge
gets the same rules and messages.  ``*Out`` models are the services' results.

The HTTP API sends and takes exactly these (``api/admin_schemas.py``), so a field is
declared once.  The classes carry no docstrings: they would become descriptions in the
API's OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from callcenter.events import Channel
from callcenter.inputs import Input, VisibleName
from callcenter.live.admin.checks import NAME_RULE
from callcenter.routing import Strategy


class Body(Input):
    # a change as sent: JSON types strictly, no unknown fields, no NaN or infinity
    model_config = ConfigDict(strict=True, extra="forbid")


class Out(BaseModel):
    # a result read from a table row
    model_config = ConfigDict(from_attributes=True)


_NAME = f"Key name: {NAME_RULE}."

# --------------------------------------------------------------------------- skills


class SkillIn(Body):
    name: str = Field(description=_NAME)
    description: str = ""


class SkillPatch(Body):
    name: str | None = Field(None, description=_NAME + " Only while no queue or agent uses it.")
    description: str | None = None


class SkillOut(Out):
    id: int
    name: str
    description: str


# --------------------------------------------------------------------------- queues


class Requirement(Body):
    skill: str = Field(description="An existing skill.")
    min_level: int = Field(1, description="Lowest proficiency accepted, 1 to 10.")


class QueueIn(Body):
    name: str = Field(description=_NAME + " Cannot change later.")
    description: str = ""
    channel: str = Field(Channel.CHAT.value, description="voice, chat, email or callback.")
    priority: int = Field(0, description="-100 to 100; higher is served first across queues.")
    strategy: str = Field(
        Strategy.LONGEST_IDLE.value,
        description="longest_idle, round_robin, fewest_contacts, least_occupied or "
        "best_proficiency.",
    )
    requirements: list[Requirement] = Field(default_factory=list)
    ring_timeout_s: float = Field(
        20.0,
        description="1 to 3600 seconds: shorter cannot be answered by a person, longer "
        "keeps the contact from every other agent.",
    )
    wrapup_s: float | None = Field(
        None, description="0 to 3600 seconds (longer is a pause); null: the agent ends it."
    )
    max_wait_s: float | None = Field(
        None,
        description="1 to 604800 seconds (a week: an e-mail queue may wait days); null: no limit.",
    )
    overflow_queue: str | None = Field(None, description="Another active queue, or null.")
    sl_target: float = Field(0.8, description="> 0 and <= 1.")
    sl_threshold_s: float = Field(20.0, description="1 to 604800 seconds (a week).")
    business_hours_id: int | None = None
    active: bool = True
    # calls (voice queues; docs/voice.md "Queue options")
    announce_every_s: float = Field(
        30.0, description="Voice: position and wait told every 10 to 600 s; 0: never."
    )
    callback_digit: str | None = Field(
        None, description="Voice: the key (0-9, * or #) asking for a call back; null: none."
    )
    callback_prompt: str | None = Field(
        None, description="Voice: the prompt offering the call back (needed with callback_digit)."
    )
    record_calls: bool = Field(True, description="Voice: calls of the queue are recorded.")


class QueuePatch(Body):
    name: str | None = None
    description: str | None = None
    channel: str | None = None
    priority: int | None = None
    strategy: str | None = None
    requirements: list[Requirement] | None = None
    ring_timeout_s: float | None = None
    wrapup_s: float | None = None
    max_wait_s: float | None = None
    overflow_queue: str | None = None
    sl_target: float | None = None
    sl_threshold_s: float | None = None
    business_hours_id: int | None = None
    active: bool | None = None
    announce_every_s: float | None = None
    callback_digit: str | None = None
    callback_prompt: str | None = None
    record_calls: bool | None = None


class QueueOut(Out):
    id: int
    name: str
    description: str
    channel: str
    priority: int
    strategy: str
    requirements: list[dict[str, Any]]
    ring_timeout_s: float
    wrapup_s: float | None
    max_wait_s: float | None
    overflow_queue: str | None
    sl_target: float
    sl_threshold_s: float
    business_hours_id: int | None
    active: bool
    announce_every_s: float
    callback_digit: str | None
    callback_prompt: str | None
    record_calls: bool


# --------------------------------------------------------------------------- agents


class AgentIn(Body):
    username: str = Field(description="An existing user with role agent and no profile yet.")
    skills: dict[str, int] = Field(
        default_factory=dict, description="skill -> proficiency 1 to 10."
    )
    capacity: int = Field(3, description="Simultaneous contacts, 1 to 10.")
    queues: list[str] | None = Field(
        None, description="Explicit queue membership; null: every queue it qualifies for."
    )
    max_no_answer: int = Field(3, description="Missed offers in a row that pause it, 0-100.")


class AgentPatch(Body):
    skills: dict[str, int] | None = None
    capacity: int | None = None
    queues: list[str] | None = None
    max_no_answer: int | None = None


class AgentOut(BaseModel):
    id: int
    user_id: int
    name: str
    display_name: str
    team_id: int | None
    skills: dict[str, int]
    capacity: int
    queues: list[str] | None
    max_no_answer: int
    status: str
    status_reason: str | None
    status_since: float | None
    active: bool = Field(description="The user is active and has the agent role (it routes).")


# --------------------------------------------------------------------------- teams


class TeamIn(Body):
    name: str
    members: list[str] = Field(default_factory=list, description="Usernames.")
    supervisors: list[str] = Field(
        default_factory=list, description="Usernames of supervisors or managers."
    )


class TeamPatch(Body):
    name: str | None = None
    members: list[str] | None = Field(None, description="Replaces the members.")
    supervisors: list[str] | None = Field(None, description="Replaces the supervisors.")


class TeamOut(BaseModel):
    id: int
    name: str
    members: list[str]
    supervisors: list[str]


# --------------------------------------------------------------------------- business hours

_WEEKLY = (
    'Opening intervals per day in the time zone: {"mon": [["08:00", "18:00"]], ...}; '
    "a day left out is closed; HH:MM, start < end, no overlaps; 24:00 may end a day."
)


class HoursIn(Body):
    name: str
    timezone: str = Field("UTC", description="IANA time zone, e.g. Europe/Berlin.")
    weekly: dict[str, list[list[str]]] = Field(default_factory=dict, description=_WEEKLY)
    holidays: list[str] = Field(default_factory=list, description="Closed dates, YYYY-MM-DD.")


class HoursPatch(Body):
    name: str | None = None
    timezone: str | None = None
    weekly: dict[str, list[list[str]]] | None = Field(None, description=_WEEKLY)
    holidays: list[str] | None = None


class HoursOut(BaseModel):
    id: int
    name: str
    timezone: str
    weekly: dict[str, list[list[str]]]
    holidays: list[str]
    open_now: bool
    summary: str


# --------------------------------------------------------------------------- reasons, codes


class PauseReasonIn(Body):
    name: str = Field(description=_NAME + " Cannot change later.")
    paid: bool = True
    max_minutes: int | None = Field(None, description="1 to 1440, or null for no limit.")
    active: bool = True


class PauseReasonPatch(Body):
    name: str | None = None
    paid: bool | None = None
    max_minutes: int | None = None
    active: bool | None = None


class PauseReasonOut(Out):
    id: int
    name: str
    paid: bool
    max_minutes: int | None
    active: bool


class DispositionIn(Body):
    code: str = Field(description=_NAME + " Cannot change later.")
    label: str = ""
    resolved: bool = Field(True, description="Counts as resolved (first-contact resolution).")
    active: bool = True


class DispositionPatch(Body):
    code: str | None = None
    label: str | None = None
    resolved: bool | None = None
    active: bool | None = None


class DispositionOut(Out):
    id: int
    code: str
    label: str
    resolved: bool
    active: bool


# --------------------------------------------------------------------------- users


class UserIn(Body):
    username: str = Field(description="1-64 lower-case letters, digits, '.', '_' or '-'.")
    password: str = Field(description="At least 8 characters.")
    role: str = Field(description="admin, manager, supervisor, qa or agent.")
    display_name: VisibleName = Field("", description="No control or invisible characters.")
    email: str | None = None
    team_id: int | None = None


class UserPatch(Body):
    display_name: VisibleName | None = None
    email: str | None = None
    role: str | None = None
    team_id: int | None = None
    active: bool | None = Field(None, description="false: the user can no longer sign in.")
    password: str | None = Field(None, description="A new password (ends its web sessions).")


class UserOut(Out):
    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    team_id: int | None
    active: bool
    created_at: float
    agent_id: int | None = None


__all__ = [
    "AgentIn",
    "AgentOut",
    "AgentPatch",
    "Body",
    "DispositionIn",
    "DispositionOut",
    "DispositionPatch",
    "HoursIn",
    "HoursOut",
    "HoursPatch",
    "Out",
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
