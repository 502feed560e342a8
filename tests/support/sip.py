"""Real SIP clients for the voice tests: SIPp (the carrier, desk phones) and baresip.

Nothing here speaks SIP or RTP itself: SIPp (Debian ``sip-tester`` 3.6.1, built with
RTPSTREAM and PCAP) and baresip do; this module writes their inputs, starts them as
child processes on 127.0.0.1 with free ports, reads their logs, and stops them (in
``finally``; each child also gets the Linux parent-death signal, so none outlives the
test process).

The carrier, a call with speech and DTMF, in a few lines::

    call = carrier_call(
        asterisk_sip=("127.0.0.1", asterisk.config.sip_port), did="5551000",
        caller="79161234567", audio=clip,  # a tests.support.audio.Clip
        dtmf=[Dtmf(1.0, "1"), Dtmf(1.5, "2", info=True)], hangup_after_s=4.0,
    )
    with call:                      # starts SIPp; stops it on the way out, whatever happens
        ...                         # drive Asterisk (ARI) meanwhile
        call.wait().assert_ok()     # 1 successful call, or SIPp's error log in the message

An agent's SIPp desk phone: :func:`register_phone` (REGISTER with digest auth; returns
the :class:`SippResult`) and :func:`agent_phone` (the UAS that answers, or
``busy=True`` for 486). baresip: :class:`Baresip`.

Scenario files live in ``tests/voice/sipp/``. SIPp substitutes ``-key``/``-s``/``-au``
values in messages at run time, but reads ``exec``/``pause``/``recv timeout``
attributes when it loads the file; those (audio file, DTMF steps, pauses, the end of the
call) are ``@NAME@`` placeholders filled in here into a copy in the run's folder.

DTMF both ways SIPp can send it:

- **RFC 4733** (RTP telephone-events, payload 101): in the caller's one RTP stream,
  which :mod:`tests.support.rtp_pcap` writes as a pcap (µ-law speech, events at their
  times) and SIPp replays with ``play_pcap_audio`` from its ``-mp`` port — the port the
  SDP offers. SIPp replays pcaps through a raw socket: it must run as root (or with
  CAP_NET_RAW), as the tests here do. (Why not ``rtp_stream`` + ``play_dtmf``: see
  :mod:`tests.support.rtp_pcap`.)
- **SIP INFO** with ``application/dtmf-relay`` (``Signal=5``, ``Duration=160``).

The desk phone's audio (:func:`agent_phone`) is SIPp's ``rtp_stream``, which sends the
bytes of a file as the RTP payload unchanged, 160 per 20 ms: it must already be G.711
µ-law, without a header (``Clip.ulaw``; a WAV's header would go out as sound).

Process helpers (free ports, scratch folders, stopping) are in
:mod:`tests.support.sip_process`; :class:`Baresip` is in :mod:`tests.support.baresip`
and re-exported here.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.rtp_pcap import write_rtp_pcap
from tests.support.sip_process import (
    HOST,
    die_with_parent,
    free_port,
    need,
    read_text,
    scratch,
    stop_process,
)

__all__ = [
    "SCENARIOS",
    "Baresip",
    "Dtmf",
    "Sipp",
    "SippResult",
    "agent_phone",
    "carrier_call",
    "carrier_cancel",
    "carrier_refused",
    "free_port",
    "register_phone",
]

SCENARIOS = Path(__file__).resolve().parents[1] / "voice" / "sipp"
"""``tests/voice/sipp``: the SIPp scenario files."""
DTMF_DIGITS = frozenset("0123456789*#ABCD")


# --- SIPp --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SippResult:
    """What one SIPp run did, read from its own statistics and logs."""

    returncode: int
    """SIPp's exit status: 0 every call succeeded, 1 some failed, 97 stopped by an
    internal command, 99 no call was made, 255/254 fatal error (binding a socket...)."""
    successful: int
    failed: int
    received: tuple[str, ...]
    """First lines of the SIP messages received, in order (``SIP/2.0 200 OK``, ``BYE ...``)."""
    errors: str
    """SIPp's error log (``-trace_err``) and the end of its screen output."""
    folder: Path

    @property
    def status_codes(self) -> list[int]:
        """Status codes of the responses received, in order."""
        return [int(line.split()[1]) for line in self.received if line.startswith("SIP/2.0 ")]

    @property
    def requests(self) -> list[str]:
        """Methods of the requests received, in order."""
        return [line.split()[0] for line in self.received if not line.startswith("SIP/2.0 ")]

    def assert_ok(self, calls: int = 1) -> None:
        """``calls`` successful calls and none failed, or an AssertionError with the log."""
        if (self.returncode, self.successful, self.failed) != (0, calls, 0):
            raise AssertionError(
                f"SIPp: {self.successful} of {calls} calls successful, {self.failed} failed, "
                f"exit status {self.returncode}; responses received {self.status_codes}; "
                f"requests received {self.requests}\n{self.errors[-4000:]}"
            )


