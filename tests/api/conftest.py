from tests.support.live_fixtures import live_server

__all__ = ["live_server"]
