"""``callcenter import asterisk`` end to end, through the real entry point in a subprocess.

The command module is imported before ``main()`` so the test does not depend on the
order in which ``cli/main.py`` registers the ``import`` group's modules.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

DATA = Path(__file__).parents[1] / "imports" / "data"
DAY = DATA / "queue_log_day"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    env["COLUMNS"] = "200"
    return env


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "import", "asterisk", *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )


def test_import_json_summary_cdr_and_recordings(tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    rec.mkdir()
    (rec / "1714550400.1-in.wav").write_bytes(b"RIFF")
    out = tmp_path / "day.jsonl"
    r = run(
        tmp_path,
        "--queue-log",
        str(DAY),
        "--cdr",
        str(DATA / "Master.csv"),
        "--recordings",
        str(rec),
        "--out",
        str(out),
        "--format",
        "json",
    )
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["events"] == 38 and summary["lines"] == 25 and summary["bad"] == 0
    assert summary["unmapped"] == {"CONFIGRELOAD": 1, "QUEUESTART": 1}
    assert any("1 recording(s) matched" in n for n in summary["notes"])
    meta = (tmp_path / "day.jsonl.recordings.csv").read_text().splitlines()
    assert meta[0] == "call_id,agent,caller,queue,start,recording"
    assert meta[1].startswith("1714550400.1-in,1001,5551001,support,2024-05-01T08:00:10Z,")
    header = json.loads(out.read_text().splitlines()[0])
    assert header["source"] == "import:asterisk"


def test_import_into_database_and_parquet(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cc.db'}"
    init = subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "db", "upgrade", "--database", db],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    r = run(
        tmp_path, "--queue-log", str(DAY), "--database", db, "--out", str(tmp_path / "d.parquet")
    )
    assert r.returncode == 0, r.stderr
    assert "and the database" in r.stdout
    assert (tmp_path / "d.parquet").is_file()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"\x00\x01\x02binary\x00" * 50, "binary file"),
        (b"", "empty file"),
        (b"name,number\nann,1\nbob,2\n", "not an Asterisk queue_log"),
        (b'{"t": 1, "type": "header"}\n', "not an Asterisk queue_log"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    log = tmp_path / "queue_log"
    if content is not None:
        log.write_bytes(content)
    out = tmp_path / "o.jsonl"
    r = run(tmp_path, "--queue-log", str(log), "--out", str(out))
    assert r.returncode == 2
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == (
        ["queue_log"] if content is not None else []
    )


def test_bad_cdr_and_recordings_folder(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    r = run(
        tmp_path, "--queue-log", str(DAY), "--cdr", str(tmp_path / "nope.csv"), "--out", str(out)
    )
    assert r.returncode == 2 and "no such CDR file" in r.stderr
    r = run(
        tmp_path, "--queue-log", str(DAY), "--recordings", str(tmp_path / "nope"), "--out", str(out)
    )
    assert r.returncode == 2 and "no such recordings folder" in r.stderr
    assert not out.exists()


def test_needs_an_output(tmp_path: Path) -> None:
    r = run(tmp_path, "--queue-log", str(DAY))
    assert r.returncode == 2 and "--out" in r.stderr


def test_follow_until_ctrl_c(tmp_path: Path) -> None:
    live = tmp_path / "queue_log"
    live.write_text("1714550400|c1|q|NONE|ENTERQUEUE||100|1\n")
    out = tmp_path / "live.jsonl"
    args = ["import", "asterisk", "--queue-log", str(live), "--follow", "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "callcenter.cli.main", *args],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < 3):
            time.sleep(0.1)
        with live.open("a") as f:
            f.write("1714550410|c1|q|NONE|ABANDON|1|1|10\n")
        while time.monotonic() < deadline and out.read_text().count("\n") < 4:
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert "stopped: 3 events from 2 lines" in stdout
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["type"] for x in lines] == ["header", "arrive", "enqueue", "abandon"]
