"""Workforce management: forecast contacts, staff intervals, schedule agents, adherence.

Each stage is a module with a small public API; they chain through one table shape, the
*interval table* (see ``docs/wfm.md``): one row per (queue, interval start) with
``contacts`` and ``aht_s`` (forecast), then ``agents``/``required`` (staffing), which the
scheduler covers with shifts.
"""
