"""Benchmark of the per-call speech metrics (issue 3) on 8 kHz stereo audio.

    .venv/bin/python bench/bench_speech_metrics.py              # 10-min call + 2-h memory run
    .venv/bin/python bench/bench_speech_metrics.py --minutes 3 --no-long

The call is assembled from real recordings: Asterisk prompts (human speech) alternating
between agent and caller with pauses, some overlaps and a 60 s stretch of hold music
(opsound) on the caller channel. ``compute_metrics`` (energy VAD + Silero on long
continuous spans to tell hold music from speech) is timed with ``time.process_time``
(CPU time of this process, all threads), pinned to one intra-op thread for onnxruntime,
and reported as × real time per core.

Baseline, measured in the same run: ``silero-vad`` — the same talk/silence spans found
by the packaged Silero VAD on each channel (16 kHz), i.e. what the metrics would cost if
Silero were the detector of the metrics path.

Memory: a 2-hour call is built by tiling the 10-minute one (float32, two channels =
2 × 7200 × 8000 × 4 B ≈ 461 MB of input) and ``compute_metrics`` is run on it in a child
process; its peak RSS (``ru_maxrss``) is reported. Target: ≥ 500× real time per core and
a 2-hour call in < 2 GiB.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
import wave
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import numpy.typing as npt

from callcenter.speech.activity import ActivityOptions, speech_segments
from callcenter.speech.metrics import compute_metrics

RATE = 8000
SOUNDS = Path("/usr/share/asterisk/sounds/en")
MOH = Path("/usr/share/asterisk/moh/macroform-cold_day.wav")
Float = npt.NDArray[np.float32]


def load(path: Path) -> Float:
    with wave.open(str(path)) as w:
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return raw.astype(np.float32) / 32768.0


def synthetic_call(minutes: float, seed: int = 7) -> tuple[Float, Float]:
    """Agent and caller channels: alternating prompts, 10 % overlaps, hold music."""
    rng = np.random.default_rng(seed)
    names = sorted(p for p in SOUNDS.glob("*.wav"))[:200]
    clips = [load(p) for p in names]
    n = round(minutes * 60 * RATE)
    agent = np.zeros(n, dtype=np.float32)
    caller = np.zeros(n, dtype=np.float32)
    music = load(MOH)[: 60 * RATE]
    hold_at = n // 2
    caller[hold_at : hold_at + music.size] += music[: max(0, min(music.size, n - hold_at))]
    t = round(0.5 * RATE)
    side = 0
    while t < n:
        if hold_at <= t < hold_at + music.size:
            t = hold_at + music.size + RATE
            continue
        clip = clips[int(rng.integers(len(clips)))]
        end = min(n, t + clip.size)
        (agent if side == 0 else caller)[t:end] += clip[: end - t]
        side ^= 1
        pause = -0.4 if rng.random() < 0.1 else float(rng.exponential(0.8))
        t = end + round(pause * RATE)
    return agent, caller


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def long_run(hours: float) -> None:
    """Child process: build a tiled call of ``hours`` and report its peak RSS."""
    agent, caller = synthetic_call(10.0)
    reps = round(hours * 6)
    big_a = np.tile(agent, reps)
    big_c = np.tile(caller, reps)
    del agent, caller
    before = peak_rss_mib()
    t0 = time.process_time()
    m = compute_metrics(big_a, big_c, RATE)
    cpu = time.process_time() - t0
    print(
        f"long: {m.duration_s / 3600:.2f} h call, compute_metrics {cpu:.1f} s CPU "
        f"({m.duration_s / cpu:.0f}x real time), peak RSS {peak_rss_mib():.0f} MiB "
        f"(input arrays alone {(big_a.nbytes + big_c.nbytes) / 2**20:.0f} MiB, "
        f"RSS before the call {before:.0f} MiB)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-long", action="store_true", help="skip the 2-hour memory run")
    ap.add_argument("--long-child", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.long_child:
        long_run(args.long_child)
        return 0

    agent, caller = synthetic_call(args.minutes)
    seconds = agent.size / RATE
    compute_metrics(agent[: 30 * RATE], caller[: 30 * RATE], RATE)  # warm-up (model load)
    times = []
    for _ in range(args.repeat):
        t0 = time.process_time()
        m = compute_metrics(agent, caller, RATE)
        times.append(time.process_time() - t0)
    cpu = sorted(times)[len(times) // 2]
    print(f"call: {seconds:.0f} s stereo at {RATE} Hz (median of {args.repeat} runs)")
    print(
        f"compute_metrics (energy VAD + Silero hold check): {cpu:.3f} s CPU "
        f"-> {seconds / cpu:.0f}x real time per core   [target >= 500x]"
    )
    print(
        f"  agent {m.agent_talk_s:.1f} s, caller {m.caller_talk_s:.1f} s, "
        f"overtalk {m.overtalk_s:.1f} s, dead air {m.dead_air_s:.1f} s, hold {m.hold_s:.1f} s"
    )
    energy = ActivityOptions()
    t0 = time.process_time()
    speech_segments(agent, RATE, energy)
    speech_segments(caller, RATE, energy)
    e_cpu = time.process_time() - t0
    print(f"  of which energy VAD, both channels: {e_cpu:.3f} s ({seconds / e_cpu:.0f}x)")

    silero = ActivityOptions(detector="silero")
    t0 = time.process_time()
    speech_segments(agent, RATE, silero)
    speech_segments(caller, RATE, silero)
    s_cpu = time.process_time() - t0
    print(
        f"baseline silero-vad (both channels, same audio): {s_cpu:.2f} s CPU "
        f"-> {seconds / s_cpu:.0f}x real time per core "
        f"({s_cpu / cpu:.1f}x slower than compute_metrics)"
    )
    if not args.no_long:
        out = subprocess.run(
            [sys.executable, __file__, "--long-child", "2"],
            capture_output=True,
            text=True,
            check=True,
        )
        print(out.stdout.strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
