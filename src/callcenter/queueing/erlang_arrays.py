"""Erlang B and Erlang C over numpy arrays: many queues or intervals in one call.

The scalar functions of :mod:`callcenter.queueing.erlang` answer one queue at a time;
a staffing table has thousands of rows.  Here the same formulas run on whole arrays.
:func:`agents_erlang_c_array` uses exactly the arithmetic of the scalar solver (the same
Erlang B recursion, the same expressions in the same order), so it returns the same
agents as ``agents_for_service_level`` / ``agents_for_asa`` row for row -- the tests
check that on a grid -- while doing one vector step per agent instead of one Python step
per agent per row.  :func:`erlang_b_array` is the closed form used by Erlang A at any
``n`` without walking the recursion: ``pmf/cdf`` of a Poisson(A) variable at ``n``, in
log space (``scipy.special.gammaln``, ``gammaincc``), falling back to the recursion where
the cdf underflows (A far above n).

Bad inputs raise :class:`~callcenter.queueing.erlang.ErlangInputError` with one line:
``--aht: -3 is not valid; expected a positive number of seconds``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from callcenter.queueing.erlang import MAX_TRAFFIC, ErlangInputError

__all__ = [
    "ErlangCArrays",
    "Targets",
    "agents_array",
    "agents_erlang_c_array",
    "bad_input",
    "broadcast",
    "erlang_b_array",
    "erlang_c_arrays",
    "erlang_c_staffing",
    "seconds_array",
    "traffic_array",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Where the Poisson cdf in the closed-form Erlang B is below this, use the recursion.
_CDF_FLOOR = 1e-280


# --------------------------------------------------------------------------- validation


def bad_input(name: str, value: object, expected: str) -> ErlangInputError:
    """``--aht: -3 is not valid; expected a positive number of seconds``."""
    shown = format(value, ".12g") if isinstance(value, float) else str(value)
    return ErlangInputError(f"{name}: {shown} is not valid; expected {expected}")


def _floats(name: str, value: ArrayLike, expected: str, strict: bool) -> FloatArray:
    arr = np.asarray(value, dtype=np.float64)
    ok = np.isfinite(arr) & ((arr > 0.0) if strict else (arr >= 0.0))
    if not ok.all():
        raise bad_input(name, arr.flat[int(np.argmin(ok.ravel()))].item(), expected)
    return arr


def seconds_array(name: str, value: ArrayLike) -> FloatArray:
    """``value`` as floats, each a positive, finite number of seconds."""
    return _floats(name, value, "a positive number of seconds", True)


def traffic_array(value: ArrayLike) -> FloatArray:
    """``value`` as floats, each a number of Erlangs in [0, MAX_TRAFFIC]."""
    arr = _floats("traffic", value, "a number of Erlangs >= 0", False)
    if (arr > MAX_TRAFFIC).any():
        raise bad_input("traffic", float(arr.max()), f"at most {MAX_TRAFFIC:.0f} Erlangs")
    return arr


def agents_array(value: ArrayLike) -> IntArray:
    """``value`` as int64, each a whole number of agents >= 0."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu" or (arr < 0).any():
        bad = arr.flat[0] if arr.dtype.kind not in "iu" else arr[arr < 0].flat[0]
        raise bad_input("--agents", bad, "a whole number of agents >= 0")
    return arr.astype(np.int64)


def broadcast(*arrays: FloatArray | IntArray) -> list[FloatArray]:
    """The arrays broadcast together and flattened to 1-D."""
    return [np.ravel(x) for x in np.broadcast_arrays(*arrays)]


def _fraction(name: str, value: float | None, *, closed: bool = False) -> float | None:
    if value is None:
        return None
    v = float(value)
    if not (math.isfinite(v) and v > 0 and (v <= 1 if closed else v < 1)):
        top = "1 inclusive" if closed else "1 exclusive"
        raise bad_input(name, value, f"a fraction between 0 exclusive and {top} (0.8 means 80%)")
    return v


