"""The live engine alone: requests per second and CPU per request, one caller against many.

A fresh SQLite file with the test center (``tests/support/seed.py``); each request is
an ``arrive`` with its contact row (the chat and the call controller's kind of request:
an ``extra`` in the same transaction) followed by its ``abandon``. **Baseline**: one
caller thread — nothing to write together, one transaction per request. **Measured**:
``--threads`` callers at once (the server's worker threads under a burst of calls):
the engine writes the requests decided while a transaction is being written in the
next one (group commit, ``live/group_commit.py``). Printed: requests/s (wall), CPU ms
per request (the whole process, ``time.process_time``), transactions written, and the
ratios to the baseline.

Run:  .venv/bin/python bench/bench_engine.py [--requests 2000] [--threads 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.orm import Session  # noqa: E402
from tests.support.seed import seed  # noqa: E402

from callcenter.live.engine import LiveEngine  # noqa: E402
from callcenter.storage.db import make_engine  # noqa: E402
from callcenter.storage.tables import ContactRow  # noqa: E402


@dataclass
class Result:
    threads: int
    requests: int
    wall_s: float
    cpu_s: float
    transactions: int

    @property
    def per_s(self) -> float:
        return self.requests / self.wall_s

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu_s / self.requests


def run(threads: int, requests: int) -> Result:
    with tempfile.TemporaryDirectory(prefix="cc-bench-engine-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'c.db'}"
        seed(url)
        db = make_engine(url)
        engine = LiveEngine(db)
        engine.start()
        pairs = requests // 2 // threads
        errors: list[BaseException] = []

        def caller(k: int) -> None:
            try:
                for j in range(pairs):
                    cid = f"c{k}-{j}"

                    def row(s: Session, cid: str = cid) -> None:
                        s.add(ContactRow(id=cid, channel="voice", status="queued", arrived_at=1.0))

                    engine.submit("arrive", contact=cid, queue="support", caller=None, extra=row)
                    engine.submit("abandon", contact=cid)
            except BaseException as e:  # reported below: a failed bench is no figure
                errors.append(e)

        workers = [threading.Thread(target=caller, args=(k,)) for k in range(threads)]
        before = engine.commits.batches
        c0, w0 = time.process_time(), time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        c1, w1 = time.process_time(), time.perf_counter()
        db.dispose()
        if errors:
            raise SystemExit(f"bench failed: {errors[0]!r}")
        done = 2 * pairs * threads
        return Result(threads, done, w1 - w0, c1 - c0, engine.commits.batches - before)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--threads", type=int, default=20)
    args = p.parse_args()
    if args.threads < 1 or args.requests < 2 * args.threads:
        p.error(f"--threads {args.threads} --requests {args.requests}: expected at least "
                "one thread and two requests (an arrive and its abandon) per thread")  # fmt: skip
    base = run(1, args.requests)
    many = run(args.threads, args.requests)
    print(f"{'callers':>8} {'requests':>9} {'req/s':>8} {'CPU ms/req':>11} {'transactions':>13}")
    for r in (base, many):
        print(
            f"{r.threads:>8} {r.requests:>9} {r.per_s:>8.0f} {r.cpu_ms:>11.3f} {r.transactions:>13}"
        )
    print(f"{args.threads} callers vs 1 (baseline): ×{many.per_s / base.per_s:.2f} requests/s, "
          f"×{many.cpu_ms / base.cpu_ms:.2f} CPU per request, "
          f"{many.requests / max(many.transactions, 1):.1f} requests per transaction")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
