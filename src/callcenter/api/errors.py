"""One JSON error shape for every failure: ``{"error": {"code": ..., "message": ...}}``.

``code`` is a short machine word (``not_found``, ``forbidden``, ``conflict``,
``invalid``, ``unauthenticated``); ``message`` one line for people, naming the input and
what was expected.

Domain errors know nothing of HTTP: :data:`STATUS_OF` is the one place that gives each
kind its status (:func:`status_of`) — something not there 404, a change the stored state
forbids 409 (router refusals too: a contact that is not ringing ...), other bad input 422.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from callcenter.errors import ConflictError, NotFoundError, UserError
from callcenter.routing import RoutingError

_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid",
          429: "too_many_requests"}  # fmt: skip


# The most specific kind first: an error that is several kinds takes the first match.
STATUS_OF: Final[tuple[tuple[type[Exception], int], ...]] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (RoutingError, 409),
    (UserError, 422),
)


def status_of(exc: Exception) -> int:
    """The HTTP status of a domain error (500 for anything that is not one)."""
    for kind, status in STATUS_OF:
        if isinstance(exc, kind):
            return status
    return 500


class ApiError(Exception):
    """Raise from a handler: becomes the JSON error with ``status``."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _CODES.get(status, "error")


def error_body(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code or _CODES.get(status, "error"), "message": message}}


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.status, exc.message, exc.code), status_code=exc.status)

    async def _domain(_: Request, exc: Exception) -> JSONResponse:
        status = status_of(exc)
        return JSONResponse(error_body(status, str(exc)), status_code=status)

    for kind in {k for k, _status in STATUS_OF}:
        app.add_exception_handler(kind, _domain)

    @app.exception_handler(OverflowError)
    async def _overflow(_: Request, exc: OverflowError) -> JSONResponse:
        # a number beyond what the database stores: SQLite refuses to bind an int outside
        # 64 bits (e.g. GET /api/customers/99999999999999999999) — bad input, not a crash
        del exc
        msg = "a number in the request is out of range (at most 9223372036854775807)"
        return JSONResponse(error_body(422, msg), status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body(422, _validation_message(exc)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            error_body(exc.status_code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )


__all__ = [
    "STATUS_OF",
    "ApiError",
    "error_body",
    "install_error_handlers",
    "status_of",
]
