"""``callcenter demo``: simulated customers and agents that use a running center.

:class:`DemoDriver` plays customers and agents **through the public HTTP API** of a
running server, with bearer tokens, exactly as people's browsers would: customers start
chats (Poisson arrivals), write canned lines, sometimes give up waiting and rate the
chat; agents log in, accept offers after a random ring, answer, end the chat, record a
disposition and now and then take a break.  One agent (:data:`HUMAN_AGENT`, ``ann``) is
never driven, so a person can sign in as her and take chats beside them.  The center
they work in is written by :func:`callcenter.live.demo.seed.seed_demo`.

Nothing here reaches into the server's internals: if the demo works, the API does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from callcenter.live.demo.seed import DISPOSITIONS, QUEUES

log = logging.getLogger("callcenter.demo")

QUEUE_SHARE: Final = (0.7, 0.3)  # of the arrivals, support and sales
CUSTOMERS: Final = (
    ("Olivia Martin", "olivia.martin@example.com"),
    ("Liam Chen", "liam.chen@example.org"),
    ("Sofia Rossi", "sofia.rossi@example.net"),
    ("Noah Williams", "noah.w@example.com"),
    ("Amara Okafor", "amara.okafor@example.org"),
    ("Lucas Müller", "lucas.mueller@example.net"),
    ("Yuki Tanaka", "yuki.tanaka@example.com"),
    ("Mateo García", "mateo.garcia@example.org"),
    ("Emma Johansson", "emma.j@example.net"),
    ("Priya Patel", "priya.patel@example.com"),
    ("Ethan Brown", "ethan.brown@example.org"),
    ("Chloé Dubois", "chloe.dubois@example.net"),
)
OPENERS: Final[dict[str, tuple[str, ...]]] = {
    "support": (
        "Hi, my order hasn't arrived yet.",
        "I can't sign in to my account.",
        "The app crashes when I open my invoices.",
        "I was charged twice this month.",
        "How do I change my delivery address?",
    ),
    "sales": (
        "Do you offer a yearly plan?",
        "Is there a discount for teams of ten?",
        "Can I try the premium plan first?",
        "What is included in the business package?",
    ),
}
CUSTOMER_LINES: Final = (
    "It's order 4471.",
    "Yes, the e-mail address on file is right.",
    "I tried that already.",
    "Okay, thanks for checking.",
    "That would be great.",
    "Sure, one moment.",
)
AGENT_LINES: Final = (
    "Let me look into that for you.",
    "I can see your account here — one moment please.",
    "Thanks for waiting. I've updated that for you.",
    "I've sent you an e-mail with the details.",
)
AGENT_CLOSING: Final = "Is there anything else I can help with? Have a great day!"
CUSTOMER_BYE: Final = "No, that's all. Thank you!"
NOTES: Final = ("Customer satisfied.", "Sent details by e-mail.", "Check again tomorrow.", "")

POLL_S: Final = 1.0  # how often a simulated agent looks at its desk
CUSTOMER_POLL_S: Final = 1.5  # how often a simulated customer looks at its chat
WIND_DOWN_S: Final = 15.0  # at most this long to finish open chats when stopping


# --------------------------------------------------------------------------- driving


@dataclass
class Stats:
    """What the driver did (printed when the demo stops)."""

    chats_started: int = 0
    chats_abandoned: int = 0
    chats_rated: int = 0
    messages: int = 0
    wrapups: int = 0
    refused: int = 0  # 409s: a race with a timer (an offer that timed out before accept)
    errors: int = 0  # anything else that failed (logged)


@dataclass
class DemoOptions:
    rate_per_min: float = 2.0  # chat arrivals per minute per simulated agent
    seed: int | None = None
    poll_s: float = POLL_S


@dataclass
class _Plan:
    """A simulated agent's intentions about one contact on its desk."""

    due: float  # monotonic time of the next step
    replies: int = 0
    target: int = 2
    seen: int = 0  # messages in the transcript after its last line
    noticed: bool = True  # it has seen the customer's newest line (the greeting: at once)


