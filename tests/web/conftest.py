"""Browser tests run against a real server: the ``live_server`` fixture (a seeded
``callcenter serve`` process); ``page`` and ``chromium_browser`` come from
``tests/support/fixtures.py`` (loaded for the whole suite in ``tests/conftest.py``)."""

from tests.support.live_fixtures import live_server

__all__ = ["live_server"]
