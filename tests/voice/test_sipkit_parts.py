"""The SIP-client kit's parts, without Asterisk: known audio, the RTP pcap, bad inputs.

Truth: sample counts are the lead, clip and tail we asked for; the level of a sine of
amplitude A is 20·log10(A/√2) dBFS; the pcap is read back field by field against
RFC 3550/4733 and the libpcap format, and packets are counted by hand.
"""

from __future__ import annotations

import math
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support.audio import (
    RATE,
    AudioKit,
    active_span,
    dominant_frequency,
    read_wav,
    rms_dbfs,
    session_audio_kit,
)
from tests.support.baresip import Baresip
from tests.support.rtp_pcap import write_rtp_pcap
from tests.support.sip import Dtmf, Sipp, agent_phone, carrier_refused


@pytest.fixture(scope="session")
def audio_kit() -> AudioKit:
    return session_audio_kit()


@pytest.mark.parametrize(
    ("lang", "text"), [("en", "Your call is important to us."), ("ru", "Ваш звонок важен для нас.")]
)
def test_speech_has_the_exact_length_and_span_asked_for(
    audio_kit: AudioKit, lang: str, text: str
) -> None:
    clip = audio_kit.speech(text, lang=lang, lead_s=0.75, tail_s=0.25)
    rate, pcm = read_wav(clip.pcm)
    _, ulaw = read_wav(clip.ulaw)
    assert rate == RATE == 8000
    assert pcm.size == ulaw.size == clip.samples
    lead, tail = round(0.75 * RATE), round(0.25 * RATE)
    assert not pcm[:lead].any() and not pcm[-tail:].any()  # digital silence around it
    assert pcm[lead] != 0 or pcm[lead + 1] != 0  # speech starts right after the lead
    assert clip.active_start_s == 0.75
    assert clip.active_end_s == (clip.samples - tail) / RATE
    assert 0.8 < clip.active_s < 4.0  # a short sentence
    span = active_span(pcm, rate)
    assert span is not None
    assert span[0] == pytest.approx(0.75, abs=0.06)
    assert span[1] == pytest.approx(clip.active_end_s, abs=0.2)
    # µ-law carries the same speech (G.711: ~38 dB SNR, level within 0.5 dB)
    assert rms_dbfs(ulaw) == pytest.approx(rms_dbfs(pcm), abs=0.5)
    assert audio_kit.speech(text, lang=lang, lead_s=0.75, tail_s=0.25) == clip  # cached


def test_a_tone_has_its_frequency_level_and_length(audio_kit: AudioKit) -> None:
    clip = audio_kit.tone(697, 0.5, amplitude=0.25, lead_s=0.2, tail_s=0.3)
    rate, samples = read_wav(clip.pcm)
    assert clip.samples == samples.size == round((0.2 + 0.5 + 0.3) * RATE)
    body = samples[round(0.2 * RATE) : round(0.7 * RATE)]
    assert dominant_frequency(body, rate) == pytest.approx(697, abs=3)
    assert rms_dbfs(body) == pytest.approx(20 * math.log10(0.25 / math.sqrt(2)), abs=0.2)
    assert (clip.active_start_s, clip.active_end_s) == (0.2, 0.7)


def test_silence_is_silent(audio_kit: AudioKit) -> None:
    clip = audio_kit.silence(0.4)
    rate, samples = read_wav(clip.pcm)
    assert samples.size == clip.samples == 3200
    assert active_span(samples, rate) is None


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda k: k.speech("x", lang="fr"), "lang 'fr': expected one of ['en', 'ru']"),
        (lambda k: k.tone(5000, 1), "freq_hz 5000: expected 0 < f < 4000"),
    ],
)
def test_bad_audio_requests_are_refused_clearly(
    audio_kit: AudioKit, call: object, message: str
) -> None:
    with pytest.raises(ValueError) as err:
        call(audio_kit)  # type: ignore[operator]
    assert str(err.value) == message


def _read_pcap(path: Path) -> list[tuple[float, bytes]]:
    """(time, RTP bytes) of each packet: libpcap format, Ethernet/IPv4/UDP frames."""
    data = path.read_bytes()
    magic, major, minor, _, _, _, link = struct.unpack("<IHHiIII", data[:24])
    assert (magic, major, minor, link) == (0xA1B2C3D4, 2, 4, 1)
    out, at = [], 24
    while at < len(data):
        sec, usec, caplen, length = struct.unpack("<IIII", data[at : at + 16])
        frame = data[at + 16 : at + 16 + caplen]
        assert caplen == length and frame[12:14] == b"\x08\x00" and frame[14 + 9] == 17
        udp_len = struct.unpack("!H", frame[14 + 20 + 4 : 14 + 20 + 6])[0]
        out.append((sec + usec / 1e6, frame[14 + 20 + 8 : 14 + 20 + udp_len]))
        at += 16 + caplen
    return out


