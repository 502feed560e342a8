"""Errors meant for the person at the keyboard.

Every error raised for bad input derives from :class:`UserError`; its ``str()`` is one line
naming the input (file, line, key), the bad value and what was expected.  The CLI prints
that line and exits non-zero, never a traceback.

Two kinds say more than "bad input": :class:`NotFoundError` (the thing asked for is not
there, or not visible to the asker) and :class:`ConflictError` (a change the stored state
does not allow).  Domain errors derive from these and know nothing of HTTP; the API maps
the kinds to status codes in one place (``api/errors.py``).
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input or an impossible request, explained in one line."""

    exit_code: int = 2


class NotFoundError(UserError):
    """The thing asked for does not exist (or the asker may not see it): ``no <what> <key>``."""

    def __init__(self, what: str, key: object) -> None:
        self.what, self.key = what, key
        super().__init__(f"no {what} {key!r}")


class ConflictError(UserError):
    """A change that clashes with what is stored (a duplicate, a thing in use, a state)."""


class InputFileError(UserError):
    """A file that cannot be used: ``<path>[:<line>]: <problem>``."""

    def __init__(self, path: object, problem: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {problem}")
