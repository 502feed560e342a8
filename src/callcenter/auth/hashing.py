"""A bounded pool for password hashing, apart from the request threads.

An Argon2 check holds 64 MiB and a CPU for a tenth of a second or so.  Run on the
request threads (forty of them) a sign-in flood held forty of them at once: 2.5 GiB,
and no thread left for anyone else.  Here at most ``threads`` checks run at once, on
threads of their own (an anyio :class:`~anyio.CapacityLimiter`), so memory for hashing
is bounded by ``threads`` × 64 MiB; the callers wait on the event loop, holding no
thread; and at most ``queue`` more may wait — beyond that :class:`HashPoolBusyError` is
raised at once (the API answers 503 with ``Retry-After``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from anyio import CapacityLimiter, from_thread, to_thread

T = TypeVar("T")


class HashPoolBusyError(Exception):
    """Too many password checks waiting: try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the server is busy checking passwords; try again in {retry_after} s")
        self.retry_after = retry_after


class HashPool:
    """Runs password hashing on at most ``threads`` threads, with at most ``queue`` waiting.

    Create it on the event loop (the server's start-up); :meth:`run` there,
    :meth:`run_from_thread` from a request thread (user creation, password reset).
    """

    def __init__(self, threads: int, queue: int) -> None:
        self.threads = threads
        self.queue = queue
        self._limiter = CapacityLimiter(threads)
        self._admitted = 0  # running + waiting

    @property
    def admitted(self) -> int:
        return self._admitted

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` on one of the pool's threads, or :class:`HashPoolBusyError` at once."""
        if self._admitted >= self.threads + self.queue:
            raise HashPoolBusyError(1)
        self._admitted += 1
        try:
            return await to_thread.run_sync(lambda: fn(*args), limiter=self._limiter)
        finally:
            self._admitted -= 1

    def run_from_thread(self, fn: Callable[..., T], *args: object) -> T:
        """:meth:`run` from a worker thread started by anyio (a sync request handler)."""
        return from_thread.run(self.run, fn, *args)


__all__ = ["HashPool", "HashPoolBusyError"]
