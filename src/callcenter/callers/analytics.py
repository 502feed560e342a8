"""Caller analytics: who calls, how often, how soon again, and was it solved first time.

Works on any event log (JSON Lines or Parquet; simulated, live or imported), columnar
with polars: the log is reduced to one row per *contact* (a contact id with an
``arrive``; its number is ``arrive.caller``) and every figure is a sum over that frame
(:func:`flag_contacts` adds the per-contact flags).  Rules and formulas, including
FCR's agent attribution (last ``connect``), the end-of-log exclusion and abandoned
contacts: docs/callers.md.
"""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Final

import polars as pl

from callcenter.errors import InputFileError, UserError
from callcenter.storage.eventlog import EVENT_TYPE_DTYPE, FileLog

COLUMNS: Final = ("t", "type", "contact", "queue", "agent", "caller")
"""The event fields caller analytics read (the others are not parsed)."""

_QUEUE_EVENTS: Final = ("enqueue", "abandon", "timeout", "callback_request", "connect")
_CONTACT_EVENTS: Final = ("arrive", *_QUEUE_EVENTS)

CONTACT_SCHEMA: Final[dict[str, pl.DataType]] = {
    "contact": pl.String(),
    "t": pl.Float64(),
    "caller": pl.String(),
    "answered": pl.Boolean(),
    "agent": pl.String(),
    "queue": pl.String(),
}


class CallerBreakdown(StrEnum):
    DAY = "day"
    QUEUE = "queue"
    AGENT = "agent"


@dataclass(frozen=True)
class CallerSettings:
    window_s: float = 7 * 86400.0  # FCR window
    repeat_within_s: float = 86400.0  # a repeat caller calls again within this
    by: CallerBreakdown = CallerBreakdown.DAY
    tz: str = "UTC"  # IANA time zone whose calendar days the day rows use

    def __post_init__(self) -> None:
        for name, value in (("window", self.window_s), ("repeat-within", self.repeat_within_s)):
            if not value > 0:
                raise UserError(f"--{name} must be longer than 0 (like 24h or 7d), got {value:g} s")
        try:
            zoneinfo.ZoneInfo(self.tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise UserError(
                f"--tz: unknown time zone {self.tz!r} (expected an IANA name like Europe/Vilnius)"
            ) from None


@dataclass(frozen=True)
class Contacts:
    """One row per contact (:data:`CONTACT_SCHEMA`) and the time the log covers."""

    frame: pl.DataFrame
    start: float  # first event of the log (epoch s)
    end: float  # last event of the log: FCR windows ending later are not yet known
    events: int  # events in the log, header excluded


@dataclass(frozen=True)
class VolumeMetrics:
    """Who called: per day and over the whole log."""

    contacts: int  # contacts that arrived (with or without a number)
    unknown_number: int  # of them, without a caller number
    numbers: int  # distinct numbers
    new_numbers: int  # numbers whose first contact in the log is in this row
    calls_per_number_mean: float | None  # contacts with a number / numbers
    calls_per_number_max: int | None  # most contacts from one number
    intervals: int  # gaps between consecutive contacts of a number ending in this row
    mean_interval_s: float | None  # mean of those gaps
    repeat_contacts: int  # contacts at most repeat_within_s after the number's previous one
    repeat_numbers: int  # distinct numbers with a repeat contact


@dataclass(frozen=True)
class FcrMetrics:
    """First-contact resolution of the row's contacts."""

    answered: int  # answered contacts
    no_number: int  # of them, without a number: left out of FCR
    fcr_known: int  # with a number and the whole window inside the log
    fcr_not_yet_known: int  # with a number, window running past the end of the log
    fcr_resolved: int  # known, and no new contact from the number within the window
    fcr_rate: float | None  # fcr_resolved / fcr_known
    unanswered: int | None  # contacts never connected (None on agent rows)
    callbacks_after_abandon: int | None  # unanswered, then a new contact within the window


@dataclass(frozen=True)
class CallerRow:
    level: str  # "day", "queue", "agent" or "total"
    day: dt.date | None
    queue: str | None
    agent: str | None
    volume: VolumeMetrics | None  # day rows and the total
    fcr: FcrMetrics

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "day": None if self.day is None else self.day.isoformat(),
            "queue": self.queue,
            "agent": self.agent,
            "volume": None if self.volume is None else asdict(self.volume),
            "fcr": asdict(self.fcr),
        }


