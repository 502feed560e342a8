"""The controller's lookups kept between calls, and forgotten when the configuration
changes: a telephony change (``Voice.reload`` calls ``forget``) or a new router (queues
and agents: ``LiveEngine.reload``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from tests.support.seed import seed

from callcenter.live.engine import LiveEngine
from callcenter.live.voice import admin
from callcenter.live.voice.model import NOT_KEPT, Entry
from callcenter.live.voice.schemas import DeviceIn, NumberIn, NumberPatch
from callcenter.live.voice.setup import TableRoutes
from callcenter.settings import Settings
from callcenter.storage.db import make_engine
from callcenter.storage.tables import QueueRow


@pytest.fixture
def routes(tmp_path: Path) -> Iterator[TableRoutes]:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    seed(url)
    db = make_engine(url)
    engine = LiveEngine(db)
    engine.start()
    with engine.sessions.begin() as s:
        s.execute(update(QueueRow).values(channel="voice"))  # both seeded queues take calls
        admin.create_number(
            s, NumberIn(number="5551000", target_kind="queue", target="support"), 1.0
        )
        admin.set_device(s, "ann", DeviceIn(kind="sip"), now=1.0)
    try:
        yield TableRoutes(engine, Settings(database_url=url))
    finally:
        db.dispose()


def _number_id(r: TableRoutes) -> int:
    with r.engine.sessions() as s:
        (row,) = admin.list_numbers(s)
        return row.id


def test_a_lookup_is_kept_until_a_telephony_change(routes: TableRoutes) -> None:
    assert routes.kept("entry_of_number", "5551000") is NOT_KEPT
    assert routes.entry_of_number("5551000") == Entry(queue="support", language="en")
    assert routes.kept("entry_of_number", "5551000") == Entry(queue="support", language="en")
    with routes.engine.sessions.begin() as s:
        admin.update_number(s, _number_id(routes), NumberPatch(target="sales"), 2.0)
    # written behind its back: still the kept answer (the admin API calls forget())
    assert routes.entry_of_number("5551000") == Entry(queue="support", language="en")
    routes.forget()
    assert routes.kept("entry_of_number", "5551000") is NOT_KEPT
    assert routes.entry_of_number("5551000") == Entry(queue="sales", language="en")
    assert routes.entry_of_number("5559999") is None  # not ours: kept as such too
    assert routes.kept("entry_of_number", "5559999") is None


def test_a_new_router_forgets_queue_settings_and_phones(routes: TableRoutes) -> None:
    assert routes.options_of_queue("support").record is True
    assert routes.endpoint_of_agent("ann") == "PJSIP/agent-ann"
    with routes.engine.sessions.begin() as s:
        s.execute(update(QueueRow).where(QueueRow.name == "support").values(record_calls=False))
    assert routes.options_of_queue("support").record is True  # kept
    routes.engine.reload()  # what the admin API does after a queue change
    assert routes.kept("options_of_queue", "support") is NOT_KEPT
    assert routes.kept("endpoint_of_agent", "ann") is NOT_KEPT
    assert routes.options_of_queue("support").record is False
