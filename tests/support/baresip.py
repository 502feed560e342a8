"""baresip as an agent's SIP desk phone in the voice tests (see :class:`Baresip`)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.sip_process import (
    HOST,
    die_with_parent,
    free_port,
    free_sip_port,
    need,
    read_text,
    scratch,
    stop_process,
)

__all__ = ["Baresip"]

_BARESIP_MODULES = "/usr/lib/baresip/modules"


@dataclass
class Baresip:
    """baresip as an agent's desk phone, registered to Asterisk.

    It speaks ``source`` (a 16-bit PCM WAV, e.g. ``Clip.pcm``) and writes what it hears
    to :attr:`heard` (baresip's ``aufile`` player), G.711 only, SIP on 127.0.0.1.
    ``auto_answer`` answers every call at once (``answermode=auto``); without it the
    phone rings until the caller gives up (a test's "no answer").

        with Baresip(("127.0.0.1", sip_port), "agent1", "secret", source=clip.pcm) as phone:
            phone.wait_registered()
    """

    registrar: tuple[str, int]
    user: str
    password: str
    source: Path
    auto_answer: bool = True
    register: bool = True
    """False: a caller from a carrier's address (no REGISTER; see :meth:`dial`)."""
    hold_s: float = 120.0
    """Silence added after ``source``: baresip 1.0 hangs up when its source file ends."""
    port: int = field(default_factory=free_sip_port)
    ctrl_port: int = field(default_factory=lambda: free_port(socket.SOCK_STREAM))
    folder: Path = field(default_factory=lambda: scratch("baresip-"))
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def heard(self) -> Path:
        """What the phone heard in its last call: the decoded audio that baresip's
        ``sndfile`` module dumps (``dump-<time>-dec.wav``; 1.0's ``aufile`` only reads)."""
        dumps = sorted(self.folder.glob("dump-*-dec.wav"))
        if not dumps:
            raise AssertionError(f"baresip wrote no received audio in {self.folder}")
        return dumps[-1]

    @property
    def said(self) -> Path:
        """What the phone sent in its last call (``dump-<time>-enc.wav``)."""
        dumps = sorted(self.folder.glob("dump-*-enc.wav"))
        if not dumps:
            raise AssertionError(f"baresip wrote no sent audio in {self.folder}")
        return dumps[-1]

    @property
    def log_path(self) -> Path:
        return self.folder / "baresip.log"

    def _write_config(self) -> None:
        host, port = self.registrar
        mode = "auto" if self.auto_answer else "manual"
        auth = f";auth_pass={self.password};regint=300" if self.register else ";regint=0"
        (self.folder / "accounts").write_text(
            f"<sip:{self.user}@{host}:{port}>{auth};answermode={mode};audio_codecs=PCMU,PCMA\n"
        )
        (self.folder / "config").write_text(
            f"sip_listen\t\t{HOST}:{self.port}\n"
            f"net_interface\t\t{HOST}\n"
            f"rtp_ports\t\t{self.port + 2}-{self.port + 200}\n"
            f"audio_source\t\taufile,{self.folder / 'source.wav'}\n"
            f"snd_path\t\t{self.folder}\n"
            "ausrc_srate\t\t8000\nauplay_srate\t\t8000\nausrc_channels\t\t1\n"
            "auplay_channels\t\t1\n"
            f"module_path\t\t{_BARESIP_MODULES}\n"
            "module\t\t\tg711.so\nmodule\t\t\taufile.so\nmodule\t\t\tsndfile.so\n"
            "module_app\t\taccount.so\nmodule_app\t\tctrl_tcp.so\nmodule_app\t\tmenu.so\n"
            f"ctrl_tcp_listen\t\t{HOST}:{self.ctrl_port}\n"
        )

    def start(self) -> Baresip:
        """Start baresip and wait until it is ready (its ports bound). A port taken by
        another program between choosing and binding it: new ports, up to 3 tries."""
        padded = self.folder / "source.wav"
        done = subprocess.run(
            [need("sox"), str(self.source), str(padded), "pad", "0", f"{self.hold_s:g}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"sox could not pad {self.source}: {done.stderr}")
        for attempt in range(3):
            self._write_config()
            log = open(self.log_path, "wb")  # noqa: SIM115 (the child keeps it)
            try:
                self.process = subprocess.Popen(
                    [need("baresip"), "-f", str(self.folder)], stdin=subprocess.DEVNULL,
                    stdout=log, stderr=subprocess.STDOUT, cwd=self.folder,
                    preexec_fn=die_with_parent,
                )  # fmt: skip
            finally:
                log.close()
            try:
                self.wait_for_log(r"baresip is ready\.", timeout_s=10)
                return self
            except AssertionError:
                self.stop()
                if attempt == 2 or "Address already in use" not in self.log():
                    raise
                self.port, self.ctrl_port = free_sip_port(), free_port(socket.SOCK_STREAM)
        raise AssertionError("unreachable")  # pragma: no cover

    def log(self) -> str:
        return read_text(self.log_path)

    def wait_for_log(self, pattern: str, timeout_s: float = 10.0) -> re.Match[str]:
        """The first match of ``pattern`` in baresip's output, waiting up to ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            match = re.search(pattern, self.log())
            if match:
                return match
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"baresip exited ({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"baresip: no {pattern!r} within {timeout_s:g} s:\n{self.log()}"
                )
            time.sleep(0.05)

    def wait_registered(self, timeout_s: float = 10.0) -> None:
        """Until baresip says the registration succeeded (200 OK from the registrar)."""
        self.wait_for_log(rf"{re.escape(self.user)}@\S+: \{{\d+/UDP/v4\}} 200 OK", timeout_s)

    def command(self, command: str, params: str = "") -> dict[str, Any]:
        """Run a command through baresip's ``ctrl_tcp`` and return its response
        (``{"response": true, "ok": ..., "data": ...}``). The protocol is JSON in
        netstrings (``<length>:<json>,``); events that arrive before the response are
        skipped."""
        body = json.dumps({"command": command, "params": params, "token": "cc"}).encode()
        with socket.create_connection((HOST, self.ctrl_port), timeout=5) as sock:
            sock.sendall(b"%d:%s," % (len(body), body))
            buffer = b""
            while True:
                while b":" in buffer:
                    length, _, rest = buffer.partition(b":")
                    if len(rest) < int(length) + 1:
                        break
                    message: dict[str, Any] = json.loads(rest[: int(length)])
                    buffer = rest[int(length) + 1 :]
                    if message.get("response"):
                        return message
                chunk = sock.recv(65536)
                if not chunk:
                    raise AssertionError(f"baresip closed ctrl_tcp before answering {command}")
                buffer += chunk

    def dial(self, number: str) -> None:
        """Call ``number`` at the registrar (Asterisk); with ``register=False`` the
        INVITE comes from 127.0.0.1 like a carrier's, so an ip trunk takes it."""
        host, port = self.registrar
        done = self.command("dial", f"sip:{number}@{host}:{port}")
        if not done.get("ok"):
            raise AssertionError(f"baresip would not dial {number}: {done}")

    def hang_up(self) -> None:
        self.command("hangup")

    def is_registered(self) -> bool:
        """Whether baresip's own account list (``reginfo``) shows the account as OK."""
        data = str(self.command("reginfo").get("data", ""))
        return bool(re.search(rf"sip:{re.escape(self.user)}@\S+\s+\S*OK\b", data))

    def stop(self) -> None:
        """Quit baresip: the ``quit`` command (it unregisters and closes the WAV dumps),
        then SIGTERM/SIGKILL if it is still there. Idempotent."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.command("quit")  # it waits for its un-REGISTER to be answered (or not)
            self.process.wait(timeout=2)
        except (OSError, AssertionError, subprocess.TimeoutExpired):
            pass
        stop_process(self.process, grace_s=2)

    def __enter__(self) -> Baresip:
        return self.start()

    def __exit__(self, _type: object, exc: BaseException | None, _tb: object) -> None:
        self.stop()
        if exc is not None:
            exc.add_note(f"baresip {self.user} ({self.folder}):\n{self.log()[-3000:]}")
