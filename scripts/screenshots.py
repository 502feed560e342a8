"""Screenshots of the pages the security docs show (``docs/img/``).

Seeds the demo center into a throw-away SQLite database (``callcenter demo`` for a
second), serves it on 127.0.0.1 without simulated traffic, makes the changes a page
should show through the real API, and photographs the pages in Debian's Chromium
(Playwright, no browser download):

- ``audit.png``: ``/audit`` as the manager, after an agent changed a customer's e-mail
  and back;
- ``desk-claim.png``: ``/agent`` as ann, a chat whose e-mail is only a claim, with the
  possible match and the buttons to link it deliberately.

    .venv/bin/python scripts/screenshots.py [--out docs/img]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CALLCENTER = ROOT / ".venv" / "bin" / "callcenter"
PASSWORD = "demo1234"  # the demo users' password (live/demo/seed.py)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _client(url: str, username: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=10.0)
    r = c.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    r.raise_for_status()
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


def _ok(c: httpx.Client, method: str, path: str, **kw: object) -> dict[str, object]:
    r = c.request(method, path, **kw)  # type: ignore[arg-type]
    if r.status_code >= 400:
        raise SystemExit(f"{method} {path} -> {r.status_code}: {r.text}")
    return {} if r.status_code == 204 else dict(r.json())


def _sign_in(page: Page, url: str, username: str, path: str) -> None:
    page.goto(f"{url}/login?next={path}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{url}{path}")


def _changes(url: str) -> None:
    ann, m = _client(url, "ann"), _client(url, "manager")
    try:
        dana = _ok(ann, "POST", "/api/customers",
                   json={"name": "Dana Petrauskienė", "email": "dana@example.lt"})  # fmt: skip
        path = f"/api/customers/{dana['id']}"
        _ok(ann, "PATCH", path, json={"email": "attacker@evil.example"})
        _ok(ann, "PATCH", path, json={"email": "dana@example.lt"})
        eve = _ok(m, "POST", "/api/customers",
                  json={"name": "مریم رضایی", "email": "maryam@example.ir"})  # fmt: skip
        _ok(m, "POST", "/api/tickets", json={"customer_id": eve["id"], "subject": "Refund"})
    finally:
        ann.close()
        m.close()


def shoot(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/center.db"
        port = _free_port()
        env = {**os.environ, "CALLCENTER_DATABASE_URL": db}
        seed = [str(CALLCENTER), "demo", "--database", db, "--port", str(port), "--duration", "1"]
        subprocess.run(seed, check=True, env=env, capture_output=True)
        server = subprocess.Popen(
            [str(CALLCENTER), "serve", "--port", str(port)], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    if httpx.get(f"{url}/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            _changes(url)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path="/usr/bin/chromium", chromium_sandbox=False,
                    args=["--no-sandbox"],
                )  # fmt: skip
                ctx = browser.new_context(viewport={"width": 1280, "height": 760},
                                          timezone_id="Europe/Vilnius")  # fmt: skip
                page = ctx.new_page()
                _sign_in(page, url, "manager", "/audit")
                page.select_option("#audit-entity", "customer")
                page.click("#audit-run")
                expect(page.locator("#audit-table tbody tr").first).to_contain_text("customer")
                page.screenshot(path=str(out / "audit.png"), full_page=True)
                ctx.clear_cookies()

                _sign_in(page, url, "ann", "/agent")
                page.click("#btn-login")
                httpx.post(f"{url}/api/chat/start", json={  # a claim of Maryam's e-mail
                    "queue": "support", "name": "Maryam", "email": "MARYAM@example.ir",
                    "message": "سلام، بازپرداخت من کجاست؟"}).raise_for_status()  # fmt: skip
                page.locator('[data-testid="offer"] [data-action="accept"]').click()
                expect(page.locator('#customer-card [data-testid="match"]')).to_have_count(1)
                page.screenshot(path=str(out / "desk-claim.png"), full_page=True)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"wrote {out / 'audit.png'} and {out / 'desk-claim.png'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    shoot(ap.parse_args().out)


if __name__ == "__main__":
    sys.exit(main())
