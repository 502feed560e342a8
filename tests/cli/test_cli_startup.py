"""The CLI loads a command's dependencies when that command runs, not to build the app.

``callcenter --help`` and a small command must not import the heavy libraries (solver,
data frames, SQL, speech, web server, simulator); how long start-up takes is measured by
``bench/bench_cli.py``, not asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = (
    "alembic", "av", "ctranslate2", "faster_whisper", "fastapi", "matplotlib", "numpy",
    "ortools", "pandas", "polars", "pydantic_settings", "scipy", "simpy", "sqlalchemy",
    "starlette", "statsmodels", "uvicorn",
    "callcenter.api", "callcenter.live", "callcenter.sim", "callcenter.speech",
    "callcenter.storage", "callcenter.wfm",
)  # fmt: skip

# The real entry point in a fresh interpreter; the modules it loaded go to stderr last.
_RUN = """
import json, sys
from callcenter.cli.main import main
sys.argv = ["callcenter", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\n" + json.dumps(sorted(sys.modules)) + "\\n")
"""


def _loaded(*args: str) -> tuple[list[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, *args],
        capture_output=True,
        text=True,
        check=False,
        env={**env, "COLUMNS": "200"},
    )
    modules: list[str] = json.loads(proc.stderr.strip().splitlines()[-1])
    return modules, proc.stdout


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_help_loads_no_command_dependencies() -> None:
    modules, out = _loaded("--help")
    assert "erlang" in out and "schedule" in out and "serve" in out  # every command is there
    assert "callcenter.cli.schedule" in modules  # ... registered, without its solver
    assert _heavy(modules) == []


@pytest.mark.parametrize(
    "args",
    [
        ("erlang", "--calls", "100", "--period", "30m", "--aht", "180", "--target-sl", "0.8",
         "--target-time", "20"),
        ("db", "--help"),
        ("schedule", "--help"),
        ("analyze", "--help"),
    ],
)  # fmt: skip
def test_small_commands_load_no_heavy_dependencies(args: tuple[str, ...]) -> None:
    modules, out = _loaded(*args)
    assert out.strip()
    assert _heavy(modules) == []


def test_a_command_loads_its_dependencies_when_it_runs() -> None:
    modules, _out = _loaded("db", "upgrade", "--database", "sqlite://")
    assert "sqlalchemy" in modules and "callcenter.storage.database" in modules
