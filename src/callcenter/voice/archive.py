"""Where call recordings are filed, found again and swept (pure file operations).

* :func:`file_recording` — at hang-up: merge the two sides
  (:func:`callcenter.voice.recording.merge_sides`) into the layout below, delete the side
  files, return the ``recording_url`` to store on the contact.
* :func:`recording_path` / :func:`resolve_recording` — where a contact's recording lives
  (``<recordings_dir>/<YYYY>/<MM>/<DD>/<contact id>.wav``, the UTC date of answer;
  voicemail messages under ``voicemail/`` in the same layout).
* :func:`sweep_recordings` — retention: delete recordings older than ``keep_days``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from callcenter.errors import UserError
from callcenter.voice.recording import WavInfo, merge_sides

__all__ = [
    "VOICEMAIL_DIR",
    "check_contact_id",
    "file_recording",
    "recording_path",
    "recording_relpath",
    "resolve_recording",
    "sweep_recordings",
]

VOICEMAIL_DIR: Final = "voicemail"  # messages, in the recordings' layout one folder down
_CONTACT_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_DAY_PARTS: Final = re.compile(r"\d{4}/\d{2}/\d{2}")
_DATE_FOLDER: Final = re.compile(r"\d{4}(/\d{2}(/\d{2})?)?")


def check_contact_id(contact_id: str) -> str:
    """``contact_id`` if it can name a file (letters, digits, ``.``, ``_``, ``-``; 1–128,
    not starting with a dot), else :class:`UserError`."""
    if not isinstance(contact_id, str) or not _CONTACT_ID.fullmatch(contact_id):
        raise UserError(
            f"contact id: {contact_id!r} cannot name a recording file (expected 1-128 "
            "letters, digits, '.', '_' or '-', starting with a letter or digit)"
        )
    return contact_id


def recording_relpath(contact_id: str, answered_at: float) -> str:
    """``<YYYY>/<MM>/<DD>/<contact id>.wav`` — the UTC date of answer, then the id."""
    day = dt.datetime.fromtimestamp(answered_at, dt.UTC)
    return f"{day:%Y/%m/%d}/{check_contact_id(contact_id)}.wav"


def recording_path(root: Path, contact_id: str, answered_at: float) -> Path:
    """Where the merged recording of a contact answered at ``answered_at`` goes."""
    return root / recording_relpath(contact_id, answered_at)


def file_recording(
    agent: str | os.PathLike[str],
    caller: str | os.PathLike[str],
    root: Path,
    contact_id: str,
    answered_at: float,
    *,
    pauses: Sequence[tuple[float, float]] = (),
    remove_sides: bool = True,
) -> tuple[str, WavInfo]:
    """What the controller does when a recorded call ends: merge the two ARI side
    files into ``root``'s layout, then (``remove_sides``) delete the side files.

    Returns the path relative to ``root`` — the value for ``contacts.recording_url`` —
    and the merged file's :class:`WavInfo`.  On any error nothing is filed and the side
    files are left where they are.
    """
    rel = recording_relpath(contact_id, answered_at)
    info = merge_sides(agent, caller, root / rel, pauses=pauses)
    if remove_sides:
        for side in (Path(agent), Path(caller)):
            side.unlink(missing_ok=True)
    return rel, info


def resolve_recording(root: Path, stored: str) -> Path:
    """The file a contact's ``recording_url`` names: a path relative to ``root`` (as
    :func:`recording_relpath` makes it).  Anything that would leave ``root`` (absolute,
    ``..``) or is not a ``.wav`` is refused with :class:`UserError`."""
    rel = Path(stored)
    if (
        not stored
        or rel.is_absolute()
        or ".." in rel.parts
        or rel.suffix.lower() != ".wav"
        or "\\" in stored
    ):
        raise UserError(
            f"recording: {stored!r} is not a recording path (expected "
            "<YYYY>/<MM>/<DD>/<contact id>.wav under the recordings folder)"
        )
    return root / rel


def _day_of(root: Path, path: Path) -> dt.date | None:
    rel = path.relative_to(root).parent.as_posix()
    if not _DAY_PARTS.fullmatch(rel):
        return None
    try:
        return dt.date(*(int(v) for v in rel.split("/")))
    except ValueError:
        return None


def sweep_recordings(root: Path, keep_days: int, now: float) -> list[str]:
    """Retention: delete the recordings (``*.wav`` in ``<YYYY>/<MM>/<DD>/`` folders, and
    voicemail messages in ``voicemail/<YYYY>/<MM>/<DD>/``)
    whose day is more than ``keep_days`` days before ``now``'s UTC day, then the folders
    left empty; return the files deleted, relative to ``root`` (as ``recording_url``
    names them).  ``keep_days == 0`` keeps everything (retention off).  Files elsewhere
    under ``root`` are left alone.

    A recording of day D is kept while ``today - D <= keep_days`` (with ``keep_days=30``
    a call of 1 March is deleted on 1 April's sweep).
    """
    if isinstance(keep_days, bool) or not isinstance(keep_days, int) or keep_days < 0:
        raise UserError(
            f"recording_retention_days: {keep_days!r} is not a number of days "
            "(expected a whole number >= 0; 0 keeps every recording)"
        )
    if keep_days == 0:
        return []
    today = dt.datetime.fromtimestamp(now, dt.UTC).date()
    # calls' recordings, and voicemail messages in the same layout one folder down
    deleted: list[str] = []
    for folder in (root, root / VOICEMAIL_DIR):
        deleted += [p.relative_to(root).as_posix() for p in _sweep(folder, today, keep_days)]
    return deleted


def _sweep(root: Path, today: dt.date, keep_days: int) -> list[Path]:
    if not root.is_dir():
        return []
    deleted: list[Path] = []
    for path in sorted(root.glob("*/*/*/*.wav")):
        day = _day_of(root, path)
        if day is None or (today - day).days <= keep_days:
            continue
        path.unlink(missing_ok=True)
        deleted.append(path)
    for pattern in ("*/*/*", "*/*", "*"):  # days, then months, then years
        for folder in root.glob(pattern):
            rel = folder.relative_to(root).as_posix()
            if folder.is_dir() and _DATE_FOLDER.fullmatch(rel):
                with contextlib.suppress(OSError):  # only when empty
                    folder.rmdir()
    return deleted
