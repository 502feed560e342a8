"""Benchmark of the routing engine (ACD) in steady state under a heavy queue.

    .venv/bin/python bench/bench_routing.py                   # 1,000 agents, 5,000 waiting
    .venv/bin/python bench/bench_routing.py --decisions 50000 # shorter
    .venv/bin/python bench/bench_routing.py --engine py       # the .py sources, not mypyc
    .venv/bin/python bench/bench_routing.py --json out.json   # also write the numbers

Setup: ``--skills`` queues, one per skill, each requiring its skill at level >= 1 (every
``--widen-every``-th queue also has a widening step: after ``--widen-after`` s of waiting
any agent may take the contact); ``--agents`` agents with 2-5 random skills at random
proficiency 1-10, all logged in.  With every agent paused, ``--waiting`` + ``--agents``
contacts arrive into random queues; the agents are then unpaused (each takes its best
waiting contact and answers it), which leaves ``--waiting`` contacts waiting and every
agent busy.

Steady state (the measured loop), on a simulated clock advancing ``--dt`` s per step:
``advance(now)`` (what a real driver does before each outside happening), then a random
busy agent finishes its contact (``hangup(wrapup=0)`` -> the router picks the best
waiting contact for it: one decision; the offer is answered at once) and a new contact
arrives into a random queue (``arrive`` -> one decision: an idle eligible agent or wait).
So about ``--waiting`` contacts stay waiting.  Every ``hangup`` and ``arrive`` call is
timed on its own with ``time.perf_counter_ns`` (latency distribution); the whole loop is
timed for throughput (decisions = ``router.decisions``; driver work, ``answer`` and
``advance`` included).  Events are drained every ``--drain-every`` steps and counted.
The measured loop runs ``--repeat`` times in a row; the median run is reported.

``--engine auto`` (default) benchmarks ``callcenter.routing`` as it imports, i.e. the
mypyc-compiled extension modules where ``setup.py`` built them; ``--engine py`` forces the
``.py`` sources.  The output says which engine ran.

In the same run it measures a named baseline, ``naive-scan`` (:class:`NaiveRouter`, pure
Python, standalone): the obvious list-based router -- one plain list of waiting contacts
per queue and one list of idle agents; on each agent-free decision it scans every waiting
contact of the agent's eligible queues linearly for the oldest eligible one (then
``list.remove``); on each arrival it scans the idle agents.  It makes the same decisions
as ``Router`` (``--check`` verifies it on a small workload) and emits the same compact
event tuples.  It runs fewer decisions (``--baseline-decisions``); its per-decision time
is extrapolated to the full run, and the output says so.

Target: >= 50,000 decisions/s with 1,000 agents, 20 skills and 5,000 waiting contacts.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.machinery
import json
import os
import platform
import pstats
import random
import sys
import time
from array import array
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from naive_router import RINGING, NaiveRouter  # the named baseline, beside this file

TARGET = 50_000  # decisions per second
ROUTING = "callcenter.routing"


# --------------------------------------------------------------------------------------
# which engine
# --------------------------------------------------------------------------------------
class _SourceOnlyFinder:
    """Import the modules under ``prefix`` from their ``.py`` files even where compiled
    extension modules (mypyc) sit beside them -- which a normal import would prefer."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix + "."

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if not name.startswith(self.prefix) or path is None:
            return None
        loaders = [(importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES)]
        for entry in path:
            spec = importlib.machinery.FileFinder(entry, *loaders).find_spec(name)
            if spec is not None:
                return spec
        return None


def load_routing(engine: str) -> Any:
    """Import ``callcenter.routing`` (``engine``: auto | py) and return the package."""
    if engine == "py":
        if any(m == ROUTING or m.startswith(ROUTING + ".") for m in sys.modules):
            raise RuntimeError("callcenter.routing was imported before --engine py applied")
        sys.meta_path.insert(0, _SourceOnlyFinder(ROUTING))  # type: ignore[arg-type]
    import callcenter.routing as routing
    import callcenter.routing.engine
    import callcenter.routing.model  # noqa: F401

    return routing


