"""What each agent worked on, by channel: calls next to chats in the adherence report.

Adherence itself does not depend on the channel (working is working, on a call or a
chat); these columns show what the worked time went to:

``contacts``  conversations the agent started: its ``connect`` events
``talk_s``    talk + hold of the conversations it ended: its ``complete`` / ``transfer``
              events (both dated by their own event's time)

A contact's channel is the one its ``arrive`` event names (a contact with no ``arrive``
in the log counts under ``unknown``).  Each event counts on the **date of the shift it
falls in** (the agent's shift with start ≤ t < end), and outside shifts on its UTC
calendar day — the same dates as the adherence figures.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from callcenter.events import EventType
from callcenter.wfm.adherence.roster import Roster
from callcenter.wfm.adherence.scheduled import shift_table

E = EventType
UNKNOWN: Final = "unknown"
DAY_S: Final = 86_400
_WORK_TYPES: Final = [E.CONNECT.value, E.COMPLETE.value, E.TRANSFER.value]


def channel_work(events: pl.DataFrame, roster: Roster) -> pl.DataFrame:
    """``agent``, ``date``, ``channel``, ``contacts``, ``talk_s`` from a checked events
    frame (:func:`callcenter.kpi.frame.prepare_frame`'s columns)."""
    typ = pl.col("type")
    arrivals = (
        events.filter((typ == E.ARRIVE.value) & pl.col("cid").is_not_null())
        .select("cid", "cid2", pl.col("channel").cast(pl.String).alias("arrived_on"))
        .unique(["cid", "cid2"], keep="last")
    )
    work = (
        events.filter(typ.is_in(_WORK_TYPES) & pl.col("agent").is_not_null())
        .select(
            "cid",
            "cid2",
            pl.col("agent").cast(pl.String),
            "t",
            (typ == E.CONNECT.value).alias("started"),
            pl.when(typ != E.CONNECT.value)
            .then(pl.col("talk").fill_null(0.0) + pl.col("hold").fill_null(0.0))
            .otherwise(0.0)
            .alias("talk_s"),
        )
        .join(arrivals, on=["cid", "cid2"], how="left")
        .with_columns(channel=pl.col("arrived_on").fill_null(UNKNOWN))
    )
    return (
        _dated(work, roster)
        .group_by("agent", "date", "channel")
        .agg(pl.col("started").sum().alias("contacts"), pl.col("talk_s").sum())
        .sort("agent", "date", "channel")
    )


def _dated(work: pl.DataFrame, roster: Roster) -> pl.DataFrame:
    """``work`` with ``date``: its shift's date, else the UTC day of ``t``."""
    shifts = shift_table(roster).select("agent", "date", "shift_start", "shift_end")
    if shifts.height == 0:
        return work.with_columns(date=(pl.col("t") // DAY_S).cast(pl.Int32).cast(pl.Date))
    found = work.sort("t").join_asof(
        shifts.sort("shift_start"),
        left_on="t",
        right_on="shift_start",
        by="agent",
        strategy="backward",
        check_sortedness=False,  # sorted as a whole, so within each agent too
    )
    utc_day = (pl.col("t") // DAY_S).cast(pl.Int32).cast(pl.Date)
    in_shift = pl.col("shift_end").is_not_null() & (pl.col("t") < pl.col("shift_end"))
    return found.with_columns(date=pl.when(in_shift).then(pl.col("date")).otherwise(utc_day))


__all__ = ["UNKNOWN", "channel_work"]
