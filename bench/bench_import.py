"""Benchmark of ``callcenter import asterisk`` on a synthetic 10-million-line queue_log.

    .venv/bin/python bench/bench_import.py                  # 10 M lines in a temp folder
    .venv/bin/python bench/bench_import.py --lines 1e6      # smaller
    .venv/bin/python bench/bench_import.py --log big_queue_log   # keep / reuse the file
    .venv/bin/python bench/bench_import.py --jsonl          # also time a JSONL event log

It generates a realistic queue_log (vectorised with numpy + polars): calls entering 20
queues over a day, 80 % answered (CONNECT + COMPLETECALLER/COMPLETEAGENT), 10 % answered
after a RINGNOANSWER, 6 % ABANDON, 4 % EXITWITHTIMEOUT, agents named by channel
(``SIP/1001``, ``PJSIP/alice-0000``, ``Local/…@agents/n``), plus pause/unpause lines.

Then, in the same run, it times:

* the baseline: plain Python ``csv.reader`` with ``|`` as delimiter that only splits the
  lines and counts the event names (no mapping, nothing written);
* **the command itself**, end to end in a fresh process: ``callcenter import asterisk
  --queue-log FILE --out events.parquet`` (read, check, de-duplicate, sort, map, write
  the Parquet event log; CLI start-up included), with the child's peak RSS;
* the line mapper (``import_queue_log``, the reference the columnar import is tested
  against, used by ``--follow``) on the first million lines, for comparison.

It prints lines/s, the ratio to the 200,000 lines/s target and to the baseline.
"""

from __future__ import annotations

import argparse
import csv
import gc
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl

from callcenter.imports.asterisk import import_queue_log

T0 = 1_714_521_600  # 2024-05-01 00:00 UTC
TARGET = 200_000.0
LINES_PER_CALL = 3.0


def generate(path: Path, n_lines: int, seed: int = 7) -> int:
    """Write about ``n_lines`` lines of queue_log to ``path``; return the count."""
    rng = np.random.default_rng(seed)
    n = int(n_lines / LINES_PER_CALL)
    ids = np.arange(n)
    t = np.sort(rng.integers(T0, T0 + 86_400, n))
    kind = rng.choice(4, n, p=[0.80, 0.10, 0.06, 0.04])  # ans, rna+ans, abandon, timeout
    agent_no = rng.integers(0, 1000, n)
    wait = rng.integers(1, 120, n)
    ring = rng.integers(1, 15, n)
    talk = rng.integers(20, 900, n)
    calls = pl.DataFrame(
        {
            "id": ids,
            "t": t,
            "kind": kind,
            "queue": pl.Series(rng.integers(0, 20, n)).cast(pl.String).str.pad_start(2, "0"),
            "caller": rng.integers(5_550_000_000, 5_559_999_999, n),
            "agent_no": agent_no,
            "wait": wait,
            "ring": ring,
            "talk": talk,
            "by": np.where(rng.random(n) < 0.6, "COMPLETECALLER", "COMPLETEAGENT"),
        }
    ).with_columns(
        callid=pl.format("{}.{}", "t", "id"),
        queue=pl.format("q{}", "queue"),
        agent=pl.when(pl.col("agent_no") % 3 == 0)
        .then(pl.format("SIP/{}", pl.col("agent_no") + 1000))
        .when(pl.col("agent_no") % 3 == 1)
        .then(pl.format("PJSIP/agent{}-0000{}", "agent_no", pl.col("id") % 10))
        .otherwise(pl.format("Local/{}@agents/n", pl.col("agent_no") + 1000)),
    )
    c = pl.col
    answered = calls.filter(c("kind") <= 1)
    parts = [
        calls.select(
            c("t"),
            line=pl.format("{}|{}|{}|NONE|ENTERQUEUE||{}|1", "t", "callid", "queue", "caller"),
        ),
        answered.select(
            t=c("t") + c("wait"),
            line=pl.format(
                "{}|{}|{}|{}|CONNECT|{}|{}.1|{}",
                c("t") + c("wait"),
                "callid",
                "queue",
                "agent",
                "wait",
                "callid",
                "ring",
            ),
        ),
        answered.select(
            t=c("t") + c("wait") + c("talk"),
            line=pl.format(
                "{}|{}|{}|{}|{}|{}|{}|1",
                c("t") + c("wait") + c("talk"),
                "callid",
                "queue",
                "agent",
                "by",
                "wait",
                "talk",
            ),
        ),
        calls.filter(c("kind") == 1).select(
            t=c("t") + c("wait") // 2,
            line=pl.format(
                "{}|{}|{}|PJSIP/agent999-0000|RINGNOANSWER|15000",
                c("t") + c("wait") // 2,
                "callid",
                "queue",
            ),
        ),
    ]
    for k, name in ((2, "ABANDON"), (3, "EXITWITHTIMEOUT")):
        parts.append(
            calls.filter(c("kind") == k).select(
                t=c("t") + c("wait"),
                line=pl.format(
                    "{}|{}|{}|NONE|" + name + "|1|1|{}",
                    c("t") + c("wait"),
                    "callid",
                    "queue",
                    "wait",
                ),
            )
        )
    n_pause = max(1, n // 50)
    pt = np.sort(rng.integers(T0, T0 + 86_400, n_pause))
    pauses = pl.DataFrame({"t": pt, "a": rng.integers(1000, 2000, n_pause)}).select(
        "t",
        line=pl.when(pl.Series(np.arange(n_pause) % 2 == 0))
        .then(pl.format("{}|NONE|NONE|SIP/{}|PAUSEALL|break", "t", "a"))
        .otherwise(pl.format("{}|NONE|NONE|SIP/{}|UNPAUSEALL|", "t", "a")),
    )
    parts.append(pauses)
    frame = pl.concat([p.select(c("t").cast(pl.Int64), "line") for p in parts]).sort(
        "t", maintain_order=True
    )
    with path.open("w", encoding="utf-8") as f:
        f.write("\n".join(frame["line"].to_list()))
        f.write("\n")
    return frame.height


def baseline(path: Path) -> tuple[float, int]:
    """Plain Python: csv.reader splitting on '|' and counting event names."""
    counts: Counter[str] = Counter()
    t0 = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="|", quoting=csv.QUOTE_NONE):
            if len(row) > 4:
                counts[row[4]] += 1
    return time.perf_counter() - t0, sum(counts.values())


