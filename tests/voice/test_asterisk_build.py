"""``scripts/asterisk.sh``: a no-op once built, and loud about an archive that fails its check.

These runs never compile: the first finds the cached build ``make asterisk`` made (CI
builds it before the tests), the others stop at the checksum, before ``configure``, or
run a stand-in source tree whose ``configure`` hangs or fails.
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import tarfile
import time
from pathlib import Path

from callcenter.settings import Settings
from callcenter.voice.asterisk import find_install

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "asterisk.sh"


def _run(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_a_second_run_returns_the_cached_build_at_once() -> None:
    install = find_install(Settings.load().cache_dir)
    started = time.monotonic()
    done = _run({}, timeout=30)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.splitlines()[-1]).resolve() == install.prefix
    assert "(cached)" in done.stdout
    assert elapsed < 5  # the whole build takes minutes


def _vendor(folder: Path, tarball: bytes, listed: bytes) -> Path:
    """A vendor folder whose SHA256SUMS lists the sum of ``listed`` for ``tarball``."""
    folder.mkdir()
    (folder / "asterisk-22.10.1.tar.gz").write_bytes(tarball)
    (folder / "pjproject-2.17.tar.bz2").write_bytes(b"pj")
    sums = [
        f"{hashlib.sha256(listed).hexdigest()}  asterisk-22.10.1.tar.gz",
        f"{hashlib.sha256(b'pj').hexdigest()}  pjproject-2.17.tar.bz2",
    ]
    (folder / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    return folder


def test_a_local_copy_that_fails_its_checksum_stops_the_build(tmp_path: Path) -> None:
    vendor = _vendor(tmp_path / "vendor", b"tampered", listed=b"the release")
    done = _run({"CALLCENTER_VENDOR_DIR": str(vendor), "CALLCENTER_CACHE_DIR": str(tmp_path)})
    assert done.returncode != 0
    assert f"checksum mismatch in {vendor}" in done.stderr
    assert "configuring" not in done.stdout
    assert not list((tmp_path / "asterisk").glob("22.10.1-*"))  # nothing installed
    assert not (tmp_path / "asterisk" / "current-22.10.1").exists()


def test_a_local_copy_without_sums_is_refused(tmp_path: Path) -> None:
    vendor = _vendor(tmp_path / "vendor", b"the release", listed=b"the release")
    (vendor / "SHA256SUMS").unlink()
    done = _run({"CALLCENTER_VENDOR_DIR": str(vendor), "CALLCENTER_CACHE_DIR": str(tmp_path)})
    assert done.returncode != 0
    assert f"{vendor} has no SHA256SUMS" in done.stderr


def _fake_source(configure: str) -> bytes:
    """A release-shaped tarball whose only file is ``configure`` (a shell script)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        data = f"#!/bin/sh\n{configure}\n".encode()
        info = tarfile.TarInfo("asterisk-22.10.1/configure")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_an_interrupted_build_is_not_taken_for_a_finished_one(tmp_path: Path) -> None:
    hangs = _fake_source("sleep 60")
    env = {
        **os.environ,
        "CALLCENTER_VENDOR_DIR": str(_vendor(tmp_path / "vendor", hangs, listed=hangs)),
        "CALLCENTER_CACHE_DIR": str(tmp_path),
    }
    run = subprocess.Popen(
        ["bash", str(SCRIPT)], env=env, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert run.stdout is not None
    try:
        for line in run.stdout:
            if line.startswith("configuring"):
                break
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # the build is cut off mid-way
        run.wait()
    assert not list(tmp_path.rglob(".built"))
    assert not (tmp_path / "asterisk" / "current-22.10.1").exists()

    # The next run starts over (it configures again) and a failing step fails loudly.
    fails = _fake_source("echo 'configure: error: no compiler'; exit 1")
    (tmp_path / "vendor").rename(tmp_path / "vendor-old")
    vendor = _vendor(tmp_path / "vendor", fails, listed=fails)
    done = _run({"CALLCENTER_VENDOR_DIR": str(vendor), "CALLCENTER_CACHE_DIR": str(tmp_path)})
    assert done.returncode != 0
    assert "(cached)" not in done.stdout
    assert "configuring Asterisk 22.10.1" in done.stdout
    assert "configure: error: no compiler" in done.stderr
    assert "scripts/asterisk.sh: configure failed" in done.stderr
    assert not list(tmp_path.rglob(".built"))