@dataclass
class Sipp:
    """One SIPp process running a scenario of ``tests/voice/sipp/`` (or another file).

    ``fill`` fills the scenario's ``@NAME@`` placeholders; ``keys`` become ``-key``,
    ``variables`` ``-set``; ``service`` is ``-s`` (the Request-URI user). ``calls``/
    ``limit``/``rate`` are ``-m``/``-l``/``-r`` (calls per second). With ``target`` None
    SIPp is a server (UAS) that takes calls on ``port``.
    """

    scenario: str | Path
    target: tuple[str, int] | None = None
    service: str | None = None
    keys: Mapping[str, str] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict)
    fill: Mapping[str, str] = field(default_factory=dict)
    calls: int = 1
    limit: int | None = None
    rate: float | None = None
    auth: tuple[str, str] | None = None
    port: int = field(default_factory=free_port)
    media_port: int = field(default_factory=free_port)
    timeout_s: float = 60.0
    extra_args: Sequence[str] = ()
    folder: Path = field(default_factory=lambda: scratch("sipp-"))
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _result: SippResult | None = field(default=None, init=False)

    @property
    def name(self) -> str:
        return Path(self.scenario).stem

    def _scenario_file(self) -> Path:
        path = Path(self.scenario)
        if not path.is_absolute() and not path.exists():
            path = SCENARIOS / (path.name if path.suffix else f"{path.name}.xml")
        text = path.read_text(encoding="iso-8859-1")
        for name, value in self.fill.items():
            text = text.replace(f"@{name}@", value)
        left = sorted(set(re.findall(r"@([A-Z_]+)@", text)))
        if left:
            raise ValueError(f"scenario {path.name}: placeholders not filled: {', '.join(left)}")
        out = self.folder / path.name
        out.write_text(text, encoding="iso-8859-1")
        return out

    def command(self) -> list[str]:
        scenario = self._scenario_file()
        args = [
            need("sipp"), "-sf", str(scenario), "-i", HOST, "-p", str(self.port),
            "-mi", HOST, "-mp", str(self.media_port), "-m", str(self.calls), "-nostdin",
            "-timeout", f"{self.timeout_s:g}s", "-timeout_error",
            "-trace_stat", "-stf", str(self.folder / "stat.csv"), "-fd", "1",
            "-trace_err", "-error_file", str(self.folder / "errors.log"),
            "-trace_msg", "-message_file", str(self.folder / "messages.log"),
            # answer OPTIONS (Asterisk's qualify of a registered phone), INFO, NOTIFY and
            # UPDATE with 200 outside the scenario: a phone's SIPp is not taken up by them
            "-aa",
        ]  # fmt: skip
        if self.limit is not None:
            args += ["-l", str(self.limit)]
        if self.rate is not None:
            args += ["-r", f"{self.rate:g}"]
        if self.service is not None:
            args += ["-s", self.service]
        if self.auth is not None:
            args += ["-au", self.auth[0], "-ap", self.auth[1]]
        for key, value in self.keys.items():
            args += ["-key", key, value]
        for var, value in self.variables.items():
            args += ["-set", var, value]
        args += list(self.extra_args)
        if self.target is not None:
            args.append(f"{self.target[0]}:{self.target[1]}")
        return args

    def start(self) -> Sipp:
        if self.process is not None:
            raise RuntimeError(f"SIPp {self.name} already started")
        out = open(self.folder / "screen.log", "wb")  # noqa: SIM115 (the child keeps it)
        try:
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=self.folder, preexec_fn=die_with_parent,
            )  # fmt: skip
        finally:
            out.close()
        return self

    def wait(self, timeout_s: float | None = None) -> SippResult:
        """Wait for SIPp to finish (killing it after ``timeout_s``, default its own timeout
        plus 10 s) and read what it did."""
        if self.process is None:
            raise RuntimeError(f"SIPp {self.name} was not started")
        try:
            self.process.wait(timeout=timeout_s if timeout_s is not None else self.timeout_s + 10)
        except subprocess.TimeoutExpired:
            stop_process(self.process)
        self._result = self._read(self.process.returncode)
        return self._result

    def run(self, timeout_s: float | None = None) -> SippResult:
        """Start, wait, stop: the whole run."""
        with self:
            return self.wait(timeout_s)

    def stop(self) -> None:
        """Stop SIPp if it runs (SIGTERM, then SIGKILL). Idempotent."""
        if self.process is not None:
            stop_process(self.process)

    def __enter__(self) -> Sipp:
        return self.start()

    def __exit__(self, _type: object, exc: BaseException | None, _tb: object) -> None:
        self.stop()
        if exc is not None and self.process is not None:
            # A test that failed waiting for Asterisk often failed because SIPp did:
            # its log goes with the failure.
            result = self._read(self.process.returncode)
            exc.add_note(f"SIPp {self.name} (exit status {result.returncode}):\n"
                         f"{result.errors[-3000:]}")  # fmt: skip

    def _read(self, returncode: int) -> SippResult:
        successful = failed = 0
        stat = self.folder / "stat.csv"
        if stat.exists():
            rows = [r.split(";") for r in stat.read_text(errors="replace").splitlines() if r]
            if len(rows) >= 2:
                last = dict(zip(rows[0], rows[-1], strict=False))
                successful = int(last.get("SuccessfulCall(C)", "0") or 0)
                failed = int(last.get("FailedCall(C)", "0") or 0)
        messages = read_text(self.folder / "messages.log")
        received = tuple(
            m.group(1).strip()
            for m in re.finditer(r"message received \[\d+\] bytes :\s*\n+(.+)", messages)
        )
        screen = read_text(self.folder / "screen.log")
        errors = read_text(self.folder / "errors.log") + "\n" + "\n".join(screen.splitlines()[-30:])
        return SippResult(returncode, successful, failed, received, errors, self.folder)


