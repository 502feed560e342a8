"""Errors meant for the person at the keyboard.

Every error raised for bad input derives from :class:`UserError`; its ``str()`` is one line
naming the input (file, line, key), the bad value and what was expected.  The CLI prints
that line and exits non-zero, never a traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input or an impossible request, explained in one line."""

    exit_code: int = 2


class InputFileError(UserError):
    """A file that cannot be used: ``<path>[:<line>]: <problem>``."""

    def __init__(self, path: object, problem: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {problem}")
