"""Benchmark: the full per-call speech pipeline with gated ASR vs plain faster-whisper.

    .venv/bin/python bench/bench_speech_asr.py                     # 5-min call, tiny.en
    .venv/bin/python bench/bench_speech_asr.py --lang ru           # Russian prompts, base
    .venv/bin/python bench/bench_speech_asr.py --minutes 3 --batch-compare

The call is a stereo 16-bit WAV assembled from real recordings: Asterisk prompts
(human speech, Debian's asterisk-core-sounds-<lang>-wav, each with its published
transcript) in alternating turns of 1-3 prompts, pauses of 0.3-2 s and some overlaps,
60 s of opsound hold music on the agent channel (what the caller hears; it starts 2 s
or more after the agent's last words) and 15 s of dead air while the agent looks
something up.

Ours (timed from the WAV file): ``load_call`` (decode, 16 kHz) -> ``compute_metrics``
(energy VAD, hold music check) -> ``transcribe_call`` gated by the metrics' speech spans
(batched, both sides) -> words/min.  Baseline, same model object, same decoding
settings (beam 1, int8, language given, word timestamps on): ``load_call`` then each
channel transcribed whole by ``WhisperModel.transcribe`` (no VAD, no batching) — the
plain way to use faster-whisper on a stereo call.  WER per side against the prompt
transcripts in placement order.  Wall time and CPU time (all threads) are reported;
the ratio is on wall time.  Target: >= 1.5x faster at equal or better WER.
"""

from __future__ import annotations

import argparse
import gzip
import os
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from callcenter.speech.asr import GateOptions, transcribe_call, words_per_minute
from callcenter.speech.audio import AudioOptions, load_call
from callcenter.speech.conversation import Speaker
from callcenter.speech.metrics import compute_metrics
from callcenter.speech.transcribe import AsrOptions, Transcriber, Transcript, word_error_rate

RATE = 8000
MOH = Path("/usr/share/asterisk/moh/macroform-cold_day.wav")
Float = npt.NDArray[np.float32]
T = TypeVar("T")


def load(path: Path) -> Float:
    with wave.open(str(path)) as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1, path
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return raw.astype(np.float32) / 32768.0


def prompts(lang: str) -> dict[str, str]:
    """Prompt name -> transcript, for speech prompts of 1-8 s with a plain transcript."""
    doc = Path(f"/usr/share/doc/asterisk-core-sounds-{lang}/core-sounds-{lang}.txt.gz")
    sounds = Path(f"/usr/share/asterisk/sounds/{lang}")
    out: dict[str, str] = {}
    with gzip.open(doc, "rt", encoding="utf-8") as fh:
        for line in fh:
            name, sep, text = line.partition(":")
            name, text = name.strip(), text.strip()
            path = sounds / f"{name}.wav"
            if not sep or line.startswith(";") or "/" in name or not path.exists():
                continue
            if not text or any(c in text for c in "[]<>()«»") or any(ch.isdigit() for ch in text):
                continue
            with wave.open(str(path)) as w:
                if w.getframerate() != RATE or not 1.0 <= w.getnframes() / RATE <= 8.0:
                    continue
            out[name] = text
    return out


def build_call(
    lang: str, minutes: float, seed: int = 3
) -> tuple[Float, Float, list[str], list[str]]:
    """Agent and caller channels, and each side's reference text (placement order)."""
    rng = np.random.default_rng(seed)
    table = prompts(lang)
    names = sorted(table)
    sounds = Path(f"/usr/share/asterisk/sounds/{lang}")
    n = round(minutes * 60 * RATE)
    chans = [np.zeros(n, np.float32), np.zeros(n, np.float32)]
    refs: list[list[str]] = [[], []]
    music = load(MOH)[: 60 * RATE] * np.float32(0.5)
    hold_at, quiet_at = round(0.4 * n), round(0.75 * n)
    chans[0][hold_at : hold_at + music.size] += music[: n - hold_at]
    t, side = round(0.5 * RATE), 0
    while t < n:
        if hold_at - RATE <= t < hold_at + music.size:
            t, side = hold_at + music.size + RATE, 0
            continue
        if quiet_at <= t < quiet_at + 15 * RATE:
            t = quiet_at + 15 * RATE
            continue
        for _ in range(int(rng.integers(1, 4))):
            name = names[int(rng.integers(len(names)))]
            clip = load(sounds / f"{name}.wav")
            if t < hold_at and t + clip.size > hold_at - 2 * RATE:  # "please hold", music
                t = hold_at + music.size + RATE
                break
            if t + clip.size > n:
                t = n
                break
            chans[side][t : t + clip.size] += clip
            refs[side].append(table[name])
            t += clip.size + round(float(rng.uniform(0.3, 0.6)) * RATE)
        side ^= 1
        pause = -0.4 if rng.random() < 0.1 else 0.3 + float(rng.exponential(0.7))
        t += round(pause * RATE)
    return chans[0], chans[1], refs[0], refs[1]


