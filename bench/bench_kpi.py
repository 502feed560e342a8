"""Benchmark of the KPI engine on a synthetic 10-million-event log (MISSION M14).

    .venv/bin/python bench/bench_kpi.py                 # 10 M events in a temp folder
    .venv/bin/python bench/bench_kpi.py --events 2e6    # smaller
    .venv/bin/python bench/bench_kpi.py --log big.jsonl # keep / reuse the log file

It generates a valid event log (header line first, every line a valid event) with
vectorised numpy + polars, then times, from the file, the full report the CLI can
produce — by interval, by queue and by agent — and prints events/s, seconds and peak
RSS.  In the same run it measures a named baseline, ``plain-python``: orjson
line-by-line with dict accumulation, computing only per-queue offered / answered /
abandoned / service level.  The baseline runs on a prefix of the file (1 M events by
default) and its time is extrapolated linearly to the whole file; the output says so.

Target: 10 M events -> full report in < 10 s and < 4 GiB peak RSS.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import orjson
import polars as pl

from callcenter.storage.eventlog import jsonl_to_parquet

T0 = 1_704_067_200.0  # 2024-01-01 00:00 UTC
N_AGENTS = 1000
N_QUEUES = 20
EVENTS_PER_LEG = 9.15  # average events the generator writes per answered contact


# --------------------------------------------------------------------------------------
# synthetic log
# --------------------------------------------------------------------------------------
def _ids(prefix: str, idx: np.ndarray, width: int) -> pl.Series:
    digits = pl.Series("x", idx, dtype=pl.Int64).cast(pl.String).str.zfill(width)
    return pl.select(pl.concat_str(pl.lit(prefix), digits)).to_series()


class _Lines:
    """Collects (t, JSON line) frames per event type; fields are written only when set."""

    def __init__(self) -> None:
        self.frames: list[pl.DataFrame] = []

    def add(self, t: np.ndarray, etype: str, **fields: object) -> None:
        t = np.round(t, 3)
        cols: dict[str, object] = {"t": t}
        parts: list[pl.Expr] = [
            pl.lit('{"t":'),
            pl.col("t").cast(pl.String),
            pl.lit(f',"type":"{etype}"'),
        ]
        for name, values in fields.items():
            if isinstance(values, str):
                parts.append(pl.lit(f',"{name}":"{values}"'))
            elif isinstance(values, pl.Series):
                cols[name] = values
                parts += [pl.lit(f',"{name}":"'), pl.col(name), pl.lit('"')]
            else:
                arr = np.asarray(values, dtype=np.float64)
                cols[name] = np.round(np.maximum(arr, 0.0), 3)
                parts += [pl.lit(f',"{name}":'), pl.col(name).cast(pl.String)]
        parts.append(pl.lit("}"))
        frame = pl.DataFrame(cols).select("t", pl.concat_str(parts).alias("line"))
        self.frames.append(frame)


def generate_log(path: Path, n_events: int, seed: int = 1) -> int:
    """Write a valid synthetic log of about ``n_events`` events; return the exact count."""
    rng = np.random.default_rng(seed)
    n_agents = N_AGENTS
    m = max(1, round(n_events / EVENTS_PER_LEG / n_agents))  # answered legs per agent
    n_legs = n_agents * m
    out = _Lines()

    # --- agents: one continuous shift each, legs back to back, a pause every ~25 legs
    start = T0 + rng.uniform(0, 3600, n_agents)
    gap = rng.exponential(30.0, (n_agents, m)) + 1.0
    rna = rng.random((n_agents, m)) < 0.05  # an unanswered offer first
    ring = rng.uniform(2.0, 10.0, (n_agents, m))
    talk = rng.exponential(220.0, (n_agents, m)) + 10.0
    has_hold = rng.random((n_agents, m)) < 0.2
    hold = np.where(has_hold, rng.exponential(40.0, (n_agents, m)) + 1.0, 0.0)
    acw = rng.exponential(45.0, (n_agents, m)) + 1.0
    pause = rng.random((n_agents, m)) < 0.04
    pause_len = np.where(pause, rng.uniform(300.0, 900.0, (n_agents, m)), 0.0)
    dur = gap + np.where(rna, 20.0, 0.0) + ring + talk + hold + acw + pause_len + 2.0
    leg_start = start[:, None] + np.cumsum(dur, axis=1) - dur
    agent_idx = np.repeat(np.arange(n_agents), m)
    agent_ids = _ids("a", np.arange(n_agents), 4)
    agent_of_leg = agent_ids.gather(agent_idx)

    def flat(a: np.ndarray) -> np.ndarray:
        return a.reshape(-1)

    gap, rna, ring, talk, hold, acw = map(flat, (gap, rna, ring, talk, hold, acw))
    has_hold, pause, pause_len, leg_start = map(flat, (has_hold, pause, pause_len, leg_start))
    t_offer = leg_start + gap + np.where(rna, 20.0, 0.0)
    t_connect = t_offer + ring
    t_end = t_connect + talk + hold
    t_wrap = t_end + acw
    end_of_shift = t_wrap.reshape(n_agents, m)[:, -1] + pause_len.reshape(n_agents, m)[:, -1]

    out.add(start - 1.0, "agent_login", agent=agent_ids)
    out.add(end_of_shift + 60.0, "agent_logout", agent=agent_ids)
    p = np.flatnonzero(pause)
    reasons = pl.Series("r", ["break", "lunch", "training"]).gather(rng.integers(0, 3, p.size))
    out.add(
        t_wrap[p] + 1.0, "agent_state", agent=agent_of_leg.gather(p), state="paused", reason=reasons
    )
    out.add(
        t_wrap[p] + 1.0 + pause_len[p],
        "agent_state",
        agent=agent_of_leg.gather(p),
        state="available",
    )

    # --- contacts: answered legs, then abandons, overflow timeouts, callback requests
    n_ab, n_to, n_cb = int(0.07 * n_legs), int(0.01 * n_legs), int(0.01 * n_legs)
    n_contacts = n_legs + n_ab + n_to + n_cb
    contact_ids = _ids("c", rng.permutation(n_contacts), 8)
    qw = rng.dirichlet(np.ones(N_QUEUES) * 2.0)
    queue_ids = _ids("q", np.arange(N_QUEUES), 2)
    queue_idx = rng.choice(N_QUEUES, n_contacts, p=qw)
    queue_of = queue_ids.gather(queue_idx)
    other_q = queue_ids.gather((queue_idx + rng.integers(1, N_QUEUES, n_contacts)) % N_QUEUES)

    legs = np.arange(n_legs)
    c, q = contact_ids.gather(legs), queue_of.gather(legs)
    first_offer = t_offer - np.where(rna, 20.0, 0.0)
    t_enq = first_offer - np.minimum(rng.exponential(15.0, n_legs), 600.0)
    ivr = rng.uniform(10.0, 60.0, n_legs)
    out.add(t_enq - ivr - 1.0, "arrive", contact=c, channel="voice", queue=q)
    out.add(t_enq - ivr, "ivr_enter", contact=c, queue=q)
    out.add(t_enq, "ivr_leave", contact=c, queue=q, reason="agent")
    out.add(t_enq, "enqueue", contact=c, queue=q)
    r = np.flatnonzero(rna)
    out.add(
        first_offer[r],
        "offer",
        contact=c.gather(r),
        queue=q.gather(r),
        agent=agent_of_leg.gather(r),
        wait=first_offer[r] - t_enq[r],
    )
    out.add(
        first_offer[r] + 15.0,
        "ring_noanswer",
        contact=c.gather(r),
        queue=q.gather(r),
        agent=agent_of_leg.gather(r),
        ring=np.full(r.size, 15.0),
        wait=first_offer[r] + 15.0 - t_enq[r],
    )
    out.add(t_offer, "offer", contact=c, queue=q, agent=agent_of_leg, wait=t_offer - t_enq)
    out.add(
        t_connect,
        "connect",
        contact=c,
        queue=q,
        agent=agent_of_leg,
        wait=t_connect - t_enq,
        ring=ring,
    )
    h = np.flatnonzero(has_hold)
    t_hold = t_connect[h] + talk[h] / 2.0
    out.add(t_hold, "hold", contact=c.gather(h), queue=q.gather(h), agent=agent_of_leg.gather(h))
    out.add(
        t_hold + hold[h],
        "unhold",
        contact=c.gather(h),
        queue=q.gather(h),
        agent=agent_of_leg.gather(h),
        hold=hold[h],
    )
    is_tr = rng.random(n_legs) < 0.05
    tr, co = np.flatnonzero(is_tr), np.flatnonzero(~is_tr)
    out.add(
        t_end[co],
        "complete",
        contact=c.gather(co),
        queue=q.gather(co),
        agent=agent_of_leg.gather(co),
        by="caller",
        talk=talk[co],
        hold=hold[co],
    )
    tq = other_q.gather(tr)
    out.add(
        t_end[tr],
        "transfer",
        contact=c.gather(tr),
        queue=q.gather(tr),
        agent=agent_of_leg.gather(tr),
        target=tq,
        target_type="queue",
        kind="blind",
        talk=talk[tr],
        hold=hold[tr],
    )
    out.add(t_end[tr] + 1.0, "enqueue", contact=c.gather(tr), queue=tq)
    w = rng.exponential(30.0, tr.size) + 0.5
    out.add(t_end[tr] + 1.0 + w, "abandon", contact=c.gather(tr), queue=tq, wait=w)
    out.add(t_wrap, "wrapup_end", contact=c, queue=q, agent=agent_of_leg, acw=acw)

    t_last = float(t_wrap.max())
    others = np.arange(n_legs, n_contacts)
    c, q = contact_ids.gather(others), queue_of.gather(others)
    t_enq = rng.uniform(T0 + 600.0, t_last, others.size)
    out.add(t_enq - 31.0, "arrive", contact=c, channel="voice", queue=q)
    out.add(t_enq - 30.0, "ivr_enter", contact=c, queue=q)
    out.add(t_enq, "ivr_leave", contact=c, queue=q, reason="agent")
    out.add(t_enq, "enqueue", contact=c, queue=q)
    a = np.arange(n_ab)
    w = rng.exponential(40.0, n_ab)
    out.add(t_enq[a] + w, "abandon", contact=c.gather(a), queue=q.gather(a), wait=w)
    o = np.arange(n_ab, n_ab + n_to)
    oq = other_q.gather(others[o])
    out.add(
        t_enq[o] + 120.0,
        "timeout",
        contact=c.gather(o),
        queue=q.gather(o),
        wait=np.full(o.size, 120.0),
        target=oq,
        target_type="queue",
    )
    out.add(t_enq[o] + 120.5, "enqueue", contact=c.gather(o), queue=oq)
    w = rng.exponential(30.0, o.size)
    out.add(t_enq[o] + 120.5 + w, "abandon", contact=c.gather(o), queue=oq, wait=w)
    b = np.arange(n_ab + n_to, n_contacts - n_legs)
    w = rng.exponential(60.0, b.size)
    out.add(t_enq[b] + w, "callback_request", contact=c.gather(b), queue=q.gather(b), wait=w)

    frame = pl.concat(out.frames, rechunk=False).sort("t", maintain_order=True).head(n_events)
    out.frames.clear()
    header = (
        f'{{"t":{frame["t"].min()},"type":"header","schema":"callcenter.events",'
        '"version":1,"source":"bench"}'
    )
    with open(path, "wb") as fh:
        fh.write(header.encode() + b"\n")
        frame.select("line").write_csv(fh, include_header=False, quote_style="never")
    return frame.height


# --------------------------------------------------------------------------------------
# the measured run (in a child process, so its peak RSS is its own)
# --------------------------------------------------------------------------------------
def _measure_report(path: Path) -> dict[str, float]:
    from callcenter.kpi import Breakdown, KpiSettings, compute_reports

    t0 = time.perf_counter()
    reports = compute_reports(
        path, KpiSettings(interval_s=1800), (Breakdown.INTERVAL, Breakdown.QUEUE, Breakdown.AGENT)
    )
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    total = reports[Breakdown.QUEUE].total
    assert total.visits is not None
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "events": reports[Breakdown.QUEUE].period.events,
        "rows": sum(len(r.rows) for r in reports.values()),
        "offered": total.visits.offered,
        "service_level": total.visits.service_level or 0.0,
    }


_TERMINAL = {"connect", "abandon", "timeout", "callback_request"}


def baseline_plain_python(path: Path, max_events: int) -> dict[str, object]:
    """``plain-python``: orjson line by line, dicts of counters; per-queue offered /
    answered / abandoned / service level (offered definition, 20 s) on the first
    ``max_events`` events."""
    offered: dict[str, int] = defaultdict(int)
    answered: dict[str, int] = defaultdict(int)
    abandoned: dict[str, int] = defaultdict(int)
    timed_out: dict[str, int] = defaultdict(int)
    within: dict[str, int] = defaultdict(int)
    waiting: dict[str, str] = {}
    n = 0
    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        next(fh)  # header
        for line in fh:
            if n >= max_events:
                break
            n += 1
            e = orjson.loads(line)
            typ = e["type"]
            if typ == "enqueue":
                waiting[e["contact"]] = e["queue"]
                offered[e["queue"]] += 1
            elif typ in _TERMINAL:
                q = waiting.pop(e["contact"], None)
                if q is None:
                    continue
                if typ == "connect":
                    answered[q] += 1
                    within[q] += e["wait"] <= 20.0
                elif typ == "abandon":
                    abandoned[q] += 1
                elif typ == "timeout":
                    timed_out[q] += 1
    sl = {
        q: within[q] / d if (d := answered[q] + abandoned[q] + timed_out[q]) else None
        for q in offered
    }
    return {"seconds": time.perf_counter() - t0, "events": n, "queues": len(sl)}


def _count_events(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(buf.count(b"\n") for buf in iter(lambda: fh.read(1 << 24), b"")) - 1


def _measure_in_child(path: Path) -> dict[str, float] | None:
    """Run :func:`_measure_report` in a fresh process (so its peak RSS is its own)."""
    child = subprocess.run(
        [sys.executable, __file__, "--measure", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        sys.stderr.write(child.stderr)
        return None
    result: dict[str, float] = orjson.loads(child.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=float, default=1e7, help="events to generate")
    parser.add_argument("--log", type=Path, help="log file to use (generated if missing)")
    parser.add_argument(
        "--baseline-events", type=float, default=1e6, help="prefix the baseline reads"
    )
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure is not None:  # the child process
        sys.stdout.write(orjson.dumps(_measure_report(args.measure)).decode() + "\n")
        return 0

    with tempfile.TemporaryDirectory(prefix="bench_kpi_") as tmp:
        path = args.log or Path(tmp) / "events.jsonl"
        if not path.exists():
            t0 = time.perf_counter()
            n = generate_log(path, int(args.events))
            print(f"generated {n:,} events in {time.perf_counter() - t0:.1f} s -> {path} "
                  f"({path.stat().st_size / 2**20:,.0f} MiB)")  # fmt: skip
        gc.collect()
        m = _measure_in_child(path)
        if m is None:
            return 1
        pq = Path(tmp) / "events.parquet"
        t0 = time.perf_counter()
        jsonl_to_parquet(path, pq)
        t_convert = time.perf_counter() - t0
        mp = _measure_in_child(pq)
        if mp is None:
            return 1
        n_events = int(m["events"])
        base = baseline_plain_python(path, int(args.baseline_events))
        base_n = int(str(base["events"]))
        base_s = float(str(base["seconds"]))
        base_full = base_s * n_events / base_n
        ok_time, ok_mem = m["seconds"] < 10.0, m["peak_rss_mib"] < 4096
        print(f"kpi engine (interval + queue + agent report, from the file): "
              f"{n_events:,} events in {m['seconds']:.2f} s = "
              f"{n_events / m['seconds']:,.0f} events/s; {m['cpu_seconds']:.1f} CPU-seconds; "
              f"peak RSS {m['peak_rss_mib']:,.0f} MiB; "
              f"{m['rows']:,} rows; offered {m['offered']:,}")  # fmt: skip
        print(f"baseline plain-python (orjson line by line, dict counters; per-queue offered/"
              f"answered/abandoned/SL only): {base_n:,} events in {base_s:.2f} s = "
              f"{base_n / base_s:,.0f} events/s; extrapolated linearly to {n_events:,} events: "
              f"{base_full:.1f} s")  # fmt: skip
        print(f"speed-up vs plain-python: {base_full / m['seconds']:.1f}x "
              f"(the engine computes far more)")  # fmt: skip
        print(f"target < 10 s from JSON Lines: {'met' if ok_time else 'MISSED'}; "
              f"target < 4 GiB: {'met' if ok_mem else 'MISSED'} "
              f"(on {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")  # fmt: skip
        ok_time_p, ok_mem_p = mp["seconds"] < 10.0, mp["peak_rss_mib"] < 4096
        print(f"same log as Parquet (callcenter convert, {t_convert:.1f} s once, "
              f"{pq.stat().st_size / 2**20:,.0f} MiB): report in {mp['seconds']:.2f} s = "
              f"{n_events / mp['seconds']:,.0f} events/s; peak RSS {mp['peak_rss_mib']:,.0f} MiB; "
              f"speed-up vs plain-python {base_full / mp['seconds']:.1f}x")  # fmt: skip
        print(f"target < 10 s from Parquet: {'met' if ok_time_p else 'MISSED'}; "
              f"target < 4 GiB: {'met' if ok_mem_p else 'MISSED'}")  # fmt: skip
        if mp["offered"] != m["offered"] or mp["service_level"] != m["service_level"]:
            print("MISMATCH between the JSON Lines and Parquet reports")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
