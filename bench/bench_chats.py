"""200 simultaneous chats through the API of one ``callcenter serve``.

A fresh server (SQLite in a temporary folder) on 127.0.0.1 with the bench center
(``bench/live_server.py``): ``ceil(chats / capacity)`` agents with chat capacity
``--capacity`` (5), each signed in with a cookie session like the agent desktop, its
``/ws/desk`` socket open, logged in to the router (``POST /api/desk/login``).  An agent
accepts every offer pushed to its socket (``POST /api/desk/contacts/{id}/accept``).

* **Concurrent** (measured): ``--chats`` customers start a chat at once (``POST
  /api/chat/start``) and open their widget socket (``/ws/chat/{id}``); once every chat
  is accepted, all conversations run together: the customer writes (``POST
  /api/chat/{id}/messages``), the agent waits until the message reaches its desk socket,
  answers (``POST /api/desk/contacts/{id}/messages``), the customer waits until the answer
  reaches its widget, and so on, ``--messages`` (10) each way per chat, with no think
  time.  Then each agent ends its chats and wraps them up.
* **Baseline**, same run and server, before: the same exchange with one chat, in
  sequence (``--baseline-messages`` each way, 50 by default, for steadier percentiles).

Figures: messages per second (message POSTs answered / wall time of the exchange), the
p50 / p99 of the message POSTs, and end-to-end latency (one side's POST sent -> the other
side's socket receives the message; bench and server share this machine, so one clock).
Every non-2xx answer, every failed request, every push that did not arrive within 30 s
and every exception in the server log is counted and printed (grouped); any of them
fails the bench (exit 1).  A phase that has not finished ``--limit`` seconds (120) after
it began is given up, so the bench always stops.  There is no target in the product
issue: the figures are printed, with the ratio to the baseline.

``--in-flight N`` lets at most N requests be in flight at a time (the rest wait in the
bench, as behind a proxy's connection limit; that wait is printed apart and is not in
the latencies).  The default is no limit: 200 chats put up to ~240 requests in flight.

The agents log in one at a time during set-up (not measured; logins at once are
covered by ``tests/live_server/test_concurrency.py``).

Run:  .venv/bin/python bench/bench_chats.py [--chats 200] [--capacity 5] [--messages 10]
          [--in-flight 0] [--limit 120] [--json out.json] [--keep-log server.log]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Final

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.datastructures import Headers
from websockets.typing import Origin

from live_server import (
    ONE_ADDRESS_CROWD,
    Creds,
    Server,
    agent_names,
    percentiles,
    raise_nofile,
    seed_center,
    summarize,
)

QUEUE: Final = "support"
PUSH_TIMEOUT_S: Final = 30.0


@dataclass
class Stats:
    """What one phase measured (latencies in seconds)."""

    customer_post: list[float] = field(default_factory=list)
    agent_post: list[float] = field(default_factory=list)
    c2a: list[float] = field(default_factory=list)  # customer POST sent -> agent socket
    a2c: list[float] = field(default_factory=list)  # agent POST sent -> customer socket
    start_post: list[float] = field(default_factory=list)
    queued: list[float] = field(default_factory=list)  # in the bench, before sending
    accept_post: list[float] = field(default_factory=list)
    wall_s: float = 0.0  # the exchange
    setup_s: float = 0.0  # chats started -> all accepted
    close_s: float = 0.0  # end + wrap-up of every chat
    missed: int = 0

    @property
    def posts(self) -> list[float]:
        return self.customer_post + self.agent_post


@dataclass
class Chat:
    idx: int
    contact_id: str = ""
    token: str = ""
    agent: str = ""
    accepted: asyncio.Future[bool] | None = None  # True: an agent took it
    ws: ClientConnection | None = None


class Center:
    """The bench's side of the server: one HTTP client, the sockets, the waiting pushes."""

    def __init__(
        self, server: Server, creds: dict[str, Creds], agents: list[str], in_flight: int
    ) -> None:
        self.server = server
        # at most this many HTTP requests in flight (0: no limit)
        self.in_flight = asyncio.Semaphore(in_flight) if in_flight > 0 else None
        self.creds = creds
        self.agents = agents
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
        self.http = httpx.AsyncClient(
            base_url=server.url, timeout=60.0, limits=limits, trust_env=False
        )
        self.errors: list[str] = []
        self.waiting: dict[str, asyncio.Future[float]] = {}  # message body -> receipt time
        self.chats: dict[str, Chat] = {}  # contact id -> chat
        self.offers_early: dict[str, str] = {}  # offers pushed before start() returned
        self.stats = Stats()
        self.sockets: list[ClientConnection] = []
        self.readers: list[asyncio.Task[None]] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.closing = False  # sockets closing at the end: their errors are not errors

    async def call(
        self, method: str, path: str, *, what: str, lat: list[float] | None = None, **kw: Any
    ) -> tuple[Any, float]:
        """One request: (its JSON, or None for a non-2xx answer (recorded); when it was sent).

        ``lat`` gets its latency from when it was sent; with ``--in-flight`` the time it
        queued in the bench first goes to ``stats.queued``.
        """
        t0 = time.perf_counter()
        async with self.in_flight or contextlib.nullcontext():
            sent = time.perf_counter()
            self.stats.queued.append(sent - t0)
            try:
                r = await self.http.request(method, path, **kw)
            except httpx.HTTPError as e:
                self.errors.append(f"{what}: {type(e).__name__}: {e}")
                return None, sent
        if lat is not None:
            lat.append(time.perf_counter() - sent)
        if r.status_code >= 300:
            self.errors.append(f"{what} -> {r.status_code}: {r.text[:300]}")
            return None, sent
        return (r.json() if r.content else {}), sent

    def agent_headers(self, agent: str) -> dict[str, str]:
        return self.creds[agent].cookie_headers()

    # -- sockets

    async def open_socket(self, path: str, on_message: Callable[[dict[str, Any]], None],
                          headers: dict[str, str] | None = None) -> ClientConnection:  # fmt: skip
        ws = await connect(
            self.server.ws_url + path, proxy=None, ping_interval=None, open_timeout=60,
            origin=Origin(self.server.url), additional_headers=Headers(headers or {}),
        )  # fmt: skip
        hello = orjson.loads(await ws.recv())
        if hello.get("type") != "hello":
            raise RuntimeError(f"{path}: expected hello, got {hello}")
        self.sockets.append(ws)

        async def read() -> None:
            try:
                async for text in ws:
                    on_message(orjson.loads(text))
            except Exception as e:  # the bench closes sockets at the end: not an error then
                if not self.closing:
                    self.errors.append(f"socket {path}: {type(e).__name__}: {e}")

        self.readers.append(asyncio.create_task(read()))
        return ws

    def received(self, body: str) -> None:
        fut = self.waiting.get(body)
        if fut is not None and not fut.done():
            fut.set_result(time.perf_counter())

    def desk_push(self, agent: str) -> Callable[[dict[str, Any]], None]:
        def on(msg: dict[str, Any]) -> None:
            kind = msg.get("type")
            if kind == "offer":
                self.spawn(self.accept(agent, msg["contact"]["id"]))
            elif kind == "message" and msg["message"]["sender"] == "customer":
                self.received(msg["message"]["body"])

        return on

    def widget_push(self, msg: dict[str, Any]) -> None:
        if msg.get("type") == "message" and msg["message"]["sender"] == "agent":
            self.received(msg["message"]["body"])

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def accept(self, agent: str, contact_id: str) -> None:
        ok, _ = await self.call(
            "POST", f"/api/desk/contacts/{contact_id}/accept", what="accept",
            headers=self.agent_headers(agent), lat=self.stats.accept_post,
        )  # fmt: skip
        chat = self.chats.get(contact_id)
        if chat is None:  # the offer came before the customer's start() returned
            self.offers_early[contact_id] = agent if ok is not None else ""
            return
        self._accepted(chat, agent if ok is not None else "")

    def _accepted(self, chat: Chat, agent: str) -> None:
        chat.agent = agent
        if chat.accepted is not None and not chat.accepted.done():
            chat.accepted.set_result(bool(agent))

    async def start_agents(self) -> None:
        for a in self.agents:
            await self.open_socket("/ws/desk", self.desk_push(a), self.agent_cookie(a))
        for a in self.agents:  # one by one: set-up, not measured
            await self.call("POST", "/api/desk/login", what="login", headers=self.agent_headers(a))

    def agent_cookie(self, agent: str) -> dict[str, str]:
        return {"Cookie": self.agent_headers(agent)["Cookie"]}

    # -- one chat

    async def start_chat(self, chat: Chat) -> bool:
        chat.accepted = asyncio.get_running_loop().create_future()
        started, _ = await self.call(
            "POST", "/api/chat/start", what="chat start", lat=self.stats.start_post,
            json={"queue": QUEUE, "name": f"Customer {chat.idx}",
                  "email": f"customer{chat.idx}@example.com", "message": "Hello!"},
        )  # fmt: skip
        if started is None:
            return False
        chat.contact_id, chat.token = started["contact_id"], started["token"]
        self.chats[chat.contact_id] = chat
        early = self.offers_early.pop(chat.contact_id, None)
        if early is not None:
            self._accepted(chat, early)
        ticket, _ = await self.call(
            "POST", f"/api/chat/{chat.contact_id}/socket", what="socket ticket",
            headers={"X-Chat-Token": chat.token},
        )  # fmt: skip
        if ticket is None:
            return False
        chat.ws = await self.open_socket(
            f"/ws/chat/{chat.contact_id}?ticket={ticket['ticket']}", self.widget_push
        )
        try:
            took = await asyncio.wait_for(asyncio.shield(chat.accepted), PUSH_TIMEOUT_S)
        except TimeoutError:
            self.errors.append(f"chat {chat.idx}: no offer accepted within {PUSH_TIMEOUT_S:g} s")
            return False
        return took  # False: the accept failed (recorded)

    async def converse(self, chat: Chat, messages: int) -> None:
        """``messages`` each way, each side waiting for the other's message to arrive."""
        st = self.stats
        loop = asyncio.get_running_loop()
        cust_h = {"X-Chat-Token": chat.token}
        agent_h = self.agent_headers(chat.agent)
        cust_path = f"/api/chat/{chat.contact_id}/messages"
        agent_path = f"/api/desk/contacts/{chat.contact_id}/messages"
        for i in range(messages):
            for side in ("customer", "agent"):
                body = f"{side} {chat.idx}.{i}: " + "lorem ipsum dolor sit amet, consectetur"
                fut: asyncio.Future[float] = loop.create_future()
                self.waiting[body] = fut
                customer = side == "customer"
                path = cust_path if customer else agent_path
                h, lat = (cust_h, st.customer_post) if customer else (agent_h, st.agent_post)
                ok, sent = await self.call("POST", path, what=f"{side} message", lat=lat,
                                           json={"body": body}, headers=h)  # fmt: skip
                if ok is None:
                    self.waiting.pop(body, None)
                    continue
                try:
                    t1 = await asyncio.wait_for(fut, PUSH_TIMEOUT_S)
                    (st.c2a if side == "customer" else st.a2c).append(t1 - sent)
                except TimeoutError:
                    st.missed += 1
                    self.errors.append(f"{side} message of chat {chat.idx} never pushed")
                finally:
                    self.waiting.pop(body, None)

    async def close_chat(self, chat: Chat) -> None:
        h = self.agent_headers(chat.agent)
        base = f"/api/desk/contacts/{chat.contact_id}"
        if (await self.call("POST", f"{base}/end", what="end", headers=h))[0] is not None:
            await self.call("POST", f"{base}/wrapup", what="wrapup", headers=h,
                            json={"disposition": "resolved", "notes": "bench"})  # fmt: skip

    async def run(
        self, first_idx: int, n: int, messages: int, *, sequential: bool, limit_s: float
    ) -> Stats:
        """Start ``n`` chats, converse, close them; give up (an error) after ``limit_s``."""
        self.stats = st = Stats()
        end = time.perf_counter() + limit_s
        chats = [Chat(first_idx + i) for i in range(n)]

        async def step(
            what: str, jobs: Sequence[Callable[[], Coroutine[Any, Any, Any]]]
        ) -> tuple[list[Any], float]:
            """Run ``jobs`` (all at once, or one by one): their results (None: failed)."""
            t0 = time.perf_counter()
            out: list[Any] = []
            for batch in [[j] for j in jobs] if sequential else [list(jobs)]:
                if not batch:
                    break
                tasks = [asyncio.ensure_future(j()) for j in batch]
                left = max(0.0, end - time.perf_counter())
                _done, pending = await asyncio.wait(tasks, timeout=left)
                for t in tasks:
                    if t in pending:
                        t.cancel()
                        out.append(None)
                    elif (e := t.exception()) is not None:
                        self.errors.append(f"{what}: {type(e).__name__}: {e}")
                        out.append(None)
                    else:
                        out.append(t.result())
                if pending:
                    self.errors.append(
                        f"{what}: {len(pending)} not done {limit_s:g} s after the phase began"
                    )
                    break
            return out, time.perf_counter() - t0

        ok, st.setup_s = await step("chat start", [partial(self.start_chat, c) for c in chats])
        live = [c for c, good in zip(chats, ok, strict=False) if good is True]
        exchange = [partial(self.converse, c, messages) for c in live]
        _, st.wall_s = await step("exchange", exchange)
        _, st.close_s = await step("closing", [partial(self.close_chat, c) for c in live])
        for c in chats:
            if c.ws is not None:
                await c.ws.close()
        return st

    async def shutdown(self) -> None:
        self.closing = True
        for ws in self.sockets:
            await ws.close()
        for t in [*self.readers, *self.tasks]:
            t.cancel()
        await asyncio.gather(*self.readers, *self.tasks, return_exceptions=True)
        await self.http.aclose()


