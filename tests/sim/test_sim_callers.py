"""Caller numbers in the simulator: drawn from a population, on their own random stream."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from callcenter.events import RawEvent
from callcenter.sim import load_scenario, simulate
from callcenter.sim.scenario import Callers, ScenarioError

EXAMPLES = Path(__file__).parents[2] / "examples"


def run(path: Path, **over: object) -> list[RawEvent]:
    batches: list[list[RawEvent]] = []
    simulate(load_scenario(path, **over), batches.append, flush_every=4096)
    return [e for b in batches for e in b]


def _with_callers(tmp_path: Path, block: str) -> Path:
    text = (EXAMPLES / "helpdesk.yaml").read_text()
    text = re.sub(r"(?m)^callers:.*(\n  .*)*\n?", "", text)  # whatever the example says
    p = tmp_path / "s.yaml"
    p.write_text(text + "\n" + block)
    return p


def test_callers_only_add_numbers(tmp_path: Path) -> None:
    plain = run(_with_callers(tmp_path, ""))
    named = run(_with_callers(tmp_path, "callers:\n  population: 500\n  zipf: 0.5\n"))
    # every arrive carries a number; nothing else about the day changes
    arrives = [e for e in named if e[1] == "arrive"]
    assert arrives and all(re.fullmatch(r"\+1555\d{7}", str(e[6])) for e in arrives)
    assert all(e[6] is None for e in plain if e[1] == "arrive")
    # arrive and callback_request carry the caller as their last field
    numbered = ("arrive", "callback_request")
    strip = [(*e[:-1], None) if e[1] in numbered else e for e in named]
    assert strip == plain
    again = run(_with_callers(tmp_path, "callers:\n  population: 500\n  zipf: 0.5\n"))
    assert again == named  # reproducible


def test_zipf_draws_follow_the_formula() -> None:
    # P(rank 1) = 1 / H_10 with zipf = 1 over 10 numbers; H_10 = 2.928968...
    n = 40_000
    nums = Callers(population=10, zipf=1.0).numbers(n, np.random.default_rng(7))
    share = Counter(nums)["+15550000001"] / n
    p = 1 / sum(1 / k for k in range(1, 11))
    assert share == pytest.approx(p, abs=3 * (p * (1 - p) / n) ** 0.5)
    uniform = Counter(Callers(population=4).numbers(n, np.random.default_rng(7)))
    assert len(uniform) == 4 and max(uniform.values()) / n < 0.25 + 3 * (0.1875 / n) ** 0.5


def test_bad_callers_block(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="population"):
        load_scenario(_with_callers(tmp_path, "callers:\n  population: 0\n"))
