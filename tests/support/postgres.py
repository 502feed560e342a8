"""A throw-away, real PostgreSQL server for tests, from Debian's ``postgresql`` package.

``start_postgres(tmp_dir)`` runs ``initdb`` into a fresh directory and starts ``postgres``
on it, listening on 127.0.0.1 only (on a free port) and on a unix socket inside that
directory.  Authentication is ``trust``: anyone on this machine who can reach the port may
connect as the superuser, which is fine for a test cluster that holds nothing and lives
for one test session.  Durability is switched off (``fsync=off``, ...) for speed.

The binaries are taken by absolute path from ``/usr/lib/postgresql/<version>/bin``
(highest version present), never from ``$PATH``.  PostgreSQL refuses to run as root, so
when the tests run as root the server is run as the ``postgres`` system user that the
Debian package creates; as any other user it is run as that user.

The server must not outlive the test process, even when that process is SIGKILLed (no
``finally`` or ``atexit`` runs then, and a watchdog thread dies with its process).  We
therefore start the postmaster with the Linux *parent-death signal* (``prctl(2)``
``PR_SET_PDEATHSIG``) set to SIGINT, PostgreSQL's "fast shutdown": the kernel itself
delivers it when the test process dies, however it dies.  It is set in ``preexec_fn``,
which ``subprocess`` calls *after* switching to the ``postgres`` user (a change of
credentials clears the setting, which is also why ``runuser``/``su`` cannot be used as a
wrapper: they fork and switch user, and the setting is lost).  Two caveats of the
mechanism: the signal fires when the *thread* that started the server exits, so start
it from the main thread (pytest fixtures run there, also under xdist); and only the
server is stopped, its directory stays behind (pytest's own temporary directories are
pruned by pytest; the ones we make ourselves are swept by the next ``start_postgres``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

__all__ = ["PostgresServer", "find_postgres_bindir", "start_postgres"]

PG_ROOT = Path("/usr/lib/postgresql")
APT_PACKAGE = "postgresql"
SUPERUSER = "postgres"
MAINTENANCE_DB = "postgres"
# Prefix of the directories made under the system temporary directory when running as
# root (see ``_data_parent``); the number after it is the pid of the test process.
_OWN_TMP_PREFIX = "callcenter-pg-"
_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 15.0
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# Longest unix socket path the kernel accepts is 107 bytes (sun_path is 108 with the NUL).
_MAX_SOCKET_PATH = 107
# Options for a fast, private, disposable server.
_SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "unix_socket_permissions": "0700",
    "max_connections": "50",
    "shared_buffers": "32MB",
    "logging_collector": "off",
    "timezone": "UTC",
}


def find_postgres_bindir(root: Path = PG_ROOT) -> Path:
    """The ``bin`` directory of the highest PostgreSQL version installed under ``root``.

    Raises ``RuntimeError`` naming the apt package when there is none: tests that need a
    server must fail loudly, not skip.
    """
    found: list[tuple[tuple[int, ...], Path]] = []
    if root.is_dir():
        for bindir in root.glob("*/bin"):
            version = bindir.parent.name
            if not re.fullmatch(r"\d+(\.\d+)*", version):
                continue
            if all(os.access(bindir / exe, os.X_OK) for exe in ("initdb", "postgres")):
                found.append((tuple(int(p) for p in version.split(".")), bindir))
    if not found:
        raise RuntimeError(
            f"no PostgreSQL server binaries under {root}/<version>/bin; install the Debian "
            f"package: apt-get install {APT_PACKAGE}"
        )
    return max(found)[1]


@dataclass
class PostgresServer:
    """A running PostgreSQL server started by :func:`start_postgres`."""

    port: int
    base_dir: Path
    """Holds ``data/`` and the unix socket; removed by :meth:`stop`."""
    socket_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    user: str = SUPERUSER
    host: str = "127.0.0.1"
    _created: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``postgres`` maintenance database (superuser, trust)."""
        return self.url_for(MAINTENANCE_DB)

    def url_for(self, dbname: str) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of database ``dbname`` on this server."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def dsn_for(self, dbname: str) -> str:
        """libpq connection string (for psycopg directly) of database ``dbname``."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` and return its SQLAlchemy URL.

        ``name`` must be a plain identifier (lower-case letters, digits, ``_``; at most
        63 characters) so that it goes into URLs and SQL unquoted and unchanged.
        """
        if not _DB_NAME.fullmatch(name):
            raise ValueError(f"database name {name!r} is not a plain identifier")
        with psycopg.connect(self.dsn_for(MAINTENANCE_DB), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._created.append(name)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name``, disconnecting whoever is still connected to it."""
        with psycopg.connect(self.dsn_for(MAINTENANCE_DB), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def is_running(self) -> bool:
        """Whether the postmaster process is still alive."""
        return self.process.poll() is None

    def log(self) -> str:
        """The server's log so far (for error messages)."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """Fast shutdown (SIGINT; SIGKILL if it hangs), then remove the directory."""
        if self.is_running():
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.base_dir, ignore_errors=True)


