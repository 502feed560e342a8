"""ARI's event half: the application's WebSocket (``/ari/events?app=...``), its events
in order, parsed into :class:`~callcenter.voice.ari.AriEvent`.

(The REST half, requests and their errors, is :mod:`callcenter.voice.ari`.)
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import orjson
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from callcenter.voice.ari import (
    TIMEOUT_S,
    AriError,
    AriEvent,
    AriUnavailableError,
    basic_auth,
)

__all__ = ["EventSocket", "connect_events"]


def _ws_url(ari_url: str, app: str) -> str:
    parts = urlsplit(ari_url.rstrip("/"))
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path + "/events", f"app={app}", ""))


class EventSocket:
    """The application's event stream, open: ``async for event in socket``.

    Iteration ends when the socket closes (Asterisk stopped, or :meth:`aclose`);
    leaving a loop over it early leaves it open for the next one.
    """

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self._ws = ws

    def __aiter__(self) -> EventSocket:
        return self

    async def __anext__(self) -> AriEvent:
        # not a generator: leaving an ``async for`` early must not close the socket
        while True:
            try:
                message = await self._ws.recv()
            except ConnectionClosed:
                raise StopAsyncIteration from None
            doc = orjson.loads(message)
            if isinstance(doc, dict):
                return AriEvent.parse(doc)

    async def aclose(self) -> None:
        await self._ws.close()


async def connect_events(
    ari_url: str, auth: tuple[str, str], app: str, *, open_timeout: float = TIMEOUT_S
) -> EventSocket:
    """Open the event socket of ``app``; its events, in order, until it closes.

    Connecting registers ``app`` with Asterisk: channels entering ``Stasis(app)`` are
    refused while nobody listens.  Raises :class:`AriUnavailableError` when the socket
    cannot be opened (Asterisk down) and :class:`AriError` when ARI refuses it (401).
    """
    url = _ws_url(ari_url, app)
    try:
        ws = await websockets.connect(
            url,
            additional_headers={"Authorization": basic_auth(auth)},
            open_timeout=open_timeout,
            max_size=2**22,
        )
    except InvalidStatus as e:
        status = e.response.status_code
        raise AriError(status, f"GET {url}", "the event socket was refused") from None
    except (OSError, TimeoutError) as e:
        raise AriUnavailableError(f"ARI events at {url}: {e}") from None
    return EventSocket(ws)