@dataclass
class DemoDriver:
    """Simulated customers and agents against the server at ``base_url``."""

    base_url: str
    tokens: dict[str, str]  # simulated agent -> API token
    options: DemoOptions = field(default_factory=DemoOptions)
    stats: Stats = field(default_factory=Stats)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.options.seed)
        self.closing = asyncio.Event()
        self._customers: set[asyncio.Task[None]] = set()

    def _client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=15.0)

    async def _call(self, http: httpx.AsyncClient, method: str, url: str, **kw: Any) -> Any | None:
        """One API call; a refusal (409) or a failure is counted, never raised."""
        try:
            r = await http.request(method, url, **kw)
        except httpx.HTTPError as e:
            self.stats.errors += 1
            log.warning("%s %s failed: %s", method, url, e)
            return None
        if r.status_code == 409:
            self.stats.refused += 1
            return None
        if r.status_code >= 400:
            self.stats.errors += 1
            log.warning("%s %s -> %d: %s", method, url, r.status_code, r.text[:200])
            return None
        return r.json() if r.content else {}

    async def run(self, stop: asyncio.Event) -> None:
        """Drive until ``stop`` is set, then wind down (customers leave, agents finish)."""
        agents = [asyncio.create_task(self._agent(name, tok)) for name, tok in self.tokens.items()]
        arrivals = asyncio.create_task(self._arrivals())
        await stop.wait()
        self.closing.set()
        arrivals.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await arrivals
        await asyncio.wait([*self._customers, *agents], timeout=WIND_DOWN_S)
        for task in [*self._customers, *agents]:
            task.cancel()
        await asyncio.gather(*self._customers, *agents, return_exceptions=True)

    # ------------------------------------------------------------------ customers

    async def _arrivals(self) -> None:
        rate_s = self.options.rate_per_min * max(len(self.tokens), 1) / 60.0
        first = True
        while True:
            # the first customer comes at once, so that something happens right away
            await asyncio.sleep(0.5 if first else self.rng.expovariate(rate_s))
            first = False
            task = asyncio.create_task(self._customer())
            self._customers.add(task)
            task.add_done_callback(self._customers.discard)

    async def _customer(self) -> None:
        rng = self.rng
        name, email = rng.choice(CUSTOMERS)
        queue = rng.choices(QUEUES, weights=QUEUE_SHARE)[0]
        async with self._client() as http:
            started = await self._call(
                http, "POST", "/api/chat/start",
                json={"queue": queue, "name": name, "email": email,
                      "message": rng.choice(OPENERS[queue])},
            )  # fmt: skip
            if started is None:
                return
            self.stats.chats_started += 1
            http.headers["X-Chat-Token"] = started["token"]
            await self._converse_as_customer(http, started["contact_id"])

    async def _converse_as_customer(self, http: httpx.AsyncClient, cid: str) -> None:
        rng = self.rng
        patience = time.monotonic() + rng.expovariate(1 / 90.0)  # mean 90 s in the queue
        answered_agent_lines, reply_due = 0, None
        while True:
            await asyncio.sleep(CUSTOMER_POLL_S)
            chat = await self._call(http, "GET", f"/api/chat/{cid}")
            if chat is None:
                continue
            if chat["ended"]:
                break
            waiting = chat["status"] in ("queued", "ringing")
            if self.closing.is_set() or (waiting and time.monotonic() > patience):
                if waiting:
                    self.stats.chats_abandoned += 1
                await self._call(http, "POST", f"/api/chat/{cid}/end")
                break
            agent_lines = [m for m in chat["messages"] if m["sender"] == "agent"]
            if len(agent_lines) > answered_agent_lines and reply_due is None:
                reply_due = time.monotonic() + rng.uniform(2.0, 6.0)
            if reply_due is not None and time.monotonic() >= reply_due:
                answered_agent_lines, reply_due = len(agent_lines), None
                closing = agent_lines and agent_lines[-1]["body"] == AGENT_CLOSING
                body = CUSTOMER_BYE if closing else rng.choice(CUSTOMER_LINES)
                if await self._call(http, "POST", f"/api/chat/{cid}/messages", json={"body": body}):
                    self.stats.messages += 1
        if rng.random() < 0.6 and not self.closing.is_set():
            score = rng.choices([5, 4, 3, 2, 1], weights=[50, 30, 12, 5, 3])[0]
            if await self._call(http, "POST", f"/api/chat/{cid}/csat", json={"score": score}):
                self.stats.chats_rated += 1

    # ------------------------------------------------------------------ agents

    async def _agent(self, name: str, token: str) -> None:
        plans: dict[str, _Plan] = {}
        break_until: float | None = None
        async with self._client(token) as http:
            desk = await self._call(http, "GET", "/api/desk")
            if desk is not None and desk["status"] == "logged_out":
                await self._call(http, "POST", "/api/desk/login")
            elif desk is not None and desk["status"] == "paused":
                await self._call(http, "POST", "/api/desk/unpause")
            while True:
                await asyncio.sleep(self.options.poll_s * self.rng.uniform(0.7, 1.3))
                desk = await self._call(http, "GET", "/api/desk")
                if desk is None:
                    continue
                contacts = desk["contacts"]
                if self.closing.is_set() and not contacts:
                    await self._call(http, "POST", "/api/desk/logout")
                    return
                now = time.monotonic()
                for c in contacts:
                    await self._work(http, c, plans, now)
                for gone in set(plans) - {c["id"] for c in contacts}:
                    del plans[gone]
                break_until = await self._breaks(http, desk, break_until, now)

    async def _breaks(
        self, http: httpx.AsyncClient, desk: dict[str, Any], until: float | None, now: float
    ) -> float | None:
        """About one break of 20-60 s per agent every ten minutes, when its desk is empty."""
        if until is not None:
            if now >= until:
                await self._call(http, "POST", "/api/desk/unpause")
                return None
            return until
        free = desk["status"] == "available" and not desk["contacts"]
        if free and not self.closing.is_set() and self.rng.random() < self.options.poll_s / 600:
            reason = self.rng.choices(["break", "training"], weights=[4, 1])[0]
            if await self._call(http, "POST", "/api/desk/pause", json={"reason": reason}):
                return now + self.rng.uniform(20.0, 60.0)
        return None

    async def _work(
        self, http: httpx.AsyncClient, c: dict[str, Any], plans: dict[str, _Plan], now: float
    ) -> None:
        cid, rng = c["id"], self.rng
        url = f"/api/desk/contacts/{cid}"
        plan = plans.get(cid)
        if c["status"] == "ringing":
            if plan is None:  # ring a little: most accept within 1-6 s, a few decline
                plans[cid] = _Plan(due=now + rng.uniform(1.0, 6.0), target=-1 if
                                   rng.random() < 0.04 else rng.randint(1, 3))  # fmt: skip
            elif now >= plan.due:
                verb = "decline" if plan.target < 0 else "accept"
                await self._call(http, "POST", f"{url}/{verb}")
                plan.due = now + rng.uniform(1.0, 3.0)  # typing the greeting
        elif c["status"] == "active":
            if plan is None or plan.target < 0:
                plan = plans[cid] = _Plan(due=now + rng.uniform(1.0, 3.0), target=rng.randint(1, 3))
            await self._talk(http, c, plan, now)
        elif c["status"] == "wrapup":
            if plan is None or plan.replies >= 0:
                plans[cid] = _Plan(due=now + rng.uniform(2.0, 6.0), replies=-1)
            elif now >= plan.due:
                disposition = rng.choices([d[0] for d in DISPOSITIONS], weights=[80, 15, 5])[0]
                body = {"disposition": disposition, "notes": rng.choice(NOTES)}
                if await self._call(http, "POST", f"{url}/wrapup", json=body) is not None:
                    self.stats.wrapups += 1
                plan.due = now + 5.0

    async def _link(self, http: httpx.AsyncClient, c: dict[str, Any]) -> None:
        """As a person would: a chat's claim linked to its one possible match, or made a
        new customer when nobody matches (several matches: left for a person to judge)."""
        if c.get("customer_id") is not None or not c.get("claim"):
            return
        matches = c.get("matches") or []
        if len(matches) > 1:
            return
        body = {"customer_id": matches[0]["customer"]["id"]} if matches else {"new_customer": True}
        await self._call(http, "POST", f"/api/desk/contacts/{c['id']}/link", json=body)

    async def _talk(
        self, http: httpx.AsyncClient, c: dict[str, Any], plan: _Plan, now: float
    ) -> None:
        """Greet, answer each new customer line after a moment of typing, close after
        ``plan.target`` answers (or when the customer went quiet), then end the chat."""
        msgs = c.get("messages") or []
        url = f"/api/desk/contacts/{c['id']}"
        if self.closing.is_set() or (plan.replies > plan.target and now >= plan.due):
            await self._call(http, "POST", f"{url}/end")
            return
        if plan.replies > plan.target:  # the closing line is out: let the customer say bye
            return
        fresh = plan.replies == 0 or (len(msgs) > plan.seen and msgs[-1]["sender"] == "customer")
        if not fresh:
            if now - plan.due > 45.0:  # the customer went quiet
                await self._call(http, "POST", f"{url}/end")
            return
        if not plan.noticed:  # a new line: read it, type the answer
            plan.noticed = True
            plan.due = max(plan.due, now + self.rng.uniform(1.5, 4.0))
        if now < plan.due:
            return
        if plan.replies == 0:
            await self._link(http, c)
            claim = c.get("claim") or {}
            first = (c.get("customer_name") or claim.get("name") or "there").split()[0]
            body = f"Hi {first}, thanks for reaching out. {self.rng.choice(AGENT_LINES)}"
        elif plan.replies >= plan.target:
            body = AGENT_CLOSING
        else:
            body = self.rng.choice(AGENT_LINES)
        if await self._call(http, "POST", f"{url}/messages", json={"body": body}):
            self.stats.messages += 1
        plan.replies += 1
        plan.seen, plan.noticed = len(msgs) + 1, False
        plan.due = now + (8.0 if plan.replies > plan.target else 2.0)


__all__ = ["DemoDriver", "DemoOptions", "Stats"]
