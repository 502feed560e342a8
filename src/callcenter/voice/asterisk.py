"""The embedded Asterisk: find the build, start it as our child, wait for ARI, stop it.

``scripts/asterisk.sh`` builds the pinned release once per machine into
``<cache_dir>/asterisk/<version>-<key>/`` and points ``current-<version>`` at it;
:func:`find_install` follows that link (or takes an install folder it is given).

:func:`start_asterisk` writes a private configuration (:mod:`.asterisk_config`) into a
new folder under the system temporary folder — short on purpose: Asterisk's control
socket lives in it, and a unix socket path may not exceed 107 bytes — and runs
``asterisk -f -C <that>/etc/asterisk.conf`` as a child process.  The child gets the
Linux parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGKILL)``), so it dies with the
process that started it even when that one is SIGKILLed.  HTTP (ARI) and SIP listen on
127.0.0.1, on free ports; the ARI user and password are random and appear only in the
0600 ``ari.conf`` and in :class:`RunningAsterisk` (never in its ``repr`` or a message).
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import functools
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from callcenter.errors import UserError
from callcenter.voice.asterisk_config import AsteriskConfig, write_config

__all__ = [
    "ASTERISK_VERSION",
    "BUILD_SCRIPT",
    "AsteriskError",
    "AsteriskInstall",
    "AsteriskMissingError",
    "RunningAsterisk",
    "find_install",
    "start_asterisk",
]

ASTERISK_VERSION = "22.10.1"
"""The pinned release ``scripts/asterisk.sh`` builds."""
BUILD_SCRIPT = "scripts/asterisk.sh"
_MARKER = ".built"  # written last by the build script: its absence means "not finished"
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 15.0
_START_TRIES = 3
_READY = "Asterisk Ready."  # printed once every module is loaded
_BIND_FAILED = "Address already in use"


class AsteriskMissingError(UserError):
    """No finished Asterisk build where one was looked for."""


class AsteriskError(RuntimeError):
    """Asterisk did not start, or did not answer ARI in time (the message has its log)."""


@dataclass(frozen=True, slots=True)
class AsteriskInstall:
    """A finished build of :data:`ASTERISK_VERSION` (the folder ``make install`` filled)."""

    prefix: Path

    @property
    def binary(self) -> Path:
        return self.prefix / "sbin" / "asterisk"

    @property
    def lib_dir(self) -> Path:
        """``libasteriskpj``/``libasteriskssl``: the binary needs them on its library path."""
        return self.prefix / "lib"

    @property
    def modules_dir(self) -> Path:
        return self.prefix / "lib" / "asterisk" / "modules"


def find_install(cache_dir: Path, prefix: Path | None = None) -> AsteriskInstall:
    """The build ``scripts/asterisk.sh`` made under ``cache_dir`` (or the one at ``prefix``).

    Raises :class:`AsteriskMissingError` — one line naming the folder looked at and the
    script that builds it — when there is none, or an unfinished one.
    """
    if prefix is None:
        where = cache_dir.expanduser() / "asterisk" / f"current-{ASTERISK_VERSION}"
    else:
        where = prefix.expanduser()
    install = AsteriskInstall(where.resolve())
    finished = (install.prefix / _MARKER).is_file() or prefix is not None
    if not (finished and os.access(install.binary, os.X_OK) and install.modules_dir.is_dir()):
        raise AsteriskMissingError(
            f"no Asterisk {ASTERISK_VERSION} build at {where}: run `bash {BUILD_SCRIPT}` "
            "(or `make asterisk`) to build it"
        )
    return install


@dataclass
class RunningAsterisk:
    """An Asterisk started by :func:`start_asterisk`; :meth:`stop` ends it."""

    install: AsteriskInstall
    config: AsteriskConfig
    process: subprocess.Popen[bytes]
    ready: bool = False
    """Set once it has booted and answered ARI (until then SIGTERM waits for the boot)."""
    _stopped: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def http_url(self) -> str:
        return f"http://{self.config.host}:{self.config.http_port}"

    @property
    def ari_url(self) -> str:
        """Base of the ARI REST API, e.g. ``http://127.0.0.1:PORT/ari``."""
        return f"{self.http_url}/ari"

    @property
    def events_url(self) -> str:
        """ARI's event WebSocket for our application (credentials go in a header)."""
        return f"ws://{self.config.host}:{self.config.http_port}/ari/events?app={self.config.app}"

    @property
    def ari_auth(self) -> tuple[str, str]:
        """ARI user and password (HTTP basic auth)."""
        return self.config.ari_user, self.config.ari_password

    @property
    def log_path(self) -> Path:
        """Asterisk's own ``messages.log`` (notices, warnings, errors)."""
        return self.config.log_dir / "messages.log"

    def is_running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of Asterisk's console output and ``messages.log``."""
        out: list[str] = []
        for path in (self.config.log_dir / "console.out", self.log_path):
            try:
                out += path.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
        return "\n".join(out)

    def stop(self) -> None:
        """Shut Asterisk down (SIGTERM: its orderly shutdown; SIGKILL if it hangs, or at
        once if it never got ready: it holds nothing then) and remove its folder.
        Idempotent."""
        if self.is_running() and not self.ready:
            self.process.kill()
            self.process.wait()
        if self.is_running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self._stopped:
            self._stopped = True
            shutil.rmtree(self.config.base_dir, ignore_errors=True)

    def __enter__(self) -> RunningAsterisk:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_asterisk(
    install: AsteriskInstall,
    *,
    app: str = "callcenter",
    timeout_s: float = _START_TIMEOUT_S,
    extra: Mapping[str, str] | None = None,
    host: str = "127.0.0.1",
    sip_port: int = 0,
    http_port: int = 0,
    db_dir: Path | None = None,
) -> RunningAsterisk:
    """Start a private Asterisk and return once it is ready and ARI answers us.

    Raises :class:`AsteriskError` with the end of Asterisk's log when it exits or does
    not answer within ``timeout_s``; the process is stopped and its folder removed then.
    The ports are free when chosen, but another process may take one before Asterisk
    binds it: Asterisk then logs "Address already in use" and runs on without it, so
    that is watched for and the start retried on new ports (3 tries in all).
    ``extra`` is text appended to generated files, by file name
    (:attr:`AsteriskConfig.extra`). ``host`` is the address SIP, HTTP and RTP listen
    on; a port of 0 is any free port (a port given and taken by another program is an
    error at once, naming it). ``db_dir``: a folder for Asterisk's own database that
    outlives the instance (:attr:`AsteriskConfig.db_dir`).
    """
    ports = _Ports(host, sip_port, http_port)
    if db_dir is not None:
        db_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for attempt in range(1, _START_TRIES + 1):
        try:
            return _start_once(install, app, timeout_s, extra or {}, ports, db_dir)
        except _PortTakenError as e:
            if sip_port and http_port:
                raise AsteriskError(
                    f"Asterisk could not listen on {host} (SIP port {sip_port}, HTTP port "
                    f"{http_port}): a port is taken by another program; pick other ports "
                    "(voice_sip_port, voice_http_port)"
                ) from e
            if attempt == _START_TRIES:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class _Ports:
    host: str
    sip: int  # 0: a free one
    http: int


