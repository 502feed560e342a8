"""Child processes of the SIP-client kit: free ports on 127.0.0.1, scratch folders, start
and stop, so that no SIP client outlives a test (each gets the Linux parent-death signal
and is stopped in ``finally``)."""

from __future__ import annotations

import atexit
import ctypes
import functools
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "HOST",
    "die_with_parent",
    "free_port",
    "free_sip_port",
    "need",
    "read_text",
    "scratch",
    "stop_process",
    "wait_until",
]

HOST = "127.0.0.1"
_PR_SET_PDEATHSIG = 1


@functools.cache
def _scratch_root() -> Path:
    """One folder per test process for the runs' files, removed when the process exits
    (the files outlive ``stop()``, so a test can read logs and recordings after it)."""
    root = Path(tempfile.mkdtemp(prefix="cc-sipkit-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def scratch(prefix: str) -> Path:
    """A new folder under :func:`_scratch_root`."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=_scratch_root()))


def free_port(kind: socket.SocketKind = socket.SOCK_DGRAM) -> int:
    """A port free on 127.0.0.1 now (UDP by default: then an even one below 65000, as RTP
    wants, with room above it for the ports SIPp and baresip count up from it)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, kind) as sock:
            sock.bind((HOST, 0))
            port: int = sock.getsockname()[1]
        if kind != socket.SOCK_DGRAM or (port % 2 == 0 and port < 65000):
            return port
    raise RuntimeError("no free even port on 127.0.0.1")


def free_sip_port() -> int:
    """An even port free on 127.0.0.1 for both UDP and TCP (baresip listens on both)."""
    for _ in range(100):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            try:
                tcp.bind((HOST, port))
            except OSError:
                continue
        return port
    raise RuntimeError("no port free for both UDP and TCP on 127.0.0.1")


def die_with_parent() -> None:
    """``preexec_fn``: the kernel SIGKILLs the child when the test process dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise RuntimeError(f"{program} is not installed (see scripts/asterisk.sh: apt packages)")
    return path


def stop_process(process: subprocess.Popen[bytes], grace_s: float = 5.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def read_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``check`` every 50 ms until true, or fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s:g} s")
        time.sleep(0.05)
