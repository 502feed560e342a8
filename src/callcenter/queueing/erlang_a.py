"""Erlang A (M/M/n+M): staffing a queue whose callers hang up, plus Erlang C over arrays.

The model: calls arrive as a Poisson process (rate ``lambda``), handle times are
exponential with mean ``aht_s`` (rate ``mu``), ``n`` agents serve one first-come-first-
served queue, and every waiting caller hangs up after an exponential patience with mean
``patience_s`` (rate ``theta``) unless answered first.  Offered traffic ``A = lambda/mu``.
Unlike Erlang C the queue is stable for any ``n``, ``A >= n`` included.

Closed forms (Garnett, Mandelbaum & Reiman 2002; Mandelbaum & Zeltyn, "The M/M/n+G queue:
summary of performance measures"), with ``x = n*mu/theta``, ``y = lambda/theta`` and
``F(x, y) = 1F1(1; x+1; y)`` (Kummer's function; GMR's ``A(x, y)``):

* ``P(wait) = F / (1/B - 1 + F)``, ``B`` = Erlang B for ``n`` agents and ``A`` Erlangs;
* ``P(abandon | wait) = 1F1(2; x+2; y) / ((x+1) F)``; ``P(abandon) = P(wait) P(ab | wait)``;
* answered after more than ``t``, given a wait:
  ``x/(x+1) exp(-(n mu + theta) t + y (1 - e^{-theta t})) F(x+1, y e^{-theta t}) / F``;
* still waiting at ``t``, given a wait:
  ``exp(-(n mu + theta) t + y (1 - e^{-theta t})) F(x, y e^{-theta t}) / F``;
* mean wait of all callers ``P(abandon) * patience`` (Little's law on the abandoning);
* mean wait of answered callers: ``P(wait) patience (n/A) (-d log F / dx) / P(answered)``.

All are derived in docs/wfm-staffing.md.  Numerics: ``F`` and ``1F1(2; .)`` come from
``scipy.special.hyp1f1`` (accurate to ~1e-14 for the arguments here, checked against a
log-space series); where ``F`` overflows (``y`` far above ``x``) ``log F`` comes from the
equivalent ``x e^y y^-x gamma(x, y)`` in log space (``gammaln`` + ``gammainc``).  No
factorials and no powers are formed, so thousands of agents are fine.  ``d log F / dx``
has no library routine: it is a Richardson-extrapolated central difference of ``log F``
(relative error ~1e-9).

Erlang B (and Erlang C over arrays) live in :mod:`callcenter.queueing.erlang_arrays`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from callcenter.queueing.erlang import ErlangInputError
from callcenter.queueing.erlang_arrays import (
    BoolArray,
    FloatArray,
    IntArray,
    Targets,
    agents_array,
    broadcast,
    erlang_b_array,
    seconds_array,
    traffic_array,
)

__all__ = [
    "ErlangAArrays",
    "ErlangAResult",
    "agents_erlang_a",
    "agents_erlang_a_array",
    "erlang_a",
    "erlang_a_arrays",
]

# --------------------------------------------------------------------------- Kummer's function


def _log_kummer(x: FloatArray, y: FloatArray) -> FloatArray:
    """``log 1F1(1; x+1; y)`` for ``x, y >= 0``; where ``1F1`` overflows, the same quantity
    ``log(x e^y y^-x gamma(x, y))`` from ``gammaln`` and the regularised ``gammainc``."""
    with np.errstate(all="ignore"):
        out = np.log(special.hyp1f1(1.0, x + 1.0, y))
        big = ~np.isfinite(out)
        if big.any():
            xb, yb = x[big], y[big]
            out[big] = (
                yb - xb * np.log(yb) + special.gammaln(xb + 1.0) + np.log(special.gammainc(xb, yb))
            )
    return np.asarray(out, dtype=np.float64)


def _abandon_given_wait(x: FloatArray, y: FloatArray, log_f: FloatArray) -> FloatArray:
    """``P(abandon | wait) = 1F1(2; x+2; y) / ((x+1) 1F1(1; x+1; y))`` (a sum of positive
    terms: no cancellation).  Where ``1F1(2; .)`` overflows, ``y`` is far above ``x`` and
    the equivalent ``1 - (x/y) (1 - 1/F)`` is accurate."""
    with np.errstate(all="ignore"):
        k2 = special.hyp1f1(2.0, x + 2.0, y)
        p = np.exp(np.log(k2) - np.log1p(x) - log_f)
        big = ~np.isfinite(p)
        if big.any():
            xb, yb = x[big], y[big]
            p[big] = 1.0 - (xb / yb) * -np.expm1(-log_f[big])
    return np.asarray(np.clip(p, 0.0, 1.0), dtype=np.float64)


def _dlog_kummer_dx(x: FloatArray, y: FloatArray) -> FloatArray:
    """``d log F / dx`` by a central difference with Richardson extrapolation: no library
    differentiates 1F1 in its parameter.  Step ~ sqrt(x)/100, the scale on which log F
    bends; error ~1e-9 relative (tests/wfm/test_erlang_a.py checks it)."""
    h = np.minimum(0.01 * np.sqrt(x + 1.0), np.maximum(0.5 * x, 1e-6))

    def diff(s: FloatArray) -> FloatArray:
        return (_log_kummer(x + s, y) - _log_kummer(x - s, y)) / (2.0 * s)

    return (4.0 * diff(0.5 * h) - diff(h)) / 3.0


# --------------------------------------------------------------------------- Erlang A


@dataclass(frozen=True, slots=True)
class ErlangAArrays:
    """Erlang A measures, one element per (agents, traffic, ...) row.  Fractions are of all
    offered calls unless named otherwise; times in seconds."""

    prob_wait: FloatArray
    """P(wait > 0): the caller finds every agent busy."""
    prob_abandon: FloatArray
    """P(abandon): hangs up before being answered."""
    prob_abandon_given_wait: FloatArray
    service_level: FloatArray
    """Answered within T, as a share of ALL offered calls (abandons count against it)."""
    abandon_within: FloatArray
    """Abandoned within T (a 'short' abandon when T is the short-abandon threshold)."""
    wait_within: FloatArray
    """P(wait <= T): answered or abandoned within T (abandons before T count as met)."""
    asa_s: FloatArray
    """Mean wait of answered calls (average speed of answer); NaN when none is answered."""
    mean_wait_s: FloatArray
    """Mean wait of all calls, abandoned ones up to the moment they hang up."""
    occupancy: FloatArray
    """Carried traffic per agent, ``A (1 - P(abandon)) / n``."""


def _metrics(
    n: IntArray,
    a: FloatArray,
    aht: FloatArray,
    patience: FloatArray,
    t: FloatArray,
    *,
    need_asa: bool = True,
) -> ErlangAArrays:
    """Erlang A for validated, equally shaped 1-D arrays."""
    nf = n.astype(np.float64)
    ratio = patience / aht
    x, y = nf * ratio, a * ratio
    log_f = _log_kummer(x, y)
    b = erlang_b_array(n, a)
    with np.errstate(all="ignore"):
        wait = 1.0 / (1.0 + (1.0 - b) / b * np.exp(-log_f))
        wait = np.where(a == 0.0, 0.0, np.where(n == 0, 1.0, wait))
        ab_w = _abandon_given_wait(x, y, log_f)
        decay = -(nf / aht + 1.0 / patience) * t - y * np.expm1(-t / patience)
        ya = y * np.exp(-t / patience)
        late_ans = x / (x + 1.0) * np.exp(decay + _log_kummer(x + 1.0, ya) - log_f)
        still = np.exp(decay + _log_kummer(x, ya) - log_f)
        ans_within_w = np.clip(1.0 - ab_w - late_ans, 0.0, 1.0)
        ab_within_w = np.clip(1.0 - still - ans_within_w, 0.0, 1.0)
        p_ab = wait * ab_w
        occupancy = np.where(n > 0, a * (1.0 - p_ab) / np.maximum(nf, 1.0), 1.0)
        if need_asa:
            per_waiter = patience * (nf / a) * -_dlog_kummer_dx(x, y)
            asa = wait * per_waiter / (1.0 - p_ab)
            asa = np.where(n == 0, np.nan, np.where(wait == 0.0, 0.0, asa))
        else:
            asa = np.full_like(a, np.nan)
    no_calls = a == 0.0
    return ErlangAArrays(
        prob_wait=wait,
        prob_abandon=p_ab,
        prob_abandon_given_wait=ab_w,
        service_level=np.where(no_calls, 1.0, 1.0 - wait + wait * ans_within_w),
        abandon_within=np.where(no_calls, 0.0, wait * ab_within_w),
        wait_within=np.where(no_calls, 1.0, 1.0 - wait * still),
        asa_s=np.where(no_calls, 0.0, asa),
        mean_wait_s=np.where(no_calls, 0.0, p_ab * patience),
        occupancy=np.where(no_calls, 0.0, np.minimum(occupancy, 1.0)),
    )


def erlang_a_arrays(
    agents: ArrayLike,
    traffic: ArrayLike,
    aht_s: ArrayLike,
    patience_s: ArrayLike,
    target_time_s: ArrayLike = 20.0,
) -> ErlangAArrays:
    """Erlang A measures for arrays (broadcast together, flattened to 1-D)."""
    n, a, h, p, t = broadcast(
        agents_array(agents),
        traffic_array(traffic),
        seconds_array("--aht", aht_s),
        seconds_array("--patience", patience_s),
        seconds_array("--target-time", target_time_s),
    )
    return _metrics(n.astype(np.int64), a, h, p, t)


@dataclass(frozen=True, slots=True)
class ErlangAResult:
    """Erlang A for one staffing level; fractions of all offered calls, times in seconds."""

    agents: int
    traffic: float
    aht_s: float
    patience_s: float
    target_time_s: float
    prob_wait: float
    prob_abandon: float
    prob_abandon_given_wait: float
    service_level: float
    abandon_within: float
    wait_within: float
    asa_s: float
    mean_wait_s: float
    occupancy: float

    @property
    def service_level_excl_abandons(self) -> float:
        """Answered within T / (offered - abandoned within T): abandons before T left out."""
        rest = 1.0 - self.abandon_within
        return self.service_level / rest if rest > 0 else 0.0


def erlang_a(
    agents: int,
    traffic: float,
    aht_s: float,
    patience_s: float,
    target_time_s: float = 20.0,
) -> ErlangAResult:
    """How ``agents`` agents perform under Erlang A (``traffic`` in Erlangs, times in s)."""
    m = erlang_a_arrays(np.asarray([agents]), traffic, aht_s, patience_s, target_time_s)
    measures = {f.name: float(getattr(m, f.name)[0]) for f in fields(ErlangAArrays)}
    return ErlangAResult(
        agents=int(agents),
        traffic=float(traffic),
        aht_s=float(aht_s),
        patience_s=float(patience_s),
        target_time_s=float(target_time_s),
        **measures,
    )


# --------------------------------------------------------------------------- solving


def _smallest(
    ok: Callable[[IntArray, IntArray], BoolArray], lo: IntArray, ceiling: int
) -> IntArray:
    """Per row, the smallest ``n >= lo`` with ``ok(n)``, for ``ok`` monotone in ``n``
    (``ok(n_values, row_indices)``): gallop up from ``lo``, then bisect.  O(log n) rounds,
    each evaluating only the rows still open."""
    rows = np.arange(lo.size)
    good = ok(lo, rows)
    hi, bad = lo.copy(), np.where(good, lo - 1, lo)
    step = np.maximum(1, np.sqrt(lo).astype(np.int64))
    todo = rows[~good]
    while todo.size:
        probe = bad[todo] + step[todo]
        if int(probe.max()) > ceiling:  # cannot happen for targets in range; never loop on
            raise ErlangInputError(f"no staffing up to {ceiling} agents meets the targets")
        g = ok(probe, todo)
        hi[todo[g]] = probe[g]
        bad[todo[~g]] = probe[~g]
        step[todo[~g]] *= 2
        todo = todo[~g]
    todo = rows[hi - bad > 1]
    while todo.size:
        mid = (bad[todo] + hi[todo]) // 2
        g = ok(mid, todo)
        hi[todo[g]] = mid[g]
        bad[todo[~g]] = mid[~g]
        todo = todo[hi[todo] - bad[todo] > 1]
    return hi


def agents_erlang_a_array(
    traffic: ArrayLike,
    aht_s: ArrayLike,
    patience_s: ArrayLike,
    *,
    target_sl: float | None = None,
    target_time_s: float = 20.0,
    target_asa_s: float | None = None,
    max_abandon: float | None = None,
    max_occupancy: float | None = None,
) -> IntArray:
    """Per row, the fewest agents meeting every target given, under Erlang A.

    Targets: ``target_sl`` of ALL offered calls answered within ``target_time_s``; mean
    wait of answered calls <= ``target_asa_s``; P(abandon) <= ``max_abandon``; occupancy
    <= ``max_occupancy``.  Each measure is monotone in the number of agents, so the
    search (gallop + bisection) returns the smallest sufficient staffing.  It starts at a
    lower bound: answered calls per agent cannot exceed the handle rate, so the share
    answered is at most ``n/A``; an SL of ``s`` needs ``n >= s A`` and an abandon rate of
    ``p`` needs ``n >= (1 - p) A``.  No traffic needs no agents.
    """
    goal = Targets.checked(target_sl, target_time_s, target_asa_s, max_abandon, max_occupancy)
    a, h, p = broadcast(
        traffic_array(traffic),
        seconds_array("--aht", aht_s),
        seconds_array("--patience", patience_s),
    )
    out = np.zeros(a.size, dtype=np.int64)
    busy = np.flatnonzero(a > 0.0)
    if busy.size == 0:
        return out
    a, h, p = a[busy], h[busy], p[busy]
    t = np.full_like(a, goal.time_s)
    lo = np.ones(a.size, dtype=np.int64)
    if goal.sl is not None:
        lo = np.maximum(lo, np.floor(goal.sl * a).astype(np.int64))
    if goal.abandon is not None:
        lo = np.maximum(lo, np.floor((1.0 - goal.abandon) * a).astype(np.int64))

    def ok(n: IntArray, i: IntArray) -> BoolArray:
        m = _metrics(n, a[i], h[i], p[i], t[i], need_asa=goal.asa_s is not None)
        good = np.ones(n.size, dtype=np.bool_)
        if goal.sl is not None:
            good &= m.service_level >= goal.sl
        if goal.asa_s is not None:
            good &= m.asa_s <= goal.asa_s  # NaN (nobody answered) fails
        if goal.abandon is not None:
            good &= m.prob_abandon <= goal.abandon
        if goal.occupancy is not None:
            good &= m.occupancy <= goal.occupancy
        return good

    out[busy] = _smallest(ok, lo, ceiling=int(20 * a.max()) + 10_000)
    return out


def agents_erlang_a(
    traffic: float,
    aht_s: float,
    patience_s: float,
    *,
    target_sl: float | None = None,
    target_time_s: float = 20.0,
    target_asa_s: float | None = None,
    max_abandon: float | None = None,
    max_occupancy: float | None = None,
) -> int:
    """The fewest agents meeting every target given, under Erlang A (see
    :func:`agents_erlang_a_array`)."""
    n = agents_erlang_a_array(
        [traffic],
        aht_s,
        patience_s,
        target_sl=target_sl,
        target_time_s=target_time_s,
        target_asa_s=target_asa_s,
        max_abandon=max_abandon,
        max_occupancy=max_occupancy,
    )
    return int(n[0])
