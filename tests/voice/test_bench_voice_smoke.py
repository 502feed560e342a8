"""The voice bench still works end to end: ``bench/bench_voice.py --calls 3 --rate 3
--hold 3`` — our server with a real Asterisk, a SIPp carrier and one SIPp UAS for the
agents' phones, then the raw-ARI baseline — finishes with every call connected and
every recording right. The bench's own checks are the truth here: SIPp's count of
successful calls, the event log's ``connect`` per call, each recording's length against
the call's talk time, its level and its dropouts (``bench/bench_voice.py``). No timing
is asserted (speed is the bench's business, not CI's)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_bench_runs_three_calls_with_no_failure() -> None:
    cmd = [sys.executable, str(ROOT / "bench" / "bench_voice.py"),
           "--calls", "3", "--rate", "3", "--hold", "3"]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    rows = {line.split()[0]: line.split() for line in out.splitlines()
            if line.startswith(("ours ", "baseline "))}  # fmt: skip
    assert set(rows) == {"ours", "baseline"}, out[-4000:]
    for label, cols in rows.items():
        n, fail, rec_ok = int(cols[1]), int(cols[4]), int(cols[5])
        assert (n, fail, rec_ok) == (3, 0, 3), (label, out[-4000:])
    assert "largest N held with 0 failed calls and no recording dropouts: 3" in out
    # offered 3/s, SIPp's pacing caps what can be measured: neither MET nor NOT MET
    assert "set-up >= 20 calls/s: NOT SHOWN (offer more than 20/s" in out


def test_the_set_up_verdict_judges_only_an_offer_above_the_target(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "bench"))  # its sibling modules, as when run
    spec = importlib.util.spec_from_file_location("bench_voice", ROOT / "bench" / "bench_voice.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_voice", bench)  # its dataclasses look it up
    spec.loader.exec_module(bench)

    def verdict(offered: float, measured: float) -> str:
        run = bench.Run(label="ours", n=300, rate=offered, hold_s=6, setup_rate=measured)
        return str(bench.setup_verdict(run))

    assert verdict(25, 21.0) == "MET"
    assert verdict(25, 19.9) == "NOT MET"  # offered more and fell short: a real miss
    assert verdict(20, 19.97).startswith("NOT SHOWN")  # paced at 20/s: cannot read 20+
    assert verdict(20, 20.0) == "MET"
