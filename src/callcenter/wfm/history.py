"""Forecasting history: offered contacts and handle time per queue, calendar day and interval.

Two sources become one :class:`History`:

* an **event log** (JSON Lines, or Parquet by its suffix), counted by the KPI engine so the
  figures mean what ``callcenter kpi`` means: offered contacts are queue visits (an
  ``enqueue``, abandoned and overflowed ones included) in the interval they entered the
  queue; handle time is talk + hold + after-call work of the legs answered from those
  visits (docs/kpis.md);
* a **CSV time series** with the columns ``timestamp`` (or ``interval_start``), optional
  ``queue``, ``contacts`` and optional ``aht_s``, at the interval or finer (5-minute counts
  summed into 30-minute intervals, for example).

A history is a grid per queue: calendar days (UTC, or the center's time zone) × intervals
of the day, from the first day with data to the last.  Intervals are aligned to UTC
midnight, as in the KPI engine, so a time zone must be a whole number of intervals away
from UTC.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import polars as pl

from callcenter.errors import InputFileError, UserError
from callcenter.units import format_duration

SECONDS_PER_DAY: Final = 86_400
Grid = npt.NDArray[np.float64]


class ForecastInputError(UserError):
    """An input to the forecast (history, interval, holidays, options) that cannot be used."""


def check_interval(interval_s: float, *, what: str = "--interval") -> int:
    """``interval_s`` as whole seconds, or :class:`ForecastInputError` unless it is a
    whole number of minutes that divides a day (15m, 30m, 60m ...)."""
    ok = math.isfinite(interval_s) and interval_s > 0 and interval_s % 60 == 0
    if not ok or SECONDS_PER_DAY % int(interval_s):
        shown = format_duration(interval_s) if interval_s > 0 else f"{interval_s:g}"
        raise ForecastInputError(
            f"{what}: {shown} is not valid; expected a whole number of minutes that divides "
            "a day (e.g. 15m, 30m, 60m)"
        )
    return int(interval_s)


def check_time_zone(tz: str | None, *, what: str = "--tz") -> str:
    """The IANA name ``tz`` (``"UTC"`` when None), checked."""
    if tz is None or tz.upper() == "UTC":
        return "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ForecastInputError(
            f"{what}: {tz!r} is not a time zone; expected an IANA name like Europe/Berlin or UTC"
        ) from None
    return tz


# --- special days ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpecialDay:
    """A holiday or special day: left out of every training profile; in the horizon the
    center is closed (``multiplier`` None: forecast 0) or the forecast is scaled."""

    day: date
    multiplier: float | None = None


_SPECIAL_LINE: Final = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\s*[,;\s]\s*(\S+))?$")


def parse_special_days(lines: Iterable[str], *, name: str) -> tuple[SpecialDay, ...]:
    """Special days from text lines ``YYYY-MM-DD`` (closed) or ``YYYY-MM-DD,MULTIPLIER``.

    Blank lines, ``#`` comments and a ``date,multiplier`` header line are skipped.  ``name``
    names the source in errors (``holidays.txt:3: ...``).
    """
    out: dict[date, SpecialDay] = {}
    for number, raw in enumerate(lines, start=1):
        text = raw.split("#", 1)[0].strip()
        if not text or (number == 1 and text.lower().replace(" ", "").startswith("date")):
            continue
        m = _SPECIAL_LINE.match(text)
        if m is None:
            raise InputFileError(
                name,
                f"{text!r} is not a special day; expected YYYY-MM-DD or YYYY-MM-DD,0.5",
                number,
            )
        try:
            day = date.fromisoformat(m.group(1))
        except ValueError:
            raise InputFileError(name, f"{m.group(1)!r} is not a date", number) from None
        multiplier = None
        if m.group(2) is not None and m.group(2).lower() != "closed":
            try:
                multiplier = float(m.group(2))
            except ValueError:
                multiplier = -1.0
            if not math.isfinite(multiplier) or multiplier < 0:
                raise InputFileError(
                    name,
                    f"multiplier {m.group(2)!r} is not valid; expected a number >= 0 "
                    "(or nothing, or 'closed', for a closed day)",
                    number,
                )
        out[day] = SpecialDay(day, multiplier)
    return tuple(sorted(out.values(), key=lambda s: s.day))


def read_special_days(path: str | os.PathLike[str]) -> tuple[SpecialDay, ...]:
    """Special days from a text file (see :func:`parse_special_days`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(p, "no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputFileError(p, f"cannot be read: {e}") from None
    return parse_special_days(text.splitlines(), name=str(p))


# --- the history grid -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class History:
    """Contacts and handle time per queue × calendar day × interval of the day.

    ``contacts[q, d, s]`` offered contacts of queue ``q`` on day ``first_day + d`` in the
    ``s``-th interval of that (local) day; ``handled`` the contacts whose handle time is
    known and ``handle_s`` their total handle time (talk + hold + after-call work).
    """

    interval_s: int
    tz: str
    first_day: date
    queues: tuple[str, ...]
    contacts: Grid
    handled: Grid
    handle_s: Grid

    @property
    def days(self) -> int:
        return int(self.contacts.shape[1])

    @property
    def slots(self) -> int:
        return SECONDS_PER_DAY // self.interval_s

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.days - 1)

    def select(self, queues: Sequence[str]) -> History:
        """Only the named queues, or :class:`ForecastInputError` naming one not present."""
        index = []
        for q in queues:
            if q not in self.queues:
                known = ", ".join(self.queues)
                raise ForecastInputError(f"--queue: {q!r} is not in the history; queues: {known}")
            index.append(self.queues.index(q))
        return replace(
            self,
            queues=tuple(self.queues[i] for i in index),
            contacts=self.contacts[index],
            handled=self.handled[index],
            handle_s=self.handle_s[index],
        )

    def to_table(self) -> pl.DataFrame:
        """The history as an interval table: queue, interval_start, interval_s, contacts,
        aht_s (null where nothing was handled)."""
        aht = np.divide(
            self.handle_s,
            self.handled,
            out=np.full_like(self.handle_s, np.nan),
            where=self.handled > 0,
        )
        return grid_to_table(
            self.queues, self.first_day, self.tz, self.interval_s, self.contacts, aht
        )


@dataclass(frozen=True, slots=True)
class LocalCalendar:
    """The UTC intervals of a run of local days: start (epoch s), day index, slot, and how
    many UTC intervals share that local slot (2 in the hour repeated when clocks go back)."""

    start: npt.NDArray[np.int64]
    day: npt.NDArray[np.int64]
    slot: npt.NDArray[np.int64]
    share: npt.NDArray[np.int64]


def _local_midnight(day: date, tz: str) -> int:
    return int(datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).timestamp())


