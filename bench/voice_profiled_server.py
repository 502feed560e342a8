"""``callcenter`` run under a profiler, for ``bench/bench_voice.py --profile FILE``.

By default cProfile profiles the main thread: the event loop, where the call controller
handles ARI's events (engine requests and database reads run in worker threads, seen
here as the awaits). With ``CALLCENTER_BENCH_PROFILER=yappi`` and ``yappi`` installed
(``pip install yappi``; not a project dependency) every thread is profiled on the CPU
clock — but it slows the server several times (measured: set-up 4.5 calls/s instead of
12.6), so its numbers are shares, not speeds. The file named by
``CALLCENTER_BENCH_PROFILE`` is written when the server stops (SIGTERM). Profiling
starts on SIGUSR1 (the bench sends it just before the first call), so the server's
start-up (imports, migrations) is not in the figures.
"""

from __future__ import annotations

import cProfile
import os
import signal
import sys
import time

from callcenter.cli.main import main


def _exit(_sig: int, _frame: object) -> None:
    sys.exit(0)


def _run() -> None:
    out = os.environ["CALLCENTER_BENCH_PROFILE"]
    # uvicorn restores this handler after its orderly shutdown and raises SIGTERM again:
    # exiting through SystemExit lets the stats be written
    signal.signal(signal.SIGTERM, _exit)
    if os.environ.get("CALLCENTER_BENCH_PROFILER") == "yappi":
        import yappi  # type: ignore[import-not-found, unused-ignore]

        yappi.set_clock_type("cpu")
        yappi.start(builtins=False, profile_threads=True)
        try:
            main()
        except SystemExit:
            pass
        finally:
            yappi.stop()
            yappi.get_func_stats().save(out, type="pstat")
        return
    prof = cProfile.Profile(time.thread_time)  # the event loop's own CPU time
    # a signal handler runs in the main thread: enable() profiles the event loop
    signal.signal(signal.SIGUSR1, lambda _s, _f: prof.enable())
    try:
        main()
    except SystemExit:
        pass
    finally:
        prof.disable()
        prof.dump_stats(out)


if __name__ == "__main__":
    sys.argv[0] = "callcenter"
    _run()
