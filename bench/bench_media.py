"""Recordings: merge time, and the automatic analysis's time per call.

1. **merge**: two mono 8 kHz sides of ``--minutes`` (default 60) of noise-like audio
   (a known pseudo-random signal, so nothing compresses it), three pauses; the time of
   :func:`merge_sides` and the process's peak memory (``VmHWM``) before and after.
2. **analysis**: a call of known speech (espeak-ng, 8 kHz, one sentence per turn,
   ``--turns`` turns alternating agent/caller, 1 s apart), merged and analysed by
   :class:`RecordingAnalyzer` as the server does it, first with audio metrics only,
   then with transcription (the packaged speech model), each on a fresh analyzer —
   the model's loading counted separately from the second call.

Run:  .venv/bin/python bench/bench_media.py [--minutes 60] [--turns 12] [--no-asr]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

from callcenter.live.voice.analysis import RecordingAnalyzer, default_options
from callcenter.storage.db import make_engine, upgrade
from callcenter.voice.archive import recording_path, recording_relpath
from callcenter.voice.recording import merge_sides

RATE = 8000
LINES = [
    "good morning thank you for calling how can I help you",
    "I was charged twice for my order and I would like a refund",
    "I am sorry to hear that let me look at your account",
    "the order number is four five six seven",
    "I have refunded the second charge it will show in three days",
    "thank you very much that is all I needed",
]


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _write(path: Path, x: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(x.astype("<i2").tobytes())


def bench_merge(tmp: Path, minutes: float) -> None:
    n = round(minutes * 60 * RATE)
    rng = np.random.default_rng(7)
    _write(tmp / "a.wav", rng.integers(-8000, 8000, n, dtype=np.int16))
    _write(tmp / "c.wav", rng.integers(-8000, 8000, n - RATE, dtype=np.int16))
    before = _peak_mb()
    t = time.perf_counter()
    info = merge_sides(tmp / "a.wav", tmp / "c.wav", tmp / "m.wav",
                       pauses=[(60, 90), (600, 630), (1200, 1205)])  # fmt: skip
    took = time.perf_counter() - t
    print(f"merge: {minutes:g} min sides -> {info.duration_s / 60:.2f} min stereo "
          f"({(tmp / 'm.wav').stat().st_size / 1e6:.0f} MB) in {took:.2f} s; "
          f"peak RSS {before:.0f} -> {_peak_mb():.0f} MB")  # fmt: skip


def _say(text: str, out: Path) -> np.ndarray:
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out)], check=True)
    with wave.open(str(out)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def bench_analysis(tmp: Path, turns: int, asr: bool) -> None:
    said = [_say(LINES[i % len(LINES)], tmp / f"l{i}.wav") for i in range(turns)]
    length = sum(s.size for s in said) + turns * RATE + RATE
    sides = [np.zeros(length, np.int16), np.zeros(length, np.int16)]
    at = RATE // 2
    for i, s in enumerate(said):
        sides[i % 2][at : at + s.size] = s
        at += s.size + RATE
    _write(tmp / "agent.wav", sides[0])
    _write(tmp / "caller.wav", sides[1])
    url = f"sqlite:///{tmp / 'b.db'}"
    upgrade(url)
    engine = make_engine(url)
    root, now = tmp / "rec", time.time()
    ids = ["b-1", "b-2"]
    for cid in ids:
        merge_sides(tmp / "agent.wav", tmp / "caller.wav", recording_path(root, cid, now))
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO contacts (id, channel, direction, status, subject, arrived_at, "
                "answered_at, notes, recording_url) VALUES (?, 'voice', 'inbound', 'closed', "
                "'', ?, ?, '', ?)",
                (cid, now, now, recording_relpath(cid, now)),
            )
    print(f"analysis: a call of {length / RATE:.1f} s, {turns} turns")
    for transcribe in (False, True) if asr else (False,):
        worker = RecordingAnalyzer(engine, root, tmp / f"analysis-{transcribe}",
                                   options=default_options(transcribe))  # fmt: skip
        for cid in ids:
            t = time.perf_counter()
            out = worker.analyze(cid)
            took = time.perf_counter() - t
            assert out.ok, out.reason
            with engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM call_keywords")
                conn.exec_driver_sql("DELETE FROM call_analyses")
            what = "with transcription" if transcribe else "metrics only"
            first = " (first call: loads the model)" if cid == "b-1" and transcribe else ""
            print(f"  {what}: {took:.2f} s = {took / (length / RATE):.3f} x real time{first}")
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--turns", type=int, default=12)
    ap.add_argument("--no-asr", action="store_true", help="skip the transcription run")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-media-"))
    try:
        bench_merge(tmp, args.minutes)
        bench_analysis(tmp, args.turns, not args.no_asr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