def write_stereo(path: Path, left: Float, right: Float) -> None:
    pcm = np.clip(np.round(np.stack([left, right]) * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.T.tobytes())


def timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def ours(path: Path, tr: Transcriber, batch: int) -> dict[Speaker, Transcript]:
    audio = load_call([path], AudioOptions(rate=16000))
    assert audio.agent is not None and audio.caller is not None
    m = compute_metrics(audio.agent, audio.caller, audio.rate)
    spans = {Speaker.AGENT: m.agent_segments, Speaker.CALLER: m.caller_segments}
    out = transcribe_call(audio, tr, spans, options=GateOptions(batch_size=batch))
    for who, sp in spans.items():  # the talk speed the metrics report
        words_per_minute(out[who], sp)
    return out


def baseline(path: Path, tr: Transcriber) -> dict[Speaker, Transcript]:
    audio = load_call([path], AudioOptions(rate=16000))
    assert audio.agent is not None and audio.caller is not None
    return {Speaker.AGENT: tr.transcribe(audio.agent), Speaker.CALLER: tr.transcribe(audio.caller)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--lang", choices=("en", "ru"), default="en")
    ap.add_argument("--model", help="default: tiny.en for en, base for ru")
    ap.add_argument("--batch", type=int, default=4, help="batch size of gated ASR")
    ap.add_argument("--threads", type=int, default=0, help="CTranslate2 threads (0: default)")
    ap.add_argument("--batch-compare", action="store_true", help="also time batch size 1")
    ap.add_argument("--repeat", type=int, default=1, help="alternating runs, best reported")
    args = ap.parse_args()
    model = args.model or ("tiny.en" if args.lang == "en" else "base")
    agent, caller, ref_a, ref_c = build_call(args.lang, args.minutes)
    seconds = agent.size / RATE
    tr = Transcriber(AsrOptions(model=model, language=args.lang, cpu_threads=args.threads))
    tr.transcribe(agent[: 16000 * 2])  # load the model, warm up
    refs = {Speaker.AGENT: " ".join(ref_a), Speaker.CALLER: " ".join(ref_c)}

    def wer(out: dict[Speaker, Transcript]) -> str:
        per = {w: word_error_rate(refs[w], out[w].text) for w in refs}
        both = word_error_rate(
            refs[Speaker.AGENT] + " " + refs[Speaker.CALLER],
            out[Speaker.AGENT].text + " " + out[Speaker.CALLER].text,
        )
        return f"WER {both:6.1%} (agent {per[Speaker.AGENT]:.1%}, caller {per[Speaker.CALLER]:.1%})"

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "call.wav"
        write_stereo(path, agent, caller)
        words = sum(len(r.split()) for r in refs.values())
        print(
            f"call: {seconds:.0f} s stereo {RATE} Hz, {args.lang} prompts, {words} reference "
            f"words; model {model}, {os.cpu_count()} CPUs"
        )
        runs: dict[str, list[tuple[dict[Speaker, Transcript], float, float]]] = {}
        jobs: list[tuple[str, Callable[[], dict[Speaker, Transcript]]]] = [
            (f"ours (metrics + gated ASR, batch {args.batch})", lambda: ours(path, tr, args.batch))
        ]
        if args.batch_compare:
            jobs.append(("ours, batch 1 (sequential chunks)", lambda: ours(path, tr, 1)))
        jobs.append(("baseline plain faster-whisper, whole channels", lambda: baseline(path, tr)))
        for _ in range(args.repeat):  # alternate, so load from other jobs hits all alike
            for label, job in jobs:
                runs.setdefault(label, []).append(timed(job))
        rows = [(label, *min(r, key=lambda x: x[1])) for label, r in runs.items()]
        wall, cpu = rows[0][2], rows[0][3]
        b_wall, b_cpu = rows[-1][2], rows[-1][3]
        if args.repeat > 1:
            print(f"best of {args.repeat} alternating runs (least disturbed by other jobs)")
        for label, out, w, c in rows:
            print(
                f"{label:48s} wall {w:6.1f} s  CPU {c:6.1f} s  {wer(out)}  "
                f"{seconds / w:5.1f} audio h per wall h"
            )
        print(
            f"speed-up (wall): {b_wall / wall:.2f}x, CPU {b_cpu / cpu:.2f}x   [target >= 1.5x "
            f"at equal or better WER: {'MET' if b_wall / wall >= 1.5 else 'NOT MET'}]"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
