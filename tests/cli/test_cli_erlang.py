"""`callcenter erlang` end to end, and the duration parser it uses for --period."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from callcenter.cli.erlang import JSON_KEYS, erlang_command
from callcenter.errors import UserError
from callcenter.units import DurationError, format_duration, parse_duration

# Typer turns an app with a single command into that command, so while `erlang` is the only
# command module written, give the app an (empty) callback to keep `erlang` a subcommand.
# (Nothing changes once a second command is registered.)
_ENSURE_GROUP = """
from callcenter.cli import main as m
from callcenter.cli.app import app
m._register()
if app.registered_callback is None and (
    len(app.registered_commands) + len(app.registered_groups) < 2
):
    app.callback()(lambda: None)
"""


def run_main(*args: str) -> tuple[int, str, str]:
    """Run the real entry point, callcenter.cli.main:main, in this process."""
    exec(_ENSURE_GROUP, {})
    from callcenter.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv, sys.stdout, sys.stderr
    sys.argv, sys.stdout, sys.stderr = ["callcenter", "erlang", *args], out, err
    try:
        main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    finally:
        sys.argv, sys.stdout, sys.stderr = saved
    return code, out.getvalue(), err.getvalue()


def run_process(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real entry point in a fresh interpreter (exit status as the shell sees it)."""
    return subprocess.run(
        [sys.executable, "-c", _ENSURE_GROUP + "m.main()\n", "erlang", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", "PYTHONIOENCODING": "utf-8"},
    )


# In-process runs for the happy paths: a fresh app holding just this command.
_local = typer.Typer(add_completion=False)
_local.callback()(lambda: None)
_local.command("erlang")(erlang_command)
runner = CliRunner()

EXAMPLE = ["--calls", "100", "--period", "30m", "--aht", "180"]


def invoke(*args: str) -> str:
    result = runner.invoke(_local, ["erlang", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_json_solve() -> None:
    data = json.loads(
        invoke(*EXAMPLE, "--target-sl", "0.8", "--target-time", "20", "--format", "json")
    )
    assert tuple(data) == JSON_KEYS
    assert data["model"] == "erlang_c" and data["mode"] == "solve"
    assert data["calls"] == 100 and data["period_s"] == 1800.0 and data["aht_s"] == 180.0
    assert data["traffic_erlangs"] == pytest.approx(10.0)
    assert data["agents"] == 14
    assert data["target_sl"] == 0.8 and data["target_time_s"] == 20.0
    assert data["max_occupancy"] is None
    assert data["prob_wait"] == pytest.approx(0.174131933595, abs=1e-12)
    assert data["service_level"] == pytest.approx(0.888350019179, abs=1e-12)
    assert data["asa_s"] == pytest.approx(7.83593701178, rel=1e-11)
    assert data["occupancy"] == pytest.approx(10 / 14)
    assert data["immediate_answer"] == pytest.approx(1 - 0.174131933595, abs=1e-12)
    assert data["stable"] is True


def test_json_evaluate_unstable() -> None:
    data = json.loads(invoke(*EXAMPLE, "--agents", "9", "--format", "json"))
    assert data["mode"] == "evaluate" and data["agents"] == 9 and data["target_sl"] is None
    assert data["stable"] is False
    assert data["asa_s"] is None  # unbounded: JSON has no infinity
    assert (data["prob_wait"], data["service_level"], data["occupancy"]) == (1.0, 0.0, 1.0)


@pytest.mark.parametrize("period", ["30m", "1800", "1800s", "0.5h"])
def test_period_forms(period: str) -> None:
    args = ["--calls", "100", "--period", period, "--aht", "180", "--agents", "14"]
    data = json.loads(invoke(*args, "--format", "json"))
    assert data["period_s"] == 1800.0 and data["traffic_erlangs"] == pytest.approx(10.0)


def test_csv() -> None:
    rows = list(csv.reader(io.StringIO(invoke(*EXAMPLE, "--agents", "14", "--format", "csv"))))
    assert len(rows) == 2 and tuple(rows[0]) == JSON_KEYS
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["agents"] == "14" and row["target_sl"] == "" and row["stable"] == "true"


def test_table() -> None:
    out = invoke(*EXAMPLE, "--target-sl", "0.8")
    for text in (
        "10.00 Erlangs",
        "14",
        "17.4%",
        "88.8% in 20 s",
        "7.8 s",
        "71.4%",
        "80.0% in 20 s",
    ):
        assert text in out, out


def test_table_unstable() -> None:
    out = invoke(*EXAMPLE, "--agents", "10")
    assert "unbounded" in out and "unstable" in out


def test_max_occupancy_option() -> None:
    data = json.loads(
        invoke(*EXAMPLE, "--target-sl", "0.8", "--max-occupancy", "0.7", "--format", "json")
    )
    assert data["agents"] == 15 and data["max_occupancy"] == 0.7


# Errors: one line on stderr through callcenter.cli.main, exit code 2, no traceback.


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--aht", "-5", "--agents", "14"], "--aht must be > 0 seconds, got -5"),
        (["--period", "30x", "--agents", "14"], "--period must be a duration like 900, 90s"),
        (["--target-sl", "0.8", "--target-time", "0"], "--target-time must be > 0 seconds, got 0"),
        (["--target-sl", "80"], "--target-sl must be a fraction strictly between 0 and 1"),
        ([], "give --agents N to evaluate a staffing level or --target-sl P"),
        (["--agents", "14", "--target-sl", "0.8"], "not both"),
        (["--agents", "-2"], "--agents must be a whole number of agents >= 0, got -2"),
        (["--calls", "-1", "--agents", "2"], "--calls must be >= 0, got -1"),
    ],
)
def test_errors_exit_2_with_one_line(args: list[str], message: str) -> None:
    options = {"--calls": "100", "--period": "30m", "--aht": "180"}
    options.update(zip(args[::2], args[1::2], strict=True))
    code, out, err = run_main(*[x for kv in options.items() for x in kv])
    assert code == 2, (out, err)
    err = err.strip()
    assert err.startswith("error: ") and message in err, err
    assert "\n" not in err and "Traceback" not in err
    assert out == ""


def test_entry_point_in_a_process() -> None:
    ok = run_process(*EXAMPLE, "--target-sl", "0.8", "--format", "json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["agents"] == 14
    bad = run_process(*EXAMPLE[:-1], "-5", "--agents", "14")
    assert bad.returncode == 2, (bad.stdout, bad.stderr)
    assert bad.stderr.strip() == "error: --aht must be > 0 seconds, got -5"


# parse_duration / format_duration (callcenter.units)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("900", 900.0),
        ("900s", 900.0),
        ("15m", 900.0),
        ("30m", 1800.0),
        ("1h", 3600.0),
        ("1.5h", 5400.0),
        ("1h30m", 5400.0),
        ("1m30", 90.0),
        ("2d", 172800.0),
        (" 15 M ", 900.0),
        (".5m", 30.0),
        ("0", 0.0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("30x", "--period must be a duration like 900, 90s, 15m, 1h or 1h30m"),
        ("", "got an empty value"),
        ("-5m", "--period must not be negative, got '-5m'"),
        ("30m1h", "each unit at most once, largest first"),
        ("1h1h", "each unit at most once, largest first"),
        ("nan", "got 'nan'"),
        ("1e3", "got '1e3'"),
        ("1 2", "got '1 2'"),
        ("m", "got 'm'"),
    ],
)
def test_parse_duration_rejects(text: str, message: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_duration(text, what="--period")
    assert isinstance(info.value, UserError)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (20, "20 s"),
        (90, "90 s"),
        (0.5, "0.5 s"),
        (900, "15m"),
        (3600, "1h"),
        (5400, "1h30m"),
        (86400, "1d"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
