"""The rig of the softphone tests: a real Asterisk with a WebRTC endpoint, ARI events,
a small page server on 127.0.0.1, and the Chromium flags a WebRTC call needs here.

What was found to work (``docs/voice.md``, "The softphone"):

- Asterisk: a ``ws`` transport (SIP over Asterisk's own HTTP server, path ``/ws``), an
  endpoint with ``webrtc=yes`` (DTLS-SRTP, ICE, rtcp-mux, AVPF), ``dtls_auto_generate_cert``,
  G.711 only, ``media_address=127.0.0.1`` with ``bind_rtp_to_media_address`` and ICE
  limited to 127.0.0.1 (``rtp.conf``: ``ice_deny``/``ice_permit``), so nothing leaves
  loopback.
- Chromium: ``--use-fake-ui-for-media-stream`` (no permission prompt),
  ``--use-fake-device-for-media-stream --use-file-for-fake-audio-capture=<wav>`` (the
  microphone plays a known file, looped), ``--allow-loopback-in-peer-connection`` (ICE
  on 127.0.0.1), ``--autoplay-policy=no-user-gesture-required`` (the test's WebAudio
  analyser runs without a click; the desk answers with a click anyway).
"""

from __future__ import annotations

import contextlib
import json
import queue
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from callcenter.api.http_guard import PAGE_CSP, voice_csp
from callcenter.live.voice.config import host_ipv4_addresses
from callcenter.voice.asterisk import RunningAsterisk
from callcenter.voice.pjsip_config import PjsipOptions, render_rtp

STATIC = Path(__file__).resolve().parents[2] / "src" / "callcenter" / "web" / "static"

CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
)


def endpoint_conf(endpoints: dict[str, str]) -> dict[str, str]:
    """``extra`` for :func:`start_asterisk`: the ws transport and a WebRTC endpoint per
    name (name → password)."""
    pjsip = "\n[transport-ws]\ntype = transport\nprotocol = ws\nbind = 127.0.0.1\n"
    for name, password in endpoints.items():
        pjsip += f"""
[{name}]
type = endpoint
transport = transport-ws
context = callcenter-in
disallow = all
allow = ulaw,alaw
webrtc = yes
dtls_auto_generate_cert = yes
media_address = 127.0.0.1
bind_rtp_to_media_address = yes
auth = {name}-auth
aors = {name}

[{name}-auth]
type = auth
auth_type = userpass
username = {name}
password = {password}

[{name}]
type = aor
max_contacts = 1
remove_existing = yes
"""
    return {"pjsip.conf": pjsip, "rtp.conf": loopback_ice()}


def loopback_ice() -> str:
    """``rtp.conf`` lines that make Asterisk's only ICE candidate 127.0.0.1: the
    product's own (``render_rtp`` with this machine's addresses, as the server renders
    them for a loopback media address; ``docs/voice.md``)."""
    text = render_rtp(PjsipOptions(), host_ipv4_addresses())
    if "[ice_host_candidates]" not in text:
        raise RuntimeError(
            "no IPv4 address besides loopback (ip -4 addr): Asterisk offers no ICE "
            "candidate to map to 127.0.0.1, so a WebRTC call cannot connect here"
        )
    return "icesupport = yes\n" + text


def new_password() -> str:
    return secrets.token_urlsafe(24)


# --- ARI ---------------------------------------------------------------------------------


@dataclass
class AriEvents:
    """ARI's event WebSocket for our application, read in a thread into a queue."""

    ws: ClientConnection
    events: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    seen: list[dict[str, Any]] = field(default_factory=list)

    def _pump(self) -> None:
        try:
            for message in self.ws:
                self.events.put(json.loads(message))
        except ConnectionClosed:
            pass

    def wait(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = 15.0
    ) -> dict[str, Any]:
        """The first event (already seen or coming) for which ``match`` is true."""
        for event in self.seen:
            if match(event):
                self.seen.remove(event)
                return event
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                break
            if match(event):
                return event
            self.seen.append(event)
        raise AssertionError(f"no such ARI event within {timeout} s; seen: {self.seen[-10:]}")

    def drain(self) -> list[dict[str, Any]]:
        while True:
            try:
                self.seen.append(self.events.get_nowait())
            except queue.Empty:
                return self.seen


