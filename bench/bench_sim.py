"""Simulation speed: our simulator against a plain SimPy model, measured in the same run.

Two figures (issue #2):
1. M/M/c day, 1,000 agents, ~250,000 calls (bench/scenarios/mmc-1000.yaml): our
   simulator, running the real routing engine and writing the full event log, against
   the baseline below -- a plain SimPy model of the same queue that writes nothing.
   Target: ours >= 2x faster.
2. A 24-hour day of a 1,000-agent multi-skill center, ~250,000 calls
   (bench/scenarios/multiskill-1000.yaml), full event log.  Target: < 20 s.

Run:  .venv/bin/python bench/bench_sim.py [--quick] [--no-baseline] [--json out.json]

Also printed: the CPU time of the simulating process (the log is encoded by a second
process), steadier than the wall time on a shared machine.  ``--no-baseline`` skips the
SimPy run (bench/compare_ref.py uses it to compare two builds of ours).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import simpy

from callcenter.sim import load_scenario, simulate

try:
    from callcenter.storage.eventlog import EventLogWriter
except ImportError:  # an older tree under bench/compare_ref.py (before storage.eventlog)
    from callcenter.storage.jsonl import EventLogWriter  # type: ignore[no-redef]

HERE = Path(__file__).parent


def simpy_mmc(agents: int, calls_per_day: float, aht: float, seed: int) -> tuple[int, float]:
    """The baseline: the textbook SimPy M/M/c (Resource + one process per caller).

    Returns (calls answered, mean wait).  It records the waits in memory only.
    """
    rng = random.Random(seed)
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=agents)
    rate = calls_per_day / 86400.0
    waits: list[float] = []

    def caller(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        arrived = env.now
        with desk.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(rng.expovariate(1.0 / aht))

    def source(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        while True:
            yield env.timeout(rng.expovariate(rate))
            if env.now >= 86400.0:
                return
            env.process(caller(env))

    env.process(source(env))
    env.run()
    return len(waits), sum(waits) / max(1, len(waits))


def run_ours(scenario: Path, out: Path, days: int | None = None) -> tuple[float, float, int, int]:
    """(wall s, CPU s of this process, calls, events) of one simulation with its log."""
    sc = load_scenario(scenario, days=days)
    t, cpu = time.perf_counter(), time.process_time()
    with EventLogWriter(out, source="bench", start=sc.start_epoch, background=True) as log:
        summary = simulate(sc, log.write_raw_batch)
    return time.perf_counter() - t, time.process_time() - cpu, summary.contacts, summary.events


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a tenth of the calls (smoke run)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the SimPy model")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()
    scale = 0.1 if args.quick else 1.0
    results: dict[str, float | int | bool] = {}

    with tempfile.TemporaryDirectory() as tmp:
        mmc = load_scenario(HERE / "scenarios" / "mmc-1000.yaml")
        q = mmc.queues[0]
        per_day = (q.arrivals.per_day or 0) * scale
        agents = mmc.agents[0].count
        aht = q.talk.mean_value
        if scale != 1.0:
            mmc_path = Path(tmp) / "mmc.yaml"
            text = (HERE / "scenarios" / "mmc-1000.yaml").read_text()
            text = text.replace("per_day: 250000", f"per_day: {per_day:.0f}")
            text = text.replace("count: 1000", f"count: {int(agents * scale)}")
            mmc_path.write_text(text)
            agents = int(agents * scale)
        else:
            mmc_path = HERE / "scenarios" / "mmc-1000.yaml"

        print(f"M/M/c day: {agents} agents, {per_day:,.0f} calls expected, AHT {aht:.0f} s")
        if not args.no_baseline:
            t = time.perf_counter()
            answered, mean_wait = simpy_mmc(agents, per_day, aht, seed=1)
            t_simpy = time.perf_counter() - t
            print(
                f"  baseline  plain SimPy model (no log)     {t_simpy:7.2f} s  "
                f"({answered:,} calls, mean wait {mean_wait:.1f} s)"
            )
        t_ours, cpu_ours, contacts, events = run_ours(mmc_path, Path(tmp) / "mmc.jsonl")
        size = (Path(tmp) / "mmc.jsonl").stat().st_size
        print(
            f"  ours      router + full event log        {t_ours:7.2f} s  ({contacts:,} calls, "
            f"{events:,} events, {size / 1e6:,.0f} MB; {cpu_ours:.2f} s CPU simulating)"
        )
        results.update(
            mmc_ours_s=round(t_ours, 3),
            mmc_ours_cpu_s=round(cpu_ours, 3),
            mmc_events=events,
        )
        if not args.no_baseline:
            ratio = t_simpy / t_ours
            met = ratio >= 2.0
            print(
                f"  speed-up vs SimPy: {ratio:.2f}x   target >= 2x: {'MET' if met else 'NOT MET'}"
            )
            results.update(
                mmc_simpy_s=round(t_simpy, 3),
                mmc_speedup=round(ratio, 3),
                mmc_target_met=met,
            )

        ms_path = HERE / "scenarios" / "multiskill-1000.yaml"
        if scale != 1.0:
            text = ms_path.read_text()
            ms_path = Path(tmp) / "ms.yaml"
            ms_path.write_text(text.replace("days: 1", "days: 1"))
        t_ms, cpu_ms, contacts, events = run_ours(ms_path, Path(tmp) / "ms.jsonl")
        sc = load_scenario(ms_path)
        n_agents = sum(g.count for g in sc.agents)
        limit = 20.0
        print(
            f"multi-skill day: {n_agents} agents, {len(sc.queues)} queues, {contacts:,} calls, "
            f"{events:,} events: {t_ms:.2f} s ({cpu_ms:.2f} s CPU simulating)   "
            f"target < {limit:.0f} s: "
            f"{'MET' if t_ms < limit else 'NOT MET'}"
        )
        results.update(
            multiskill_s=round(t_ms, 3),
            multiskill_cpu_s=round(cpu_ms, 3),
            multiskill_calls=contacts,
            multiskill_events=events,
            multiskill_target_met=t_ms < limit,
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
