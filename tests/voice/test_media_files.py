"""Where recordings live and how long: the folder layout, the path check, retention.

Truth: dates and day counts worked out by hand from a calendar.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from callcenter.errors import UserError
from callcenter.voice.recording import (
    check_contact_id,
    recording_path,
    recording_relpath,
    resolve_recording,
    sweep_recordings,
)


def ts(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


def test_a_recording_is_filed_by_the_utc_day_of_answer(tmp_path: Path) -> None:
    # 23:59:59 UTC on 31 Dec 2026 is 2027 already in Tehran (+03:30): the UTC day counts.
    assert recording_relpath("c-17", ts("2026-12-31T23:59:59")) == "2026/12/31/c-17.wav"
    assert recording_path(tmp_path, "c-17", ts("2027-01-01T00:00:00")) == (
        tmp_path / "2027" / "01" / "01" / "c-17.wav"
    )


@pytest.mark.parametrize("bad", ["", "../x", "a/b", ".hidden", "x" * 129, "a b", "ё"])
def test_a_contact_id_that_cannot_name_a_file_is_refused(bad: str) -> None:
    with pytest.raises(UserError, match=r"contact id: .* cannot name a recording file"):
        check_contact_id(bad)


def test_resolve_keeps_paths_inside_the_folder(tmp_path: Path) -> None:
    assert resolve_recording(tmp_path, "2026/12/07/c1.wav") == tmp_path / "2026/12/07/c1.wav"
    for bad in ("/etc/passwd.wav", "../c1.wav", "2026/../../c1.wav", "2026/12/07/c1.txt", ""):
        with pytest.raises(UserError, match="is not a recording path"):
            resolve_recording(tmp_path, bad)


def _touch(root: Path, rel: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"RIFF")
    return p


def test_the_sweep_deletes_recordings_older_than_the_retention_and_empty_folders(
    tmp_path: Path,
) -> None:
    _touch(tmp_path, "2026/02/28/old1.wav")  # 31 days before 31 March: deleted
    _touch(tmp_path, "2026/03/01/edge.wav")  # 30 days before: kept
    _touch(tmp_path, "2026/03/31/today.wav")
    _touch(tmp_path, "2025/12/31/older.wav")  # deleted, and 2025/ with it
    _touch(tmp_path, "2025/12/31/notes.txt")  # not a recording: left, so is its folder
    _touch(tmp_path, "other/keep.wav")  # outside the layout: left alone
    now = ts("2026-03-31T12:00:00")
    assert sweep_recordings(tmp_path, 30, now) == 2
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert left == [
        "2025", "2025/12", "2025/12/31", "2025/12/31/notes.txt",
        "2026", "2026/03", "2026/03/01", "2026/03/01/edge.wav",
        "2026/03/31", "2026/03/31/today.wav",
        "other", "other/keep.wav",
    ]  # fmt: skip
    # The next day the 1 March call is 31 days old.
    assert sweep_recordings(tmp_path, 30, ts("2026-04-01T00:00:00")) == 1
    assert not (tmp_path / "2026/03/01").exists()


def test_retention_zero_keeps_everything_and_a_missing_folder_is_nothing_to_do(
    tmp_path: Path,
) -> None:
    _touch(tmp_path, "2000/01/01/ancient.wav")
    assert sweep_recordings(tmp_path, 0, ts("2026-01-01T00:00:00")) == 0
    assert (tmp_path / "2000/01/01/ancient.wav").exists()
    assert sweep_recordings(tmp_path / "none", 30, ts("2026-01-01T00:00:00")) == 0


@pytest.mark.parametrize("bad", [-1, 1.5, True, "30"])
def test_a_bad_retention_is_refused(tmp_path: Path, bad: object) -> None:
    with pytest.raises(UserError, match=r"recording_retention_days: .* is not a number of days"):
        sweep_recordings(tmp_path, bad, 0.0)  # type: ignore[arg-type]
