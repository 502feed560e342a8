"""The automatic analysis of recorded calls: the worker, its resumption and its failures.

A call is made of known speech: espeak-ng says one sentence per turn, sox resamples it
to 8 kHz and trims its leading and trailing silence, and the turns are laid on the
agent's and the caller's side at known times.  The sides are merged as the call
controller merges them (:func:`merge_sides`), filed where the controller files them,
and the contact and its ``arrive``/``connect`` events are written as the live engine
writes them.  Truth: each side's talk time is the sum of its trimmed sentences' lengths
(read by ``soxi``, not by our code); agent, queue and caller are the events' values.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from tests.support.seed import seed

from callcenter.events import Event, EventType
from callcenter.live.voice.analysis import (
    AnalysisOutcome,
    RecordingAnalyzer,
    default_options,
    read_failure,
)
from callcenter.storage.analysis_store import AnalysisStore
from callcenter.storage.db import make_engine
from callcenter.storage.event_store import EventStore
from callcenter.storage.tables import ContactRow
from callcenter.storage.tables.analysis import analyses_table
from callcenter.voice.archive import recording_path, recording_relpath
from callcenter.voice.recording import merge_sides

RATE = 8000
T0 = 1_796_000_000.0  # 2026-11-30
TALK_TOLERANCE_S = 0.5


def _say(text: str, out: Path) -> Path:
    """``text`` spoken by espeak-ng, 8 kHz 16-bit mono, leading/trailing silence trimmed."""
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "en", "-s", "150", "-w", str(raw), text], check=True)
    trim = ["silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse"]
    subprocess.run(
        ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out), *trim], check=True
    )
    return out


def _soxi_s(path: Path) -> float:
    return float(subprocess.run(["soxi", "-D", str(path)], check=True, capture_output=True,
                                text=True).stdout)  # fmt: skip


def _samples(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def _side(turns: list[tuple[float, Path]], length_s: float, out: Path) -> Path:
    x = np.zeros(round(length_s * RATE), np.int16)
    for at, path in turns:
        s = _samples(path)
        start = round(at * RATE)
        x[start : start + s.size] = s
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(x.astype("<i2").tobytes())
    return out


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("speech")
    lines = {
        # One phrase each, no punctuation: espeak-ng pauses 0.3 s and more at commas and
        # full stops, which the pipeline rightly does not count as talk.
        "a1": "good morning thank you for calling how can I help you",
        "c1": "I was charged twice for my order and I would like a refund",
        "a2": "I have refunded the second charge today",
    }
    return {k: _say(v, d / f"{k}.wav") for k, v in lines.items()}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "seeded.db"
    seed(f"sqlite:///{path}")  # migrated, with users (slow: seeded once, copied per test)
    return path


@pytest.fixture
def db(tmp_path: Path, seeded: Path) -> Iterator[Engine]:
    shutil.copy(seeded, tmp_path / "cc.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'cc.db'}")
    try:
        yield engine
    finally:
        engine.dispose()


def _record_call(
    engine: Engine, root: Path, tmp: Path, speech: dict[str, Path], contact: str, t: float
) -> tuple[float, float]:
    """A recorded, answered call as the controller leaves it; (agent, caller) talk truth."""
    agent = _side([(0.5, speech["a1"]), (11.0, speech["a2"])], 16.0, tmp / f"{contact}-a.wav")
    caller = _side([(6.0, speech["c1"])], 12.0, tmp / f"{contact}-c.wav")
    merge_sides(agent, caller, recording_path(root, contact, t))
    with engine.begin() as conn:
        conn.execute(
            insert(ContactRow),
            {"id": contact, "channel": "voice", "direction": "inbound", "queue": "support",
             "agent": "ann", "status": "closed", "subject": "", "arrived_at": t - 20,
             "answered_at": t, "ended_at": t + 16, "notes": "",
             "recording_url": recording_relpath(contact, t)},
        )  # fmt: skip
        EventStore(conn).append(
            [
                Event(
                    t - 20,
                    EventType.ARRIVE,
                    contact,
                    queue="support",
                    channel="voice",
                    caller="+15550100",
                ),
                Event(
                    t, EventType.CONNECT, contact, queue="support", agent="ann", wait=20.0, ring=2.0
                ),
            ],
            source="live",
        )
    a_truth = _soxi_s(speech["a1"]) + _soxi_s(speech["a2"])
    return a_truth, _soxi_s(speech["c1"])


def _analyzer(engine: Engine, tmp: Path) -> RecordingAnalyzer:
    return RecordingAnalyzer(
        engine, tmp / "rec", tmp / "analysis", options=default_options(transcribe=False)
    )


def test_a_recorded_call_is_analysed_with_its_people_from_the_event_log(
    db: Engine, tmp_path: Path, speech: dict[str, Path]
) -> None:
    worker = _analyzer(db, tmp_path)
    a_truth, c_truth = _record_call(db, tmp_path / "rec", tmp_path, speech, "v-1", T0)
    assert worker.backlog() == ["v-1"]
    outcome = worker.analyze("v-1")
    assert outcome.ok, outcome.reason
    with db.connect() as conn:
        row = conn.execute(select(analyses_table).where(analyses_table.c.call_id == "v-1")).one()
    assert (row.agent, row.queue, row.caller, row.layout) == (
        "ann",
        "support",
        "+15550100",
        "stereo",
    )
    assert row.start_ts == T0
    assert row.duration_s == pytest.approx(16.0, abs=0.05)
    assert row.agent_talk_s == pytest.approx(a_truth, abs=TALK_TOLERANCE_S)
    assert row.caller_talk_s == pytest.approx(c_truth, abs=TALK_TOLERANCE_S)
    doc = json.loads((tmp_path / "analysis" / "v-1.json").read_text())
    assert doc["call_id"] == "v-1" and doc["call"]["agent"] == "ann"
    assert worker.backlog() == []

    # `callcenter report calls` shows it, agent and queue filled.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    result = subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "report", "calls", "--format", "json",
         "--database", str(db.url)],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    calls = json.loads(result.stdout)
    assert [(c["call_id"], c["agent"], c["queue"]) for c in calls] == [("v-1", "ann", "support")]


def test_a_bad_recording_is_recorded_as_failed_and_not_tried_again(
    db: Engine, tmp_path: Path, speech: dict[str, Path]
) -> None:
    worker = _analyzer(db, tmp_path)
    _record_call(db, tmp_path / "rec", tmp_path, speech, "v-bad", T0)
    recording_path(tmp_path / "rec", "v-bad", T0).write_bytes(b"not a wav at all")
    outcome = worker.analyze("v-bad")
    assert not outcome.ok
    assert outcome.reason is not None and "not an audio file ffmpeg can decode" in outcome.reason
    assert read_failure(tmp_path / "analysis", "v-bad") == outcome.reason
    assert worker.backlog() == []  # a restart does not try it again
    with db.connect() as conn:
        assert AnalysisStore(conn).call_ids() == set()


def test_a_contact_without_a_recording_is_a_clear_failure(db: Engine, tmp_path: Path) -> None:
    outcome = _analyzer(db, tmp_path).analyze("nobody")
    assert outcome == AnalysisOutcome("nobody", False, reason="contact 'nobody' has no recording")


def test_the_worker_resumes_after_a_restart_and_takes_submitted_calls(
    db: Engine, tmp_path: Path, speech: dict[str, Path]
) -> None:
    root = tmp_path / "rec"
    for i, cid in enumerate(("r-1", "r-2", "r-3")):
        _record_call(db, root, tmp_path, speech, cid, T0 + 100 * i)

    async def run_until(worker: RecordingAnalyzer, n: int, submit: list[str]) -> list[str]:
        done: list[str] = []
        finished = asyncio.Event()

        def on_done(outcome: AnalysisOutcome) -> None:
            assert outcome.ok, outcome.reason
            done.append(outcome.contact_id)
            if len(done) == n:
                finished.set()

        for cid in submit:
            worker.submit(cid)
        task = asyncio.create_task(worker.run(on_done=on_done))
        await asyncio.wait_for(finished.wait(), 120)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return done

    # The first server analyses one call and stops (a restart) ...
    first = _analyzer(db, tmp_path)
    assert first.backlog() == ["r-1", "r-2", "r-3"]  # oldest answer first
    assert first.analyze("r-1").ok
    # ... the next one finds the two left, and takes a new call submitted at start.
    _record_call(db, root, tmp_path, speech, "r-new", T0 + 1000)
    worker = _analyzer(db, tmp_path)
    assert worker.backlog() == ["r-2", "r-3", "r-new"]
    second = asyncio.run(run_until(worker, 3, ["r-new", "r-new"]))
    assert sorted(second) == ["r-2", "r-3", "r-new"]  # each once
    with db.connect() as conn:
        assert AnalysisStore(conn).call_ids() == {"r-1", "r-2", "r-3", "r-new"}
    assert worker.backlog() == []


def test_the_event_loop_runs_on_while_a_call_is_analysed(
    db: Engine, tmp_path: Path, speech: dict[str, Path]
) -> None:
    _record_call(db, tmp_path / "rec", tmp_path, speech, "l-1", T0)
    worker = _analyzer(db, tmp_path)

    async def main() -> int:
        ticks = 0
        done = asyncio.Event()
        task = asyncio.create_task(worker.run(on_done=lambda _o: done.set()))
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return ticks

    # The loop kept turning (many times) while the analysis ran in its thread.
    assert asyncio.run(main()) > 10


def test_with_transcription_the_known_words_are_on_their_sides(
    db: Engine, tmp_path: Path, speech: dict[str, Path]
) -> None:
    """The server's default (transcribe on), run as the worker runs it: in a thread."""
    _record_call(db, tmp_path / "rec", tmp_path, speech, "t-1", T0)
    worker = RecordingAnalyzer(db, tmp_path / "rec", tmp_path / "analysis")
    outcomes: list[AnalysisOutcome] = []

    async def main() -> None:
        done = asyncio.Event()

        def on_done(o: AnalysisOutcome) -> None:
            outcomes.append(o)
            done.set()

        task = asyncio.create_task(worker.run(on_done=on_done))
        await asyncio.wait_for(done.wait(), 300)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert outcomes[0].ok, outcomes[0].reason
    doc = json.loads((tmp_path / "analysis" / "t-1.json").read_text())
    said = {"agent": "", "caller": ""}
    for u in doc["transcript"]["utterances"]:
        said[u["speaker"]] += " " + u["text"].lower()
    # Each side's own words (those tiny.en gets right from espeak-ng at 8 kHz), and not
    # the other side's: the channels reached the pipeline the right way round.
    assert {"morning", "calling", "refunded", "second"} <= set(
        said["agent"].replace(",", " ").split()
    )
    assert {"charge", "order"} <= set(said["caller"].split())
    assert "order" not in said["agent"] and "morning" not in said["caller"]


def test_a_result_that_cannot_be_stored_is_tried_again_at_the_next_start(
    db: Engine, tmp_path: Path, speech: dict[str, Path]
) -> None:
    _record_call(db, tmp_path / "rec", tmp_path, speech, "s-1", T0)
    worker = _analyzer(db, tmp_path)
    (tmp_path / "analysis").write_text("a file where the results folder should be")
    outcome = worker.analyze("s-1")
    assert not outcome.ok and outcome.reason is not None
    assert outcome.reason.startswith("not stored: ")
    (tmp_path / "analysis").unlink()
    assert worker.backlog() == ["s-1"]  # no failure record: the next start takes it
    assert worker.analyze("s-1").ok
