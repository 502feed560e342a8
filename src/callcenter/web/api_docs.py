"""The API documentation: ``/docs`` (Swagger UI) and ``/openapi.json``, served only when
the ``api_docs`` setting is on, and then only to signed-in users (``docs/security.md``).

Swagger UI's files (version 5: FastAPI's documents are OpenAPI 3.1) come from the
``swagger-ui-py`` package and are served by this server under ``/docs/assets`` — no
CDN, so the page works offline and loads nothing from another host. The page has no
inline script (the CSP forbids it): ``static/docs.js`` starts Swagger UI.
"""

from __future__ import annotations

import importlib.util
from html import escape
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from callcenter.api.center import Center, center
from callcenter.api.deps import current_principal, optional_principal
from callcenter.auth.service import Principal

ASSETS: Final = "/docs/assets"

_PAGE: Final = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{csrf}">
<title>callcenter API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def docs_page(request: Request, c: Annotated[Center, Depends(center)]) -> Response:
    """Swagger UI for a signed-in user; anonymous: the sign-in page, then back here."""
    p = optional_principal(request, c)
    if p is None:
        return RedirectResponse("/login?next=/docs", status_code=303)
    return HTMLResponse(_PAGE.format(csrf=escape(p.csrf_token or ""), assets=ASSETS))


@router.get("/openapi.json")
def openapi_document(
    request: Request, _p: Annotated[Principal, Depends(current_principal)]
) -> JSONResponse:
    """The OpenAPI document (signed-in users only)."""
    app: Any = request.app
    return JSONResponse(app.openapi())


def install_api_docs(app: FastAPI, enabled: bool) -> None:
    """Add ``/docs``, ``/openapi.json`` and Swagger UI's files when ``enabled``; else
    there are no such routes (404)."""
    if not enabled:
        return
    app.include_router(router)
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_files())), name="docs-assets")


def swagger_ui_files() -> Path:
    """The folder of Swagger UI's files in the ``swagger-ui-py`` package, found without
    importing it (its ``__init__`` loads adapters for other web frameworks)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the API docs need the swagger-ui-py package (pip install it)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


__all__ = ["ASSETS", "install_api_docs", "router", "swagger_ui_files"]
