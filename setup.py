"""Build script: compiles the routing engine and simulator hot loop with mypyc.

mypyc (part of mypy) compiles these type-annotated modules to C extensions; the
simulator runs ~2-3x faster with them (bench/bench_sim.py).  The same modules stay
importable as plain Python: set CALLCENTER_PURE_PYTHON=1 to skip compilation, and a
machine without a C compiler falls back to the pure-Python modules with a warning.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

COMPILED = [
    "src/callcenter/routing/model.py",
    "src/callcenter/routing/state.py",
    "src/callcenter/routing/output.py",
    "src/callcenter/routing/core.py",
    "src/callcenter/routing/engine.py",
    "src/callcenter/sim/engine.py",
    "src/callcenter/storage/encode.py",
]


class OptionalBuildExt(build_ext):
    """Compile if possible; otherwise keep the pure-Python modules (same behaviour)."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as e:  # any compiler failure means "stay pure"
            print(f"warning: mypyc build skipped ({e}); using pure Python", file=sys.stderr)

    def build_extension(self, ext: object) -> None:
        try:
            super().build_extension(ext)  # type: ignore[arg-type]
        except Exception as e:
            print(f"warning: could not compile {ext}: {e}", file=sys.stderr)


ext_modules = []
if os.environ.get("CALLCENTER_PURE_PYTHON", "") not in ("1", "true", "yes"):
    try:
        from mypyc.build import mypycify

        ext_modules = mypycify(["--config-file", "mypyc.ini", *COMPILED], opt_level="3")
    except Exception as e:  # mypy missing or a type error: stay pure
        print(f"warning: mypyc unavailable ({e}); using pure Python", file=sys.stderr)

setup(ext_modules=ext_modules, cmdclass={"build_ext": OptionalBuildExt})
