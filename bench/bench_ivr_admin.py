"""What the IVR administration costs: saving a flow (parse + check against the prompt
catalogue, the voice queues and the business hours), listing the prompts, and
uploading a prompt (WAV or MP3, converted to 8 kHz mono).

One fresh ``callcenter serve`` on 127.0.0.1 (SQLite in a temporary folder, the bench
center of ``bench/live_server.py`` plus a voice queue ``phones``); every request is made
as the administrator over a cookie session.  Prints the first save (which reads
Debian's ~1,150 prompt files once), the median and max of ``--saves`` later saves, the
median of ``GET /api/admin/ivr/prompts``, and one upload each of a ``--seconds`` long
44.1 kHz stereo WAV (made by sox) and 44.1 kHz mono MP3 (PyAV), end to end.

Run:  .venv/bin/python bench/bench_ivr_admin.py [--saves 30] [--seconds 30]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from live_server import Server, seed_center

FLOW = """\
name: main
language: en
languages: [en, ru]
nodes:
  welcome:
    kind: menu
    prompt: vm-intro
    options: {1: phones, 2: mail}
    on_invalid: bye
  phones: {kind: queue, queue: phones}
  mail: {kind: voicemail, prompt: vm-intro, queue: phones}
  bye: {kind: hangup, prompt: goodbye}
"""


def _mp3(path: Path, seconds: float, rate: int = 44100) -> None:
    import av

    pcm = (np.sin(2 * np.pi * 440 * np.arange(int(seconds * rate)) / rate) * 12000).astype(np.int16)
    with av.open(str(path), "w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=rate, layout="mono")
        for start in range(0, len(pcm), 1152):
            frame = av.AudioFrame.from_ndarray(pcm[None, start : start + 1152], "s16", "mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def _timed(c: httpx.Client, method: str, url: str, **kw: object) -> float:
    t0 = time.perf_counter()
    r = c.request(method, url, **kw)  # type: ignore[arg-type]
    took = time.perf_counter() - t0
    if r.status_code >= 400:
        raise SystemExit(f"{method} {url}: {r.status_code} {r.text}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--saves", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ivr-") as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'center.db'}"
        creds = seed_center(url, agents=2, capacity=1)
        server = Server(url, work, env={"CALLCENTER_IVR_PROMPTS_DIR": str(work / "prompts")})
        server.start()
        try:
            c = httpx.Client(base_url=server.url, headers=creds["admin"].cookie_headers(),
                             timeout=60.0)  # fmt: skip
            c.post("/api/admin/queues", json={"name": "phones", "channel": "voice"})
            first = _timed(c, "PUT", "/api/admin/ivr/flows/main", json={"source": FLOW})
            saves = [_timed(c, "PUT", "/api/admin/ivr/flows/main", json={"source": FLOW})
                     for _ in range(args.saves)]  # fmt: skip
            lists = [_timed(c, "GET", "/api/admin/ivr/prompts") for _ in range(10)]
            wav, mp3 = work / "long.wav", work / "long.mp3"
            subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", "-b", "16", str(wav), "synth",
                            str(args.seconds), "sine", "440"], check=True)  # fmt: skip
            _mp3(mp3, args.seconds)
            ups = {}
            for path in (wav, mp3):
                with path.open("rb") as f:
                    ups[path.suffix] = _timed(
                        c, "POST", "/api/admin/ivr/prompts",
                        data={"name": "long", "language": "en"}, files={"file": (path.name, f)},
                    )  # fmt: skip
            print(f"flow save, first (reads Debian's prompts once): {first * 1000:.0f} ms")
            med, top = statistics.median(saves) * 1000, max(saves) * 1000
            print(f"flow save, median / max of {args.saves}: {med:.1f} / {top:.1f} ms")
            print(f"GET prompts (en + ru names), median of 10: "
                  f"{statistics.median(lists) * 1000:.1f} ms")  # fmt: skip
            print(f"upload {args.seconds:g} s 44.1 kHz stereo WAV ({wav.stat().st_size} B): "
                  f"{ups['.wav'] * 1000:.0f} ms")  # fmt: skip
            print(f"upload {args.seconds:g} s 44.1 kHz mono MP3 ({mp3.stat().st_size} B): "
                  f"{ups['.mp3'] * 1000:.0f} ms")  # fmt: skip
            c.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
