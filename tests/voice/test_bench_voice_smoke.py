"""The voice bench still works end to end: ``bench/bench_voice.py --calls 3 --rate 3
--hold 3`` — our server with a real Asterisk, a SIPp carrier and one SIPp UAS for the
agents' phones, then the raw-ARI baseline — finishes with every call connected and
every recording right. The bench's own checks are the truth here: SIPp's count of
successful calls, the event log's ``connect`` per call, each recording's length against
the call's talk time, its level and its dropouts (``bench/bench_voice.py``). No timing
is asserted (speed is the bench's business, not CI's)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