def _localize(epoch: pl.Expr, tz: str) -> pl.Expr:
    return pl.from_epoch(epoch, time_unit="s").dt.replace_time_zone("UTC").dt.convert_time_zone(tz)


def _local_position(frame: pl.DataFrame, first_day: date, tz: str, interval_s: int) -> pl.DataFrame:
    """``frame`` (column ``bin``, epoch s) with ``day`` (index from ``first_day``) and
    ``slot`` of each bin's local start; :class:`ForecastInputError` if a bin does not
    start on an interval boundary of the local day."""
    local = _localize(pl.col("bin"), tz)
    sod = (
        local.dt.hour().cast(pl.Int64) * 3600
        + local.dt.minute().cast(pl.Int64) * 60
        + local.dt.second().cast(pl.Int64)
    )
    out = frame.with_columns(
        day=(local.dt.date() - pl.lit(first_day)).dt.total_days().cast(pl.Int64),
        sod=sod,
    )
    if out.height and out.select((pl.col("sod") % interval_s != 0).any()).item():
        raise ForecastInputError(
            f"--tz: {tz} is not a whole number of {format_duration(interval_s)} intervals "
            "from UTC; use a shorter --interval or leave --tz out"
        )
    return out.with_columns(slot=pl.col("sod") // interval_s).drop("sod")


def local_calendar(first_day: date, days: int, tz: str, interval_s: int) -> LocalCalendar:
    """Every UTC interval from local midnight of ``first_day`` for ``days`` local days."""
    lo = _local_midnight(first_day, tz)
    hi = _local_midnight(first_day + timedelta(days=days), tz)
    frame = pl.DataFrame({"bin": np.arange(lo, hi, interval_s, dtype=np.int64)})
    frame = _local_position(frame, first_day, tz, interval_s)
    frame = frame.with_columns(share=pl.len().over("day", "slot").cast(pl.Int64))
    return LocalCalendar(
        start=frame["bin"].to_numpy(),
        day=frame["day"].to_numpy(),
        slot=frame["slot"].to_numpy(),
        share=frame["share"].to_numpy(),
    )


def grid_to_table(
    queues: Sequence[str],
    first_day: date,
    tz: str,
    interval_s: int,
    contacts: Grid,
    aht_s: Grid,
) -> pl.DataFrame:
    """An interval table (queue, interval_start UTC, interval_s, contacts, aht_s) from
    per-queue day × slot grids.  A local slot that two UTC intervals share (the repeated
    hour when clocks go back) has its contacts split evenly over both."""
    cal = local_calendar(first_day, contacts.shape[1], tz, interval_s)
    parts = []
    for q, name in enumerate(queues):
        parts.append(
            pl.DataFrame(
                {
                    "queue": pl.Series([name] * cal.start.size, dtype=pl.String),
                    "interval_start": cal.start,
                    "interval_s": np.full(cal.start.size, interval_s, dtype=np.int64),
                    "contacts": contacts[q, cal.day, cal.slot] / cal.share,
                    "aht_s": aht_s[q, cal.day, cal.slot],
                }
            )
        )
    table = pl.concat(parts) if parts else pl.DataFrame()
    return table.with_columns(
        pl.from_epoch("interval_start", time_unit="s").dt.replace_time_zone("UTC"),
        pl.col("aht_s").fill_nan(None),
    )


def _local_day(epoch: float, tz: str) -> date:
    day: date = pl.select(_localize(pl.lit(int(epoch // 1), dtype=pl.Int64), tz).dt.date()).item()
    return day


def history_from_counts(
    counts: pl.DataFrame,
    interval_s: int,
    tz: str,
    *,
    name: str,
    span: tuple[float, float] | None = None,
) -> History:
    """A :class:`History` from rows of (``queue``, ``bin`` epoch s aligned to the interval,
    ``contacts``, ``handled``, ``handle_s``); several rows of one bin are added up.

    The grid runs from the first to the last day with a row, widened to the local days of
    ``span`` (first and last event time) if given: a log whose last day had no contacts
    (a closed Sunday) still ends on that day.
    """
    counts = counts.filter(pl.col("queue").is_not_null())
    if counts.height == 0 or counts.select(pl.col("contacts").sum()).item() <= 0:
        raise ForecastInputError(f"{name}: the history has no contacts; expected at least one")
    lo = int(counts.select(pl.col("bin").min()).item())
    hi = int(counts.select(pl.col("bin").max()).item())
    if span is not None:
        lo, hi = min(lo, int(span[0] // 1)), max(hi, int(span[1] // 1))
    first, last = _local_day(lo, tz), _local_day(hi, tz)
    placed = _local_position(counts, first, tz, interval_s)
    queues = tuple(sorted(placed["queue"].cast(pl.String).unique().to_list()))
    days = (last - first).days + 1
    shape = (len(queues), days, SECONDS_PER_DAY // interval_s)
    q_index = (
        placed["queue"]
        .cast(pl.String)
        .replace_strict({q: i for i, q in enumerate(queues)}, return_dtype=pl.Int64)
    )
    index = (q_index.to_numpy(), placed["day"].to_numpy(), placed["slot"].to_numpy())
    grids = []
    for column in ("contacts", "handled", "handle_s"):
        grid = np.zeros(shape)
        np.add.at(grid, index, placed[column].fill_null(0.0).to_numpy().astype(np.float64))
        grids.append(grid)
    return History(interval_s, tz, first, queues, grids[0], grids[1], grids[2])


def history_from_events(
    events: str | os.PathLike[str] | pl.DataFrame, interval_s: int, tz: str = "UTC"
) -> History:
    """Offered contacts and handle time per queue and interval, counted by the KPI engine.

    ``events``: a JSONL or Parquet log path, or a frame of events (as
    :func:`callcenter.kpi.events_to_frame` makes).
    """
    from callcenter.kpi.aggregate import handling_sums, join_on, visit_sums
    from callcenter.kpi.engine import build_tables
    from callcenter.kpi.frame import load_events, prepare_frame
    from callcenter.kpi.settings import KpiSettings

    if isinstance(events, pl.DataFrame):
        name, frame = "events", prepare_frame(events)
    else:
        name, frame = str(events), load_events(events)
    settings = KpiSettings(interval_s=interval_s)
    tables = build_tables(frame, settings)
    keys = ["bin", "queue"]
    visits = visit_sums(tables.visits, keys, settings, all_queues=False)
    handling = handling_sums(tables.legs, tables.counts, keys)
    counts = (
        join_on(keys, [visits.select(*keys, "offered"), handling])
        .select(
            pl.col("queue").cast(pl.String),
            "bin",
            pl.col("offered").cast(pl.Float64).alias("contacts"),
            pl.col("handled").cast(pl.Float64),
            (pl.col("talk_sum") + pl.col("hold_sum") + pl.col("acw_sum")).alias("handle_s"),
        )
        .collect()
    )
    # legs of contacts that never queued here (queue "(none)") are no queue's workload
    known = tables.visits.select(pl.col("queue").cast(pl.String).unique()).to_series().to_list()
    return history_from_counts(
        counts.filter(pl.col("queue").is_in(known)),
        interval_s,
        tz,
        name=name,
        span=(tables.start, tables.end),
    )


def load_history(path: str | os.PathLike[str], interval_s: int, tz: str = "UTC") -> History:
    """A history from an event log, or from a CSV time series if the name ends ``.csv``."""
    p = Path(path)
    if p.suffix.lower() == ".csv":
        return history_from_csv(p, interval_s, tz)
    return history_from_events(p, interval_s, tz)


# --- CSV time series ---------------------------------------------------------------------

TIME_COLUMNS: Final = ("timestamp", "interval_start")
DEFAULT_QUEUE: Final = "default"
"""The queue of a CSV series without a ``queue`` column."""


def _read_csv_strings(p: Path) -> pl.DataFrame:
    try:
        raw = pl.read_csv(p, infer_schema=False)
    except FileNotFoundError:
        raise InputFileError(p, "no such file") from None
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputFileError(p, f"cannot be read as CSV: {first}") from None
    return raw.rename({c: c.strip().lower() for c in raw.columns})


def _first_bad(p: Path, frame: pl.DataFrame, bad: pl.Expr, column: str, expected: str) -> None:
    """Raise for the first row where ``bad`` holds: ``file:line: column 'x': ...``."""
    row = frame.select(bad.fill_null(True).arg_true().first()).item()
    if row is not None:
        cell = frame[column][int(row)]
        value = "" if cell is None else cell
        raise InputFileError(
            p, f"column {column!r}: {value!r} is not valid; expected {expected}", int(row) + 2
        )


def _csv_times(p: Path, frame: pl.DataFrame, column: str, tz: str) -> pl.Series:
    """Epoch seconds of the ``column`` strings: ISO 8601 with an offset, or local times of
    ``tz`` without one."""
    # A Series (not an expression): polars infers the format from the values themselves.
    t = frame[column].str.strip_chars().str.to_datetime(strict=False, time_unit="us")
    _first_bad(p, frame.with_columns(t=t), pl.col("t").is_null(), column, "an ISO 8601 time")
    dtype = t.dtype
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
        t = t.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
        local = frame.with_columns(t=t)
        _first_bad(p, local, pl.col("t").is_null(), column, f"a time that exists in {tz}")
    return t.dt.epoch("s")


def _check_resolution(p: Path, epochs: npt.NDArray[np.int64], interval_s: int) -> None:
    """The rows must be spaced by a step that divides the interval (5-minute rows into
    30-minute intervals, not hourly rows into 30-minute intervals)."""
    distinct = np.unique(epochs)
    if distinct.size < 2:
        return
    step = int(np.gcd.reduce(np.diff(distinct)))
    if interval_s % step:
        raise InputFileError(
            p,
            f"rows are {format_duration(step)} apart, which does not divide the "
            f"{format_duration(interval_s)} interval; expected an --interval that is a "
            f"multiple of {format_duration(step)}",
        )


def history_from_csv(path: str | os.PathLike[str], interval_s: int, tz: str = "UTC") -> History:
    """A history from a CSV time series: ``timestamp`` (or ``interval_start``; ISO 8601,
    times without an offset are in ``tz``), optional ``queue``, ``contacts`` (>= 0) and
    optional ``aht_s`` (> 0 seconds, empty where unknown).  Rows finer than the interval
    are added up (``aht_s`` weighted by contacts)."""
    p = Path(path)
    raw = _read_csv_strings(p)
    time_col = next((c for c in TIME_COLUMNS if c in raw.columns), None)
    if time_col is None or "contacts" not in raw.columns:
        need = "'timestamp' (or 'interval_start') and 'contacts'"
        raise InputFileError(
            p, f"expected the columns {need}; found: {', '.join(raw.columns) or 'none'}"
        )
    if raw.height == 0:
        raise ForecastInputError(f"{p}: the history has no contacts; expected at least one")
    num = pl.col("contacts").str.strip_chars().cast(pl.Float64, strict=False)
    _first_bad(p, raw, num.is_null() | num.is_nan() | (num < 0), "contacts", "a number >= 0")
    has_aht = "aht_s" in raw.columns
    aht_text = pl.col("aht_s").str.strip_chars() if has_aht else pl.lit(None, dtype=pl.String)
    given = aht_text.is_not_null() & (aht_text != "")  # polars reads an empty cell as null
    aht = pl.when(given).then(aht_text.cast(pl.Float64, strict=False))
    if has_aht:
        bad_aht = given & (aht.is_null() | aht.is_nan() | (aht <= 0) | aht.is_infinite())
        _first_bad(p, raw, bad_aht, "aht_s", "a number of seconds > 0, or empty")
    epochs = _csv_times(p, raw, time_col, tz)
    _check_resolution(p, epochs.to_numpy(), interval_s)
    queue = pl.col("queue").str.strip_chars() if "queue" in raw.columns else pl.lit(DEFAULT_QUEUE)
    if "queue" in raw.columns:
        _first_bad(p, raw, queue.is_null() | (queue == ""), "queue", "a queue name")
    with_aht = aht.is_not_null() & (num > 0)
    counts = raw.select(
        queue.alias("queue"),
        ((epochs // interval_s) * interval_s).alias("bin"),
        num.alias("contacts"),
        pl.when(with_aht).then(num).otherwise(0.0).alias("handled"),
        pl.when(with_aht).then(num * aht).otherwise(0.0).alias("handle_s"),
    )
    return history_from_counts(counts, interval_s, tz, name=str(p))