def test_the_pcap_holds_audio_and_rfc4733_events_in_one_stream(tmp_path: Path) -> None:
    ulaw = bytes(range(256)) * 31 + bytes(64)  # 8000 bytes: 1 s, 50 packets of 160
    path = write_rtp_pcap(tmp_path / "s.pcap", ulaw, [(0.5, "7", 100)])
    packets = _read_pcap(path)
    # By hand: 50 frames of 20 ms; the digit takes frames 25..29 (100 ms) and its end
    # packet is repeated in frames 30 and 31; the other 43 frames carry audio.
    assert len(packets) == 50
    headers = [struct.unpack("!BBHII", rtp[:12]) for _, rtp in packets]
    assert {h[0] for h in headers} == {0x80}  # RTP version 2, no padding/extension/CSRC
    assert {h[4] for h in headers} == {headers[0][4]}  # one SSRC
    assert [h[2] for h in headers] == list(range(50))  # sequence numbers continuous
    assert [t for t, _ in packets] == pytest.approx([i * 0.02 for i in range(50)])
    kinds = [h[1] & 0x7F for h in headers]
    assert kinds == [0] * 25 + [101] * 7 + [0] * 18
    events = [(h, rtp[12:]) for h, (_, rtp) in zip(headers, packets, strict=True) if h[1] & 0x7F]
    assert [h[1] >> 7 for h, _ in events] == [1, 0, 0, 0, 0, 0, 0]  # marker on the first
    assert {h[3] for h, _ in events} == {25 * 160}  # all carry the event's start time
    fields = [struct.unpack("!BBH", p) for _, p in events]
    assert [f[0] for f in fields] == [7] * 7  # event code of digit 7
    assert [f[1] >> 7 for f in fields] == [0, 0, 0, 0, 1, 1, 1]  # E bit, end sent 3 times
    assert [f[2] for f in fields] == [160, 320, 480, 640, 800, 800, 800]  # duration
    # Audio packets carry the file's bytes at their own place, timestamp = 160 per frame.
    first, last = packets[0][1], packets[49][1]
    assert first[12:] == ulaw[:160] and last[12:] == ulaw[49 * 160 :]
    assert headers[49][3] == 49 * 160


@pytest.mark.parametrize(
    ("dtmf", "message"),
    [
        ([(0.1, "X", 100)], "DTMF digit 'X': expected one of 0123456789*#ABCD"),
        ([(0.1, "1", 200), (0.2, "2", 100)], "DTMF '2' at 0.2 s overlaps the digit before it"),
        ([(-1.0, "1", 100)], "DTMF '1' at -1.0 s for 100 ms: bad timing"),
    ],
)
def test_bad_digits_for_the_pcap_are_refused_clearly(
    tmp_path: Path, dtmf: list[tuple[float, str, int]], message: str
) -> None:
    with pytest.raises(ValueError) as err:
        write_rtp_pcap(tmp_path / "s.pcap", bytes(800), dtmf)
    assert str(err.value) == message


def test_bad_scenario_inputs_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as err:
        Dtmf(1.0, "12")
    assert str(err.value) == "DTMF digit '12': expected one of 0-9 * # A-D"
    with pytest.raises(ValueError) as err:
        Dtmf(-0.5, "1")
    assert str(err.value) == "DTMF at_s -0.5: expected >= 0 (seconds after answer)"
    with pytest.raises(ValueError) as err:
        carrier_refused(("127.0.0.1", 5060), "100", "200", expect=200)
    assert str(err.value) == "expect 200: a refusal is a 4xx, 5xx or 6xx code"
    with pytest.raises(ValueError) as err:
        agent_phone()
    assert str(err.value) == ("agent_phone: give audio or echo=True (one of them) unless busy=True")
    sipp = Sipp("carrier", ("127.0.0.1", 5060), fill={"PCAP": "x.pcap"}, folder=tmp_path)
    with pytest.raises(ValueError) as err:
        sipp.command()
    assert str(err.value) == (
        "scenario carrier.xml: placeholders not filled: ANSWER_TIMEOUT_MS, END, STEPS"
    )


def _alive(pid: int) -> bool:
    """Whether the kernel still runs ``pid`` (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_stopped_clients_leave_no_process(audio_kit: AudioKit) -> None:
    # Nobody answers at 127.0.0.1:9 (discard): the clients just wait, and are stopped.
    phone = Baresip(("127.0.0.1", 9), "nobody", "x", source=audio_kit.silence(0.2).pcm)
    uas = agent_phone(busy=True)
    with phone, uas:
        assert phone.process is not None and uas.process is not None
        pids = [phone.process.pid, uas.process.pid]
        assert all(_alive(pid) for pid in pids)
    assert not any(_alive(pid) for pid in pids)


def test_clients_die_with_the_process_that_started_them(tmp_path: Path) -> None:
    """SIGKILL the starter (no ``finally`` runs): the kernel ends its SIP clients."""
    script = (
        "import sys, time\n"
        "from tests.support.sip import agent_phone\n"
        "uas = agent_phone(busy=True).start()\n"
        "print(uas.process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    starter = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "TMPDIR": str(tmp_path)},  # its files: it cannot remove them
    )  # fmt: skip
    try:
        assert starter.stdout is not None
        pid = int(starter.stdout.readline())
        assert _alive(pid)
    finally:
        starter.kill()
        starter.wait()
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)
