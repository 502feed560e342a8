"""A tiny ARI client for the SIP-client tests: REST calls and the event stream.

Kept small on purpose and inside the test support: the project's own ARI client (the
call controller, ``live/voice/``) is written separately; this one only lets a test
answer, originate, bridge, snoop and record, and wait for an event.

    with AriLoop(asterisk.ari_url, asterisk.events_url, asterisk.ari_auth) as ari:
        start = ari.wait_for("StasisStart")
        ari.post(f"/channels/{start['channel']['id']}/answer")

Credentials go in the ``Authorization`` header, never in a URL.  Events are read by a
thread into a list; :meth:`AriLoop.wait_for` scans it (every event stays available to
later waits unless consumed).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

__all__ = ["AriLoop", "Event"]

Event = dict[str, Any]


class AriLoop:
    """REST (``get``/``post``/``delete``) and the WebSocket event stream of one ARI app."""

    def __init__(self, ari_url: str, events_url: str, auth: tuple[str, str]) -> None:
        self.ari_url = ari_url
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}"}
        self._http = httpx.Client(base_url=ari_url, headers=self._headers, timeout=10)
        # Entered as a context manager (websockets 17 warns otherwise); closed in close().
        self._ws: ClientConnection = connect(
            events_url, additional_headers=self._headers, open_timeout=5
        ).__enter__()
        self.events: list[Event] = []
        self._consumed: set[int] = set()
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="ari-events", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            while True:
                event = json.loads(self._ws.recv())
                with self._cond:
                    self.events.append(event)
                    self._cond.notify_all()
        except ConnectionClosed:
            pass

    # --- REST ---------------------------------------------------------------------------

    def request(self, method: str, path: str, **params: Any) -> httpx.Response:
        return self._http.request(method, path, params=params or None)

    def get(self, path: str, **params: Any) -> Any:
        r = self.request("GET", path, **params)
        assert r.status_code == 200, f"GET {path}: {r.status_code} {r.text}"
        return r.json()

    def post(self, path: str, **params: Any) -> Any:
        r = self.request("POST", path, **params)
        assert r.status_code in (200, 201, 204), f"POST {path} {params}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    def delete(self, path: str, **params: Any) -> None:
        r = self.request("DELETE", path, **params)
        assert r.status_code in (200, 204, 404), f"DELETE {path}: {r.status_code} {r.text}"

    # --- events -------------------------------------------------------------------------

    def wait_for(
        self,
        type_: str,
        where: Callable[[Event], bool] = lambda _e: True,
        *,
        timeout_s: float = 10.0,
        consume: bool = True,
    ) -> Event:
        """The first event of ``type_`` matching ``where`` (not consumed before)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                for i, event in enumerate(self.events):
                    if i not in self._consumed and event.get("type") == type_ and where(event):
                        if consume:
                            self._consumed.add(i)
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({str(e.get("type")) for e in self.events})
                    raise AssertionError(
                        f"no ARI event {type_} within {timeout_s:g} s (seen: {', '.join(seen)})"
                    )
                self._cond.wait(left)

    def of_type(self, type_: str) -> list[Event]:
        with self._cond:
            return [e for e in self.events if e.get("type") == type_]

    def close(self) -> None:
        self._ws.close()
        self._reader.join(timeout=5)
        self._http.close()

    def __enter__(self) -> AriLoop:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