class _PortTakenError(AsteriskError):
    """A port chosen for Asterisk was taken by another process before Asterisk bound it."""


def _start_once(
    install: AsteriskInstall,
    app: str,
    timeout_s: float,
    extra: Mapping[str, str],
    ports: _Ports,
    db_dir: Path | None,
) -> RunningAsterisk:
    base_dir = Path(tempfile.mkdtemp(prefix="cc-ast-"))
    config = AsteriskConfig(
        modules_dir=install.modules_dir,
        base_dir=base_dir,
        http_port=ports.http or _free_port(socket.SOCK_STREAM, ports.host),
        sip_port=ports.sip or _free_port(socket.SOCK_DGRAM, ports.host),
        host=ports.host,
        ari_user=f"cc-{secrets.token_hex(4)}",
        ari_password=secrets.token_urlsafe(32),
        app=app,
        extra=dict(extra),
        db_dir=db_dir,
    )
    conf = write_config(config)
    console = open(config.log_dir / "console.out", "wb")  # noqa: SIM115 (the child keeps it)
    try:

        def spawn() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [str(install.binary), "-f", "-n", "-C", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                cwd=base_dir,
                env=_child_env(install),
                preexec_fn=_die_with_parent(os.getpid()),  # prctl must run in the child
            )

        process = _spawner().submit(spawn).result()
    finally:
        console.close()
    running = RunningAsterisk(install, config, process)
    try:
        _wait_ready(running, timeout_s)
        running.ready = True
    except BaseException:
        running.stop()
        raise
    return running


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _wait_ready(running: RunningAsterisk, timeout_s: float) -> None:
    """Until ARI answers 200 and Asterisk has said "Asterisk Ready." (all modules loaded)."""
    deadline = time.monotonic() + timeout_s
    url = f"{running.ari_url}/asterisk/info"
    console = running.config.log_dir / "console.out"
    # Short: a local ARI answers in milliseconds, and a port taken by a silent program
    # must not hold up the look at the log.
    with httpx.Client(auth=running.ari_auth, timeout=0.5) as client:
        while time.monotonic() < deadline:
            code = running.process.poll()
            if code is not None:
                raise AsteriskError(
                    f"Asterisk exited with status {code} while starting:\n{running.log_tail()}"
                )
            if _BIND_FAILED in _read(running.log_path):
                raise _PortTakenError(f"a port of Asterisk was taken:\n{running.log_tail()}")
            try:
                answered = client.get(url).status_code == httpx.codes.OK
            except httpx.TransportError:
                answered = False  # not listening yet
            if answered and _READY in _read(console):
                # Module load errors were logged before "ready"; one last look.
                if _BIND_FAILED in _read(running.log_path):
                    raise _PortTakenError(f"a port of Asterisk was taken:\n{running.log_tail()}")
                return
            time.sleep(0.05)
    raise AsteriskError(
        f"Asterisk did not answer ARI at {url} within {timeout_s:g} s:\n{running.log_tail()}"
    )


def _child_env(install: AsteriskInstall) -> dict[str, str]:
    """A fixed environment: none of ours (settings, secrets) reaches Asterisk."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "LD_LIBRARY_PATH": str(install.lib_dir),
        "LC_ALL": "C",
    }


@functools.cache
def _spawner() -> concurrent.futures.ThreadPoolExecutor:
    """The one thread that forks Asterisk. The kernel sends the parent-death signal when
    the *thread* that forked the child ends, not the process: started from a worker
    thread that a pool later retires (anyio's retire after 10 s idle), Asterisk was
    SIGKILLed in the middle of its calls. This thread lives as long as the process."""
    return concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="asterisk-spawner")


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    """A ``preexec_fn`` making the kernel SIGKILL the child when ``parent_pid`` dies."""
    if not sys.platform.startswith("linux"):
        raise AsteriskError("the embedded Asterisk relies on Linux prctl(2)")
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            os._exit(127)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def _free_port(kind: socket.SocketKind, host: str) -> int:
    """A port free on ``host`` now (the kernel's choice; Asterisk binds it just after)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
