"""The compiled (mypyc) and pure-Python builds make the same decisions.

Where setup.py compiled the hot modules, a normal import loads the ``.so``; a subprocess
with a source-only import hook runs the ``.py`` files.  Both simulate the help desk and
must produce the same event log, byte for byte.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import orjson

from callcenter.sim import load_scenario, simulate

EXAMPLE = Path(__file__).parents[2] / "examples" / "helpdesk.yaml"

_PURE = """
import hashlib, importlib.machinery, sys
import orjson

class SourceOnly:
    def find_spec(self, name, path, target=None):
        if not name.startswith("callcenter.") or path is None:
            return None
        loader = (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES)
        for entry in path:
            spec = importlib.machinery.FileFinder(entry, loader).find_spec(name)
            if spec is not None:
                return spec
        return None

sys.meta_path.insert(0, SourceOnly())
from callcenter.sim import load_scenario, simulate
import callcenter.routing.engine as eng
assert eng.__file__.endswith(".py"), eng.__file__
h = hashlib.sha256()
simulate(load_scenario(sys.argv[1]), lambda b: h.update(orjson.dumps(b)))
print(h.hexdigest())
"""


def test_pure_python_and_compiled_builds_agree() -> None:
    h = hashlib.sha256()
    simulate(load_scenario(EXAMPLE), lambda b: h.update(orjson.dumps(b)))
    r = subprocess.run(
        [sys.executable, "-c", _PURE, str(EXAMPLE)], capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == h.hexdigest()