@contextmanager
def ari_events(asterisk: RunningAsterisk) -> Iterator[AriEvents]:
    import base64

    token = base64.b64encode(":".join(asterisk.ari_auth).encode()).decode()
    with connect(
        asterisk.events_url, additional_headers={"Authorization": f"Basic {token}"}, open_timeout=5
    ) as ws:
        events = AriEvents(ws)
        thread = threading.Thread(target=events._pump, daemon=True)
        thread.start()
        try:
            yield events
        finally:
            ws.close()
            thread.join(timeout=5)


def ari(asterisk: RunningAsterisk) -> httpx.Client:
    return httpx.Client(base_url=asterisk.ari_url, auth=asterisk.ari_auth, timeout=10)


# --- the page server ---------------------------------------------------------------------

TEST_PAGE = """<!doctype html>
<html lang="{lang}" dir="{dir}">
<head><meta charset="utf-8"><title>softphone test</title>
<link rel="stylesheet" href="/static/app.css">
<link rel="stylesheet" href="/static/phone.css"></head>
<body><main><section class="card" id="phone"{auto}></section></main>
<script src="/static/vendor/jssip.min.js"></script>
<script src="/static/softphone.js"></script>
<script src="/static/phone.js"></script>
</body></html>
"""


class _Handler(SimpleHTTPRequestHandler):
    """Our static files under ``/static/``; ``/phone.html`` is the test page. Every answer
    carries the desk's Content-Security-Policy with voice on (``voice_csp``)."""

    csp = PAGE_CSP
    config: bytes = b"{}"

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", self.csp)
        super().end_headers()

    def do_GET(self) -> None:
        if self.path.startswith("/phone.html"):
            rtl = "rtl=1" in self.path
            # ?auto=1: the widget mounts itself from a config URL, as on the desk.
            auto = (
                ' hidden data-softphone-config-url="/phone-config"' if "auto=1" in self.path else ""
            )
            body = TEST_PAGE.format(
                lang="fa" if rtl else "en", dir="rtl" if rtl else "ltr", auto=auto
            )
            self._send(body.encode(), "text/html; charset=utf-8")
            return
        if self.path == "/phone-config":
            self._send(self.config, "application/json")
            return
        if self.path == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        if not self.path.startswith("/static/"):
            self.send_error(404)
            return
        self.path = self.path[len("/static") :]
        super().do_GET()

    def do_POST(self) -> None:
        # the desk's phone.js POSTs its config URL (a fresh credential each time)
        if self.path == "/phone-config":
            self._send(self.config, "application/json")
            return
        self.send_error(404)

    def _send(self, data: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: Any) -> None:
        pass


@contextmanager
def page_server(
    ws_url: str, config: dict[str, Any] | None = None, *, voice_on: bool = True
) -> Iterator[str]:
    """Serve the test page and the static files on 127.0.0.1; yields the base URL.
    ``config`` is what ``/phone-config`` answers (the desk's config URL); ``voice_on``
    False serves the desk's CSP as it is with voice off."""
    csp = voice_csp(PAGE_CSP, ws_url) if voice_on else PAGE_CSP
    attrs = {"csp": csp, "config": json.dumps(config or {}).encode()}
    handler = type("Handler", (_Handler,), attrs)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(STATIC)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- a TCP proxy whose connections the test can cut (a lost WebSocket) ------------------


class CuttableProxy:
    """Forwards TCP from 127.0.0.1:<port> to ``target``; :meth:`cut` closes every open
    connection at once (as a network drop would), and new ones are still accepted.
    Written here because the test needs the cut on demand; it stops in :meth:`close`."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.server.getsockname()[1]
        self.accepted = 0
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
            with self._lock:
                self.accepted += 1
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with self._lock:
            conns, self._open = self._open, []
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def close(self) -> None:
        self.server.close()
        self.cut()
        self._thread.join(timeout=5)
