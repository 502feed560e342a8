"""Rosters from staffing requirements (CP-SAT), in stages:

* ``requirements``: the interval table staffing writes, read and checked;
* ``model``: the CP-SAT models (plan per agent class, then assignment per agent);
* ``greedy``: the greedy roster (CP-SAT's starting point, the benchmark's baseline);
* ``solve``: :func:`build_schedule` / :func:`greedy_schedule`, the entry points;
* ``result``: options and results (roster, coverage per interval and per day).

Shift templates and agents are :mod:`callcenter.wfm.shifts`.  Rules: docs/wfm-schedule.md.
"""

from callcenter.wfm.schedule.requirements import Requirement, read_requirements
from callcenter.wfm.schedule.result import (
    BreakAssignment,
    CoverageRow,
    DaySummary,
    ScheduleOptions,
    ScheduleResult,
    ShiftAssignment,
)
from callcenter.wfm.schedule.solve import build_schedule, greedy_schedule

__all__ = [
    "BreakAssignment",
    "CoverageRow",
    "DaySummary",
    "Requirement",
    "ScheduleOptions",
    "ScheduleResult",
    "ShiftAssignment",
    "build_schedule",
    "greedy_schedule",
    "read_requirements",
]
