"""Queueing formulas for staffing: Erlang B and Erlang C (pure functions, no I/O)."""

from callcenter.queueing.erlang import (
    MAX_TRAFFIC,
    ErlangInputError,
    ErlangResult,
    agents_for_asa,
    agents_for_service_level,
    asa,
    erlang_b,
    erlang_c,
    erlang_report,
    occupancy,
    service_level,
    traffic_intensity,
)

__all__ = [
    "MAX_TRAFFIC",
    "ErlangInputError",
    "ErlangResult",
    "agents_for_asa",
    "agents_for_service_level",
    "asa",
    "erlang_b",
    "erlang_c",
    "erlang_report",
    "occupancy",
    "service_level",
    "traffic_intensity",
]
