"""The scheduled side of adherence: a roster as the change points of one step function
per agent (work on shift, break in a scheduled break, off outside shifts), with the
grace-widened spans that tolerate the actual activity around each change.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from callcenter.wfm.adherence.options import Activity
from callcenter.wfm.adherence.roster import Roster

SCHED_COLS: Final = ("d_sched", "d_shift", "d_w", "d_b", "d_o")


def _spans(roster: Roster, lo: float, hi: float) -> pl.DataFrame:
    """The scheduled spans tiling every rostered agent's time line ``[lo, hi)``:
    ``agent``, ``a``, ``b``, ``code`` (0 off, 1 work, 2 break)."""
    shifts = shift_table(roster).select("shift", "agent", "shift_start", "shift_end")
    rows = [(i, b0, b1) for i, s in enumerate(roster.shifts, 1) for b0, b1 in s.breaks]
    breaks = pl.DataFrame(
        rows, schema={"shift": pl.Int64, "a": pl.Float64, "b": pl.Float64}, orient="row"
    ).join(shifts, on="shift")
    # work: from the shift start (or the previous break's end) to each break's start (or
    # the shift end); a sentinel "break" [end, end) closes each shift
    ends = shifts.select("shift", "agent", "shift_start", a="shift_end", b="shift_end")
    bounds = pl.concat([breaks.select(ends.columns), ends]).sort("shift", "a")
    work = bounds.select(
        "agent",
        pl.col("b").shift(1).over("shift").fill_null(pl.col("shift_start")).alias("a"),
        pl.col("a").alias("b"),
        code=pl.lit(int(Activity.WORK), dtype=pl.Int64),
    )
    # off: before each agent's first shift, between shifts, after the last one
    by_agent = shifts.sort("agent", "shift_start")
    off = pl.concat(
        [
            by_agent.select(
                "agent",
                a=pl.col("shift_end").shift(1).over("agent").fill_null(lo),
                b="shift_start",
            ),
            by_agent.group_by("agent").agg(a=pl.col("shift_end").max(), b=pl.lit(hi)),
        ]
    ).with_columns(code=pl.lit(int(Activity.OFF), dtype=pl.Int64))
    brk = breaks.select("agent", "a", "b", code=pl.lit(int(Activity.BREAK), dtype=pl.Int64))
    return pl.concat([work, brk, off]).filter(pl.col("b") > pl.col("a"))


def schedule_changes(roster: Roster, grace: float, lo: float, hi: float) -> pl.DataFrame:
    """The roster as change rows: ``agent``, ``t`` and one delta per sweep column.

    ``d_sched``: scheduled activity code; ``d_shift``: shift number + 1 (shifts of one
    agent never overlap, so the running sum is the current shift's number + 1, or 0);
    ``d_w``/``d_b``/``d_o``: how many scheduled work / break / off spans, each widened by
    the grace on both sides, cover the instant (> 0: that actual activity is tolerated).
    ``lo``/``hi`` bound the time line.
    """
    spans = _spans(roster, lo, hi)
    code = pl.col("code")
    zero = pl.lit(0, dtype=pl.Int64)

    def edge(t: pl.Expr, sign: int, *, widened: bool) -> pl.DataFrame:
        return spans.select(
            "agent",
            t.alias("t"),
            d_sched=zero if widened else code * sign,
            d_shift=zero,
            **{
                col: (code == c).cast(pl.Int64) * sign if widened else zero
                for col, c in (("d_w", 1), ("d_b", 2), ("d_o", 0))
            },
        )

    shifts = shift_table(roster)
    bounds = [
        shifts.select("agent", t="shift_start", d_shift="shift"),
        shifts.select("agent", t="shift_end", d_shift=-pl.col("shift")),
    ]
    parts = [
        edge(pl.col("a"), 1, widened=False),
        edge(pl.col("b"), -1, widened=False),
        edge(pl.col("a") - grace, 1, widened=True),
        edge(pl.col("b") + grace, -1, widened=True),
        *bounds,
    ]
    return pl.concat(parts, how="diagonal").with_columns(
        pl.col(*SCHED_COLS).fill_null(0).cast(pl.Int64)
    )


_SHIFT_SCHEMA: Final = {
    "shift": pl.Int64,
    "agent": pl.String,
    "date": pl.Date,
    "shift_start": pl.Float64,
    "shift_end": pl.Float64,
}


def shift_table(roster: Roster) -> pl.DataFrame:
    """One row per shift: ``shift`` (its number + 1), agent, date, start, end."""
    rows = [(k, s.agent, s.date, s.start, s.end) for k, s in enumerate(roster.shifts, 1)]
    return pl.DataFrame(rows, schema=_SHIFT_SCHEMA, orient="row")


__all__ = ["SCHED_COLS", "schedule_changes", "shift_table"]
