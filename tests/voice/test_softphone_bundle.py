"""The committed JsSIP bundle (``static/vendor/jssip.min.js``) is the pinned release,
built by ``scripts/build_js.sh`` from ``web-src/`` (no CDN: the pages work offline).

Truth: the exact versions pinned in ``web-src/package.json`` and its lock file; the
rebuild compares bytes with the committed files. The rebuild needs npm and npm's cache
holding the locked packages (``make js`` or ``scripts/bootstrap.sh`` fill it): it runs
``npm ci`` offline, so a test never downloads.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB_SRC = ROOT / "web-src"
VENDOR = ROOT / "src" / "callcenter" / "web" / "static" / "vendor"
EXACT = re.compile(r"\d+\.\d+\.\d+")


def _pins() -> dict[str, str]:
    package = json.loads((WEB_SRC / "package.json").read_text())
    return {**package["dependencies"], **package["devDependencies"]}


def test_versions_are_pinned_exactly_and_locked() -> None:
    pins = _pins()
    assert set(pins) == {"jssip", "esbuild"}
    lock = json.loads((WEB_SRC / "package-lock.json").read_text())["packages"]
    for name, version in pins.items():
        assert EXACT.fullmatch(version), f"{name} {version!r} is not an exact version"
        assert lock[f"node_modules/{name}"]["version"] == version
        assert lock[f"node_modules/{name}"]["integrity"].startswith("sha512-")


def test_the_committed_bundle_is_the_pinned_jssip() -> None:
    pins = _pins()
    bundle = (VENDOR / "jssip.min.js").read_text()
    first = bundle.splitlines()[0]
    assert first == (
        f"/*! JsSIP {pins['jssip']} (MIT, see jssip.LICENSE.md), bundled by esbuild "
        f"{pins['esbuild']} from web-src/ by scripts/build_js.sh */"
    )
    # JsSIP.version comes from its own package.json, which the bundle carries.
    assert (
        'name:"jssip",title:"JsSIP",description:"The Javascript SIP library",'
        f'version:"{pins["jssip"]}"' in bundle
    )
    assert "var JsSIP=" in bundle  # the IIFE's global, which softphone.js uses
    assert not re.search(r"\b(?:require|import)\s*\(", bundle.replace("__require", ""))
    assert not re.search(r"https?://(?:cdn|unpkg|jsdelivr)", bundle)
    license_text = (VENDOR / "jssip.LICENSE.md").read_text()
    assert "MIT" in license_text or "Permission is hereby granted" in license_text


def test_a_rebuild_is_byte_identical(tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed (apt-get install npm): the rebuild cannot run")
    env = {**os.environ, "JS_OUT_DIR": str(tmp_path), "npm_config_offline": "true"}
    run = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build_js.sh")],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, (
        "scripts/build_js.sh failed offline; npm's cache must hold the locked packages "
        f"(run `make js` once):\n{run.stderr[-2000:]}"
    )
    for name in ("jssip.min.js", "jssip.LICENSE.md"):
        assert (tmp_path / name).read_bytes() == (VENDOR / name).read_bytes(), name
