"""Domain errors reach HTTP statuses in one place (``api/errors.py``), and know nothing of HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import callcenter
from callcenter.api.errors import status_of
from callcenter.auth.service import TokenNotFoundError
from callcenter.crm.common import ConflictError as CrmConflict
from callcenter.crm.common import CrmError
from callcenter.crm.common import NotFoundError as CrmNotFound
from callcenter.errors import ConflictError, InputFileError, NotFoundError, UserError
from callcenter.live.admin.checks import ConflictError as AdminConflict
from callcenter.live.admin.checks import InvalidError
from callcenter.live.admin.checks import NotFoundError as AdminNotFound
from callcenter.live.admin.hours import HoursError
from callcenter.routing import RoutingError


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (CrmNotFound("customer", 7), 404),
        (AdminNotFound("queue", 3), 404),
        (NotFoundError("thing", "x"), 404),
        (TokenNotFoundError("token", 3), 404),
        (CrmConflict("ticket is closed"), 409),
        (AdminConflict("skill in use"), 409),
        (ConflictError("duplicate"), 409),
        (RoutingError("contact 'c1' is not ringing"), 409),
        (CrmError("email: 'x' is not an e-mail address"), 422),
        (InvalidError("capacity: 0 is not in 1..10"), 422),
        (HoursError("mon: '25:00' is not a time"), 422),
        (InputFileError("a.csv", "bad", line=3), 422),
        (UserError("bad"), 422),
        (ValueError("a bug"), 500),
    ],
)
def test_status_of_each_kind(exc: Exception, status: int) -> None:
    assert status_of(exc) == status


def test_not_found_message_names_the_thing() -> None:
    assert str(CrmNotFound("ticket", 12)) == "no ticket 12"
    assert str(AdminNotFound("queue", 3)) == "no queue 3"
    assert str(NotFoundError("chat", "chat-1f")) == "no chat 'chat-1f'"


def errors_with_status(source: str) -> list[str]:
    """Classes in ``source`` that derive (by name) from an error class and define a
    ``status``-like attribute: domain errors must not carry HTTP codes."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        bases = [ast.unparse(b) for b in node.bases]
        if not any(b.endswith(("Error", "Exception")) for b in bases):
            continue
        for item in node.body:
            target = None
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                target = item.target.id
            elif isinstance(item, ast.Assign) and isinstance(item.targets[0], ast.Name):
                target = item.targets[0].id
            if target in {"status", "status_code", "http_status"}:
                found.append(node.name)
    return found


def test_domain_errors_carry_no_http_status() -> None:
    src = Path(callcenter.__file__).resolve().parent
    found = [
        f"{path.relative_to(src)}:{name}"
        for path in src.rglob("*.py")
        if path.relative_to(src).parts[0] != "api"
        for name in errors_with_status(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_check_sees_a_status_on_an_error() -> None:
    source = (
        "class CrmError(UserError):\n    status: int = 422\n"
        "class Gone(CrmError):\n    status = 404\n"
        "class Row(Base):\n    status = 'open'\n"
    )
    assert errors_with_status(source) == ["CrmError", "Gone"]
