"""Where recordings live and how long: the folder layout, the path check, retention.

Truth: dates and day counts worked out by hand from a calendar.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import wave
from pathlib import Path

import pytest

from callcenter.errors import UserError
from callcenter.live.voice.retention import sweep_forever
from callcenter.voice.archive import (
    check_contact_id,
    file_recording,
    recording_path,
    recording_relpath,
    resolve_recording,
    sweep_recordings,
)
from callcenter.voice.recording import RecordingError


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
    assert sweep_recordings(tmp_path, 30, now) == ["2025/12/31/older.wav", "2026/02/28/old1.wav"]
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert left == [
        "2025", "2025/12", "2025/12/31", "2025/12/31/notes.txt",
        "2026", "2026/03", "2026/03/01", "2026/03/01/edge.wav",
        "2026/03/31", "2026/03/31/today.wav",
        "other", "other/keep.wav",
    ]  # fmt: skip
    # The next day the 1 March call is 31 days old.
    assert sweep_recordings(tmp_path, 30, ts("2026-04-01T00:00:00")) == ["2026/03/01/edge.wav"]
    assert not (tmp_path / "2026/03/01").exists()


def test_voicemail_messages_are_swept_by_the_same_rule(tmp_path: Path) -> None:
    _touch(tmp_path, "voicemail/2026/02/28/vm-old.wav")  # 31 days before 31 March: deleted
    _touch(tmp_path, "voicemail/2026/03/01/vm-edge.wav")  # 30 days before: kept
    gone = sweep_recordings(tmp_path, 30, ts("2026-03-31T12:00:00"))
    assert gone == ["voicemail/2026/02/28/vm-old.wav"]  # as recording_url names it
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.wav"))
    assert left == ["voicemail/2026/03/01/vm-edge.wav"]
    assert not (tmp_path / "voicemail/2026/02").exists()


def test_retention_zero_keeps_everything_and_a_missing_folder_is_nothing_to_do(
    tmp_path: Path,
) -> None:
    _touch(tmp_path, "2000/01/01/ancient.wav")
    assert sweep_recordings(tmp_path, 0, ts("2026-01-01T00:00:00")) == []
    assert (tmp_path / "2000/01/01/ancient.wav").exists()
    assert sweep_recordings(tmp_path / "none", 30, ts("2026-01-01T00:00:00")) == []


@pytest.mark.parametrize("bad", [-1, 1.5, True, "30"])
def test_a_bad_retention_is_refused(tmp_path: Path, bad: object) -> None:
    with pytest.raises(UserError, match=r"recording_retention_days: .* is not a number of days"):
        sweep_recordings(tmp_path, bad, 0.0)  # type: ignore[arg-type]


def test_filing_a_call_merges_it_into_the_layout_and_removes_the_sides(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    agent, caller = spool / "agent.wav", spool / "caller.wav"
    for p, n in ((agent, 16000), (caller, 8000)):
        with wave.open(str(p), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(b"\x01\x00" * n)
    root = tmp_path / "rec"
    rel, info = file_recording(agent, caller, root, "c-9", ts("2026-12-07T10:00:00"),
                               pauses=[(0.5, 1.0)])  # fmt: skip
    assert rel == "2026/12/07/c-9.wav"
    assert (root / rel).is_file()
    assert info.channels == 2 and info.duration_s == pytest.approx(2.5)  # 2 s + 0.5 s pause
    assert list(spool.iterdir()) == []


def test_filing_a_call_that_cannot_be_merged_keeps_the_sides(tmp_path: Path) -> None:
    agent = tmp_path / "agent.wav"
    agent.write_text("not audio")
    with pytest.raises(RecordingError, match="not a PCM WAV file"):
        file_recording(agent, agent, tmp_path / "rec", "c-9", 0.0)
    assert agent.exists()
    assert not (tmp_path / "rec").exists() or not any((tmp_path / "rec").rglob("*.wav"))


def test_the_server_sweeps_at_start_and_again_later(tmp_path: Path) -> None:
    _touch(tmp_path, "2026/01/01/old.wav")
    _touch(tmp_path, "2026/03/30/new.wav")
    now = [ts("2026-03-31T00:00:00")]
    counts: list[int] = []

    async def main() -> None:
        swept = asyncio.Event()

        def on_sweep(n: int) -> None:
            counts.append(n)
            if len(counts) == 1:
                _touch(tmp_path, "2026/02/01/later.wav")  # 58 days old at the next sweep
            else:
                swept.set()

        task = asyncio.create_task(
            sweep_forever(tmp_path, 30, lambda: now[0], interval_s=0, on_sweep=on_sweep)
        )
        await swept.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert counts[:2] == [1, 1]
    assert sorted(p.name for p in tmp_path.rglob("*.wav")) == ["new.wav"]


def test_contacts_forget_the_recordings_retention_deleted_on_the_audit_log(
    tmp_path: Path,
) -> None:
    """The CRM's player must not offer a file that is gone: the swept contact's
    ``recording_url`` is cleared, with an audit entry; a kept one is untouched."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session
    from tests.support.seed import seed

    from callcenter.live.voice.retention import forget_recordings
    from callcenter.storage.db import make_engine
    from callcenter.storage.tables import AuditRow, ContactRow

    url = f"sqlite:///{tmp_path / 'c.db'}"
    seed(url)
    db = make_engine(url)
    root = tmp_path / "rec"
    now = ts("2026-03-31T12:00:00")
    with Session(db) as s, s.begin():
        for cid, rel in (("old", "2026/01/02/old.wav"), ("new", "2026/03/30/new.wav")):
            _touch(root, rel)
            s.add(ContactRow(id=cid, channel="voice", queue="support", status="closed",
                             arrived_at=now, recording_url=rel))  # fmt: skip
    deleted = sweep_recordings(root, 30, now)
    assert forget_recordings(db, deleted, now) == 1
    with Session(db) as s:
        urls = {cid: u for cid, u in s.execute(select(ContactRow.id, ContactRow.recording_url))}
        assert urls == {"old": None, "new": "2026/03/30/new.wav"}
        (entry,) = s.scalars(
            select(AuditRow).where(AuditRow.action == "contact.recording_delete")
        ).all()
        assert (entry.entity_id, entry.username, entry.role) == ("old", "retention", "system")
        assert entry.changes == {"recording_url": ["2026/01/02/old.wav", None]}
    db.dispose()
