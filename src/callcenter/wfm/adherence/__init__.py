"""Schedule adherence, conformance and absenteeism: the event log against a roster.

* ``roster``: reading a roster (CSV or JSON; what ``callcenter schedule`` writes);
* ``compute``: the scheduled and actual activity as step functions swept together
  (exact spans) into seconds per agent and day, :func:`compute_adherence`;
* ``report``: rows by agent, day or agent-day, the total, benchmarks, CSV / JSON.

>>> from callcenter.wfm.adherence import AdherenceOptions, compute_adherence  # doctest: +SKIP
>>> report = compute_adherence("day.jsonl", "roster.csv", AdherenceOptions(grace_s=120))

Rules: docs/wfm-adherence.md.
"""

from callcenter.wfm.adherence.compute import (
    OUT_KINDS,
    Activity,
    AdherenceError,
    AdherenceOptions,
    Breakdown,
    activity_changes,
    agent_day_table,
    compute_adherence,
    shift_table,
    timeline,
)
from callcenter.wfm.adherence.report import (
    ROW_KEYS,
    AdherenceReport,
    AdherenceRow,
    report_to_csv,
    report_to_json,
)
from callcenter.wfm.adherence.roster import Roster, RosterError, load_roster, roster_from_records

__all__ = [
    "OUT_KINDS",
    "ROW_KEYS",
    "Activity",
    "AdherenceError",
    "AdherenceOptions",
    "AdherenceReport",
    "AdherenceRow",
    "Breakdown",
    "Roster",
    "RosterError",
    "activity_changes",
    "agent_day_table",
    "compute_adherence",
    "load_roster",
    "report_to_csv",
    "report_to_json",
    "roster_from_records",
    "shift_table",
    "timeline",
]