# --------------------------------------------------------------------------- report


def ms(values: list[float]) -> str:
    p50, _p95, p99 = percentiles(values)
    return f"p50 {p50 * 1e3:7.1f}  p99 {p99 * 1e3:7.1f} ms  (n={len(values):,})"


def rate(st: Stats) -> float:
    return len(st.posts) / st.wall_s if st.wall_s else 0.0


def report(name: str, chats: int, st: Stats, *, capped: bool) -> None:
    print(f"  {name}: {chats} chat(s); {len(st.posts):,} message POSTs in {st.wall_s:.2f} s "
          f"= {rate(st):,.0f} messages/s")  # fmt: skip
    print(f"    message POST (both sides)   {ms(st.posts)}")
    print(f"      customer POST             {ms(st.customer_post)}")
    print(f"      agent POST                {ms(st.agent_post)}")
    print(f"    customer POST -> agent desk {ms(st.c2a)}")
    print(f"    agent POST -> widget        {ms(st.a2c)}")
    print(f"    start chat POST             {ms(st.start_post)}; accept POST {ms(st.accept_post)}")
    print(f"    all started + accepted in {st.setup_s:.2f} s; all ended + wrapped up in "
          f"{st.close_s:.2f} s")  # fmt: skip
    if capped:
        print(f"    (queued in the bench before sending, --in-flight: {ms(st.queued)})")


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    n_agents = math.ceil(args.chats / args.capacity)
    with tempfile.TemporaryDirectory(prefix="bench-chats-") as tmp:
        workdir = Path(tmp)
        db_url = f"sqlite:///{workdir / 'center.db'}"
        creds = seed_center(db_url, agents=n_agents, capacity=args.capacity)
        server = Server(db_url, workdir, env=ONE_ADDRESS_CROWD)
        server.start()
        center = Center(server, creds, agent_names(n_agents), args.in_flight)
        out: dict[str, Any] = {"agents": n_agents}
        try:
            await center.start_agents()
            base = await center.run(
                0, 1, args.baseline_messages, sequential=True, limit_s=args.limit
            )
            report("baseline", 1, base, capped=args.in_flight > 0)
            cpu0, scpu0 = _self_cpu(), server.cpu_seconds()
            ours = await center.run(
                1, args.chats, args.messages, sequential=False, limit_s=args.limit
            )
            report("concurrent", args.chats, ours, capped=args.in_flight > 0)
            cpu, scpu = _self_cpu() - cpu0, server.cpu_seconds() - scpu0
            print(f"    CPU during the concurrent phase: server {scpu:.1f} s, bench {cpu:.1f} s")
            out |= {"baseline": base, "concurrent": ours}
        finally:
            await center.shutdown()
            server.stop()
            out["server_errors"] = server.errors_in_log()
            if args.keep_log is not None:
                shutil.copy(server.log_path, args.keep_log)
        out["errors"] = center.errors
    return out