def start_postgres(tmp_dir: Path) -> PostgresServer:
    """Initialise a new cluster under ``tmp_dir`` and start a server on it.

    ``tmp_dir`` must be private to the caller (e.g. from ``tmp_path_factory``); the
    cluster goes into a new subdirectory of it.  When running as root and the
    ``postgres`` user cannot reach ``tmp_dir`` (pytest's temporary directories are mode
    0700), the cluster goes into a new directory under the system temporary directory
    instead, and only the server log is kept in ``tmp_dir``.

    Blocks until the server accepts connections (a second or two, mostly ``initdb``).
    """
    bindir = find_postgres_bindir()
    tmp_dir = Path(tmp_dir).resolve()
    tmp_dir.mkdir(parents=True, exist_ok=True)
    run_as = _server_account()

    base_dir = _make_base_dir(tmp_dir, run_as)
    data_dir = base_dir / "data"
    socket_dir = base_dir
    if len(str(socket_dir / ".s.PGSQL.65535")) > _MAX_SOCKET_PATH:
        shutil.rmtree(base_dir, ignore_errors=True)
        raise RuntimeError(f"unix socket path under {socket_dir} would be too long")
    log_path = tmp_dir / f"{base_dir.name}.log"

    server: PostgresServer | None = None
    try:
        _initdb(bindir, data_dir, base_dir, log_path, run_as)
        last_error = ""
        for _attempt in range(5):
            port = _free_port()
            server = _launch(bindir, data_dir, socket_dir, base_dir, port, log_path, run_as)
            error = _wait_ready(server, data_dir)
            if error is None:
                return server
            last_error = error
            if "could not bind" not in error and "Address already in use" not in error:
                break
            # Someone took the port between our probe and the bind: try another one.
        raise RuntimeError(f"PostgreSQL did not start: {last_error}")
    except BaseException:  # also Ctrl-C while waiting: leave nothing running
        if server is not None:
            server.stop()
        shutil.rmtree(base_dir, ignore_errors=True)
        raise


