"""An asynchronous client of Asterisk's REST Interface (ARI): requests and the event stream.

ARI is Asterisk's own control API (``/ari/...`` on its HTTP server, HTTP basic auth)
plus a WebSocket of JSON events per Stasis application.  There is no well-kept Python
ARI client for asyncio (``ari-py`` is unmaintained and synchronous), and the part we
use is small: so this module is a thin typed layer over ``aiohttp`` and ``websockets``,
one method per ARI operation the call controller needs, named as in the ARI reference.
(``aiohttp``, not ``httpx`` as elsewhere in the project: a call makes some twenty ARI
requests, and measured against Asterisk here httpx's asyncio client spent 1.5 ms of CPU
per request against aiohttp's 0.1 ms — with httpx the requests were most of the
server's CPU per call, bench/bench_voice.py.)

Credentials travel in the ``Authorization`` header only, on the REST calls and on the
WebSocket's upgrade request: never in a URL (ARI also accepts ``?api_key=``, which
would put the password into Asterisk's and any proxy's logs).

Errors: a refused request raises :class:`AriError` with the status, the operation and
Asterisk's message (404 :class:`AriNotFoundError` — the channel or bridge is gone, usually
because the caller hung up a moment earlier —, 409 :class:`AriConflictError` — e.g. a
channel not in our application yet); an unreachable Asterisk raises
:class:`AriUnavailableError`.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Literal
from urllib.parse import quote, urlencode

import aiohttp
import orjson
from yarl import URL

__all__ = [
    "Ari",
    "AriConflictError",
    "AriError",
    "AriEvent",
    "AriNotFoundError",
    "AriUnavailableError",
    "ChannelInfo",
]

TIMEOUT_S: Final = 5.0

Spy = Literal["none", "in", "out", "both"]
BridgeType = Literal["mixing", "holding"]


class AriError(Exception):
    """Asterisk refused an ARI request."""

    def __init__(self, status: int, operation: str, message: str) -> None:
        super().__init__(f"ARI {operation}: {status} {message}".rstrip())
        self.status = status
        self.operation = operation
        self.message = message


class AriNotFoundError(AriError):
    """404: the channel, bridge, playback or recording does not exist (any more)."""


class AriConflictError(AriError):
    """409: the object is not in a state that allows it (e.g. not in our application)."""


class AriUnavailableError(Exception):
    """Asterisk's HTTP server did not answer (stopped, restarting, wrong address)."""


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """The parts of an ARI ``Channel`` object the controller reads."""

    id: str
    name: str
    state: str
    caller_number: str
    caller_name: str
    exten: str
    language: str

    @classmethod
    def parse(cls, doc: Mapping[str, Any]) -> ChannelInfo:
        caller = doc.get("caller") or {}
        dialplan = doc.get("dialplan") or {}
        return cls(
            id=str(doc.get("id", "")),
            name=str(doc.get("name", "")),
            state=str(doc.get("state", "")),
            caller_number=str(caller.get("number", "")),
            caller_name=str(caller.get("name", "")),
            exten=str(dialplan.get("exten", "")),
            language=str(doc.get("language", "")),
        )


@dataclass(frozen=True, slots=True)
class AriEvent:
    """One event of the stream: its type, the channel it is about (if any) and the rest."""

    type: str
    channel: ChannelInfo | None
    args: tuple[str, ...] = ()
    """``StasisStart``'s application arguments."""
    digit: str | None = None
    """``ChannelDtmfReceived``."""
    cause: int | None = None
    """``ChannelDestroyed`` / ``ChannelHangupRequest``: the Q.850 cause."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, doc: Mapping[str, Any]) -> AriEvent:
        ch = doc.get("channel")
        cause = doc.get("cause")
        return cls(
            type=str(doc.get("type", "")),
            channel=ChannelInfo.parse(ch) if isinstance(ch, Mapping) else None,
            args=tuple(str(a) for a in doc.get("args", ()) or ()),
            digit=doc.get("digit"),
            cause=int(cause) if isinstance(cause, int) else None,
            raw=doc,
        )

    def object_id(self, key: str) -> str | None:
        """The ``id`` (or ``name``, for recordings) of the event's ``key`` object."""
        obj = self.raw.get(key)
        if not isinstance(obj, Mapping):
            return None
        value = obj.get("id", obj.get("name"))
        return None if value is None else str(value)