@dataclass(frozen=True, slots=True)
class Dtmf:
    """A DTMF digit sent ``at_s`` seconds after the call is answered (the ACK)."""

    at_s: float
    digit: str
    info: bool = False
    """SIP INFO (``application/dtmf-relay``) instead of RFC 4733 RTP events."""
    duration_ms: int = 160

    def __post_init__(self) -> None:
        if len(self.digit) != 1 or self.digit not in DTMF_DIGITS:
            raise ValueError(f"DTMF digit {self.digit!r}: expected one of 0-9 * # A-D")
        if self.at_s < 0:
            raise ValueError(f"DTMF at_s {self.at_s}: expected >= 0 (seconds after answer)")


_INFO = """  <send retrans="500">
    <![CDATA[

      INFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} INFO
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={digit}
      Duration={duration}

    ]]>
  </send>
  <recv response="200"/>
"""

_BYE = """  <send retrans="500">
    <![CDATA[

      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{user}@[local_ip]:[local_port]>;tag=[pid]SIPpTag{tag}[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} BYE
      Contact: <sip:{user}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
"""

# The UAS sends BYE inside the dialog the INVITE made: From/To swap, so the
# Request-URI is the caller's Contact and the headers are the INVITE's, reversed.
_UAS_BYE = """  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$invite_to];tag=[pid]SIPpTag04[call_number]
      To: [$invite_from]
      Call-ID: [call_id]
      CSeq: 1 BYE
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
"""

