"""One RTP stream as a pcap file for SIPp's ``play_pcap_audio``: G.711 µ-law speech with
RFC 4733 DTMF events at chosen times, all in one stream (one SSRC, one source port).

Why written here: SIPp 3.6 sends RFC 4733 DTMF only by replaying packets from a pcap
(``play_pcap_audio``, from the ``-mp`` media port) or with ``play_dtmf`` — whose
packets measured here carried payload types 96/97, not the 101 the SDP offers, so
Asterisk ignored them. Its ``rtp_stream`` audio goes out from another socket (another
source port), which Asterisk's strict RTP treats as a second source. The pcaps Debian
ships (``/usr/share/sip-tester/dtmf_2833_<digit>.pcap``) hold one digit each, with their
own SSRC. No library writes "this µ-law audio, with these digits at these times" as
one RTP stream, so this small writer does; the formats are simple and fixed:

- pcap (libpcap classic format): a 24-byte global header (magic ``a1b2c3d4``, version
  2.4, link type 1 = Ethernet), then per packet a 16-byte record header (seconds,
  microseconds, captured length, length) and the frame;
- each frame: Ethernet (14 bytes, IPv4), IPv4 (20 bytes, UDP), UDP (8 bytes), RTP
  (RFC 3550: 12-byte header). SIPp rewrites addresses, ports and the UDP checksum when
  it sends, and keeps the RTP bytes and the packets' times;
- audio: one packet per 20 ms (160 µ-law bytes, payload type 0, timestamp +160);
- a DTMF digit (RFC 4733 §2.3): payload type 101, 4 bytes — event code, E bit +
  volume, duration in timestamp units; every packet of one event has the timestamp of
  the event's start, the first has the RTP marker bit, the duration grows by 160 per
  20 ms, and the end packet (E bit) is sent three times. Audio packets are left out
  while the event lasts, so the stream's timestamps stay continuous.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

__all__ = ["DTMF_EVENTS", "PAYLOAD_PCMU", "PAYLOAD_TELEPHONE_EVENT", "write_rtp_pcap"]

PAYLOAD_PCMU = 0
PAYLOAD_TELEPHONE_EVENT = 101
"""The payload type of RFC 4733 events offered in our SDP (``a=rtpmap:101 telephone-event``)."""
DTMF_EVENTS = {
    **{str(d): d for d in range(10)}, "*": 10, "#": 11, "A": 12, "B": 13, "C": 14, "D": 15
}  # fmt: skip
"""RFC 4733 §3.2: the event codes of the DTMF digits."""

_FRAME_MS = 20
_SAMPLES = 160  # 20 ms at 8 kHz
_ULAW_SILENCE = b"\xff"
_SSRC = 0x43430001
_SRC_PORT, _DST_PORT = 6000, 6000  # SIPp replaces both (its -mp port, the far end's)
_VOLUME = 10  # -10 dBm0, the usual power of a DTMF tone


def _frame(rtp: bytes) -> bytes:
    udp = struct.pack("!HHHH", _SRC_PORT, _DST_PORT, 8 + len(rtp), 0) + rtp
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
        bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]),
    )  # fmt: skip
    ethernet = b"\x00" * 12 + b"\x08\x00"  # no MAC addresses; type IPv4
    return ethernet + ip + udp


def _rtp(pt: int, seq: int, ts: int, payload: bytes, *, marker: bool = False) -> bytes:
    second = (0x80 if marker else 0) | pt  # marker bit, payload type
    return struct.pack("!BBHII", 0x80, second, seq & 0xFFFF, ts, _SSRC) + payload


def write_rtp_pcap(
    path: Path, ulaw: bytes, dtmf: Iterable[tuple[float, str, int]] = (), *, min_s: float = 0.0
) -> Path:
    """Write ``path``: ``ulaw`` (8 kHz µ-law bytes) as 20 ms packets, with the DTMF events
    ``(at_s, digit, duration_ms)`` (seconds from the start of the stream) replacing the
    audio while they last. The stream lasts at least ``min_s`` and until the audio and
    every event are over (µ-law silence after the audio)."""
    events = sorted(dtmf)
    for at_s, digit, duration_ms in events:
        if digit not in DTMF_EVENTS:
            raise ValueError(f"DTMF digit {digit!r}: expected one of {''.join(DTMF_EVENTS)}")
        if at_s < 0 or duration_ms < _FRAME_MS:
            raise ValueError(f"DTMF {digit!r} at {at_s} s for {duration_ms} ms: bad timing")
    # Each event occupies whole 20 ms frames: [start, start + n) plus the two repeated ends.
    by_frame: dict[int, tuple[str, int, int]] = {}  # frame -> (digit, k-th frame, frames)
    for at_s, digit, duration_ms in events:
        start = round(at_s * 1000 / _FRAME_MS)
        frames = max(1, round(duration_ms / _FRAME_MS))
        for k in range(frames + 2):
            if start + k in by_frame:
                raise ValueError(f"DTMF {digit!r} at {at_s} s overlaps the digit before it")
            by_frame[start + k] = (digit, k, frames)
    audio_frames = -(-len(ulaw) // _SAMPLES)
    total = max(audio_frames, max(by_frame, default=-1) + 1, round(min_s * 1000 / _FRAME_MS))

    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i in range(total):
        ts = i * _SAMPLES
        if i in by_frame:
            digit, k, frames = by_frame[i]
            end = k >= frames - 1
            duration = min(k + 1, frames) * _SAMPLES
            payload = struct.pack(
                "!BBH", DTMF_EVENTS[digit], (0x80 if end else 0) | _VOLUME, duration
            )
            rtp = _rtp(PAYLOAD_TELEPHONE_EVENT, i, (i - k) * _SAMPLES, payload, marker=k == 0)
        else:
            chunk = ulaw[i * _SAMPLES : (i + 1) * _SAMPLES]
            chunk += _ULAW_SILENCE * (_SAMPLES - len(chunk))
            rtp = _rtp(PAYLOAD_PCMU, i, ts, chunk)
        frame = _frame(rtp)
        usec = i * _FRAME_MS * 1000
        record = struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame))
        out.append(record)
        out.append(frame)
    path.write_bytes(b"".join(out))
    return path
