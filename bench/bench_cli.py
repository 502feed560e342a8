"""Benchmark of the CLI's start-up: how long a small command takes, end to end.

    .venv/bin/python bench/bench_cli.py               # 7 runs of each, the median
    .venv/bin/python bench/bench_cli.py --repeat 15

Each command runs in a fresh process (what a person at a shell waits for):

* the baseline: ``python -c pass`` (the interpreter's own start-up);
* ``callcenter --help`` (builds the whole Typer app and prints it);
* ``callcenter erlang --calls 100 --period 30m --aht 180 --target-sl 0.8
  --target-time 20`` (a small command: one Erlang C sizing).

One untimed run of each warms the file cache first. It prints the median, the fastest
and the slowest wall time of each, the ratio to the baseline and to the 0.3 s target.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 0.3
_BIN = Path(sys.executable).parent
CALLCENTER = str(_BIN / "callcenter")

ERLANG = "erlang --calls 100 --period 30m --aht 180 --target-sl 0.8 --target-time 20"
COMMANDS: dict[str, list[str]] = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "callcenter --help": [CALLCENTER, "--help"],
    "callcenter erlang …": [CALLCENTER, *ERLANG.split()],
}


def _run(cmd: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each command")
    args = parser.parse_args()
    if not Path(CALLCENTER).exists():
        sys.exit(f"{CALLCENTER} not found: run this with the project's .venv/bin/python")

    times: dict[str, list[float]] = {}
    for cmd in COMMANDS.values():
        _run(cmd)  # warm the file cache
    for _ in range(args.repeat):  # interleaved: a busy moment hits every command alike
        for name, cmd in COMMANDS.items():
            times.setdefault(name, []).append(_run(cmd))

    base = statistics.median(next(iter(times.values())))
    print(f"CLI start-up, median of {args.repeat} runs each (fresh process per run)")
    print(f"{'command':<28} {'median':>8} {'min':>8} {'max':>8} {'× baseline':>11} {'× target':>9}")
    met = True
    for i, (name, ts) in enumerate(times.items()):
        med = statistics.median(ts)
        ratio = f"{med / base:10.1f}×" if i else f"{'1.0×':>11}"
        target = f"{med / TARGET_S:8.2f}×" if i else f"{'':>9}"
        print(f"{name:<28} {med:8.3f} {min(ts):8.3f} {max(ts):8.3f} {ratio} {target}")
        if i and med >= TARGET_S:
            met = False
    print(f"target < {TARGET_S} s for --help and a small command: {'MET' if met else 'NOT MET'}")


if __name__ == "__main__":
    main()
