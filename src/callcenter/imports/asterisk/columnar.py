"""Whole-file queue_log import by columns (polars): the same events as
:class:`~callcenter.imports.asterisk.QueueLogMapper`, ten times faster and in a fraction
of the memory.

Why a second implementation: the line-by-line mapper builds a Python object per line and
per event (~40,000 lines/s, ~1.4 GiB per million lines), so a 10-million-line log neither
fits nor finishes in a reasonable time.  Here every step is a column operation; Python
runs only for the few odd lines (transfers, times written as dates, the first bad lines'
messages).  The line mapper stays for ``--follow`` (a few lines at a time, state kept
between batches) and as the reference: the tests feed both the same dirty logs and
require identical events, counts and messages.

The mapper's per-call state (is a queue visit open, since when, in which queue; did the
last visit time out) becomes two sorts:

1. lines in processing order (time, then line number) give each line its ``seq``;
2. call lines sorted by (call id, ``seq``): the state *before* a line is the last
   state-changing line of the same call (ENTERQUEUE opens a visit; CONNECT, ABANDON and
   the EXIT… lines close it), found with a shift and a forward fill that restarts at each
   call's first line; the overflow target of a timed-out visit is the queue of the next
   state-changing line when that line is an ENTERQUEUE (a backward fill).

Duplicates are found by sorting 64-bit hashes of the lines; any hash collision between
two different lines sends the import to an exact string comparison instead, so the
result never depends on a hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import polars as pl

from callcenter.errors import InputFileError
from callcenter.events import EventType
from callcenter.imports.asterisk.columnar_events import (
    ABANDON,
    AGENT,
    CLOSERS,
    CODE_OF,
    COMPLETE,
    CONNECT,
    ENQ,
    NAMES,
    NEEDS_AGENT_CODES,
    RAW,
    TIMEOUT,
    assemble,
    data_fields,
    in_slices,
    line_fields,
    numbers,
)
from callcenter.imports.asterisk.queue_log import (
    NO_CALL,
    SOURCE,
    CallInfo,
    check_is_queue_log,
    closing_notes,
    map_error,
    normalise_agent,
    parse_line,
    parse_time,
)
from callcenter.imports.common import SHOWN_BAD_LINES, ImportStats

c, lit, when = pl.col, pl.lit, pl.when
HashT = TypeVar("HashT", pl.Series, pl.Expr)


# --------------------------------------------------------------------------- reading


def read_lines(path: Path) -> pl.DataFrame:
    """``lineno``, ``text`` (trailing CR stripped; null for an empty line) of the file."""
    if not path.exists():
        raise InputFileError(path, "no such file")
    if not path.is_file():
        raise InputFileError(path, "not a file")
    data = path.read_bytes()
    if not data or data.isspace():
        raise InputFileError(path, "empty file, not an Asterisk queue_log")
    if b"\0" in data[:65536]:
        raise InputFileError(path, "binary file, not an Asterisk queue_log")
    if b"\0" in data:  # the NUL byte is the reader's column separator below
        data = data.replace(b"\0", "\ufffd".encode())
    # One string column per line: polars' CSV reader splits lines on all cores; with a
    # separator that never occurs and no quoting, each line is one field, as written.
    frame = pl.read_csv(
        data,
        has_header=False,
        separator="\x00",
        quote_char=None,
        schema={"text": pl.String},
        encoding="utf8-lossy",
    )
    if frame["text"].str.ends_with("\r").any():  # CRLF line ends
        frame = frame.with_columns(c("text").str.strip_chars_end("\r\n"))
    return frame.with_row_index("lineno", offset=1).with_columns(c("lineno").cast(pl.Int64))


def stripped(s: pl.Series) -> pl.Series:
    """``s`` without surrounding whitespace (copied only when some value has any)."""
    return s.str.strip_chars() if s.str.contains(r"^\s|\s$").any() else s


def fast_hash(values: HashT) -> HashT:
    """64-bit hashes used to group equal strings fast; every use checks the groups
    against the strings themselves (the tests replace this with a constant)."""
    return values.hash()


def duplicate_mask(text: pl.Series) -> pl.Series:
    """True where a line repeats an earlier identical line (exact)."""
    order = pl.DataFrame({"h": fast_hash(text)}).with_row_index("i").sort("h", "i")
    h, idx = order["h"], order["i"]
    same_hash = (h == h.shift(1)).fill_null(False)
    if not same_hash.any():
        return pl.Series(np.zeros(len(text), dtype=bool))
    later, earlier = idx.filter(same_hash), idx.shift(1).filter(same_hash)
    if not (text.gather(later) == text.gather(earlier)).all():  # a 64-bit hash collision
        return ~text.is_first_distinct()
    mask = np.zeros(len(text), dtype=bool)
    mask[later.to_numpy()] = True
    return pl.Series(mask)


def _times(field0: pl.Series) -> pl.Series:
    """Epoch seconds of the first fields; dates (database exports) parsed in Python."""
    t = stripped(field0).cast(pl.Float64, strict=False)
    missing = t.is_null() & field0.is_not_null()
    if not missing.any():
        return t
    parsed: dict[str, float | None] = {}
    for s in field0.filter(missing).unique().to_list():
        try:
            parsed[s] = parse_time(s)
        except ValueError:
            parsed[s] = None
    other = field0.replace_strict(parsed, default=None, return_dtype=pl.Float64)
    return t.fill_null(other)


# --------------------------------------------------------------------------- result


@dataclass
class ColumnarImport:
    """Events (``EVENT_SCHEMA`` columns, time order, no header) and what a caller needs."""

    events: pl.DataFrame
    stats: ImportStats
    first_enqueue: pl.DataFrame  # contact, caller, queue, t: each call's first visit
    first_connect: pl.DataFrame  # contact, agent, queue, t: each call's first answer

    def contacts(self) -> set[str]:
        return set(self.first_enqueue["contact"]) | set(self.first_connect["contact"])

    def call_info(self, contacts: set[str]) -> dict[str, CallInfo]:
        """What the log says of these calls (as the line mapper's ``calls``)."""
        out: dict[str, CallInfo] = {}
        want = sorted(contacts)
        for row in self.first_enqueue.filter(c("contact").is_in(want)).iter_rows(named=True):
            out[row["contact"]] = CallInfo(caller=row["caller"], queue=row["queue"], start=row["t"])
        for row in self.first_connect.filter(c("contact").is_in(want)).iter_rows(named=True):
            info = out.setdefault(row["contact"], CallInfo(queue=row["queue"]))
            info.agent, info.start = row["agent"], row["t"]
        return out

    def fill_callers(self, callers: dict[str, str]) -> int:
        """Caller numbers from the CDR on arrivals without one; return how many."""
        ev = self.events
        cdr = c("contact").replace_strict(callers, default=None, return_dtype=pl.String)
        empty = (c("type") == EventType.ARRIVE.value) & c("caller").is_null()
        filled = int(ev.select((empty & cdr.is_not_null()).sum()).item())
        self.events = ev.with_columns(caller=when(empty).then(cdr).otherwise(c("caller")))
        fe = self.first_enqueue
        self.first_enqueue = fe.with_columns(caller=c("caller").fill_null(cdr))
        return filled


# --------------------------------------------------------------------------- import


def import_queue_log_columnar(path: str | Path) -> ColumnarImport:
    """Read and map a whole queue_log file (see the module docstring)."""
    p = Path(path)
    stats = ImportStats(source=SOURCE, path=str(p))
    lines = read_lines(p)
    stats.lines = lines.height
    lines = lines.filter(c("text").str.contains(r"\S").fill_null(False))
    dup = duplicate_mask(lines["text"])
    stats.duplicates = int(dup.sum())
    if stats.duplicates:
        lines = lines.filter(~dup)
    frame, bad_parse = _parse(lines)
    del lines, dup
    if frame.height == 0:
        _record_bad(stats, bad_parse)
        check_is_queue_log(p, stats, 0)
    _unmapped(frame, stats)
    frame = _checked(frame.drop("text"))
    state, still_queued = _visit_state(frame, fast_hash(c("callid")))
    call_ok = c("why").is_null() & (c("code") >= ENQ)
    same_call = c("callid") == c("callid").gather("fseq")
    if not frame.hstack(state).select((~call_ok | same_call).all()).item():
        # two call ids share a 64-bit hash: group the calls by the ids themselves
        state, still_queued = _visit_state(frame, c("callid"))
    frame = _with_visit(frame.hstack(state))
    del state
    bad = pl.concat(
        [
            bad_parse,
            frame.filter(c("why").is_not_null()).select(
                "lineno", "name", "callid", "why", rest=data_fields()
            ),
        ],
        how="diagonal_relaxed",
    )
    _record_bad(stats, bad)
    closing_notes(stats, still_queued, int((frame["target_seq"] >= 0).sum()))
    frame = frame.drop("lineno", "vseq", "target_seq", "fseq")
    frame = in_slices(frame, line_fields).rechunk()
    first_enqueue = frame.filter("arrive").select(
        contact="callid", caller="caller", queue="queue", t="t"
    )
    first_connect = frame.filter("first_connect").select(
        contact="callid", agent="agent", queue="queue_eff", t="t"
    )
    return ColumnarImport(assemble(frame), stats, first_enqueue, first_connect)


def _parse(lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The lines that read as queue_log lines (in processing order), and the others."""
    split = in_slices(lines, _split)
    ok = split["ok"]
    n_bad = int((~ok).sum())
    frame = (
        split.pipe(lambda f: f if n_bad == 0 else f.filter(c("ok")))
        .drop("ok")
        .pipe(lambda f: f if f["t"].is_sorted() else f.sort("t", "lineno"))
        .with_row_index("seq")
        .with_columns(
            code=lit(pl.Series([CODE_OF[n] for n in NAMES] + [RAW], dtype=pl.Int8)).gather("nid")
        )
        .rechunk()  # one piece per column: gathers on a chunked column are several times slower
    )
    bad = lines.filter(~ok).select("lineno", "text", why=lit("parse"))
    return frame, bad


_NAME_IDS = {n: i for i, n in enumerate(NAMES)}


def _split(lines: pl.DataFrame) -> pl.DataFrame:
    """The fields of some lines, ``nid`` (the event name's index in ``NAMES``) and ``ok``
    (the line reads as a queue_log line)."""
    # one split for all fields: the five fixed ones and the data fields d0…d3, d4 the rest
    parts = lines["text"].str.splitn("|", 10).struct.unnest()
    f = [parts[f"field_{i}"] for i in range(10)]
    t = _times(f[0])
    name = stripped(f[4])
    nid = name.replace_strict(_NAME_IDS, default=len(NAMES), return_dtype=pl.UInt8)
    nid = nid.fill_null(len(NAMES))
    # a name the mapping does not know must still look like an event name
    known = nid < len(NAMES)
    other = (~known).arg_true()
    if len(other):
        looks = name.gather(other).str.contains(r"^[A-Z][A-Z0-9_]*$").fill_null(False)
        known = known.scatter(other, looks)
    ok = f[4].is_not_null() & (t.is_finite() & (t >= 0)).fill_null(False) & known
    queue = stripped(f[2])
    return pl.DataFrame(
        {
            "lineno": lines["lineno"],
            "t": t,
            "callid": stripped(f[1]),
            "queue": queue,
            "agent_raw": f[3],
            "name": name,
            **{f"d{i}": f[5 + i] for i in range(5)},
            "text": lines["text"],
            "ok": ok,
            "nid": nid,
        }
    ).with_columns(queue=when(c("queue").is_in(["", "NONE"])).then(None).otherwise(c("queue")))


def _record_bad(stats: ImportStats, bad: pl.DataFrame) -> None:
    """Count the bad lines; the first few (by line number) with their messages."""
    stats.bad += bad.height
    shown: list[tuple[int, str]] = []
    for row in bad.sort("lineno").head(SHOWN_BAD_LINES).iter_rows(named=True):
        if row["why"] == "parse":
            reason = parse_line(row["text"], row["lineno"])
            assert isinstance(reason, str)
        else:
            data = row["rest"].split("|") if row["rest"] is not None else []
            reason = map_error(row["why"], row["name"], row["callid"], data)
        shown.append((row["lineno"], reason))
    stats.bad_lines = shown


def _unmapped(frame: pl.DataFrame, stats: ImportStats) -> None:
    """Lines of events the mapping does not know: counted and kept raw, in order."""
    for row in frame.filter(c("code") == RAW).select("lineno", "name", "text").iter_rows():
        stats.unmapped(*row)


def _checked(frame: pl.DataFrame) -> pl.DataFrame:
    """Agents normalised, and ``why`` a line cannot be mapped, where
    that does not depend on the call's state."""
    norm = {a: normalise_agent(a) for a in frame["agent_raw"].unique().to_list() if a is not None}
    frame = frame.with_columns(
        agent=c("agent_raw").replace_strict(norm, default=None, return_dtype=pl.String)
    ).drop("agent_raw")
    code = c("code")
    call = code >= ENQ
    return frame.with_columns(
        why=when((code == AGENT) & c("agent").is_null())
        .then(lit("no_agent"))
        .when(call & c("callid").is_in(list(NO_CALL)))
        .then(lit("no_call"))
        .when((code == ENQ) & c("queue").is_null())
        .then(lit("no_queue"))
        .when(code.is_in(NEEDS_AGENT_CODES) & c("agent").is_null())
        .then(lit("no_agent"))
    )


def _first_of_call(mask: pl.Expr, first: pl.Expr) -> pl.Expr:
    """True on the first row of each call where ``mask`` holds (rows sorted by call)."""
    before = mask.cast(pl.UInt32).cum_sum() - mask.cast(pl.UInt32)
    return mask & (before == when(first).then(before).forward_fill())


def _visit_state(frame: pl.DataFrame, key: pl.Expr) -> tuple[pl.DataFrame, int]:
    """Per line (``seq`` order): ``vseq``, the ENTERQUEUE line of the visit open before
    it (-1: none); ``target_seq``, for a timed-out visit the ENTERQUEUE line of the next
    one (-1: none); ``arrive`` / ``first_connect``, the call's first visit / answer;
    ``fseq``, the call's first line.  Also the number of calls left in a queue.

    Only narrow columns are sorted by (call, ``seq``): moving whole rows around at
    random is what costs most at ten million lines.
    """
    n = frame.height
    code = c("code")
    narrow = (
        frame.select(
            "seq",
            "code",
            key=key,
            no_queue=c("queue").is_null(),
            ok=c("why").is_null() & (code >= ENQ),
        )
        .filter("ok")
        .sort("key", "seq")
    )
    first = (c("key") != c("key").shift(1)).fill_null(True)
    last = (c("key") != c("key").shift(-1)).fill_null(True)
    enq, closer, seq = code == ENQ, code.is_in(CLOSERS), c("seq").cast(pl.Int64)
    opened = when(enq).then(seq).when(closer).then(lit(-1, pl.Int64))
    narrow = narrow.with_columns(
        first=first,
        last=last,
        vseq=when(first).then(lit(-1, pl.Int64)).otherwise(opened.shift(1)).forward_fill(),
        fseq=when(first).then(seq).forward_fill(),
    )
    # an ABANDON/EXIT… without a queue while no visit is open is a bad line: no effect
    bad_closer = code.is_in([ABANDON, TIMEOUT]) & c("no_queue") & (c("vseq") < 0)
    changes = (enq | closer) & ~bad_closer
    nxt = when(changes & enq).then(seq).when(changes).then(lit(-1, pl.Int64))
    after = when(c("last")).then(lit(-1, pl.Int64)).otherwise(nxt.shift(-1)).backward_fill()
    still_open = when(enq).then(True).when(changes).then(False).otherwise(c("vseq") >= 0)
    narrow = narrow.with_columns(
        target_seq=when((code == TIMEOUT) & ~bad_closer).then(after).otherwise(-1),
        arrive=_first_of_call(enq, c("first")),
        first_connect=_first_of_call(code == CONNECT, c("first")),
        still_open=c("last") & still_open,
    )
    idx = narrow["seq"].to_numpy()
    columns: dict[str, np.ndarray] = {}
    for name, fill in (("vseq", -1), ("target_seq", -1), ("fseq", 0)):
        columns[name] = np.full(n, fill, dtype=np.int64)
        columns[name][idx] = narrow[name].to_numpy()
    for name in ("arrive", "first_connect"):
        columns[name] = np.zeros(n, dtype=bool)
        columns[name][idx] = narrow[name].to_numpy()
    return pl.DataFrame(columns), int(narrow["still_open"].sum())


def _with_visit(frame: pl.DataFrame) -> pl.DataFrame:
    """The visit's queue, start and time so far; ``why`` for state-dependent faults."""
    is_open = c("vseq") >= 0
    visit = c("vseq").clip(lower_bound=0)
    frame = frame.with_columns(
        queue_eff=pl.coalesce(c("queue"), when(is_open).then(c("queue").gather(visit))),
        visit_t=when(is_open).then(c("t").gather(visit)),
        target=when(c("target_seq") >= 0).then(
            c("queue").gather(c("target_seq").clip(lower_bound=0))
        ),
    ).with_columns(
        since=when(c("t") >= c("visit_t")).then(c("t") - c("visit_t")).otherwise(0.0),
    )
    code = c("code")
    talk = when(c("name") == "AGENTDUMP").then(0.0).otherwise(numbers(frame["d1"]))
    return frame.with_columns(
        talk=when(code == COMPLETE).then(talk),
        why=when(c("why").is_not_null())
        .then(c("why"))
        .when(code.is_in([ABANDON, TIMEOUT]) & c("queue_eff").is_null())
        .then(lit("no_queue"))
        .when((code == COMPLETE) & talk.is_null())
        .then(lit("talk")),
    )


__all__ = ["ColumnarImport", "duplicate_mask", "import_queue_log_columnar", "read_lines"]