@dataclass(frozen=True)
class CallerReport:
    settings: CallerSettings
    start: float
    end: float
    events: int
    rows: list[CallerRow]
    total: CallerRow

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": {
                "by": self.settings.by.value,
                "window_s": self.settings.window_s,
                "repeat_within_s": self.settings.repeat_within_s,
                "tz": self.settings.tz,
            },
            "period": {"start": _iso(self.start), "end": _iso(self.end), "events": self.events},
            "total": self.total.to_dict(),
            "rows": [r.to_dict() for r in self.rows],
        }


_FCR_FIELDS: Final = tuple(f for f in FcrMetrics.__dataclass_fields__ if f != "fcr_rate")
_VOLUME_COUNTS: Final = ("contacts", "unknown_number", "numbers", "new_numbers", "intervals",
                         "repeat_contacts", "repeat_numbers")  # fmt: skip


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- reading ----------------------------------------------------------------------------


def _events(events: pl.LazyFrame | pl.DataFrame) -> pl.LazyFrame:
    """The events with :data:`COLUMNS`; only those caller analytics read keep their
    contact, queue, agent and caller (the others are needed for the log's span only)."""
    wanted = pl.col("contact").is_not_null() & pl.col("type").is_in(_CONTACT_EVENTS)
    return (
        events.lazy()
        .select(pl.col("t"), pl.col("type").cast(EVENT_TYPE_DTYPE), *COLUMNS[2:])
        .select("t", "type", *(pl.when(wanted).then(pl.col(c)).alias(c) for c in COLUMNS[2:]))
    )