def engine_kind(routing: Any) -> str:
    f = routing.engine.__file__ or ""
    return "mypyc-compiled" if not f.endswith(".py") else "pure Python"


def offer_of(e: Any) -> tuple[str, str] | None:
    """(contact, agent) if ``e`` is an offer, else None.

    The driver's view of the router's output: the router's typed records
    (``RouterEvent``: fields by name, ``type`` an ``EventType``, a ``str`` enum) and
    :class:`Event` records alike; the baseline emits the event model's compact tuples
    ``(t, type, contact, queue, agent, *extras)``.
    """
    if type(e) is tuple:
        return (e[2], e[4]) if e[1] == "offer" else None
    return (e.contact, e.agent) if e.type == "offer" else None


# --------------------------------------------------------------------------------------
# workload
# --------------------------------------------------------------------------------------
def build_config(
    routing: Any, n_agents: int, n_skills: int, seed: int, widen_every: int, widen_after: float
) -> tuple[list[Any], list[Any]]:
    """20 queues x 1 skill (a few widening to any agent), agents with 2-5 skills."""
    QueueConfig, AgentConfig = routing.QueueConfig, routing.AgentConfig  # noqa: N806
    RoutingStep, SkillRequirement = routing.RoutingStep, routing.SkillRequirement  # noqa: N806
    rng = random.Random(seed)
    skills = [f"s{i:02d}" for i in range(n_skills)]
    queues = []
    for i, s in enumerate(skills):
        steps = (RoutingStep(widen_after, ()),) if widen_every and i % widen_every == 0 else ()
        queues.append(QueueConfig(f"q{i:02d}", requirements=(SkillRequirement(s, 1),), steps=steps))
    agents = []
    for j in range(n_agents):
        k = rng.randint(2, min(5, n_skills))
        agents.append(
            AgentConfig(f"a{j:04d}", {s: rng.randint(1, 10) for s in rng.sample(skills, k)})
        )
    return queues, agents


def _rss_mib() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _pct(sorted_ns: list[int], p: float) -> float:
    """The p-th percentile (nearest rank) in µs."""
    if not sorted_ns:
        return float("nan")
    i = min(len(sorted_ns) - 1, max(0, round(p / 100 * len(sorted_ns)) - 1))
    return sorted_ns[i] / 1000


def _dist(ns: Iterable[int]) -> dict[str, float]:
    s = sorted(ns)
    return {
        "n": len(s),
        "mean_us": (sum(s) / len(s) / 1000) if s else float("nan"),
        "p50_us": _pct(s, 50),
        "p90_us": _pct(s, 90),
        "p99_us": _pct(s, 99),
        "p999_us": _pct(s, 99.9),
        "max_us": (s[-1] / 1000) if s else float("nan"),
    }


def _driver_check(r: Any, busy: list[str]) -> None:
    """The driver must have answered every offer: nobody ringing, one busy agent a contact."""
    if isinstance(r, NaiveRouter):
        held = [a.contact for a in r.agents.values() if a.contact is not None]
        ringing = sum(1 for c in held if c.state == RINGING)
        connected = len(held)
    else:
        ringing = sum(a.ringing for a in r.agents.values())
        connected = sum(len(a.legs) for a in r.agents.values())
    assert ringing == 0, f"{ringing} offers were not answered by the driver"
    assert connected == len(busy), (connected, len(busy))


def _sizes(r: Any) -> dict[str, int | None]:
    """How many entries the router's structures hold (lazily deleted ones included)."""
    try:
        if isinstance(r, NaiveRouter):
            waiting = sum(len(q.waiting) for q in r.queues.values())
            idle = len(r.idle)
        else:
            waiting = sum(len(h) for q in r.queues.values() for h in q.prio_heaps.values())
            idle = sum(len(p) for q in r.queues.values() for p in q.pools)
        return {"pending_timers": len(r._timers), "waiting_entries": waiting, "idle_entries": idle}
    except AttributeError:  # router internals changed: the sizes are only informative
        return {"pending_timers": None, "waiting_entries": None, "idle_entries": None}


