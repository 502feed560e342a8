"""Spoken test calls: a scripted agent/caller dialogue synthesised by espeak-ng.

Each line of a script is spoken by its side's voice (agent: ``en-us``, caller:
``en-gb`` higher pitch), resampled to the call's rate with sox, and placed on its own
channel of a stereo WAV (agent left) at a known time: after the previous line ends plus
the line's gap (negative gap = the line starts before the previous one ends, an
overlap). The truth returned — who spoke when, and the words — comes from the script
and the synthesised clips' lengths, never from the code under test.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

Float = npt.NDArray[np.float32]

VOICES = {"agent": ("en-us", "45"), "caller": ("en-gb", "70")}


@dataclass(frozen=True)
class Line:
    speaker: str  # agent | caller
    text: str
    gap: float = 0.6  # seconds after the previous line's end (negative: overlap)


@dataclass(frozen=True)
class Spoken:
    speaker: str
    start: float
    end: float
    text: str


#: A resolved card-replacement call with every etiquette step.
GOOD_CALL = (
    Line(
        "agent",
        "Hello, thank you for calling Harper Valley Bank. My name is Anna. "
        "How can I help you today?",
        1.0,
    ),
    Line("caller", "Hi. I lost my debit card yesterday and I need a replacement card, please."),
    Line("agent", "I am sorry to hear that. I have blocked the old card and ordered a new one."),
    Line("agent", "It will arrive in five days. Is there anything else I can help you with?", 0.4),
    Line("caller", "No, that's all. Thank you so much, that was very helpful."),
    Line("agent", "You are welcome. Thank you for calling, goodbye.", 0.5),
)


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed (scripts/test.sh installs it)")


def speak(text: str, speaker: str, rate: int, workdir: Path) -> Float:
    """``text`` in ``speaker``'s voice as float32 mono at ``rate`` Hz."""
    _need("espeak-ng")
    _need("sox")
    voice, pitch = VOICES[speaker]
    raw = workdir / "espeak.wav"
    out = workdir / "line.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-p", pitch, "-s", "155", "-w", str(raw), text],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["sox", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(out)],
        check=True,
        capture_output=True,
    )
    with wave.open(str(out)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    # espeak pads each clip with a little silence; trim it so the truth is the voice
    clip = data.astype(np.float32) / 32768.0
    loud = np.flatnonzero(np.abs(clip) > 0.01)
    return clip[loud[0] : loud[-1] + 1] if loud.size else clip


def build_call(
    path: Path, script: tuple[Line, ...], rate: int = 8000, tail_s: float = 1.0
) -> list[Spoken]:
    """Write the stereo call to ``path``; return what was said when."""
    work = path.parent / f".{path.stem}-work"
    work.mkdir(exist_ok=True)
    clips: list[tuple[str, float, Float]] = []
    spoken: list[Spoken] = []
    t = 0.0
    for line in script:
        clip = speak(line.text, line.speaker, rate, work)
        start = max(0.0, t + line.gap)
        end = start + clip.size / rate
        clips.append((line.speaker, start, clip))
        spoken.append(Spoken(line.speaker, start, end, line.text))
        t = max(t, end)
    n = int((t + tail_s) * rate)
    channels = {"agent": np.zeros(n, np.float32), "caller": np.zeros(n, np.float32)}
    for speaker, start, clip in clips:
        i = round(start * rate)
        channels[speaker][i : i + clip.size] += clip
    stereo = np.stack([channels["agent"], channels["caller"]])
    pcm = (np.clip(stereo, -1, 1) * 32767).astype("<i2").T.copy()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    shutil.rmtree(work)
    return spoken