_WAIT_BYE = """  <recv request="BYE" timeout="{timeout_ms}"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
"""


def _ms(seconds: float) -> str:
    return str(max(0, round(seconds * 1000)))


def _info_steps(dtmf: Iterable[Dtmf]) -> tuple[str, int, float]:
    """The scenario text of the SIP INFO digits, the next CSeq, and the last one's time."""
    text, cseq, now = [], 2, 0.0
    for step in sorted((d for d in dtmf if d.info), key=lambda d: d.at_s):
        if step.at_s > now:
            text.append(f'  <pause milliseconds="{_ms(step.at_s - now)}"/>\n')
            now = step.at_s
        text.append(_INFO.format(cseq=cseq, digit=step.digit, duration=step.duration_ms))
        cseq += 1
    return "".join(text), cseq, now


def carrier_call(
    asterisk_sip: tuple[str, int],
    did: str,
    caller: str,
    audio: Any,
    *,
    dtmf: Iterable[Dtmf] = (),
    hangup_after_s: float | None = None,
    wait_bye_s: float = 30.0,
    answer_timeout_s: float = 10.0,
    calls: int = 1,
    limit: int | None = None,
    rate: float | None = None,
    folder: Path | None = None,
) -> Sipp:
    """The carrier places ``calls`` calls to ``did`` from ``caller``: on answer it sends
    ``audio`` (a :class:`~tests.support.audio.Clip` or a raw µ-law path) and ``dtmf``
    (RFC 4733 in the same RTP stream, or SIP INFO), then hangs up ``hangup_after_s``
    seconds after the answer — or, if None, waits up to ``wait_bye_s`` for the far
    end's BYE. ``limit``/``rate``: at most that many at once, new calls per second.

    Not started: use it as a context manager, or ``.run()``."""
    dtmf = list(dtmf)
    folder = folder if folder is not None else scratch("sipp-")
    ulaw = Path(getattr(audio, "ulaw", audio)).read_bytes()
    rtp = [(d.at_s, d.digit, d.duration_ms) for d in dtmf if not d.info]
    pcap = write_rtp_pcap(folder / "caller.pcap", ulaw, rtp, min_s=hangup_after_s or 0.0)
    steps, cseq, last_s = _info_steps(dtmf)
    if hangup_after_s is not None:
        if hangup_after_s < max((d.at_s for d in dtmf), default=0.0):
            raise ValueError(f"hangup_after_s {hangup_after_s}: before the last DTMF digit")
        end = f'  <pause milliseconds="{_ms(hangup_after_s - last_s)}"/>\n' + _BYE.format(
            user="[caller]", tag="00", cseq=cseq
        )
    else:
        end = _WAIT_BYE.format(timeout_ms=_ms(wait_bye_s))
    fill = {
        "PCAP": str(pcap), "STEPS": steps, "END": end,
        "ANSWER_TIMEOUT_MS": _ms(answer_timeout_s),
    }  # fmt: skip
    total = answer_timeout_s + (hangup_after_s if hangup_after_s is not None else wait_bye_s)
    return Sipp(
        "carrier", asterisk_sip, service=did, keys={"caller": caller}, fill=fill,
        calls=calls, limit=limit, rate=rate, folder=folder,
        timeout_s=total + 20 + calls / (rate or 10),
    )  # fmt: skip


