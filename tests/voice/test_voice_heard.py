"""What a waiting caller hears, checked by ear: the caller is a real SIP phone (baresip,
dialling in from the carrier's address) that records what it receives, and Whisper
(``tiny.en``, from a PyPI package) transcribes it.

The truth compared with: the words of Debian's recorded prompts, from the package's
own transcript file (``core-sounds-en.txt``): ``queue-thereare`` "You are currently
caller number", ``queue-callswaiting`` "Waiting to speak with a representative",
``queue-thankyou`` "Thank you for your patience"; and the caller's place, known by
construction (one caller queued before it: it is number two); the announcement's
length from the prompt files themselves.
"""

from __future__ import annotations

import gzip
import time
import wave
from pathlib import Path

import numpy as np
from tests.support.audio import session_audio_kit
from tests.support.baresip import Baresip
from tests.support.sip import carrier_call
from tests.support.voice_center import DID, voice_center

from callcenter.speech.transcribe import AsrOptions, Transcriber, normalize_text

TRANSCRIPTS = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
ANNOUNCE_EVERY_S = 3.0
SOUNDS = Path("/usr/share/asterisk/sounds/en")
ANNOUNCEMENT = ("queue-thereare", "digits/2", "queue-callswaiting", "queue-thankyou")
"""What place two with no estimate plays (callcenter.live.voice.waiting.announcement)."""


def prompt_words(name: str) -> str:
    """A prompt's words as the sound package's transcript file gives them."""
    with gzip.open(TRANSCRIPTS, "rt", encoding="utf-8") as fh:
        for line in fh:
            key, sep, text = line.partition(":")
            if sep and key.strip() == name:
                return normalize_text(text)
    raise AssertionError(f"{name}: not in {TRANSCRIPTS}")


def seconds(name: str) -> float:
    with wave.open(str(SOUNDS / f"{name}.wav")) as w:
        return w.getnframes() / w.getframerate()


def read_16k(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels()) == (8000, 1)
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16) / 32768.0
    # 8 -> 16 kHz by linear interpolation: enough for speech below 4 kHz
    return np.interp(np.arange(2 * x.size) / 2.0, np.arange(x.size), x).astype(np.float32)


def test_a_waiting_caller_hears_its_place_and_thanks_between_the_music(tmp_path: Path) -> None:
    kit = session_audio_kit()
    with voice_center(tmp_path, announce_every_s=ANNOUNCE_EVERY_S) as c:
        # nobody is signed in: the first caller (SIPp) waits; then ours is number two
        first = carrier_call(c.sip, DID, "79160000011", kit.silence(40.0), hangup_after_s=40.0)
        with first:
            c.wait(
                "the first caller waiting",
                lambda: [x for x in c.contacts() if x.status == "queued"],
            )
            caller = Baresip(c.sip, "79160000012", "", source=kit.silence(1.0).pcm,
                             register=False, hold_s=40.0)  # fmt: skip
            with caller:
                caller.dial(DID)
                caller.wait_for_log(r"Call established", timeout_s=10)
                length = sum(seconds(n) for n in ANNOUNCEMENT)  # 7.07 s
                time.sleep(2 * ANNOUNCE_EVERY_S + length + 3.0)  # into the second one
                caller.hang_up()
                time.sleep(0.5)
            heard = read_16k(caller.heard)
            first.wait().assert_ok()
    transcript = Transcriber(AsrOptions(model="tiny.en", language="en")).transcribe(heard)
    said = normalize_text(transcript.text)
    place = f"{prompt_words('queue-thereare')} two"  # "you are currently caller number two"
    assert f"{place} {prompt_words('queue-callswaiting')}" in said, said
    assert prompt_words("queue-thankyou") in said, said
    # without a signed-in agent there is no estimate, and none is said
    assert prompt_words("queue-holdtime") not in said, said
    # it comes again after ANNOUNCE_EVERY_S of music: each announcement starts that long
    # after the one before ended (Whisper's word times: within 1 s)
    words = [normalize_text(w.text) for w in transcript.words]
    starts = [
        transcript.words[i].start
        for i in range(len(words) - 2)
        if words[i : i + 3] == ["you", "are", "currently"]
    ]
    assert len(starts) >= 2, said
    gaps = np.diff(starts)
    length = sum(seconds(n) for n in ANNOUNCEMENT)
    assert np.all(np.abs(gaps - (length + ANNOUNCE_EVERY_S)) <= 1.0), (starts, said)