def group_order(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """A stable permutation that puts equal ``values`` next to each other, and the
    permuted group keys (equal key = equal value; nulls form one group).

    Sorts by a 64-bit hash of the values (one integer key: much cheaper than sorting
    strings).  A second, independent hash must then be constant within each run of
    equal keys; if it is not, two values share a hash, and the values themselves are
    sorted instead.
    """
    values = values.rechunk()
    key = values.hash(seed=0)
    perm = key.to_frame("k").select(pl.arg_sort_by("k", maintain_order=True)).to_series()
    runs = pl.DataFrame({"k": key.gather(perm), "k2": values.hash(seed=1).gather(perm)})
    k, k2 = pl.col("k"), pl.col("k2")
    if runs.select(((k == k.shift()) & (k2 != k2.shift())).any()).item():
        exact = values.to_frame("v").select(pl.arg_sort_by("v", maintain_order=True))
        return exact.to_series(), values.gather(exact.to_series())
    return perm, runs["k"]


def group_rows(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """``frame`` stably reordered so that equal values of ``column`` are adjacent."""
    perm, _ = group_order(frame[column])
    return frame.rechunk().select(pl.all().gather(perm))


def contacts_from_events(events: pl.LazyFrame | pl.DataFrame) -> Contacts:
    """The contacts of events with the :data:`COLUMNS` columns (header row excluded)."""
    return _contacts_of(_events(events).collect(engine="streaming"))


def _contacts_of(frame: pl.DataFrame) -> Contacts:
    """:func:`contacts_from_events` of the collected :func:`_events` frame."""
    if frame.height == 0:
        return Contacts(pl.DataFrame(schema=CONTACT_SCHEMA), 0.0, 0.0, 0)
    start, end = frame["t"].min(), frame["t"].max()
    assert isinstance(start, float) and isinstance(end, float)
    rows = frame.filter(pl.col("contact").is_not_null())
    return Contacts(_contacts(rows), start, end, frame.height)


def _contacts(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per contact (:data:`CONTACT_SCHEMA`) from the rows :func:`_events` keeps.

    Vectorised, without a hash group-by: the events are put in (t, file order) order,
    grouped by contact (:func:`group_rows`), and each contact's first ``arrive``, last
    ``connect`` and last queue event are found by forward / backward fills of row
    numbers within its run.
    """
    rows = rows.rechunk()  # gathers from a many-chunk frame are several times slower
    if not rows["t"].is_sorted():
        rows = rows.sort("t", maintain_order=True)  # stable: ties keep file order
    perm, key = group_order(rows["contact"])
    etype = rows["type"].gather(perm)
    runs = pl.DataFrame({"k": key, "type": etype, "q": rows["queue"].is_not_null().gather(perm)})
    k, i, typ = pl.col("k"), pl.col("_i"), pl.col("type")
    is_connect = typ == "connect"
    queued = typ.is_in(_QUEUE_EVENTS) & pl.col("q")
    idx = runs.with_row_index("_i").select(
        i,
        pl.when(k.ne_missing(k.shift())).then(i).forward_fill().alias("start"),
        k.ne_missing(k.shift(-1)).alias("last"),
        pl.when(typ == "arrive").then(i).backward_fill().alias("arrive"),
        pl.when(is_connect).then(i).forward_fill().alias("connect"),
        pl.when(queued).then(i).forward_fill().alias("queued"),
    )
    idx = idx.with_columns(pl.col("arrive").gather(pl.col("start"))).filter("last")
    # each contact's last row: its first arrive lies within [start, _i], its last
    # connect / queue event (looking back from here) at or after start
    idx = idx.select(
        pl.when(pl.col("arrive") <= i).then("arrive").alias("arrive"),
        *(pl.when(pl.col(c) >= pl.col("start")).then(c).alias(c) for c in ("connect", "queued")),
    ).filter(pl.col("arrive").is_not_null())  # a contact is a contact id with an arrive
    # back from positions in the grouped order to rows of `rows`
    a, c, q = (perm.gather(idx[name]) for name in ("arrive", "connect", "queued"))
    number = rows["caller"].gather(a).str.strip_chars()
    return pl.DataFrame(
        {
            "contact": rows["contact"].gather(a),
            "t": rows["t"].gather(a),
            "caller": pl.select(pl.when(number != "").then(number)).to_series(),
            "answered": c.is_not_null(),
            "agent": rows["agent"].gather(c),
            "queue": rows["queue"].gather(c).fill_null(rows["queue"].gather(q)),
        },
        schema=CONTACT_SCHEMA,
    )


def read_contacts(path: str | os.PathLike[str]) -> Contacts:
    """The contacts of an event log (JSON Lines; Parquet by its suffix).

    Raises :class:`InputFileError` for a missing, empty or foreign file, the first bad
    line, and a log without a single ``arrive`` event with a caller number.
    """
    log = FileLog(path)
    not_header = pl.col("type") != "header"  # a second header line is not a contact event
    frame = log.read_frame(
        COLUMNS,
        query=lambda events: _events(events.filter(not_header)),
        streaming=True,  # parses JSON Lines ~2x faster
    )
    contacts = _contacts_of(frame)
    if contacts.frame.filter(pl.col("caller").is_not_null()).height == 0:
        raise InputFileError(
            log.path,
            "no arrive event with a caller number: caller analytics need the 'caller' "
            "field on arrive events",
        )
    return contacts


# --- per-contact flags ------------------------------------------------------------------


def _local_day(t: pl.Expr, tz: str) -> pl.Expr:
    """The calendar date of epoch seconds ``t`` in time zone ``tz``."""
    if tz == "UTC":
        return (t // 86400).cast(pl.Int32).cast(pl.Date)
    at = pl.from_epoch((t * 1e6).cast(pl.Int64), time_unit="us").dt.replace_time_zone("UTC")
    return at.dt.convert_time_zone(tz).dt.date()


def flag_contacts(contacts: Contacts, settings: CallerSettings) -> pl.DataFrame:
    """Contacts sorted by number and time, with the per-contact flags every figure sums.

    Added columns: ``day`` (date of arrival in ``settings.tz``), ``gap_s`` (seconds
    since the number's previous contact), ``next_gap_s`` (to its next one), ``first``
    (the number's first contact in the log), ``repeat`` (gap ≤ repeat_within_s),
    ``known`` (the FCR window lies inside the log), ``resolved``, ``callback``
    (unanswered, then a new contact within the window).  Unknown numbers get nulls /
    False in the per-number columns.
    """
    w = settings.window_s
    # by number, then arrival (group_rows is stable); unknown numbers form one run
    frame = group_rows(contacts.frame.sort("t", "contact"), "caller")
    has_number = pl.col("caller").is_not_null()
    same_prev = has_number & (pl.col("caller") == pl.col("caller").shift(1))
    same_next = has_number & (pl.col("caller") == pl.col("caller").shift(-1))
    gap = pl.when(same_prev).then(pl.col("t") - pl.col("t").shift(1))
    next_gap = pl.when(same_next).then(pl.col("t").shift(-1) - pl.col("t"))
    frame = frame.with_columns(
        _local_day(pl.col("t"), settings.tz).alias("day"),
        gap.alias("gap_s"),
        next_gap.alias("next_gap_s"),
        (has_number & ~same_prev.fill_null(False)).alias("first"),
    )
    followed = pl.col("next_gap_s").is_not_null() & (pl.col("next_gap_s") <= w)
    known = has_number & pl.col("answered") & (pl.col("t") + w <= contacts.end)
    return frame.with_columns(
        (pl.col("gap_s") <= settings.repeat_within_s).fill_null(False).alias("repeat"),
        known.alias("known"),
        (known & ~followed).alias("resolved"),
        (~pl.col("answered") & followed).alias("callback"),
    )


# --- aggregation ------------------------------------------------------------------------


def _fcr_exprs(*, unanswered: bool) -> list[pl.Expr]:
    answered = pl.col("answered")
    number = pl.col("caller").is_not_null()
    exprs = [
        answered.sum().alias("answered"),
        (answered & ~number).sum().alias("no_number"),
        pl.col("known").sum().alias("fcr_known"),
        (answered & number & ~pl.col("known")).sum().alias("fcr_not_yet_known"),
        pl.col("resolved").sum().alias("fcr_resolved"),
    ]
    if unanswered:
        exprs += [
            (~answered).sum().alias("unanswered"),
            pl.col("callback").sum().alias("callbacks_after_abandon"),
        ]
    return exprs


def _volume_exprs() -> list[pl.Expr]:
    number = pl.col("caller").is_not_null()
    return [
        pl.len().alias("contacts"),
        (~number).sum().alias("unknown_number"),
        pl.col("caller").drop_nulls().n_unique().alias("numbers"),
        pl.col("first").sum().alias("new_numbers"),
        number.sum().alias("with_number"),
        pl.col("gap_s").count().alias("intervals"),
        pl.col("gap_s").mean().alias("mean_interval_s"),
        pl.col("repeat").sum().alias("repeat_contacts"),
        pl.col("caller").filter(pl.col("repeat")).n_unique().alias("repeat_numbers"),
    ]


def _fcr(row: dict[str, Any]) -> FcrMetrics:
    known, resolved = row["fcr_known"], row["fcr_resolved"]
    values: dict[str, Any] = {f: row.get(f) for f in _FCR_FIELDS}
    return FcrMetrics(**values, fcr_rate=resolved / known if known else None)


def _volume(row: dict[str, Any], max_calls: int | None) -> VolumeMetrics:
    numbers, mean = row["numbers"], row["mean_interval_s"]
    derived: dict[str, Any] = {
        "calls_per_number_mean": row["with_number"] / numbers if numbers else None,
        "calls_per_number_max": max_calls if numbers else None,
        "mean_interval_s": None if mean is None else float(mean),
    }
    counts: dict[str, Any] = {f: row[f] for f in _VOLUME_COUNTS}
    return VolumeMetrics(**counts, **derived)


def _max_calls(flagged: pl.DataFrame, keys: list[str]) -> dict[Any, int]:
    per_number = (
        flagged.filter(pl.col("caller").is_not_null())
        .group_by([*keys, "caller"])
        .agg(pl.len().alias("n"))
        .group_by(keys or pl.lit(0).alias("all"))
        .agg(pl.col("n").max())
    )
    key = keys[0] if keys else "all"
    return {r[key]: int(r["n"]) for r in per_number.iter_rows(named=True)}


def summarize(contacts: Contacts, settings: CallerSettings) -> CallerReport:
    """The report: one row per day, queue or agent (``settings.by``) and the total."""
    flagged = flag_contacts(contacts, settings)
    total_row = flagged.select(*_volume_exprs(), *_fcr_exprs(unanswered=True)).row(0, named=True)
    total = CallerRow(
        "total",
        None,
        None,
        None,
        _volume(total_row, _max_calls(flagged, []).get(0)),
        _fcr(total_row),
    )
    by = settings.by
    rows: list[CallerRow] = []
    if by is CallerBreakdown.DAY:
        max_calls = _max_calls(flagged, ["day"])
        agg = flagged.group_by("day").agg(*_volume_exprs(), *_fcr_exprs(unanswered=True))
        for r in agg.sort("day").iter_rows(named=True):
            volume = _volume(r, max_calls.get(r["day"]))
            rows.append(CallerRow("day", r["day"], None, None, volume, _fcr(r)))
    else:
        key = by.value
        group = flagged.filter(pl.col("answered")) if by is CallerBreakdown.AGENT else flagged
        agg = group.group_by(key).agg(*_fcr_exprs(unanswered=by is CallerBreakdown.QUEUE))
        for r in agg.sort(key, nulls_last=True).iter_rows(named=True):
            queue = r[key] if by is CallerBreakdown.QUEUE else None
            agent = r[key] if by is CallerBreakdown.AGENT else None
            rows.append(CallerRow(key, None, queue, agent, None, _fcr(r)))
    return CallerReport(settings, contacts.start, contacts.end, contacts.events, rows, total)


def caller_report(
    path: str | os.PathLike[str], settings: CallerSettings | None = None
) -> CallerReport:
    """Read an event log and compute its caller report (:func:`summarize`)."""
    return summarize(read_contacts(path), settings or CallerSettings())
