"""The desk's side of the softphone without a browser: the CSP opened for Asterisk's
WebSocket only when voice is on (``voice_csp``), and the agent page that carries the
phone widget only when voice is on (``app.state.softphone``)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from callcenter.api.http_guard import PAGE_CSP, SecurityHeaders, csp_for, voice_csp
from callcenter.errors import UserError
from callcenter.web.pages import templates


def _directives(csp: str) -> dict[str, str]:
    return {part.split()[0]: part for part in (p.strip() for p in csp.split(";")) if part}


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("ws://127.0.0.1:8088/ws", "ws://127.0.0.1:8088"),
        ("wss://pbx.example.lt/ws", "wss://pbx.example.lt"),
        ("wss://[::1]:8089/ws", "wss://[::1]:8089"),
        ("ws://localhost:5060", "ws://localhost:5060"),
    ],
)
def test_voice_csp_adds_the_websocket_origin_to_connect_src_only(url: str, origin: str) -> None:
    before, after = _directives(PAGE_CSP), _directives(voice_csp(PAGE_CSP, url))
    assert after["connect-src"] == f"connect-src 'self' {origin}"
    assert {k: v for k, v in after.items() if k != "connect-src"} == {
        k: v for k, v in before.items() if k != "connect-src"
    }


def test_voice_csp_adds_connect_src_when_the_policy_has_none() -> None:
    csp = voice_csp("default-src 'self'; object-src 'none'", "ws://127.0.0.1:1/ws")
    assert csp == "default-src 'self'; object-src 'none'; connect-src 'self' ws://127.0.0.1:1"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8088/ws",  # not a WebSocket URL
        "ws://",
        "ws://127.0.0.1:99999/ws",  # no such port
        "ws://127.0.0.1:0/ws",
        "ws://host name/ws",
        "ws://127.0.0.1:8088/ws; script-src *",  # would smuggle a directive
        "ws://127.0.0.1:8088/ws,evil",
        "ws://user@127.0.0.1/ws",
        "",
    ],
)
def test_a_bad_websocket_url_is_one_clear_error(url: str) -> None:
    with pytest.raises(UserError) as err:
        voice_csp(PAGE_CSP, url)
    assert str(err.value) == (
        f"voice WebSocket URL {url!r} is not a ws:// or wss:// URL "
        "(expected e.g. ws://127.0.0.1:8088/ws)"
    )


def test_only_the_phone_pages_are_opened_and_only_with_voice_on() -> None:
    """The desk (an agent's phone) and the wallboard (a supervisor's, to listen on)."""
    ws = "ws://127.0.0.1:8088/ws"
    for page in ("/agent", "/wallboard"):
        assert csp_for(page) == (PAGE_CSP, False)
        assert csp_for(page, ws) == (voice_csp(PAGE_CSP, ws), False)
    for path in ("/crm", "/admin", "/api/desk", "/static/phone.js", "/wallboard/x"):
        assert csp_for(path, ws) == (PAGE_CSP, False)


def _app(**kwargs: str) -> TestClient:
    async def ok(_request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/agent", ok), Route("/crm", ok)])
    return TestClient(SecurityHeaders(app, **kwargs))


def test_security_headers_send_the_voice_csp_on_the_desk() -> None:
    on = _app(voice_ws_url="ws://127.0.0.1:8088/ws")
    assert (
        "connect-src 'self' ws://127.0.0.1:8088;"
        in on.get("/agent").headers["content-security-policy"]
    )
    assert on.get("/crm").headers["content-security-policy"] == PAGE_CSP
    assert _app().get("/agent").headers["content-security-policy"] == PAGE_CSP


def test_security_headers_refuse_a_bad_url_when_built() -> None:
    with pytest.raises(UserError, match="'http://x/ws' is not a ws:// or wss:// URL"):
        SecurityHeaders(Starlette(), voice_ws_url="http://x/ws")


def _agent_page(**ctx: object) -> str:
    me = SimpleNamespace(agent="ann", username="ann", role=SimpleNamespace(value="agent"))
    return templates.get_template("agent.html").render(me=me, nav=[], csrf="t", **ctx)


def test_the_agent_page_is_unchanged_with_voice_off() -> None:
    off = _agent_page()
    assert off == _agent_page(voice=None)
    for piece in ("phone.css", "jssip", "softphone.js", "phone.js", 'id="phone"'):
        assert piece not in off


def test_the_agent_page_mounts_the_phone_with_voice_on() -> None:
    on = _agent_page(voice={"config_url": "/api/voice/phone?x=<1>"})
    assert '<link rel="stylesheet" href="/static/phone.css">' in on
    assert 'data-softphone-config-url="/api/voice/phone?x=&lt;1&gt;"' in on  # escaped
    scripts = [
        '<script src="/static/agent.js">',
        '<script src="/static/vendor/jssip.min.js">',
        '<script src="/static/softphone.js">',
        '<script src="/static/phone.js">',
    ]
    where = [on.index(s) for s in scripts]
    assert where == sorted(where)  # JsSIP before the softphone before the widget
