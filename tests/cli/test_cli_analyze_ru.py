"""A Russian call through ``callcenter analyze`` end to end: recorded Russian speech
(Debian's asterisk-core-sounds-ru-wav), the multilingual base model joined from its PyPI
halves, the language detected, and the Russian lists used by the text stages.

Truth: the prompts' published transcripts and the times the test placed them at.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from callcenter.speech.transcribe import word_error_rate

SOUNDS = Path("/usr/share/asterisk/sounds/ru")
TRANSCRIPTS = Path("/usr/share/doc/asterisk-core-sounds-ru/core-sounds-ru.txt.gz")
RATE = 8000
TOTAL_S = 30.0
AGENT = [(0.5, "hello"), (6.0, "pls-hold-while-try"), (21.0, "auth-thankyou"), (24.0, "goodbye")]
CALLER = [(3.0, "privacy-incorrect"), (13.0, "privacy-prompt")]


def _reference() -> dict[str, str]:
    if not TRANSCRIPTS.exists():
        pytest.fail(f"{TRANSCRIPTS} missing: scripts/test.sh installs asterisk-core-sounds-ru-wav")
    out = {}
    with gzip.open(TRANSCRIPTS, "rt", encoding="utf-8") as fh:
        for line in fh:
            name, sep, text = line.partition(":")
            if sep and not line.startswith(";"):
                out[name.strip()] = text.strip()
    return out


def _clip(name: str) -> np.ndarray:
    with wave.open(str(SOUNDS / f"{name}.wav")) as w:
        assert w.getframerate() == RATE
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768


def _write_call(path: Path) -> None:
    chans = np.zeros((2, int(TOTAL_S * RATE)), np.float32)
    for ch, placed in enumerate((AGENT, CALLER)):
        for start, name in placed:
            clip = _clip(name)
            i = int(start * RATE)
            chans[ch, i : i + clip.size] += clip
    pcm = (np.clip(chans, -1, 1) * 32767).astype("<i2").T.copy()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


@pytest.mark.slow
def test_russian_call_end_to_end(tmp_path: Path) -> None:
    ref = _reference()
    _write_call(tmp_path / "zvonok.wav")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    env["CALLCENTER_CACHE_DIR"] = str(tmp_path / "cache")
    proc = subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "analyze", "zvonok.wav", "--model", "base",
         "--out", "out", "--database", f"sqlite:///{tmp_path / 'cc.db'}", "-q"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "out" / "zvonok.json").read_text(encoding="utf-8"))
    assert doc["language"] == "ru"  # detected: no --language given
    utt = doc["transcript"]["utterances"]
    for side, placed in (("agent", AGENT), ("caller", CALLER)):
        said = " ".join(u["text"] for u in utt if u["speaker"] == side)
        truth = " ".join(ref[n] for _, n in placed)
        assert word_error_rate(truth, said) < 0.35, (side, said)
    checks = doc["etiquette"]["checks"]
    assert checks["greeting"]["passed"] is True  # «Здравствуйте!» at 0.5 s
    assert checks["greeting"]["at_s"] == pytest.approx(0.5, abs=0.6)
    assert checks["thanks"]["passed"] is True  # «Спасибо.» at 21 s of 30
    assert checks["thanks"]["at_s"] == pytest.approx(21.0, abs=1.0)
    assert checks["introduction"]["passed"] is False  # nobody gives a name
    assert doc["sentiment"]["method"] != "vader"  # the Russian lexicon, not VADER
    # the caller read no number, so nothing was redacted
    assert doc["redactions"]["total"] == 0
