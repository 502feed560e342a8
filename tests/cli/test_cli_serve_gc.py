"""``callcenter serve`` puts what it built before serving out of the cycle collector's
sight (``gc.freeze``): the app, its modules and tables live as long as the server, and a
full collection walking them stalled everything for ~150 ms under a burst of calls.

Run in a fresh interpreter (a freeze is process-wide) with ``uvicorn.run`` replaced by a
stub that reports how many objects are frozen when serving would start.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_RUN = """
import gc, sys
import uvicorn
from callcenter.cli.serve import run_server
from callcenter.settings import Settings

def serve(app, **options):
    sys.stdout.write(f"{gc.get_freeze_count()}\\n")

uvicorn.run = serve
run_server(Settings(database_url=sys.argv[1]))
"""


def test_serve_freezes_what_it_built_before_serving(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    env["CALLCENTER_DATA_DIR"] = str(tmp_path / "data")
    url = f"sqlite:///{tmp_path / 'c.db'}"
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, url],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )  # fmt: skip
    frozen = int(proc.stdout.strip().splitlines()[-1])
    assert frozen > 10_000, proc.stderr[-2000:]
