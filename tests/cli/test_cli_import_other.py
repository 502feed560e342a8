"""``callcenter import freeswitch`` and ``callcenter import csv`` end to end, through the
real entry point in a subprocess: outputs, the summary, the database, and bad input
(one line on stderr, exit status 2, nothing written)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from callcenter.storage.db import make_engine
from callcenter.storage.event_store import EventStore
from callcenter.storage.jsonl import read_events, read_header

ROOT = Path(__file__).parents[2]
FS = ROOT / "tests" / "imports" / "data" / "freeswitch"
CSV = ROOT / "tests" / "imports" / "data" / "csv" / "generic-cdr.csv"
MAPPING = ROOT / "examples" / "cdr-mapping.yaml"
DAN = "0a1b2c3d-0000-4000-8000-00000000000d"
OUT = ["--out", "o.jsonl"]


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "import", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def assert_user_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_freeswitch_events_to_jsonl_with_json_summary(tmp_path: Path) -> None:
    out = tmp_path / "day.jsonl"
    proc = run(
        tmp_path, "freeswitch", str(FS / "cc-events.json"), "-o", str(out), "--summary", "json"
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["source"], summary["events"], summary["bad"]) == ("import:freeswitch", 28, 4)
    assert [b["line"] for b in summary["bad_lines"]] == [14, 25, 26, 34]
    assert summary["unmapped"]["callcenter::info agent-state-change"] == 3
    assert read_header(out).source == "import:freeswitch"
    assert len(list(read_events(out))) == 28
    assert (tmp_path / "day.jsonl.unmapped.jsonl").exists()


def test_freeswitch_format_guessed_and_template(tmp_path: Path) -> None:
    proc = run(tmp_path, "freeswitch", str(FS / "cc-cdr.csv"), "--out", str(tmp_path / "a.jsonl"))
    assert proc.returncode == 0, proc.stderr
    assert "imported 18 events" in proc.stdout
    template = ",".join(
        f'"${{{name}}}"'
        for name in (FS / "cc-cdr.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    )
    proc = run(
        tmp_path, "freeswitch", str(FS / "cc-cdr-noheader.csv"), "--format", "csv-cdr",
        "--template", template, "--out", str(tmp_path / "b.jsonl"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    a = (tmp_path / "a.jsonl").read_text(encoding="utf-8")
    assert a == (tmp_path / "b.jsonl").read_text(encoding="utf-8")


def test_database_and_parquet(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cc.db'}"
    up = subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "db", "upgrade", "--database", db],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert up.returncode == 0, up.stderr
    proc = run(
        tmp_path, "freeswitch", str(FS / "cc-cdr.jsonl"), str(FS / f"{DAN}.cdr.json"),
        "--format", "json-cdr", "--database", db, "--out", str(tmp_path / "d.parquet"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "and the database" in proc.stdout
    proc = run(tmp_path, "csv", str(CSV), "--mapping", str(MAPPING), "--database", db)
    assert proc.returncode == 0, proc.stderr
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            assert EventStore(conn).count() == 18 + 18
    finally:
        engine.dispose()
    assert (tmp_path / "d.parquet").exists()


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["freeswitch", "nope.json", "--out", "o.jsonl"], ["nope.json", "no such file"]),
        (["freeswitch", str(FS / "cc-events.json")], ["--out", "--database"]),
        (["freeswitch", str(FS / "cc-events.json"), "--out", "o.txt"], ["o.txt", ".jsonl"]),
        (
            ["freeswitch", str(FS / "cc-cdr-noheader.csv"), "--format", "csv-cdr", *OUT],
            ["cc-cdr-noheader.csv", "--template"],
        ),
        (
            ["freeswitch", str(FS / "cc-events.json"), "--format", "events", "--template", "x",
             "--out", "o.jsonl"],
            ["--template", "csv-cdr"],
        ),
        (["csv", str(CSV), "--mapping", "none.yaml", *OUT], ["none.yaml", "no such file"]),
        (["csv", "none.csv", "--mapping", str(MAPPING), *OUT], ["none.csv", "no such file"]),
        (["csv", str(CSV), "--mapping", str(MAPPING), *OUT, "--format", "csv"], ["--format"]),
    ],
)  # fmt: skip
def test_bad_input_one_line_and_nothing_written(
    tmp_path: Path, args: list[str], needles: list[str]
) -> None:
    assert_user_error(run(tmp_path, *args), *needles)
    assert list(tmp_path.iterdir()) == []


def test_bad_mapping_one_line_and_nothing_written(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns: {call_id: id, arrival: a, answer: b, end: c}\n", encoding="utf-8")
    proc = run(
        tmp_path, "csv", str(CSV), "--mapping", str(mapping), "--out", str(tmp_path / "o.jsonl")
    )
    assert_user_error(proc, "m.yaml", "default_queue")
    assert not (tmp_path / "o.jsonl").exists()


def test_help_lists_both_commands(tmp_path: Path) -> None:
    proc = run(tmp_path, "--help")
    assert proc.returncode == 0
    assert "freeswitch" in proc.stdout and "csv" in proc.stdout