def basic_auth(auth: tuple[str, str]) -> str:
    user, password = auth
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _flag(value: bool) -> str:
    return "true" if value else "false"


_CONNECTIONS: Final = 16
"""A few kept-alive connections serve every call: ARI answers in about a millisecond, so
more would only make Asterisk start an HTTP thread per new connection."""
_KEEP_ALIVE_S: Final = 5.0
"""How long an idle connection is kept: well under Asterisk's ``session_keep_alive``
(15 s by default), after which Asterisk closes it — a request sent on it just then is
lost (aiohttp's own default is 15 s, the same instant)."""
_JSON: Final = {"Content-Type": "application/json"}
_PATH_SAFE: Final = "/-_.~@:!$&'()*+,;="  # as yarl leaves a path: the rest escaped


class Ari:
    """ARI's REST half: ``async with Ari(url, auth) as ari: await ari.answer(ch)``.

    ``url`` is ARI's base, e.g. ``http://127.0.0.1:8088/ari``.
    """

    def __init__(self, url: str, auth: tuple[str, str], *, timeout: float = TIMEOUT_S) -> None:
        self.url = url.rstrip("/")
        self._headers = {"Authorization": basic_auth(auth)}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None  # made in the loop that uses it

    async def __aenter__(self) -> Ari:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(limit=_CONNECTIONS, keepalive_timeout=_KEEP_ALIVE_S),
                raise_for_status=False,
            )
        return self._session

    async def _send(
        self, method: str, path: str, params: Mapping[str, str] | None = None, body: Any = None
    ) -> tuple[int, bytes]:
        """One HTTP exchange: the status and the body; AriUnavailableError if Asterisk
        does not answer."""
        data = None if body is None else orjson.dumps(body)
        headers = None if body is None else _JSON
        # the URL encoded here, once, and handed over as such: aiohttp would parse it
        # and merge the query again on every request (a call makes a dozen)
        query = f"?{urlencode(params, quote_via=quote)}" if params else ""
        url = URL(self.url + quote(path, safe=_PATH_SAFE) + query, encoded=True)
        for attempt in (1, 2):
            try:
                async with self._http().request(method, url, data=data, headers=headers) as r:
                    return r.status, await r.read()
            except aiohttp.ServerDisconnectedError as e:
                # a kept-alive connection Asterisk closed as we sent on it: the request
                # never reached it; once more, on a new connection
                if attempt == 2:
                    raise self._unavailable(method, path, e) from None
            except (aiohttp.ClientError, TimeoutError) as e:
                raise self._unavailable(method, path, e) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _unavailable(self, method: str, path: str, e: BaseException) -> AriUnavailableError:
        return AriUnavailableError(
            f"ARI {method} {path}: Asterisk at {self.url} did not answer: {e or type(e).__name__}"
        )

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
    ) -> Any:
        """One ARI operation; the decoded JSON answer (``None`` for 204)."""
        operation = f"{method} {path}"
        clean = {k: str(v) for k, v in (params or {}).items() if v is not None}
        status, content = await self._send(method, path, clean, body)
        if status >= 400:
            try:
                message = str(orjson.loads(content).get("message", content.decode()))
            except (ValueError, AttributeError):
                message = content.decode(errors="replace").strip()
            kind = {404: AriNotFoundError, 409: AriConflictError}.get(status, AriError)
            raise kind(status, operation, message)
        if status == 204 or not content:
            return None
        return orjson.loads(content)

    # ------------------------------------------------------------------ asterisk

    async def info(self) -> dict[str, Any]:
        doc: dict[str, Any] = await self.request("GET", "/asterisk/info")
        return doc

    async def reload_module(self, module: str) -> None:
        await self.request("PUT", f"/asterisk/modules/{module}")

    async def filter_events(self, app: str, allowed: Iterable[str]) -> None:
        """Have Asterisk send ``app`` only these event types (``PUT
        /applications/{app}/eventFilter``): a call makes some eighty events, of which a
        controller may read a dozen — each costs Asterisk a JSON message and us a parse."""
        body = {"allowed": [{"type": t} for t in sorted(allowed)], "disallowed": []}
        await self.request("PUT", f"/applications/{app}/eventFilter", body=body)

    async def channels(self) -> list[ChannelInfo]:
        return [ChannelInfo.parse(d) for d in await self.request("GET", "/channels")]

    async def endpoint(self, tech: str, resource: str) -> dict[str, Any]:
        doc: dict[str, Any] = await self.request("GET", f"/endpoints/{tech}/{resource}")
        return doc

    # ------------------------------------------------------------------ channels

    async def answer(self, channel: str) -> None:
        await self.request("POST", f"/channels/{channel}/answer")

    async def ring(self, channel: str) -> None:
        await self.request("POST", f"/channels/{channel}/ring")

    async def hangup(self, channel: str, reason: str = "normal") -> None:
        """Hang a channel up; a channel already gone is not an error (it is hung up)."""
        with contextlib.suppress(AriNotFoundError):  # gone already
            await self.request("DELETE", f"/channels/{channel}", {"reason": reason})

    async def originate(
        self,
        endpoint: str,
        *,
        app: str,
        app_args: Sequence[str] = (),
        channel_id: str | None = None,
        caller_id: str | None = None,
        timeout_s: int = 30,
        variables: Mapping[str, str] | None = None,
    ) -> ChannelInfo:
        """Call ``endpoint`` (e.g. ``PJSIP/agent-sue``); once answered it enters ``app``."""
        params: dict[str, str | int] = {
            "endpoint": endpoint,
            "app": app,
            "appArgs": ",".join(app_args),
            "timeout": timeout_s,
        }
        if channel_id is not None:
            params["channelId"] = channel_id
        if caller_id is not None:
            params["callerId"] = caller_id
        body = {"variables": dict(variables)} if variables else None
        return ChannelInfo.parse(await self.request("POST", "/channels", params, body))

    async def play(
        self,
        channel: str,
        media: str | Sequence[str],
        *,
        playback_id: str | None = None,
        lang: str | None = None,
    ) -> str:
        """Play ``sound:…`` / ``recording:…`` media (several in turn); the playback id."""
        uris = [media] if isinstance(media, str) else list(media)
        params: dict[str, str | int] = {"media": ",".join(uris)}
        if lang:
            params["lang"] = lang
        if playback_id is not None:
            path = f"/channels/{channel}/play/{playback_id}"
        else:
            path = f"/channels/{channel}/play"
        doc = await self.request("POST", path, params)
        return str(doc["id"])

    async def stop_playback(self, playback: str) -> None:
        with contextlib.suppress(AriNotFoundError):  # gone already
            await self.request("DELETE", f"/playbacks/{playback}")

    async def start_moh(self, channel: str, moh_class: str = "default") -> None:
        await self.request("POST", f"/channels/{channel}/moh", {"mohClass": moh_class})

    async def stop_moh(self, channel: str) -> None:
        await self.request("DELETE", f"/channels/{channel}/moh")

    async def snoop(
        self,
        channel: str,
        *,
        app: str,
        spy: Spy = "none",
        whisper: Spy = "none",
        app_args: Sequence[str] = (),
        snoop_id: str | None = None,
    ) -> ChannelInfo:
        """A snoop channel on ``channel`` entering ``app`` (listen with ``spy``)."""
        params: dict[str, str | int] = {
            "spy": spy,
            "whisper": whisper,
            "app": app,
            "appArgs": ",".join(app_args),
        }
        if snoop_id is not None:
            params["snoopId"] = snoop_id
        doc = await self.request("POST", f"/channels/{channel}/snoop", params)
        return ChannelInfo.parse(doc)

    async def record(
        self,
        channel: str,
        name: str,
        *,
        fmt: str = "wav",
        max_duration_s: int = 0,
        if_exists: Literal["fail", "overwrite", "append"] = "fail",
        beep: bool = False,
        terminate_on: str = "none",
    ) -> None:
        """Record what comes from ``channel`` into ``<spool>/recording/<name>.<fmt>``
        (``terminate_on``: a DTMF key that ends it, or ``none``; a channel in a bridge
        cannot be recorded itself: record a snoop channel of it)."""
        await self.request(
            "POST",
            f"/channels/{channel}/record",
            {
                "name": name,
                "format": fmt,
                "maxDurationSeconds": max_duration_s,
                "ifExists": if_exists,
                "beep": _flag(beep),
                "terminateOn": terminate_on,
            },
        )

    async def stop_recording(self, name: str) -> None:
        with contextlib.suppress(AriNotFoundError):  # gone already
            await self.request("POST", f"/recordings/live/{name}/stop")

    async def pause_recording(self, name: str) -> None:
        await self.request("POST", f"/recordings/live/{name}/pause")

    async def unpause_recording(self, name: str) -> None:
        await self.request("DELETE", f"/recordings/live/{name}/pause")

    async def stored_recording(self, name: str) -> bytes:
        """The file of a finished recording (``GET /recordings/stored/{name}/file``):
        works for an Asterisk on another machine too."""
        path = f"/recordings/stored/{name}/file"
        status, content = await self._send("GET", path)
        if status >= 400:
            kind = {404: AriNotFoundError, 409: AriConflictError}.get(status, AriError)
            raise kind(status, f"GET {path}", content.decode(errors="replace").strip()[:200])
        return content

    async def delete_stored_recording(self, name: str) -> None:
        with contextlib.suppress(AriNotFoundError):  # gone already
            await self.request("DELETE", f"/recordings/stored/{name}")

    async def live_recording(self, name: str) -> dict[str, Any] | None:
        """A recording still being made, or None once it has finished."""
        try:
            doc: dict[str, Any] = await self.request("GET", f"/recordings/live/{name}")
        except AriNotFoundError:
            return None
        return doc

    async def send_dtmf(self, channel: str, digits: str) -> None:
        await self.request("POST", f"/channels/{channel}/dtmf", {"dtmf": digits})

    # ------------------------------------------------------------------ bridges

    async def create_bridge(
        self, kind: BridgeType, *, bridge_id: str | None = None, name: str | None = None
    ) -> str:
        params: dict[str, str | int] = {"type": kind}
        if bridge_id is not None:
            params["bridgeId"] = bridge_id
        if name is not None:
            params["name"] = name
        doc = await self.request("POST", "/bridges", params)
        return str(doc["id"])

    async def add_to_bridge(
        self, bridge: str, channels: Sequence[str], *, role: str | None = None
    ) -> None:
        params: dict[str, str | int] = {"channel": ",".join(channels)}
        if role is not None:
            params["role"] = role
        await self.request("POST", f"/bridges/{bridge}/addChannel", params)

    async def remove_from_bridge(self, bridge: str, channels: Sequence[str]) -> None:
        await self.request(
            "POST", f"/bridges/{bridge}/removeChannel", {"channel": ",".join(channels)}
        )

    async def destroy_bridge(self, bridge: str) -> None:
        with contextlib.suppress(AriNotFoundError):  # gone already
            await self.request("DELETE", f"/bridges/{bridge}")

    async def bridge_moh(self, bridge: str, moh_class: str = "default") -> None:
        await self.request("POST", f"/bridges/{bridge}/moh", {"mohClass": moh_class})

    async def stop_bridge_moh(self, bridge: str) -> None:
        with contextlib.suppress(AriNotFoundError):  # the bridge is gone, or plays none
            await self.request("DELETE", f"/bridges/{bridge}/moh")