def _server_account() -> pwd.struct_passwd | None:
    """The account to run the server as: ``postgres`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            "running as root, but there is no 'postgres' system user to run PostgreSQL as "
            f"(the Debian package creates it: apt-get install {APT_PACKAGE})"
        ) from None


def _make_base_dir(tmp_dir: Path, run_as: pwd.struct_passwd | None) -> Path:
    """A new private (0700) directory for the cluster, owned by the server account.

    Inside ``tmp_dir`` if the server account can reach it, else (root, with ``tmp_dir``
    under pytest's 0700 directories) under the system temporary directory, named after
    our pid so that :func:`_sweep_own_tmp` can tell when it is left over.
    """
    if run_as is None or _can_enter(tmp_dir, run_as):
        base_dir = Path(tempfile.mkdtemp(prefix="pg-", dir=tmp_dir))
    else:
        _sweep_own_tmp()
        base_dir = Path(tempfile.mkdtemp(prefix=f"{_OWN_TMP_PREFIX}{os.getpid()}-"))
    if run_as is not None:
        os.chown(base_dir, run_as.pw_uid, run_as.pw_gid)
    os.chmod(base_dir, 0o700)
    return base_dir


def _can_enter(path: Path, account: pwd.struct_passwd) -> bool:
    """Whether ``account`` may traverse every directory down to (and into) ``path``."""
    gids = set(os.getgrouplist(account.pw_name, account.pw_gid))
    for directory in [path, *path.parents]:
        st = directory.stat()
        if st.st_uid == account.pw_uid:
            ok = bool(st.st_mode & 0o100)
        elif st.st_gid in gids:
            ok = bool(st.st_mode & 0o010)
        else:
            ok = bool(st.st_mode & 0o001)
        if not ok:
            return False
    return True


def _sweep_own_tmp() -> None:
    """Remove cluster directories left under the system temp dir by killed test runs."""
    for leftover in Path(tempfile.gettempdir()).glob(f"{_OWN_TMP_PREFIX}*-*"):
        owner = leftover.name[len(_OWN_TMP_PREFIX) :].split("-", 1)[0]
        if not owner.isdigit() or _pid_alive(int(owner)):
            continue
        # The test process that made it is gone and its server got the parent-death
        # signal; still, leave it alone if a postmaster is running on it.
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid_file = leftover / "data" / "postmaster.pid"
            if _pid_alive(int(pid_file.read_text().splitlines()[0])):
                continue
        shutil.rmtree(leftover, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _initdb(
    bindir: Path,
    data_dir: Path,
    cwd: Path,
    log_path: Path,
    run_as: pwd.struct_passwd | None,
) -> None:
    cmd = [
        str(bindir / "initdb"),
        f"--pgdata={data_dir}",
        f"--username={SUPERUSER}",
        "--auth=trust",
        "--encoding=UTF8",
        "--no-locale",
        "--no-sync",
        "--no-instructions",
    ]
    result = subprocess.run(
        cmd,
        cwd=cwd,
        env=_child_env(run_as),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        check=False,
        user=None if run_as is None else run_as.pw_uid,
        group=None if run_as is None else run_as.pw_gid,
        extra_groups=None if run_as is None else [],
    )
    if result.returncode != 0:
        log_path.write_bytes(result.stdout)
        raise RuntimeError(
            f"initdb failed (exit {result.returncode}):\n{result.stdout.decode(errors='replace')}"
        )


def _launch(
    bindir: Path,
    data_dir: Path,
    socket_dir: Path,
    cwd: Path,
    port: int,
    log_path: Path,
    run_as: pwd.struct_passwd | None,
) -> PostgresServer:
    settings = {**_SERVER_SETTINGS, "port": str(port), "unix_socket_directories": str(socket_dir)}
    cmd = [str(bindir / "postgres"), "-D", str(data_dir)]
    for name, value in settings.items():
        cmd += ["-c", f"{name}={value}"]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=_child_env(run_as),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Own session: a Ctrl-C at the terminal goes to pytest, which then stops the
            # server in fixture teardown; the server never sees the terminal's signals.
            start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),
            user=None if run_as is None else run_as.pw_uid,
            group=None if run_as is None else run_as.pw_gid,
            extra_groups=None if run_as is None else [],
        )
    return PostgresServer(
        port=port,
        base_dir=cwd,
        socket_dir=socket_dir,
        process=process,
        log_path=log_path,
    )


def _child_env(run_as: pwd.struct_passwd | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    env["TZ"] = "UTC"
    if run_as is not None:
        env.update(HOME=run_as.pw_dir, USER=run_as.pw_name, LOGNAME=run_as.pw_name)
    return env


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    """A ``preexec_fn`` arranging SIGINT (fast shutdown) when ``parent_pid`` dies."""
    if not sys.platform.startswith("linux"):
        raise RuntimeError("the PostgreSQL test server relies on Linux prctl(2)")
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGINT, 0, 0, 0) != 0:
            os._exit(127)
        # The parent may have died before prctl took effect: then nobody will signal us.
        if os.getppid() != parent_pid:
            os._exit(1)

    return preexec


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(server: PostgresServer, data_dir: Path) -> str | None:
    """Wait until the postmaster reports "ready"; the error text if it exits instead."""
    pid_file = data_dir / "postmaster.pid"
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        code = server.process.poll()
        if code is not None:
            return f"postgres exited with status {code}: {_tail(server.log_path)}"
        # Line 8 of postmaster.pid is the postmaster's status, "ready" once it accepts
        # connections (this is what pg_ctl waits for).
        with contextlib.suppress(OSError):
            lines = pid_file.read_text().splitlines()
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return None
        time.sleep(0.02)
    return (
        f"postgres did not become ready within {_START_TIMEOUT_S:.0f} s: {_tail(server.log_path)}"
    )


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text: Sequence[str] = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])
