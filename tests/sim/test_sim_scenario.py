"""Scenario files: good ones load, bad ones give one clear line naming file, key and problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from callcenter.sim import ScenarioError, load_scenario

EXAMPLES = Path(__file__).parents[2] / "examples"

BASE = """
name: t
interval: 1h
queues:
  - name: support
    arrivals: {per_day: 100}
    talk: {dist: exponential, mean: 200}
agents:
  - name: a
    count: 2
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "scenario.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("name", ["helpdesk.yaml", "multiskill-300.yaml"])
def test_examples_load(name: str) -> None:
    sc = load_scenario(EXAMPLES / name)
    assert sc.queues and sc.agents


def test_example_sizes_are_as_advertised() -> None:
    hd = load_scenario(EXAMPLES / "helpdesk.yaml")
    ms = load_scenario(EXAMPLES / "multiskill-300.yaml")
    assert sum(g.count for g in hd.agents) == 10
    assert sum(g.count for g in ms.agents) == 300


def test_durations_and_times_are_parsed(tmp_path: Path) -> None:
    text = BASE.replace("count: 2", 'count: 2\n    shift: {start: "08:30", end: "17:00"}')
    text = text.replace("arrivals:", "max_wait: 2m\n    arrivals:")
    sc = load_scenario(write(tmp_path, text))
    assert sc.interval == 3600
    assert sc.queues[0].max_wait == 120
    assert (sc.agents[0].shift.start, sc.agents[0].shift.end) == (30600, 61200)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("name: t", "name: t\nspeed: 3"), "speed: unknown key"),
        (("per_day: 100", "per_day: -5"), "queues[0].arrivals.per_day: Input should be greater"),
        (
            ("count: 2", "count: 2\n    queues: [sales]"),
            "agents[0].queues names queue 'sales', which does not exist",
        ),
        (
            ("per_day: 100}", "per_day: 100, curve: [1, 2, 3]}"),
            "queues[0].arrivals.curve has 3 values, expected 24 (one per 60-minute interval)",
        ),
        (("mean: 200", "mean: 0"), "queues[0].talk.mean: Input should be greater than 0"),
        (("dist: exponential", "dist: weibull"), "queues[0].talk"),
        (("interval: 1h", "interval: 7m"), "'interval' must divide a day evenly"),
        (("interval: 1h", "interval: 30x"), "interval"),
        (("count: 2", 'count: 2\n    shift: {start: "9am"}'), "time of day like '08:30'"),
    ],
)
def test_bad_scenarios_name_key_and_problem(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    p = write(tmp_path, BASE.replace(*change))
    with pytest.raises(ScenarioError) as err:
        load_scenario(p)
    text = str(err.value)
    assert text.startswith(str(p))
    assert message in text
    assert "\n" not in text


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    p = write(tmp_path, "name: t\nqueues: [\n  - oops: {\n")
    with pytest.raises(ScenarioError, match=r"scenario.yaml:\d+: invalid YAML"):
        load_scenario(p)


def test_missing_and_non_mapping_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(ScenarioError, match="expected a mapping"):
        load_scenario(write(tmp_path, "- just\n- a list\n"))


def test_cli_bad_scenario_one_line_exit_2_no_output(tmp_path: Path) -> None:
    p = write(tmp_path, BASE.replace("per_day: 100", "per_day: -5"))
    out = tmp_path / "ev.jsonl"
    r = subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "simulate", str(p), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr
    assert "queues[0].arrivals.per_day" in lines[0]
    assert "Traceback" not in r.stderr
    assert not out.exists() and not (tmp_path / "ev.jsonl.part").exists()
