"""What each role may do: one table, read by the API's ``require(...)`` dependency.

Visibility of contacts is a second, row-level rule (:mod:`callcenter.auth.scope`): an
agent sees only contacts it held, a supervisor those of its teams' agents, the other
roles all of them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from callcenter.storage.tables import Role


class Permission(StrEnum):
    USERS_MANAGE = "users.manage"  # create users, set roles and passwords, teams' people
    CONFIG_READ = "config.read"  # see queues, skills, agents, hours, reasons, dispositions
    CONFIG_WRITE = "config.write"  # change them
    DESK = "desk"  # work as an agent: states, take and handle contacts
    CONTACTS_READ = "contacts.read"  # contacts and transcripts (row scope applies)
    CRM_READ = "crm.read"  # customers, tickets, follow-ups, search (row scope applies)
    CRM_WRITE = "crm.write"  # create / edit customers, tickets, follow-ups, notes
    WALLBOARD = "wallboard"  # live queue and agent figures
    REPORTS = "reports"  # KPI reports over the live log
    TOKENS_OWN = "tokens.own"  # create and revoke one's own API tokens
    AUDIT_READ = "audit.read"  # the audit log: who changed what, when, from where
    SUPERVISE = "calls.supervise"  # listen / whisper / barge on calls (team scope applies)


_ALL: Final = frozenset(Permission)

GRANTS: Final[dict[Role, frozenset[Permission]]] = {
    # supervision is for the people who coach agents, not for whoever runs the system
    Role.ADMIN: _ALL - {Permission.DESK, Permission.SUPERVISE},
    Role.MANAGER: _ALL - {Permission.DESK, Permission.USERS_MANAGE},
    Role.SUPERVISOR: frozenset(
        {
            Permission.CONFIG_READ,
            Permission.CONTACTS_READ,
            Permission.CRM_READ,
            Permission.CRM_WRITE,
            Permission.WALLBOARD,
            Permission.REPORTS,
            Permission.TOKENS_OWN,
            Permission.SUPERVISE,
        }
    ),
    Role.QA: frozenset(
        {
            Permission.CONTACTS_READ,
            Permission.CRM_READ,
            Permission.REPORTS,
            Permission.TOKENS_OWN,
        }
    ),
    Role.AGENT: frozenset(
        {
            Permission.DESK,
            Permission.CONTACTS_READ,
            Permission.CRM_READ,
            Permission.CRM_WRITE,
            Permission.TOKENS_OWN,
        }
    ),
}


def allowed(role: Role, permission: Permission) -> bool:
    return permission in GRANTS[role]


__all__ = ["GRANTS", "Permission", "allowed"]
