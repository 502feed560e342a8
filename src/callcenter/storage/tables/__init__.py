"""Every table of the database, one module per domain; each imports only
:mod:`callcenter.storage.base`.

- :mod:`.events` — the event log (``events``, ``event_logs``);
- :mod:`.people` — users, teams, cookie sessions, API tokens;
- :mod:`.config` — skills, queues, agent profiles, business hours, pause reasons,
  dispositions;
- :mod:`.crm` — customers, contacts (with the identity a chat claimed), messages,
  one-time codes, tickets, follow-ups;
- :mod:`.engine` — the routing engine's command log;
- :mod:`.analysis` — speech-analytics results;
- :mod:`.audit` — the append-only audit log and per-author contact notes;
- :mod:`.voice` — telephony: SIP trunks, numbers (DIDs), agents' devices.

Importing this package registers them all on ``Base.metadata`` (what the migrations are
checked against). Times are UNIX seconds (float, UTC), the clock of the event log's ``t``.
"""

from callcenter.storage.base import Base
from callcenter.storage.tables.analysis import (
    CallAnalysis,
    CallKeyword,
    analyses_table,
    keywords_table,
)
from callcenter.storage.tables.audit import AuditRow, ContactNote
from callcenter.storage.tables.config import (
    AgentRow,
    AgentStatus,
    BusinessHours,
    Disposition,
    PauseReason,
    QueueRow,
    Skill,
)
from callcenter.storage.tables.crm import (
    OPEN_STATUSES,
    ClaimCode,
    ContactAgent,
    ContactRow,
    ContactStatus,
    Customer,
    FollowUp,
    Message,
    Ticket,
    TicketPriority,
    TicketStatus,
)
from callcenter.storage.tables.engine import EngineCommand
from callcenter.storage.tables.events import EventLog, EventRow, event_logs_table, events_table
from callcenter.storage.tables.people import ApiToken, Role, Team, TeamSupervisor, User, WebSession
from callcenter.storage.tables.voice import IvrFlowRow, VoiceDevice, VoiceNumber, VoiceTrunk

metadata = Base.metadata
"""The metadata with every table registered (what Alembic compares the migrations with)."""

__all__ = [
    "OPEN_STATUSES",
    "AgentRow",
    "AgentStatus",
    "ApiToken",
    "AuditRow",
    "BusinessHours",
    "CallAnalysis",
    "CallKeyword",
    "ClaimCode",
    "ContactAgent",
    "ContactNote",
    "ContactRow",
    "ContactStatus",
    "Customer",
    "Disposition",
    "EngineCommand",
    "EventLog",
    "EventRow",
    "FollowUp",
    "IvrFlowRow",
    "Message",
    "PauseReason",
    "QueueRow",
    "Role",
    "Skill",
    "Team",
    "TeamSupervisor",
    "Ticket",
    "TicketPriority",
    "TicketStatus",
    "User",
    "VoiceDevice",
    "VoiceNumber",
    "VoiceTrunk",
    "WebSession",
    "analyses_table",
    "event_logs_table",
    "events_table",
    "keywords_table",
    "metadata",
]