@dataclass(frozen=True, slots=True)
class Targets:
    """Checked staffing targets (None: not a target); see :meth:`checked`."""

    sl: float | None
    time_s: float
    asa_s: float | None
    abandon: float | None
    occupancy: float | None

    @classmethod
    def checked(
        cls,
        target_sl: float | None,
        target_time_s: float,
        target_asa_s: float | None,
        max_abandon: float | None,
        max_occupancy: float | None,
    ) -> Targets:
        """``target_sl`` of calls answered within ``target_time_s`` seconds, mean wait of
        answered calls <= ``target_asa_s``, share abandoning <= ``max_abandon``,
        occupancy <= ``max_occupancy``; at least one must be given."""
        t = float(seconds_array("--target-time", target_time_s))
        asa = None if target_asa_s is None else float(seconds_array("--target-asa", target_asa_s))
        out = cls(
            sl=_fraction("--target-sl", target_sl),
            time_s=t,
            asa_s=asa,
            abandon=_fraction("--max-abandon", max_abandon),
            occupancy=_fraction("--max-occupancy", max_occupancy, closed=True),
        )
        if out.sl is None and out.asa_s is None and out.abandon is None and out.occupancy is None:
            raise ErlangInputError(
                "no target given; expected at least one of --target-sl, --target-asa, "
                "--max-abandon, --max-occupancy"
            )
        return out


# --------------------------------------------------------------------------- Erlang B


def _erlang_b_recursion(
    n: IntArray, a: FloatArray, b0: FloatArray | None = None, n0: IntArray | None = None
) -> FloatArray:
    """B(0) = 1, B(k) = A B(k-1) / (k + A B(k-1)): the recursion of queueing.erlang, per row
    up to its own ``n`` -- the same operations in the same order, so the same bits.  With
    ``b0`` = B(``n0``) given, it continues from there instead of from B(0) = 1.

    Rows are sorted by the steps they need, so step j touches only the rows still going
    (a prefix): the work is the total number of steps, not rows x the longest."""
    start = np.zeros_like(n) if n0 is None else n0
    steps = np.maximum(n - start, 0)
    order = np.argsort(-steps, kind="stable")
    s, k0, a_s = steps[order], start[order].astype(np.float64), a[order]
    b = np.ones_like(a_s) if b0 is None else b0[order].astype(np.float64)
    top = int(s[0]) if s.size else 0
    going = np.searchsorted(-s, -np.arange(1, top + 1), side="right")  # rows with s >= j
    for j in range(1, top + 1):
        m = int(going[j - 1])
        ab = a_s[:m] * b[:m]
        b[:m] = ab / ((k0[:m] + j) + ab)
    out = np.empty_like(b)
    out[order] = b
    return out


def erlang_b_array(agents: ArrayLike, traffic: ArrayLike) -> FloatArray:
    """Erlang B for arrays: the probability that all ``agents`` are busy with no queue.

    ``pmf(n) / cdf(n)`` of a Poisson(A) variable, in log space (``gammaln``,
    ``gammaincc``); rows whose cdf underflows (A far above n) use the recursion.
    """
    n, a = np.broadcast_arrays(agents_array(agents), traffic_array(traffic))
    n, a = n.astype(np.int64), a.astype(np.float64)
    nf = n.astype(np.float64)
    with np.errstate(all="ignore"):
        cdf = special.gammaincc(nf + 1.0, a)
        log_b = nf * np.log(a) - a - special.gammaln(nf + 1.0) - np.log(cdf)
        b = np.exp(np.minimum(log_b, 0.0))
    b = np.where(a == 0.0, np.where(n == 0, 1.0, 0.0), b)
    slow = (a > 0.0) & ~(cdf > _CDF_FLOOR)
    if slow.any():
        b[slow] = _erlang_b_recursion(n[slow], a[slow])
    return np.asarray(b, dtype=np.float64)


# --------------------------------------------------------------------------- Erlang C, arrays


@dataclass(frozen=True, slots=True)
class ErlangCArrays:
    """Erlang C measures per row (the expressions of queueing.erlang, over arrays)."""

    prob_wait: FloatArray
    service_level: FloatArray
    asa_s: FloatArray
    """Mean wait of all calls (every call is answered); inf when unstable."""
    occupancy: FloatArray


