"""Schedule adherence, conformance and absenteeism: the event log against a roster.

* ``roster``: reading a roster (CSV or JSON; what ``callcenter schedule`` writes);
* ``options``: the activity codes, kinds of out-of-adherence time, breakdowns, options;
* ``scheduled``: the roster as the scheduled step function's change points;
* ``compute``: the actual activity from the events, both step functions swept together
  (exact spans) into seconds per agent and day, :func:`compute_adherence`;
* ``report``: rows by agent, day or agent-day, the total, benchmarks, CSV / JSON.

>>> from callcenter.wfm.adherence import AdherenceOptions, compute_adherence  # doctest: +SKIP
>>> report = compute_adherence("day.jsonl", "roster.csv", AdherenceOptions(grace_s=120))

Rules: docs/wfm-adherence.md.
"""

from callcenter.wfm.adherence.compute import (
    activity_changes,
    agent_day_table,
    compute_adherence,
    timeline,
)
from callcenter.wfm.adherence.options import (
    OUT_KINDS,
    Activity,
    AdherenceError,
    AdherenceOptions,
    Breakdown,
)
from callcenter.wfm.adherence.report import (
    ROW_KEYS,
    AdherenceReport,
    AdherenceRow,
    report_to_csv,
    report_to_json,
)
from callcenter.wfm.adherence.roster import Roster, RosterError, load_roster, roster_from_records
from callcenter.wfm.adherence.scheduled import shift_table

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
