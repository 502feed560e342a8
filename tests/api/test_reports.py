"""The KPI report over live data: ``GET /api/reports/kpi`` (and ``/reports``).

A morning is played through the live engine with a clock of our own (so the times are
exact), then a real server is started on that database and asked for the report. The
expected figures are worked out by hand from the script below with the definitions of
docs/kpis.md — not taken from the KPI engine.

Script (queue ``support``, ann alone, interval 30 min, threshold 20 s):

=====  =========================================================================
09:00  ann logs in
09:00:10  c1 arrives, rings at ann; answered 09:00:20 (wait 10 s); ends 09:02:20
          (talk 120 s); ann ends the wrap-up at 09:02:50 (ACW 30 s)
09:01:00  c2 arrives (ann has room for 3 chats); answered 09:01:40 (wait 40 s);
          ends 09:03:40 (talk 120 s); wrap-up ends 09:04:00 (ACW 20 s)
09:05:00  c3 arrives; the customer leaves while it rings, 09:05:12 (wait 12 s)
09:40:00  c4 arrives; answered 09:40:05; ends 09:41:05 (talk 60 s); ACW 10 s
09:50  ann logs out
=====  =========================================================================
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.support.seed import seed
from tests.support.server import LiveServer, running_server

from callcenter.live.engine import LiveEngine
from callcenter.storage.db import make_engine
from callcenter.storage.tables import ContactRow, ContactStatus

DAY = 1_714_521_600.0  # 2024-05-01 00:00 UTC
T9 = DAY + 9 * 3600


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _play(db_url: str) -> None:
    db = make_engine(db_url)
    clock = Clock(T9)
    engine = LiveEngine(db, clock=clock)
    engine.start()

    def at(offset: float, name: str, **args: Any) -> None:
        clock.t = T9 + offset
        extra = None
        if name == "arrive":
            cid = args["contact"]

            def extra(s: Session) -> None:
                s.add(ContactRow(id=cid, channel="chat", queue="support", arrived_at=clock.t,
                                 status=ContactStatus.QUEUED.value))  # fmt: skip
                s.flush()

            args = {"queue": "support", "caller": None, "channel": "chat", **args}
        engine.submit(name, extra=extra, **args)

    at(0, "login", agent="ann")
    at(10, "arrive", contact="c1")
    at(20, "answer", contact="c1")
    at(60, "arrive", contact="c2")
    at(100, "answer", contact="c2")
    at(140, "hangup", contact="c1", by="agent")
    at(170, "end_wrapup", agent="ann", contact="c1")
    at(220, "hangup", contact="c2", by="agent")
    at(240, "end_wrapup", agent="ann", contact="c2")
    at(300, "arrive", contact="c3")
    at(312, "abandon", contact="c3")
    at(2400, "arrive", contact="c4")
    at(2405, "answer", contact="c4")
    at(2465, "hangup", contact="c4", by="agent")
    at(2475, "end_wrapup", agent="ann", contact="c4")
    at(3000, "logout", agent="ann")
    db.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp("reports")
    db_url = f"sqlite:///{tmp / 'center.db'}"
    seed(db_url)
    _play(db_url)
    with running_server(db_url, tmp) as s:
        yield s


def _report(server: LiveServer, user: str = "manager", **params: Any) -> Any:
    with server.client(user) as c:
        return c.ok("GET", "/api/reports/kpi",
                    params={"from": DAY + 9 * 3600, "to": DAY + 10 * 3600, **params})  # fmt: skip


def test_interval_rows_and_total_match_the_hand_computed_figures(server: LiveServer) -> None:
    body = _report(server, interval="30m", sl_threshold=20)
    rows = {(r["interval_start"], r["queue"]): r for r in body["rows"]}
    first = rows[("2024-05-01T09:00:00Z", "support")]
    second = rows[("2024-05-01T09:30:00Z", "support")]
    v1, h1 = first["visits"], first["handling"]
    # 09:00-09:30: c1, c2 answered (waits 10, 40), c3 abandoned after 12 s
    assert (v1["offered"], v1["answered"], v1["abandoned"]) == (3, 2, 1)
    assert v1["service_level"] == pytest.approx(1 / 3)  # only c1 within 20 s, of 3
    assert v1["asa_s"] == pytest.approx(25.0)  # (10 + 40) / 2
    assert v1["abandon_rate"] == pytest.approx(1 / 3)
    assert h1["aht_s"] == pytest.approx((120 + 30 + 120 + 20) / 2)  # talk + ACW
    # 09:30-10:00: c4 alone
    v2, h2 = second["visits"], second["handling"]
    assert (v2["offered"], v2["answered"], v2["abandoned"]) == (1, 1, 0)
    assert v2["service_level"] == pytest.approx(1.0)
    assert h2["aht_s"] == pytest.approx(70.0)
    # the total row: the four contacts together
    tv, th = body["total"]["visits"], body["total"]["handling"]
    assert (tv["offered"], tv["answered"], tv["abandoned"]) == (4, 3, 1)
    assert tv["service_level"] == pytest.approx(2 / 4)  # c1, c4 within 20 s
    assert tv["asa_s"] == pytest.approx((10 + 40 + 5) / 3, abs=1e-3)  # seconds, 3 decimals
    assert th["aht_s"] == pytest.approx((150 + 140 + 70) / 3, abs=1e-3)
    assert body["settings"]["interval_s"] == 1800


def test_one_queue_threshold_csv_and_errors(server: LiveServer) -> None:
    body = _report(server, queue="support", sl_threshold=45)
    assert body["total"]["visits"]["service_level"] == pytest.approx(3 / 4)  # c2's 40 s too
    assert _report(server, queue="sales")["rows"] == []  # nothing there
    with server.client("manager") as c:
        r = c.get("/api/reports/kpi", params={"from": T9, "to": T9 + 3600, "format": "csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        header, *lines = r.text.strip().splitlines()
        assert "offered" in header.split(",") and len(lines) >= 3
        bad = c.get("/api/reports/kpi", params={"from": T9, "to": T9 - 1})
        assert bad.status_code == 422 and "must be after" in bad.json()["error"]["message"]
        bad = c.get("/api/reports/kpi", params={"from": T9, "interval": "7m"})
        assert bad.status_code == 422 and "interval" in bad.json()["error"]["message"]
        bad = c.get("/api/reports/kpi", params={"from": "yesterday-ish"})
        assert bad.status_code == 422 and "from" in bad.json()["error"]["message"]
        bad = c.get("/api/reports/kpi", params={"from": 0, "to": 1e15, "format": "csv"})
        assert bad.status_code == 422
        assert bad.json()["error"]["message"].startswith(
            "to '1000000000000000.0': expected an ISO 8601"
        )
    with server.client("quinn") as qa:  # QA analysts read reports too
        assert qa.get("/api/reports/kpi", params={"from": T9}).status_code == 200
    with server.client("ann") as agent:
        assert agent.get("/api/reports/kpi").status_code == 403