def _c_from_b(n: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    with np.errstate(all="ignore"):
        c = np.clip(n * b / (n - a * (1.0 - b)), 0.0, 1.0)
    return np.where(a == 0.0, 0.0, np.where(n <= a, 1.0, c))


def _sl_from_c(
    n: FloatArray, a: FloatArray, c: FloatArray, h: FloatArray, t: FloatArray
) -> FloatArray:
    with np.errstate(all="ignore"):
        sl = np.clip(1.0 - c * np.exp(-(n - a) * t / h), 0.0, 1.0)
    return np.where(a == 0.0, 1.0, np.where(n <= a, 0.0, sl))


def _asa_from_c(n: FloatArray, a: FloatArray, c: FloatArray, h: FloatArray) -> FloatArray:
    with np.errstate(all="ignore"):
        w = c * h / (n - a)
    return np.where(a == 0.0, 0.0, np.where(n <= a, np.inf, w))


def _measures(
    n: IntArray, a: FloatArray, h: FloatArray, t: FloatArray, b: FloatArray
) -> ErlangCArrays:
    nf = n.astype(np.float64)
    c = _c_from_b(nf, a, b)
    with np.errstate(all="ignore"):
        occ = np.where(n == 0, np.where(a == 0.0, 0.0, 1.0), np.minimum(1.0, a / nf))
    return ErlangCArrays(
        prob_wait=c,
        service_level=_sl_from_c(nf, a, c, h, t),
        asa_s=_asa_from_c(nf, a, c, h),
        occupancy=occ,
    )


def erlang_c_arrays(
    agents: ArrayLike, traffic: ArrayLike, aht_s: ArrayLike, target_time_s: ArrayLike = 20.0
) -> ErlangCArrays:
    """Erlang C measures for arrays (broadcast together, flattened to 1-D)."""
    n, a, h, t = broadcast(
        agents_array(agents),
        traffic_array(traffic),
        seconds_array("--aht", aht_s),
        seconds_array("--target-time", target_time_s),
    )
    ni = n.astype(np.int64)
    return _measures(ni, a, h, t, _erlang_b_recursion(ni, a))


def _agents_for_occupancy(a: FloatArray, cap: float) -> IntArray:
    """Fewest agents with ``A / n <= cap`` (at least 1), undoing float rounding in A/cap."""
    n = np.maximum(1, np.ceil(a / cap)).astype(np.int64)
    with np.errstate(all="ignore"):
        n = np.where((n > 1) & (a / (n - 1) <= cap), n - 1, n)
        return np.where(a / n > cap, n + 1, n)


def _solve_erlang_c(a: FloatArray, h: FloatArray, goal: Targets) -> tuple[IntArray, FloatArray]:
    """(agents, Erlang B at those agents) per row: the search of
    :func:`callcenter.queueing.erlang.agents_for_service_level` on all rows at once."""
    n = np.where(a > 0.0, np.floor(a) + 1.0, 0.0).astype(np.int64)
    b = _erlang_b_recursion(n, a)
    if goal.sl is not None or goal.asa_s is not None:
        todo = np.flatnonzero(a > 0.0)
        while todo.size:
            nt, at, ht, bt = n[todo].astype(np.float64), a[todo], h[todo], b[todo]
            c = _c_from_b(nt, at, bt)
            good = np.ones(todo.size, dtype=np.bool_)
            if goal.sl is not None:
                good &= _sl_from_c(nt, at, c, ht, np.full_like(at, goal.time_s)) >= goal.sl
            if goal.asa_s is not None:
                good &= _asa_from_c(nt, at, c, ht) <= goal.asa_s
            todo = todo[~good]
            n[todo] += 1
            ab = a[todo] * b[todo]
            b[todo] = np.where(b[todo] == 0.0, 0.0, ab / (n[todo] + ab))
    if goal.occupancy is not None:
        more = np.where(a > 0.0, np.maximum(n, _agents_for_occupancy(a, goal.occupancy)), n)
        b = _erlang_b_recursion(more, a, b, n)
        n = more
    return n, b


def agents_erlang_c_array(
    traffic: ArrayLike,
    aht_s: ArrayLike,
    *,
    target_sl: float | None = None,
    target_time_s: float = 20.0,
    target_asa_s: float | None = None,
    max_occupancy: float | None = None,
) -> IntArray:
    """Per row, the fewest agents meeting every target given, under Erlang C.

    The search of :func:`callcenter.queueing.erlang.agents_for_service_level`, run on all
    rows at once: start at ``floor(A) + 1``, advance the Erlang B recursion one agent at a
    time for the rows not yet meeting the targets.  Work: O(max A) vector steps.
    """
    return erlang_c_staffing(
        traffic,
        aht_s,
        target_sl=target_sl,
        target_time_s=target_time_s,
        target_asa_s=target_asa_s,
        max_occupancy=max_occupancy,
    )[0]


def erlang_c_staffing(
    traffic: ArrayLike,
    aht_s: ArrayLike,
    *,
    target_sl: float | None = None,
    target_time_s: float = 20.0,
    target_asa_s: float | None = None,
    max_occupancy: float | None = None,
) -> tuple[IntArray, ErlangCArrays]:
    """:func:`agents_erlang_c_array` and the Erlang C measures at those agents (with the
    service level at ``target_time_s``), sharing one Erlang B recursion."""
    goal = Targets.checked(target_sl, target_time_s, target_asa_s, None, max_occupancy)
    a, h = broadcast(traffic_array(traffic), seconds_array("--aht", aht_s))
    n, b = _solve_erlang_c(a, h, goal)
    return n, _measures(n, a, h, np.full_like(a, goal.time_s), b)
