"""Small helpers that build hand-made event logs for the KPI tests.

Times are given in seconds after :data:`T0` (2024-01-01 00:00:00 UTC, so interval and day
boundaries fall on round numbers: 1800 = 00:30, 86400 = the next day).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from callcenter.events import Event, EventType
from callcenter.kpi import KpiReport, KpiRow, KpiSettings, compute_kpis
from callcenter.storage.jsonl import write_events

T0 = 1_704_067_200.0  # 2024-01-01T00:00:00Z


class Log:
    """Collects events (times relative to T0) and writes them as a valid log."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, t: float, etype: str, **fields: Any) -> Log:
        self.events.append(Event(t=T0 + t, type=EventType(etype), **fields))
        return self

    # --- contacts ------------------------------------------------------------------------
    def enqueue(self, t: float, contact: str, queue: str) -> Log:
        return self.add(t, "enqueue", contact=contact, queue=queue)

    def offer(self, t: float, contact: str, queue: str, agent: str, wait: float) -> Log:
        return self.add(t, "offer", contact=contact, queue=queue, agent=agent, wait=wait)

    def connect(self, t: float, contact: str, queue: str, agent: str, wait: float) -> Log:
        return self.add(t, "connect", contact=contact, queue=queue, agent=agent, wait=wait)

    def complete(
        self, t: float, contact: str, queue: str, agent: str, talk: float, hold: float = 0.0
    ) -> Log:
        return self.add(
            t, "complete", contact=contact, queue=queue, agent=agent, by="caller", talk=talk,
            hold=hold,
        )  # fmt: skip

    def wrapup(self, t: float, contact: str, queue: str, agent: str, acw: float) -> Log:
        return self.add(t, "wrapup_end", contact=contact, queue=queue, agent=agent, acw=acw)

    def abandon(self, t: float, contact: str, queue: str, wait: float) -> Log:
        return self.add(t, "abandon", contact=contact, queue=queue, wait=wait)

    def answered(
        self,
        contact: str,
        queue: str,
        agent: str,
        *,
        enq: float,
        wait: float,
        talk: float,
        acw: float,
        hold: float = 0.0,
    ) -> Log:
        """enqueue → offer (at connect − 1 s) → connect → complete → wrapup_end."""
        t_conn = enq + wait
        self.enqueue(enq, contact, queue)
        self.offer(t_conn - 1.0, contact, queue, agent, wait - 1.0)
        self.connect(t_conn, contact, queue, agent, wait)
        t_end = t_conn + talk + hold
        self.complete(t_end, contact, queue, agent, talk, hold)
        return self.wrapup(t_end + acw, contact, queue, agent, acw)

    # --- agents --------------------------------------------------------------------------
    def login(self, t: float, agent: str) -> Log:
        return self.add(t, "agent_login", agent=agent)

    def logout(self, t: float, agent: str) -> Log:
        return self.add(t, "agent_logout", agent=agent)

    def pause(self, t: float, agent: str, reason: str | None = None) -> Log:
        return self.add(t, "agent_state", agent=agent, state="paused", reason=reason)

    def available(self, t: float, agent: str) -> Log:
        return self.add(t, "agent_state", agent=agent, state="available")

    # --- output --------------------------------------------------------------------------
    def sorted_events(self) -> list[Event]:
        return sorted(self.events, key=lambda e: e.t)  # stable: ties keep the order added

    def write(self, path: Path) -> Path:
        write_events(path, self.sorted_events(), source="test")
        return path

    def report(self, tmp_path: Path, name: str = "log.jsonl", **settings: Any) -> KpiReport:
        return compute_kpis(self.write(tmp_path / name), KpiSettings(**settings))


def row(report: KpiReport, **key: Any) -> KpiRow:
    """The one row of ``report`` whose key fields equal ``key`` (e.g. queue="sales")."""
    found = [r for r in report.rows if all(getattr(r, k) == v for k, v in key.items())]
    assert len(found) == 1, f"{len(found)} rows match {key}: {report.rows}"
    return found[0]