def run_cli(log: Path, out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (GiB) of ``callcenter import asterisk`` in a child."""
    cmd = [sys.executable, "-m", "callcenter.cli.main", "import", "asterisk"]
    t0 = time.perf_counter()
    subprocess.run([*cmd, "--queue-log", str(log), "--out", str(out)], check=True)
    wall = time.perf_counter() - t0
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=float, default=10e6)
    ap.add_argument("--log", type=Path, default=None, help="keep / reuse this queue_log")
    ap.add_argument("--jsonl", action="store_true", help="also time writing JSON Lines")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    folder = Path(tmp.name)
    path = args.log or folder / "queue_log"
    if not path.exists():
        t0 = time.perf_counter()
        n = generate(path, int(args.lines))
        print(f"generated {n:,} lines in {time.perf_counter() - t0:.1f} s → {path}")
    n_lines = sum(1 for _ in path.open("rb"))
    base_s, _ = baseline(path)
    base_rate = n_lines / base_s
    print(f"lines:                       {n_lines:,}")
    print(f"csv.reader split (baseline): {base_s:6.1f} s {base_rate:10,.0f} lines/s")
    cli_s, rss = run_cli(path, folder / "events.parquet")
    rate = n_lines / cli_s
    print(
        f"import asterisk → Parquet:   {cli_s:6.1f} s {rate:10,.0f} lines/s  peak RSS {rss:.1f} GiB"
    )
    print(f"  vs target {TARGET:,.0f} lines/s: ×{rate / TARGET:.2f}")
    print(f"  vs csv.reader baseline: ×{rate / base_rate:.2f}")
    if args.jsonl:
        json_s, _ = run_cli(path, folder / "events.jsonl")
        print(f"import asterisk → JSONL:     {json_s:6.1f} s {n_lines / json_s:10,.0f} lines/s")
    sample = folder / "first_million"
    with path.open("rb") as src, sample.open("wb") as dst:
        dst.writelines(line for _, line in zip(range(1_000_000), src, strict=False))
    gc.collect()
    t0 = time.perf_counter()
    result = import_queue_log(sample)
    ref_s = time.perf_counter() - t0
    print(
        f"line mapper, first 1 M lines: {ref_s:5.1f} s "
        f"{1_000_000 / ref_s:10,.0f} lines/s ({len(result.events):,} events)"
    )
    tmp.cleanup()


if __name__ == "__main__":
    main()