def carrier_cancel(
    asterisk_sip: tuple[str, int], did: str, caller: str, *, ring_s: float = 1.0
) -> Sipp:
    """A caller who gives up before the answer: INVITE, CANCEL after ``ring_s``."""
    return Sipp(
        "carrier_cancel", asterisk_sip, service=did, keys={"caller": caller},
        fill={"RING_MS": _ms(ring_s)}, timeout_s=ring_s + 20,
    )  # fmt: skip


def carrier_refused(
    asterisk_sip: tuple[str, int], did: str, caller: str, *, expect: int, timeout_s: float = 10
) -> Sipp:
    """A call the far end refuses with ``expect`` (a 4xx/5xx/6xx code)."""
    if not 400 <= expect <= 699:
        raise ValueError(f"expect {expect}: a refusal is a 4xx, 5xx or 6xx code")
    return Sipp(
        "carrier_refused", asterisk_sip, service=did, keys={"caller": caller},
        fill={"EXPECT": str(expect), "ANSWER_TIMEOUT_MS": _ms(timeout_s)},
        timeout_s=timeout_s + 10,
    )  # fmt: skip


def register_phone(
    asterisk_sip: tuple[str, int],
    user: str,
    password: str,
    contact_port: int,
    *,
    expires_s: int = 3600,
    from_contact_port: bool = False,
) -> SippResult:
    """REGISTER ``user`` (digest auth) with its Contact on ``contact_port`` of 127.0.0.1;
    returns at once with the result (``.assert_ok()`` for a registration that worked;
    a refused one fails with the codes in ``.status_codes``). ``from_contact_port``:
    send it from that port too — for an endpoint with ``rewrite_contact`` (the
    generated phones: Asterisk then keeps the REGISTER's source address), start the
    phone on that port only after this returns."""
    sipp = Sipp(
        "register", asterisk_sip, service=user, auth=(user, password),
        keys={"contact_port": str(contact_port), "expires": str(expires_s)}, timeout_s=10,
    )  # fmt: skip
    if from_contact_port:
        sipp.port = contact_port
    return sipp.run()


def agent_phone(
    *,
    audio: Any = None,
    echo: bool = False,
    ring_s: float = 0.0,
    hangup_after_s: float | None = None,
    wait_bye_s: float = 60.0,
    busy: bool = False,
    calls: int = 1,
    port: int | None = None,
) -> Sipp:
    """A SIPp desk phone (UAS) on ``port`` for ``calls`` calls: answers after ``ring_s``
    of ringing, plays ``audio`` (a Clip or raw µ-law path) — or, with ``echo``, sends
    back what it gets (SIPp's ``-rtp_echo``) — and waits for the far end's BYE (or sends
    its own ``hangup_after_s`` after answering); with ``busy``, it refuses with 486 Busy
    Here. Register it first with :func:`register_phone` (``contact_port=phone.port``)."""
    port = port if port is not None else free_port()
    if busy:
        return Sipp("agent_busy", None, calls=calls, port=port, timeout_s=wait_bye_s)
    if (audio is None) == (not echo):
        raise ValueError("agent_phone: give audio or echo=True (one of them) unless busy=True")
    if hangup_after_s is not None:
        end = f'  <pause milliseconds="{_ms(hangup_after_s)}"/>\n' + _UAS_BYE
    else:
        end = _WAIT_BYE.format(timeout_ms=_ms(wait_bye_s))
    fill = {"RING_MS": _ms(ring_s), "END": end}
    if not echo:
        fill |= {"AUDIO": str(Path(getattr(audio, "ulaw", audio))), "LOOPS": "1"}
    return Sipp(
        "agent_echo" if echo else "agent_uas", None, fill=fill, calls=calls, port=port,
        timeout_s=ring_s + wait_bye_s + (hangup_after_s or 0) + 20,
        extra_args=("-rtp_echo",) if echo else (),
    )  # fmt: skip


from tests.support.baresip import Baresip  # noqa: E402 (re-exported: the kit in one import)
