"""A long call through the whole speech pipeline: peak memory and speed.

Target (issue 3): a 2-hour call analysed — decoding, audio metrics, gated transcription
of both sides, every text stage — in under 2 GiB of memory. The call is built like
``bench_speech_asr.py``'s (real recorded Asterisk prompts in alternating turns, hold
music, dead air), written as an 8 kHz stereo WAV, then analysed by ``callcenter
analyze`` in a child process whose peak resident memory is read from the kernel
(``getrusage(RUSAGE_CHILDREN)``). The figure is printed beside the 2 GiB limit.

    .venv/bin/python bench/bench_speech_long.py [--minutes 120] [--model tiny.en]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_speech_asr import build_call, write_stereo

LIMIT_GIB = 2.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=120.0)
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--lang", default="en")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        agent, caller, _, _ = build_call(args.lang, args.minutes)
        wav = folder / "long-call.wav"
        write_stereo(wav, agent, caller)
        del agent, caller
        size_mib = wav.stat().st_size / 2**20
        print(f"call: {args.minutes:.0f} min, 8 kHz stereo WAV, {size_mib:.0f} MiB")
        cmd = [
            sys.executable, "-m", "callcenter.cli.main", "analyze", str(wav),
            "--model", args.model, "--workers", "1", "--out", str(folder / "out"),
            "--database", f"sqlite:///{folder / 'cc.db'}", "-q",
        ]  # fmt: skip
        began = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=os.environ)
        wall = time.perf_counter() - began
        if proc.returncode != 0:
            print(proc.stdout, proc.stderr, file=sys.stderr)
            return 1
        peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB
        doc = json.loads((folder / "out" / "long-call.json").read_text())
        audio_h = doc["metrics"]["duration_s"] / 3600
        words = sum(len(u["text"].split()) for u in doc["transcript"]["utterances"])
    print(f"analysed in {wall:.0f} s: {audio_h / (wall / 3600):.1f} audio hours per hour "
          f"({audio_h * 3600 / wall:.1f}× real time), {words:,} words transcribed")  # fmt: skip
    verdict = "met" if peak_gib < LIMIT_GIB else "NOT met"
    print(f"peak memory {peak_gib:.2f} GiB; limit {LIMIT_GIB:.0f} GiB "
          f"({peak_gib / LIMIT_GIB:.2f} of it): {verdict}")  # fmt: skip
    return 0 if peak_gib < LIMIT_GIB else 1


if __name__ == "__main__":
    raise SystemExit(main())