def run_workload(
    routing: Any,
    make_router: Callable[[list[Any], list[Any]], Any],
    args: argparse.Namespace,
    decisions: int,
    warmup: int,
    repeat: int = 1,
    offers_log: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Set up, warm up for ``warmup`` decisions, then measure ``decisions`` decisions
    ``repeat`` times in a row (the steady state goes on); report the median run."""
    queues, agents = build_config(
        routing, args.agents, args.skills, args.seed, args.widen_every, args.widen_after
    )
    rng = random.Random(args.seed + 1)
    qnames = [q.name for q in queues]
    dt = args.dt
    t_setup = time.perf_counter()
    r = make_router(queues, agents)
    # the router's own records where it has them (no Event objects or tuples built)
    drain = getattr(r, "drain_records", None) or getattr(r, "drain_raw", r.drain)
    busy: list[str] = []  # connected contacts (one per busy agent)

    def react(mark: int, now: float) -> None:
        """Answer every offer made since ``mark`` (the driver reacting to the events)."""
        out = r.out
        for i in range(mark, len(out)):
            o = offer_of(out[i])
            if o is not None:
                r.answer(o[0], now)
                busy.append(o[0])
                if offers_log is not None:
                    offers_log.append(o)

    # log every agent in and pause it; fill the queues; unpause: all busy, `waiting` left
    now = 0.0
    for a in agents:
        r.login(a.name, now)
        r.pause(a.name, now, "setup")
    drain()
    n_fill = args.waiting + args.agents
    for i in range(n_fill):
        now = i * dt
        mark = len(r.out)
        r.advance(now)
        r.arrive(f"c{i}", now, queue=rng.choice(qnames))
        react(mark, now)
    seq = n_fill
    for a in agents:
        now += 1e-3
        mark = len(r.out)
        r.advance(now)
        r.unpause(a.name, now)
        react(mark, now)
    drain()
    setup_s = time.perf_counter() - t_setup
    waiting0 = sum(r.waiting(q) for q in qnames)

    def loop(n_decisions: int, measure: bool) -> dict[str, Any]:
        nonlocal now, seq
        # pre-draw the randomness and the ids so the loop itself is lean
        n_steps = n_decisions // 2 + 1024
        picks = [rng.random() for _ in range(n_steps)]
        arr_q = [rng.choice(qnames) for _ in range(n_steps)]
        ids = [f"c{seq + i}" for i in range(n_steps)]
        # latencies in ns, in compact arrays (a list of ints would grow RSS by ~36 B/entry)
        lat_free = array("q")
        lat_arr = array("q")
        lat_answer = array("q")
        lat_adv = array("q")
        events = 0
        drain_every = args.drain_every
        pc = time.perf_counter_ns
        d0 = r.decisions
        target = d0 + n_decisions
        steps = 0
        gc.collect()
        rss0 = _rss_mib()
        prof = cProfile.Profile() if (measure and args.profile) else None
        if prof is not None:
            prof.enable()
        gc_before = [g["collections"] for g in gc.get_stats()]
        cpu_start = time.process_time()
        t_start = pc()
        while r.decisions < target and steps < n_steps:
            now += dt
            out = r.out
            mark = len(out)
            t0 = pc()
            r.advance(now)
            t1 = pc()
            lat_adv.append(t1 - t0)
            if len(out) != mark:
                react(mark, now)
            # an agent finishes its contact -> one decision (best waiting contact for it)
            if busy:
                j = int(picks[steps] * len(busy))
                cid = busy[j]
                busy[j] = busy[-1]
                busy.pop()
                t0 = pc()
                r.hangup(cid, now, wrapup=0)
                t1 = pc()
                lat_free.append(t1 - t0)
                o = offer_of(out[-1])
                if o is not None:
                    t0 = pc()
                    r.answer(o[0], now)
                    t1 = pc()
                    lat_answer.append(t1 - t0)
                    busy.append(o[0])
                    if offers_log is not None:
                        offers_log.append(o)
            # a new contact arrives -> one decision (an idle eligible agent, or wait)
            cid = ids[steps]
            t0 = pc()
            r.arrive(cid, now, queue=arr_q[steps])
            t1 = pc()
            lat_arr.append(t1 - t0)
            o = offer_of(out[-1])
            if o is not None:
                t0 = pc()
                r.answer(cid, now)
                t1 = pc()
                lat_answer.append(t1 - t0)
                busy.append(cid)
                if offers_log is not None:
                    offers_log.append(o)
            steps += 1
            if steps % drain_every == 0:
                events += len(drain())
        events += len(drain())
        loop_ns = pc() - t_start
        cpu_s = time.process_time() - cpu_start
        gc_runs = [g["collections"] - b for g, b in zip(gc.get_stats(), gc_before, strict=True)]
        if prof is not None:
            prof.disable()
            stats = pstats.Stats(prof, stream=sys.stdout)
            print(f"--- cProfile of the measured loop ({r.decisions - d0:,} decisions) ---")
            stats.sort_stats("tottime").print_stats(args.profile_top)
            stats.sort_stats("cumulative").print_stats(args.profile_top)
        seq += steps
        rss1 = _rss_mib()
        made = r.decisions - d0
        if not measure:
            return {}
        waiting1 = sum(r.waiting(q) for q in qnames)
        calls_ns = sum(lat_free) + sum(lat_arr)
        in_calls = len(lat_free) + len(lat_arr)
        _driver_check(r, busy)
        sizes = _sizes(r)
        return {
            "steps": steps,
            "decisions": made,
            "decisions_in_timed_calls": in_calls,
            "decisions_by_timers": made - in_calls,
            "loop_s": loop_ns / 1e9,
            "decisions_per_s": made / (loop_ns / 1e9),
            "decisions_per_s_without_timer_decisions": in_calls / (loop_ns / 1e9),
            "decisions_per_s_calls_only": in_calls / (calls_ns / 1e9),
            "loop_cpu_s": cpu_s,
            "decisions_per_cpu_s": made / cpu_s,
            "gc_collections_by_generation": gc_runs,
            "events": events,
            "events_per_s": events / (loop_ns / 1e9),
            "latency_all": _dist(lat_free + lat_arr),
            "latency_agent_free": _dist(lat_free),
            "latency_arrival": _dist(lat_arr),
            "latency_answer": _dist(lat_answer),
            "latency_advance": _dist(lat_adv),
            "waiting_start": waiting0,
            "waiting_end": waiting1,
            "busy_end": len(busy),
            "rss_mib_start": rss0,
            "rss_mib_end": rss1,
            # entries in the router's structures, lazily deleted ones included: bounded
            "pending_timers_end": sizes["pending_timers"],
            "waiting_entries_end": sizes["waiting_entries"],
            "idle_entries_end": sizes["idle_entries"],
            "live_contacts_end": len(r.contacts),
            "drain": drain.__name__,
        }

    if warmup:
        loop(warmup, measure=False)
    runs = [loop(decisions, measure=True) for _ in range(repeat)]
    rates = [x["decisions_per_s"] for x in runs]
    res = sorted(runs, key=lambda x: x["decisions_per_s"])[(len(runs) - 1) // 2]  # median
    res["runs_decisions_per_s"] = rates
    res["runs_decisions_per_cpu_s"] = [x["decisions_per_cpu_s"] for x in runs]
    res["runs_rss_mib_end"] = [x["rss_mib_end"] for x in runs]
    res["best_decisions_per_s"] = max(rates)
    res["setup_s"] = setup_s
    res["waiting_after_setup"] = waiting0
    return res


# --------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------
def _fmt_dist(d: dict[str, float]) -> str:
    return (
        f"p50 {d['p50_us']:7.1f} µs   p99 {d['p99_us']:7.1f} µs   "
        f"p99.9 {d['p999_us']:8.1f} µs   max {d['max_us']:9.1f} µs   (n={d['n']:,})"
    )


def _makers(routing: Any) -> tuple[Callable[..., Any], Callable[..., Any]]:
    first_step = routing.model.first_eligible_step
    return routing.Router, lambda qs, ags: NaiveRouter(qs, ags, first_step)


def check_equivalence(routing: Any, args: argparse.Namespace) -> int:
    """Both routers must make the same offers on the same (small) workload."""
    small = argparse.Namespace(**vars(args))
    small.agents, small.waiting = min(args.agents, 200), min(args.waiting, 1000)
    logs: list[list[tuple[str, str]]] = [[], []]
    for make, log in zip(_makers(routing), logs, strict=True):
        run_workload(routing, make, small, decisions=6000, warmup=0, offers_log=log)
    same = logs[0] == logs[1]
    print(
        f"check: Router and naive-scan made {len(logs[0]):,} / {len(logs[1]):,} offers on a "
        f"{small.agents}-agent, {small.waiting}-waiting workload: "
        + ("IDENTICAL" if same else "DIFFERENT")
    )
    return 0 if same else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--agents", type=int, default=1000)
    p.add_argument("--skills", type=int, default=20, help="skills = queues")
    p.add_argument("--waiting", type=int, default=5000, help="contacts kept waiting")
    p.add_argument("--decisions", type=int, default=200_000, help="decisions measured")
    p.add_argument("--warmup", type=int, default=20_000, help="decisions before measuring")
    p.add_argument("--repeat", type=int, default=3, help="measured runs; the median is shown")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dt", type=float, default=0.3, help="simulated seconds per loop step")
    p.add_argument("--widen-every", type=int, default=5, help="every n-th queue widens; 0: none")
    p.add_argument("--widen-after", type=float, default=120.0, help="widening step (s)")
    p.add_argument("--drain-every", type=int, default=1000, help="loop steps between drains")
    p.add_argument("--baseline-decisions", type=int, default=20_000)
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument(
        "--engine",
        choices=("auto", "py"),
        default="auto",
        help="auto: callcenter.routing as it imports (mypyc-compiled where built); "
        "py: force the .py sources",
    )
    p.add_argument("--check", action="store_true", help="first check both routers agree")
    p.add_argument("--json", type=Path, help="also write the numbers here")
    p.add_argument("--profile", action="store_true", help="cProfile the measured loop")
    p.add_argument("--profile-top", type=int, default=25, help="rows of the profile")
    args = p.parse_args(argv)
    routing = load_routing(args.engine)
    make_router, make_naive = _makers(routing)

    if args.check and check_equivalence(routing, args):
        return 1

    n_widen = len(range(0, args.skills, args.widen_every)) if args.widen_every else 0
    print("routing benchmark (callcenter.routing.Router)")
    print(
        f"  setup: {args.agents:,} agents (2-5 skills each, proficiency 1-10), "
        f"{args.skills} skills / {args.skills} queues (level >= 1; {n_widen} widen to any "
        f"agent after {args.widen_after:g} s), {args.waiting:,} waiting, seed {args.seed}"
    )
    print(
        f"  loop : advance -> hangup(wrapup=0) [decision] -> answer -> arrive [decision]; "
        f"{args.dt:g} simulated s/step; drain every {args.drain_every} steps"
    )
    print(
        f"  host : Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.machine()}, gc enabled; engine: {engine_kind(routing)} "
        f"({routing.engine.__file__})"
    )
    sys.stdout.flush()

    ours = run_workload(routing, make_router, args, args.decisions, args.warmup, repeat=args.repeat)
    la, lf, lr = ours["latency_all"], ours["latency_agent_free"], ours["latency_arrival"]
    runs = ", ".join(f"{x:,.0f}" for x in ours["runs_decisions_per_s"])
    out = print
    out()
    out(
        f"Router: {ours['decisions']:,} decisions in {ours['loop_s']:.2f} s (median of "
        f"{args.repeat} runs: {runs} decisions/s; after {args.warmup:,} warm-up decisions; "
        f"setup {ours['setup_s']:.1f} s)"
    )
    rows = [
        ("decisions/s (whole loop)", ours["decisions_per_s"],
         f"best run {ours['best_decisions_per_s']:,.0f}"),
        ("  without timer re-checks", ours["decisions_per_s_without_timer_decisions"],
         "only the hangup + arrive decisions counted"),
        ("decisions/s (timed calls only)", ours["decisions_per_s_calls_only"], ""),
        ("decisions per CPU-second", ours["decisions_per_cpu_s"],
         f"loop CPU {ours['loop_cpu_s']:.2f} s of {ours['loop_s']:.2f} s wall"),
        ("events/s", ours["events_per_s"],
         f"{ours['events']:,} events drained with {ours['drain']}()"),
    ]  # fmt: skip
    for label, value, note in rows:
        out(f"  {label:32s}{value:>10,.0f}   {note}")
    out(f"  latency, all decisions   {_fmt_dist(la)}")
    out(f"    agent frees (hangup)   {_fmt_dist(lf)}")
    out(f"    contact arrives        {_fmt_dist(lr)}")
    out(f"    (answer: no decision)  {_fmt_dist(ours['latency_answer'])}")
    out(
        f"  decisions by timers (widening-step re-checks in advance): "
        f"{ours['decisions_by_timers']:,} of {ours['decisions']:,}"
    )
    rss = ", ".join(f"{x:.0f}" for x in ours["runs_rss_mib_end"])
    out(
        f"  memory: waiting {ours['waiting_start']:,} -> {ours['waiting_end']:,}; RSS after "
        f"each run {rss} MiB; at the end {ours['pending_timers_end']} pending timers, "
        f"{ours['waiting_entries_end']} waiting-heap and "
        f"{ours['idle_entries_end']} idle-pool entries; gc runs by generation "
        f"{ours['gc_collections_by_generation']}"
    )

    setup_keys = "agents skills waiting decisions warmup repeat seed dt widen_every widen_after"
    setup_keys += " drain_every baseline_decisions"
    result: dict[str, Any] = {
        "benchmark": "routing",
        "setup": {k: getattr(args, k) for k in setup_keys.split()},
        "host": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "engine": engine_kind(routing),
        "target_decisions_per_s": TARGET,
        "router": ours,
    }
    if not args.no_baseline:
        n_base = args.baseline_decisions
        base = run_workload(routing, make_naive, args, n_base, n_base // 10)
        extrap = base["loop_s"] / base["decisions"] * ours["decisions"]
        ratio = ours["decisions_per_s"] / base["decisions_per_s"]
        ratio_cpu = ours["decisions_per_cpu_s"] / base["decisions_per_cpu_s"]
        bf = base["latency_agent_free"]
        out()
        out(
            "baseline 'naive-scan' (a list per queue; an agent that frees up scans every "
            "waiting contact of its queues):"
        )
        out(
            f"  ran only {base['decisions']:,} decisions, in {base['loop_s']:.2f} s -> "
            f"{base['decisions_per_s']:,.0f} decisions/s ({base['decisions_per_cpu_s']:,.0f} "
            f"per CPU-second); extrapolated per decision, {ours['decisions']:,} decisions "
            f"would take {extrap:.0f} s (Router: {ours['loop_s']:.1f} s)"
        )
        out(f"  latency, all decisions   {_fmt_dist(base['latency_all'])}")
        out(f"    agent frees (hangup)   {_fmt_dist(bf)}")
        out(
            f"  Router vs naive-scan: {ratio:.1f}x decisions/s ({ratio_cpu:.1f}x per "
            f"CPU-second); agent-free latency p50 {bf['p50_us'] / lf['p50_us']:.0f}x, "
            f"p99 {bf['p99_us'] / lf['p99_us']:.0f}x lower"
        )
        result["baseline"] = {"name": "naive-scan", **base, "extrapolated_s": extrap}
        result["ratio_vs_baseline"] = ratio
        result["ratio_vs_baseline_cpu"] = ratio_cpu
    met = ours["decisions_per_s"] >= TARGET
    result["target_met"] = met
    out()
    out(
        f"result: {ours['decisions_per_s']:,.0f} decisions/s, p50 {la['p50_us']:.1f} µs, "
        f"p99 {la['p99_us']:.1f} µs, {ours['events_per_s']:,.0f} events/s"
    )
    out(
        f"target ≥ 50,000 decisions/s: {'MET' if met else 'NOT MET'} "
        "(median whole-loop rate, timer re-checks included)"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=float) + "\n")
        out(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
