"""Where sign-in may send the browser (``web/pages.py`` ``safe_next``): a path on this
server, never another host however the browser would read it."""

from __future__ import annotations

import pytest

from callcenter.web.pages import safe_next


@pytest.mark.parametrize(
    "value",
    ["/", "/agent", "/crm?q=a%40b&limit=5", "/admin#queues", "/reports?from=2026-01-01",
     "/%5Cnot-a-slash", "/a/b/c"],
)  # fmt: skip
def test_paths_on_this_server_are_kept(value: str) -> None:
    assert safe_next(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "/\\evil.example/",  # what /login?next=/%5Cevil.example/ gives: browsers read //
        "/\\\\evil.example",
        "\\\\evil.example",
        "//evil.example/",
        "///evil.example/",
        "/\t/evil.example/",  # browsers drop tabs and newlines: //evil.example/
        "/\n/evil.example/",
        "/\r\n/evil.example/",
        "/ok\\..\\evil",
        "https://evil.example/",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\x00/evil.example",
        "/\u2028/evil.example",
        "/\u3000/evil.example",
        "",
        None,
        "/" + "a" * 2001,
    ],
)
def test_anything_else_becomes_the_start_page(value: str | None) -> None:
    assert safe_next(value) == "/"