def _self_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--chats", type=int, default=200)
    ap.add_argument("--capacity", type=int, default=5, help="chats per agent")
    ap.add_argument("--messages", type=int, default=10, help="each way, per chat")
    ap.add_argument("--baseline-messages", type=int, default=50, help="each way, one chat")
    ap.add_argument("--limit", type=float, default=120.0,
                    help="seconds a phase may take before the bench gives up")  # fmt: skip
    ap.add_argument("--in-flight", type=int, default=0,
                    help="at most this many HTTP requests at a time (0: no limit)")  # fmt: skip
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--keep-log", type=Path, help="copy the server's log here")
    args = ap.parse_args()

    raise_nofile()
    try:
        import uvloop

        run: Callable[[Any], Any] = uvloop.run
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        run = asyncio.run
    print(f"chats: {args.chats} simultaneous chats, {math.ceil(args.chats / args.capacity)} "
          f"agents with capacity {args.capacity}, {args.messages} messages each way per chat "
          f"(baseline: 1 chat, {args.baseline_messages} each way, in sequence)")  # fmt: skip
    out = run(bench(args))
    problems = [*out["errors"], *out["server_errors"]]
    if "concurrent" in out and rate(out["baseline"]) and rate(out["concurrent"]):
        base, ours = out["baseline"], out["concurrent"]
        b99, o99 = percentiles(base.posts)[2], percentiles(ours.posts)[2]
        b50, o50 = percentiles(base.posts)[0], percentiles(ours.posts)[0]
        print(f"  concurrent vs baseline: {rate(ours) / rate(base):.2f}x the messages/s; "
              f"message POST p50 {o50 / b50:.1f}x, p99 {o99 / b99:.1f}x")  # fmt: skip
        expected = 2 * args.chats * args.messages
        if len(ours.posts) != expected:
            problems.append(f"{len(ours.posts)} of {expected} message POSTs sent")
    print(f"  errors: {len(out['errors'])} in the bench (non-2xx answers, failed requests, "
          f"missed pushes), {len(out['server_errors'])} exceptions in the server log")  # fmt: skip
    for line in summarize(out["errors"]):
        print(f"  PROBLEM (bench): {line}")
    for line in summarize(out["server_errors"]):
        print(f"  PROBLEM (server log): {line}")
    if problems:
        print("  the figures above are partial: the run had errors")
    if args.json:
        stats = {k: v for k, v in out.items() if isinstance(v, Stats)}
        args.json.write_text(
            json.dumps(
                {
                    name: {
                        "messages_per_s": rate(st),
                        "post_p50_p95_p99_s": percentiles(st.posts),
                        "c2a_p50_p95_p99_s": percentiles(st.c2a),
                        "a2c_p50_p95_p99_s": percentiles(st.a2c),
                        "wall_s": st.wall_s,
                    }
                    for name, st in stats.items()
                }
                | {"agents": out["agents"], "problems": problems},
                indent=2,
            )
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
