"""Caller analytics: new numbers, calls per number, repeat callers, first-contact resolution.

See docs/callers.md for every figure and rule; :func:`caller_report` is the entry point.
"""

from __future__ import annotations

from callcenter.callers.analytics import (
    CONTACT_SCHEMA,
    CallerBreakdown,
    CallerReport,
    CallerRow,
    CallerSettings,
    Contacts,
    FcrMetrics,
    VolumeMetrics,
    caller_report,
    contacts_from_events,
    flag_contacts,
    read_contacts,
    summarize,
)

__all__ = [
    "CONTACT_SCHEMA",
    "CallerBreakdown",
    "CallerReport",
    "CallerRow",
    "CallerSettings",
    "Contacts",
    "FcrMetrics",
    "VolumeMetrics",
    "caller_report",
    "contacts_from_events",
    "flag_contacts",
    "read_contacts",
    "summarize",
]
