"""The web pages: server-rendered shells (Jinja2) whose scripts talk to the API.

Pages need a signed-in cookie session except ``/login`` and the customer chat pages; a
page a role may not use answers 403 (the same :class:`Permission` as its API).
Every page route is here; the data a page shows comes from the services (``live/``) and
the API modules' helpers (pages stand above the API: ``api/`` never imports ``web/``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from callcenter.api.center import Center, center
from callcenter.api.deps import Db, resolve_principal
from callcenter.api.wallboard import scope_of, wallboard
from callcenter.auth.permissions import Permission, allowed
from callcenter.auth.service import Principal
from callcenter.live.admin.config import queue_names
from callcenter.live.reports import INTERVALS
from callcenter.storage.audit import TRACKED, AuditAction
from callcenter.storage.tables import Role

WEB_DIR: Final = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
router = APIRouter(include_in_schema=False)
CenterDep = Annotated[Center, Depends(center)]

# The signed-in user's start page by role.
HOME: Final[dict[Role, str]] = {
    Role.AGENT: "/agent",
    Role.SUPERVISOR: "/wallboard",
    Role.MANAGER: "/wallboard",
    Role.ADMIN: "/admin",
    Role.QA: "/crm",
}

# Navigation: (path, label, permission needed to see it).
NAV: Final[list[tuple[str, str, Permission]]] = [
    ("/agent", "Desktop", Permission.DESK),
    ("/wallboard", "Wallboard", Permission.WALLBOARD),
    ("/crm", "Customers", Permission.CRM_READ),
    ("/reports", "Reports", Permission.REPORTS),
    ("/admin", "Administration", Permission.CONFIG_READ),
    ("/audit", "Audit log", Permission.AUDIT_READ),
]


# A same-origin path: "/" then neither "/" nor "\\" (browsers read "//host" and "/\\host" as
# another host), and no backslash, whitespace or control character anywhere (browsers
# drop tabs and newlines from URLs, so "/\t/host" becomes "//host"). Written by hand: the
# rule is these few characters, and no library states it for a browser's URL parser.
_SAFE_PATH: Final = re.compile(r"/(?![/\\])[^\\\s\x00-\x1f\x7f-\x9f]*", re.ASCII)


def safe_next(value: str | None, default: str = "/") -> str:
    """``value`` if it is a path on this server to send a signed-in user to, else
    ``default``: the ``next`` of ``/login?next=`` can never lead to another site."""
    if not value or len(value) > 2000 or not _SAFE_PATH.fullmatch(value):
        return default
    if any(ch.isspace() for ch in value):  # Unicode spaces too (\u2028 ...)
        return default
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else default


def page_principal(request: Request, c: Center, s: Any) -> Principal | None:
    return resolve_principal(request, c, s)


def render(request: Request, template: str, p: Principal | None, **ctx: Any) -> HTMLResponse:
    nav = [(path, label) for path, label, perm in NAV if p is not None and allowed(p.role, perm)]
    return templates.TemplateResponse(
        request, template, {"me": p, "nav": nav, "csrf": p.csrf_token if p else None, **ctx}
    )


def guarded_page(
    request: Request,
    c: Center,
    s: Any,
    permission: Permission,
    template: str,
    context: Callable[[Principal], dict[str, Any]] | None = None,
) -> Response:
    """Render ``template`` for a signed-in user holding ``permission``; else redirect to
    the login page (anonymous) or answer 403.  ``context`` gives the page's data for the
    signed-in user; it runs only once the permission is checked."""
    p = page_principal(request, c, s)
    if p is None:
        target = quote(safe_next(request.url.path), safe="/")
        return RedirectResponse(f"/login?next={target}", status_code=303)
    if not allowed(p.role, permission):
        resp = render(request, "forbidden.html", p, needed=permission.value)
        resp.status_code = 403
        return resp
    return render(request, template, p, **(context(p) if context is not None else {}))


@router.get("/", response_class=HTMLResponse)
def home(request: Request, s: Db, c: Annotated[Center, Depends(center)]) -> Response:
    p = page_principal(request, c, s)
    if p is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(HOME[p.role], status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    """The sign-in form; after it, the browser goes to ``next`` only if it is a path on
    this server (:func:`safe_next`, checked again by ``static/login.js``)."""
    return render(request, "login.html", None, next=safe_next(next))


SOFTPHONE_STATE: Final = "softphone"
"""With voice on, ``app.state.softphone`` is ``{"config_url": ...}``: the desk then mounts
the phone widget (``static/phone.js``), which fetches its SIP settings from that URL.
Absent (voice off), the agent page is unchanged."""


@router.get("/agent", response_class=HTMLResponse)
def agent_page(request: Request, s: Db, c: CenterDep) -> Response:
    """The agent desktop (``agent.html`` + ``static/agent.js``; the phone with voice on)."""
    phone = getattr(request.app.state, SOFTPHONE_STATE, None)
    return guarded_page(request, c, s, Permission.DESK, "agent.html", lambda _p: {"voice": phone})


@router.get("/wallboard", response_class=HTMLResponse)
def wallboard_page(request: Request, s: Db, c: CenterDep) -> Response:
    """The supervisor wallboard, rendered with the current figures (then pushed live);
    with voice on, a supervisor's or manager's browser phone to listen on."""

    phone = getattr(request.app.state, SOFTPHONE_STATE, None)

    def board(p: Principal) -> dict[str, Any]:
        snap = wallboard(c).fresh() or wallboard(c).compute()
        coach = allowed(p.role, Permission.SUPERVISE) and c.voice is not None
        return {
            "board": snap.to_dict(scope_of(p)[1]),
            "can_supervise": coach,
            # a supervisor's browser phone, to listen on (its own credential route)
            "phone_url": "/api/supervision/phone" if coach and phone is not None else None,
        }

    return guarded_page(request, c, s, Permission.WALLBOARD, "wallboard.html", board)


@router.get("/crm", response_class=HTMLResponse)
def crm_page(request: Request, s: Db, c: CenterDep) -> Response:
    """The CRM page: search, customer card, contact transcript, tickets, follow-ups."""
    return guarded_page(request, c, s, Permission.CRM_READ, "crm.html")


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, s: Db, c: CenterDep) -> Response:
    """The live KPI report's form (the figures come from ``GET /api/reports/kpi``)."""
    return guarded_page(
        request,
        c,
        s,
        Permission.REPORTS,
        "reports.html",
        lambda _p: {"queues": queue_names(s), "intervals": INTERVALS},
    )


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, s: Db, c: CenterDep) -> Response:
    """The administration page (read-only without ``config.write``)."""
    return guarded_page(request, c, s, Permission.CONFIG_READ, "admin.html")


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, s: Db, c: CenterDep) -> Response:
    """The audit log (``static/audit.js`` reads ``GET /api/audit``), for ``audit.read``."""
    entities = sorted({*TRACKED.values(), "customer", "contact", "ticket", "follow_up", "token"})
    actions = [a.value for a in AuditAction]
    return guarded_page(
        request, c, s, Permission.AUDIT_READ, "audit.html",
        lambda _p: {"entities": entities, "actions": actions},
    )  # fmt: skip


@router.get("/chat", response_class=HTMLResponse)
def chat_page(request: Request, queue: str = "support") -> Response:
    """The customer's chat page: the widget opened full-page for ``?queue=``."""
    return templates.TemplateResponse(request, "chat.html", {"queue": queue[:64]})


def mount_static(app: Any) -> None:
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")


__all__ = [
    "HOME",
    "NAV",
    "SOFTPHONE_STATE",
    "guarded_page",
    "mount_static",
    "render",
    "router",
    "safe_next",
    "templates",
]
