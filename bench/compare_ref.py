"""Run a benchmark against this tree AND a git ref, alternating, and print the ratio.

    .venv/bin/python bench/compare_ref.py REF routing [--rounds 3] [-- BENCH ARGS...]
    .venv/bin/python bench/compare_ref.py REF sim [--rounds 3] [-- BENCH ARGS...]

(BENCH ARGS default to ``--no-baseline``: the bench's own baseline is not what is
compared here.)

The same bench script (this tree's ``bench/bench_routing.py`` or ``bench/bench_sim.py``)
runs every time, in this venv; only the ``callcenter`` package differs: ``REF`` is
checked out in a temporary ``git worktree`` and its mypyc modules are built in place
with this venv's mypy (its ``setup.py``'s extensions, ``build_ext --inplace``), then each
run puts one tree's
``src`` first on ``PYTHONPATH``.  Runs alternate ref, ours, ours, ref, ref, ours ... so
that a drift in the machine's load falls on both sides.  For each figure it prints every
run, the medians and the ratio as a speed factor (> 1: this tree is faster).

``--tree DIR`` reuses a checkout of REF made earlier (already built); ``--keep`` leaves
the temporary one in place.  This is how the typed-seams change (RouterEvent records,
typed simulator heap) was measured against its base commit: see bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# figure name -> (where in the bench's --json output, higher is better?)
FIGURES: dict[str, dict[str, tuple[tuple[str, ...], bool]]] = {
    "routing": {
        "decisions/s (median run, wall)": (("router", "decisions_per_s"), True),
        "decisions per CPU-second (median run)": (("router", "decisions_per_cpu_s"), True),
    },
    "sim": {
        "M/M/c day, s (wall)": (("mmc_ours_s",), False),
        "M/M/c day, s (CPU, simulating process)": (("mmc_ours_cpu_s",), False),
        "multi-skill day, s (wall)": (("multiskill_s",), False),
        "multi-skill day, s (CPU, simulating process)": (("multiskill_cpu_s",), False),
    },
}
SCRIPTS = {"routing": "bench_routing.py", "sim": "bench_sim.py"}
DEFAULT_ARGS = {"routing": ["--no-baseline"], "sim": ["--no-baseline"]}


def _compiled(src: Path) -> list[str]:
    """The hot modules of ``src`` that have no up-to-date compiled extension beside them."""
    missing = []
    for py in ("routing/model.py", "routing/core.py", "routing/engine.py", "sim/engine.py"):
        path = src / "callcenter" / py
        sos = list(path.parent.glob(path.stem + ".*.so"))
        if not sos or max(so.stat().st_mtime for so in sos) < path.stat().st_mtime:
            missing.append(py)
    return missing


def prepare(ref: str, tree: Path) -> None:
    """Check ``ref`` out at ``tree`` and build its compiled modules in place."""
    print(f"checking out {ref} at {tree} ...", flush=True)
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), ref],
        check=True,
        capture_output=True,
    )
    print("building its mypyc modules (a minute or two) ...", flush=True)
    subprocess.run([sys.executable, "-c", _BUILD], cwd=tree, check=True, capture_output=True)


# Build the ref's own setup.py extensions in place with this venv's mypy and setuptools
# (its pyproject.toml is left unread: an older setuptools may not know every key of it).
_BUILD = """
import runpy, setuptools
kw = {}
setuptools.setup = lambda **k: kw.update(k)
runpy.run_path("setup.py")
dist = setuptools.Distribution({**kw, "name": "callcenter", "package_dir": {"": "src"}})
cmd = dist.get_command_obj("build_ext")
cmd.inplace = True
dist.run_command("build_ext")
"""


def run_once(src: Path, script: str, args: list[str]) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        env = {**os.environ, "PYTHONPATH": str(src)}
        cmd = [sys.executable, str(HERE / script), *args, "--json", str(out)]
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        result: dict[str, object] = json.loads(out.read_text())
    return result


def _get(result: dict[str, object], path: tuple[str, ...]) -> float:
    value: object = result
    for key in path:
        assert isinstance(value, dict), path
        value = value[key]
    assert isinstance(value, int | float), (path, value)
    return float(value)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("ref", help="git ref to compare against (e.g. a commit of main)")
    p.add_argument("bench", choices=sorted(SCRIPTS))
    p.add_argument("--rounds", type=int, default=3, help="runs of each side")
    p.add_argument("--tree", type=Path, help="an existing, built checkout of REF to reuse")
    p.add_argument("--keep", action="store_true", help="keep the temporary checkout")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    a = p.parse_args(argv[:cut])
    bench_args = argv[cut + 1 :] or DEFAULT_ARGS[a.bench]
    made = a.tree is None
    tree = a.tree or Path(tempfile.mkdtemp(prefix="callcenter-ref-")) / "tree"
    try:
        if made:
            prepare(a.ref, tree)
        sides = {"ref": tree / "src", "ours": ROOT / "src"}
        for name, src in sides.items():
            if missing := _compiled(src):
                print(f"{name} ({src}): not compiled: {', '.join(missing)}", file=sys.stderr)
                return 2
        rev = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()  # fmt: skip
        print(f"{SCRIPTS[a.bench]} {' '.join(bench_args)}: ref {a.ref} ({rev}) vs this tree, "
              f"{a.rounds} runs each, alternating", flush=True)  # fmt: skip
        values: dict[str, dict[str, list[float]]] = {s: {f: [] for f in FIGURES[a.bench]}
                                                     for s in sides}  # fmt: skip
        order = ["ref", "ours"]
        for i in range(a.rounds):
            for side in order if i % 2 == 0 else order[::-1]:
                t = time.perf_counter()
                result = run_once(sides[side], SCRIPTS[a.bench], bench_args)
                figs = {f: _get(result, path) for f, (path, _) in FIGURES[a.bench].items()}
                for f, v in figs.items():
                    values[side][f].append(v)
                shown = "   ".join(f"{v:,.2f}" if v < 1000 else f"{v:,.0f}" for v in figs.values())
                print(f"  run {i + 1} {side:4s} {shown}   ({time.perf_counter() - t:.0f} s)",
                      flush=True)  # fmt: skip
        print()
        for f, (_, higher_better) in FIGURES[a.bench].items():
            ref_m = statistics.median(values["ref"][f])
            ours_m = statistics.median(values["ours"][f])
            speed = ours_m / ref_m if higher_better else ref_m / ours_m
            verdict = "ok: at most 5 % slower" if speed >= 0.95 else "MORE THAN 5 % SLOWER"
            print(f"  {f:46s} ref {ref_m:>10,.2f}  ours {ours_m:>10,.2f}  "
                  f"speed x{speed:.3f} ({verdict})")  # fmt: skip
        return 0
    finally:
        if made and not a.keep:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           capture_output=True)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
