"""The simulator: valid, reproducible logs; shifts, breaks, abandonment, transfers, callbacks;
and Erlang C reproduced on an M/M/c queue."""

from __future__ import annotations

import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from callcenter.events import RawEvent, event_from_raw
from callcenter.queueing.erlang import asa, erlang_c, service_level
from callcenter.sim import load_scenario, simulate
from callcenter.storage.jsonl import read_events

EXAMPLES = Path(__file__).parents[2] / "examples"


def run(path: Path, **over: object) -> list[RawEvent]:
    batches: list[list[RawEvent]] = []
    simulate(load_scenario(path, **over), batches.append, flush_every=4096)
    return [e for b in batches for e in b]


def scenario(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(text)
    return p


def test_helpdesk_log_is_valid_time_ordered_and_reproducible(tmp_path: Path) -> None:
    a = run(EXAMPLES / "helpdesk.yaml")
    b = run(EXAMPLES / "helpdesk.yaml")
    c = run(EXAMPLES / "helpdesk.yaml", seed=99)
    assert a == b
    assert a != c
    times = [e[0] for e in a]
    assert times == sorted(times)
    for raw in a:  # every event passes the schema
        from callcenter.events import validate_event

        validate_event(event_from_raw(raw))
    kinds = Counter(e[1] for e in a)
    # every arrival ends exactly once: answered, abandoned, or left by timeout/callback
    assert kinds["arrive"] > 500
    assert kinds["abandon"] > 0 and kinds["transfer"] > 0 and kinds["ring_noanswer"] > 0


def test_shifts_and_breaks_become_agent_events(tmp_path: Path) -> None:
    evs = [event_from_raw(r) for r in run(EXAMPLES / "helpdesk.yaml")]
    start = load_scenario(EXAMPLES / "helpdesk.yaml").start_epoch
    logins = {e.agent: e.t - start for e in evs if e.type == "agent_login"}
    assert logins["early-1"] == 8 * 3600 and logins["late-4"] == 9.5 * 3600
    lunches = [e for e in evs if e.type == "agent_state" and e.reason == "lunch"]
    # a pause asked for mid-call starts when the call's wrap-up ends, never before
    assert {e.agent for e in lunches} == {f"early-{i}" for i in range(1, 5)} | {
        f"late-{i}" for i in range(1, 5)
    } | {"billing-1", "billing-2"}
    early1 = next(e for e in lunches if e.agent == "early-1")
    assert 12 * 3600 <= early1.t - start < 12 * 3600 + 1800
    logouts = [e for e in evs if e.type == "agent_logout"]
    assert len(logouts) == 10


def test_every_contact_is_accounted_for(tmp_path: Path) -> None:
    evs = run(EXAMPLES / "helpdesk.yaml")
    arrived = {e[2] for e in evs if e[1] == "arrive"}
    ended = Counter()
    for e in evs:
        if e[1] in ("complete", "abandon") or (e[1] == "timeout" and e[6] is None):
            ended[e[2]] += 1
    # nobody ends twice; the only contacts without an end are still being served at midnight
    assert max(ended.values()) == 1
    assert len(arrived - set(ended)) < 10


def test_patience_zero_means_everyone_abandons_before_an_agent_frees(tmp_path: Path) -> None:
    text = """
interval: 1h
queues:
  - name: q
    arrivals: {per_day: 2000}
    talk: {dist: fixed, value: 86400}
    patience: {dist: fixed, value: 5}
agents:
  - name: a
"""
    evs = run(scenario(tmp_path, text))
    kinds = Counter(e[1] for e in evs)
    assert kinds["connect"] == 1  # the single agent is busy all day with the first caller
    assert kinds["abandon"] == kinds["arrive"] - 1
    assert {e[5] for e in evs if e[1] == "abandon"} == {5.0}


def test_callbacks_and_transfers_follow_their_probabilities(tmp_path: Path) -> None:
    text = """
interval: 1h
seed: 3
queues:
  - name: q
    arrivals: {per_day: 4000}
    talk: {dist: exponential, mean: 60}
    transfer: {probability: 0.25, to: r}
    callback: {offer_after: 1s, accept_probability: 1.0}
  - name: r
    arrivals: {per_day: 0}
    talk: {dist: fixed, value: 10}
agents:
  - name: a
    count: 3
"""
    evs = run(scenario(tmp_path, text))
    kinds = Counter(e[1] for e in evs)
    connects_q = sum(1 for e in evs if e[1] == "connect" and e[3] == "q")
    made_q = sum(1 for e in evs if e[1] == "callback_made" and e[3] == "q")
    # binomial(n, 0.25): 4 standard deviations
    n = connects_q + made_q
    assert abs(kinds["transfer"] - 0.25 * n) < 4 * math.sqrt(n * 0.25 * 0.75)
    assert kinds["callback_request"] > 0
    assert kinds["callback_made"] > 0


@pytest.mark.slow
def test_mmc_queue_reproduces_erlang_c(tmp_path: Path) -> None:
    """One queue, c agents, Poisson arrivals, exponential handle times, no abandonment:
    the simulated service level and ASA match Erlang C.

    200 calls/h with AHT 180 s is A = 10 Erlangs; with 12 agents Erlang C gives
    P(wait) = 0.4494, SL(20 s) = 0.6401 and ASA = 40.4 s.  Thirty simulated days
    (~144,000 calls).  Waits of consecutive callers are correlated, so the standard error
    comes from batch means over the 30 days: 0.0073 for SL and 2.2 s for ASA with this
    seed; the tolerances are 3 of those standard errors.
    """
    text = """
interval: 1h
days: 30
seed: 5
ringing: {answer_delay: {dist: fixed, value: 0}}
queues:
  - name: q
    arrivals: {per_day: 4800}
    talk: {dist: exponential, mean: 180}
agents:
  - name: a
    count: 12
"""
    evs = run(scenario(tmp_path, text))
    waits = [e[5] for e in evs if e[1] == "connect"]
    assert len(waits) > 140_000
    a, n = 10.0, 12
    want_sl = service_level(n, a, 180.0, 20.0)
    want_asa = asa(n, a, 180.0)
    assert erlang_c(n, a) == pytest.approx(0.4494, abs=1e-4)
    got_sl = sum(w <= 20.0 for w in waits) / len(waits)
    got_asa = sum(waits) / len(waits)
    got_pwait = sum(w > 0.0 for w in waits) / len(waits)
    assert got_sl == pytest.approx(want_sl, abs=0.022)
    assert got_asa == pytest.approx(want_asa, abs=6.5)
    assert got_pwait == pytest.approx(erlang_c(n, a), abs=0.03)


def test_cli_writes_a_valid_log(tmp_path: Path) -> None:
    out = tmp_path / "hd.jsonl"
    r = subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "simulate", str(EXAMPLES / "helpdesk.yaml"),
         "--out", str(out), "--seed", "7"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "contacts" in r.stdout
    events = list(read_events(out, with_header=True))
    assert events[0].source == "sim:helpdesk"
    assert events[1].type == "agent_login"
    assert not (tmp_path / "hd.jsonl.part").exists()
