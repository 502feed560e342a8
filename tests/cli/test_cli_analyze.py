"""``callcenter analyze`` and ``callcenter report`` end to end, through the real entry point.

Calls are real speech: Asterisk's recorded prompts (audio metrics runs) and an
espeak-ng dialogue (the full pipeline with the packaged tiny.en model).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "speech"))

from dialogue import GOOD_CALL, Line, build_call

SOUNDS = Path("/usr/share/asterisk/sounds/en")


def cli(
    cwd: Path, *args: str, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")} | (env or {})
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def _prompt(name: str) -> np.ndarray:
    with wave.open(str(SOUNDS / f"{name}.wav")) as w:
        assert w.getframerate() == 8000
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768


def voiced(name: str) -> float:
    """Seconds between the first and last 50 ms window of a prompt above -40 dBFS RMS."""
    x = _prompt(name)
    win = 400
    rms = np.sqrt(np.mean(x[: x.size // win * win].reshape(-1, win) ** 2, axis=1))
    loud = np.flatnonzero(rms > 10 ** (-40 / 20))
    return float((loud[-1] + 1 - loud[0]) * win / 8000)


def write_stereo(path: Path, left: list[tuple[float, str]], right: list[tuple[float, str]],
                 total_s: float) -> Path:  # fmt: skip
    """Prompts placed at known times on each channel of an 8 kHz stereo WAV."""
    n = int(total_s * 8000)
    chans = np.zeros((2, n), np.float32)
    for ch, placed in enumerate((left, right)):
        for start, name in placed:
            clip = _prompt(name)
            i = int(start * 8000)
            chans[ch, i : i + clip.size] += clip[: n - i]
    pcm = (np.clip(chans, -1, 1) * 32767).astype("<i2").T.copy()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm.tobytes())
    return path


def good_call(path: Path) -> Path:
    return write_stereo(path, [(0.5, "agent-loginok")], [(2.5, "auth-thankyou")], 5.0)


def bad_files(folder: Path) -> dict[str, str]:
    """Each bad recording and the reason the summary must give for it."""
    (folder / "empty.wav").write_bytes(b"")
    (folder / "trunc.wav").write_bytes((SOUNDS / "agent-loginok.wav").read_bytes()[:20])
    (folder / "notes.wav").write_text("call notes: customer asked for a refund\n")
    with wave.open(str(folder / "zero.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
    write_stereo(folder / "quiet.wav", [], [], 3.0)
    shutil.copy(SOUNDS / "agent-loginok.wav", folder / "mono.wav")
    return {
        "empty.wav": "empty file (0 bytes)",
        "trunc.wav": "not an audio file ffmpeg can decode",
        "notes.wav": "not an audio file ffmpeg can decode",
        "zero.wav": "no audio samples (zero-length)",
        "quiet.wav": "no speech found (all silence)",
        "mono.wav": "has 1 channel; --layout stereo needs 2 (agent and caller)",
    }


def test_batch_with_bad_files_resume_and_force(tmp_path: Path) -> None:
    recs = tmp_path / "recs"
    recs.mkdir()
    good_call(recs / "good1.wav")
    good_call(recs / "good2.wav")
    reasons = bad_files(recs)
    db = f"sqlite:///{tmp_path / 'cc.db'}"
    args = ("analyze", "recs", "--no-transcribe", "--out", "out", "--database", db, "-q")
    proc = cli(tmp_path, *args, "--workers", "2")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "analyzed 2 calls" in proc.stdout
    assert f"{len(reasons)} failed:" in proc.stderr
    for name, reason in reasons.items():
        line = next(ln for ln in proc.stderr.splitlines() if f"recs/{name}:" in ln)
        assert reason in line, line
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["good1.json", "good2.json"]  # no .part
    doc = json.loads((out / "good1.json").read_text())
    assert doc["call_id"] == "good1" and doc["layout"] == "stereo"
    assert "transcript" not in doc and doc["language"] is None  # --no-transcribe
    m = doc["metrics"]
    # the voice inside each prompt (where its 50 ms RMS is over -40 dBFS), measured here
    assert m["duration_s"] == pytest.approx(5.0, abs=0.01)
    assert m["agent_talk_s"] == pytest.approx(voiced("agent-loginok"), abs=0.25)
    assert m["caller_talk_s"] == pytest.approx(voiced("auth-thankyou"), abs=0.25)
    assert m["overtalk_s"] == 0.0

    # again: both calls are finished and skipped; the bad files are still reported
    again = cli(tmp_path, *args, "--workers", "1")
    assert again.returncode == 1
    assert "analyzed 0 calls" in again.stdout and "skipped 2 already analyzed" in again.stdout
    # a new database gets the finished results from their files without re-analysis
    db2 = f"sqlite:///{tmp_path / 'cc2.db'}"
    moved = cli(tmp_path, "analyze", "recs/good1.wav", "--no-transcribe", "--out", "out",
                "--database", db2, "-q")  # fmt: skip
    assert moved.returncode == 0, moved.stderr
    assert "1 stored in the database from their files" in moved.stdout
    forced = cli(tmp_path, "analyze", "recs/good1.wav", "--no-transcribe", "--out", "out",
                 "--database", db, "--force", "-q")  # fmt: skip
    assert forced.returncode == 0 and "analyzed 1 call " in forced.stdout

    rep = cli(tmp_path, "report", "calls", "--format", "json", "--database", db)
    assert rep.returncode == 0, rep.stderr
    rows = json.loads(rep.stdout)
    assert [r["call_id"] for r in rows] == ["good1", "good2"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--layout", "diagonal"), "invalid layout: 'diagonal'"),
        (("--agent-channel", "middle"), "invalid agent channel: 'middle'"),
        (("--model", "/nowhere/model"), "/nowhere/model: no such model folder"),
        (("--language", "Russian"), "--language must be a language code"),
        (("--workers", "-1"), "--workers must be at least 1"),
        (("--keywords", "missing.yaml"), "missing.yaml: no such keywords file"),
        (("--metadata", "missing.csv"), "missing.csv: no such metadata file"),
    ],
)
def test_bad_options_one_line(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    good_call(tmp_path / "c.wav")
    proc = cli(tmp_path, "analyze", "c.wav", "--out", "out", *args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_results_default_to_the_data_dir(tmp_path: Path) -> None:
    """Without --out the results go to analysis/ in CALLCENTER_DATA_DIR (default: here)."""
    good_call(tmp_path / "c.wav")
    db = f"sqlite:///{tmp_path / 'cc.db'}"
    args = ("analyze", "c.wav", "--no-transcribe", "--database", db, "-q")
    proc = cli(tmp_path, *args, env={"CALLCENTER_DATA_DIR": str(tmp_path / "data")})
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "data" / "analysis" / "c.json").is_file()
    assert f"{tmp_path / 'data' / 'analysis'}/" in proc.stdout
    proc = cli(tmp_path, *args, "--force")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "analysis" / "c.json").is_file()
    assert "results in analysis/" in proc.stdout


def test_nothing_found(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = cli(tmp_path, "analyze", "empty")
    assert proc.returncode == 2 and "no recordings found in empty" in proc.stderr


def _full(tmp_path: Path) -> tuple[dict[str, Any], list[Any], subprocess.CompletedProcess[str]]:
    recs = tmp_path / "recs"
    recs.mkdir()
    spoken = build_call(recs / "call-001.wav", GOOD_CALL)
    (tmp_path / "calls.csv").write_text(
        "call_id,agent,caller,queue,start\ncall-001,anna,+15551230001,cards,2026-11-19T09:00:00Z\n"
    )
    db = f"sqlite:///{tmp_path / 'cc.db'}"
    proc = cli(tmp_path, "analyze", "recs", "--metadata", "calls.csv", "--out", "out",
               "--database", db, "--workers", "1", "-q")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "out" / "call-001.json").read_text())
    return doc, spoken, proc


def test_full_pipeline_on_a_spoken_call(tmp_path: Path) -> None:
    doc, spoken, _ = _full(tmp_path)
    assert doc["call"]["agent"] == "anna" and doc["call"]["start"] == "2026-11-19T09:00:00Z"
    assert doc["language"] == "en"
    utt = doc["transcript"]["utterances"]
    agent_text = " ".join(u["text"] for u in utt if u["speaker"] == "agent").lower()
    caller_text = " ".join(u["text"] for u in utt if u["speaker"] == "caller").lower()
    assert "replacement card" in caller_text and "anything else" in agent_text
    # every utterance starts and ends inside lines of its speaker (±0.5 s); one
    # utterance may run over several consecutive lines of the same speaker
    for u in utt:
        mine = [s for s in spoken if s.speaker == u["speaker"]]
        assert any(s.start - 0.5 <= u["start"] <= s.end for s in mine), u
        assert any(s.start <= u["end"] <= s.end + 0.5 for s in mine), u
    for u in utt:  # timed words, inside their utterance
        assert u["words"], u
        assert all(u["start"] - 0.01 <= w[0] <= w[1] <= u["end"] + 0.01 for w in u["words"])
        assert " ".join(w[2] for w in u["words"]).replace(" ", "") == u["text"].replace(" ", "")
    m = doc["metrics"]
    agent_words = sum(len(s.text.split()) for s in spoken if s.speaker == "agent")
    agent_minutes = sum(s.end - s.start for s in spoken if s.speaker == "agent") / 60
    assert m["agent_words_per_min"] == pytest.approx(agent_words / agent_minutes, rel=0.2)
    checks = doc["etiquette"]["checks"]
    for name in ("greeting", "introduction", "anything_else", "thanks"):
        assert checks[name]["passed"] is True, (name, checks[name])
    assert doc["resolution"]["resolved"] is True
    assert doc["topic"]["topic"] is not None
    assert doc["summary"]["caller_wanted"] and "card" in doc["summary"]["caller_wanted"].lower()
    # the reports over the database this run filled
    db = f"sqlite:///{tmp_path / 'cc.db'}"
    agents = json.loads(
        cli(tmp_path, "report", "agents", "--format", "json", "--database", db).stdout
    )
    assert [a["agent"] for a in agents] == ["anna"]
    assert agents[0]["calls"] == 1 and agents[0]["greeting_pct"] == 100.0
    assert agents[0]["resolved_pct"] == 100.0
    center = json.loads(
        cli(tmp_path, "report", "center", "--format", "json", "--database", db).stdout
    )
    assert center["summary"]["calls"] == 1
    assert center["topics"][0]["topic"] == doc["topic"]["topic"]
    # the period selects by the call's start (2026-11-19T09:00Z)
    none = cli(tmp_path, "report", "calls", "--from", "2026-11-20", "--format", "csv",
               "--database", db)  # fmt: skip
    assert none.returncode == 0 and none.stdout.strip().count("\n") == 0  # header only
    table = cli(tmp_path, "report", "agents", "--database", db)
    assert table.returncode == 0 and "anna" in table.stdout
    bad = cli(tmp_path, "report", "calls", "--from", "soon", "--database", db)
    assert bad.returncode == 2 and "--from 'soon': expected a date" in bad.stderr


def _mono(path: Path, data: np.ndarray) -> Path:
    pcm = (np.clip(data, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm.tobytes())
    return path


def test_pair_layout(tmp_path: Path) -> None:
    agent = np.zeros(8000 * 5, np.float32)
    caller = np.zeros(8000 * 5, np.float32)
    a, c = _prompt("agent-loginok"), _prompt("auth-thankyou")
    agent[4000 : 4000 + a.size] = a
    caller[20000 : 20000 + c.size] = c
    _mono(tmp_path / "call-7-agent.wav", agent)
    _mono(tmp_path / "call-7-caller.wav", caller)
    _mono(tmp_path / "lonely-agent.wav", agent)
    proc = cli(tmp_path, "analyze", ".", "--layout", "pair", "--no-transcribe", "--out", "out",
               "--database", f"sqlite:///{tmp_path / 'cc.db'}", "-q")  # fmt: skip
    assert proc.returncode == 1  # the unpaired file is reported
    assert "lonely-agent.wav: unpaired: no caller file for call 'lonely'" in proc.stderr
    doc = json.loads((tmp_path / "out" / "call-7.json").read_text())
    assert doc["layout"] == "pair" and len(doc["sources"]) == 2
    assert doc["metrics"]["agent_talk_s"] == pytest.approx(voiced("agent-loginok"), abs=0.25)
    assert doc["metrics"]["caller_talk_s"] == pytest.approx(voiced("auth-thankyou"), abs=0.25)


def test_mono_layout_reports_sides_as_unknown(tmp_path: Path) -> None:
    spoken = build_call(tmp_path / "stereo.wav", GOOD_CALL)
    with wave.open(str(tmp_path / "stereo.wav")) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    _mono(tmp_path / "mixed.wav", pcm.astype(np.float32).sum(axis=1) / 32768 / 2)
    proc = cli(tmp_path, "analyze", "mixed.wav", "--layout", "mono", "--out", "out",
               "--database", f"sqlite:///{tmp_path / 'cc.db'}", "-q")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "out" / "mixed.json").read_text())
    m = doc["metrics"]
    assert (
        m["agent_talk_s"] is None and m["talk_ratio"] is None and m["agent_words_per_min"] is None
    )
    spoken_s = sum(s.end - s.start for s in spoken)
    assert m["speech_s"] == pytest.approx(spoken_s, rel=0.15)
    utt = doc["transcript"]["utterances"]
    assert utt and {u["speaker"] for u in utt} == {"unknown"}
    assert "replacement card" in " ".join(u["text"] for u in utt).lower()
    checks = doc["etiquette"]["checks"]
    assert checks["greeting"]["passed"] is None  # who said it cannot be told
    assert checks["interruptions"]["passed"] is None


CARD_CALL = (
    Line("agent", "Thank you for calling. How can I help you?", 0.5),
    Line("caller", "I want to pay my bill with my card. The number is 4111 1111 1111 1111."),
    Line("agent", "Thank you, the payment is done. Goodbye."),
)  # fmt: skip


def _digit_runs(doc: dict[str, Any]) -> list[str]:
    """Runs of 4+ digits (separators allowed) in the stored text: utterances and words."""
    import re

    texts = [u["text"] for u in doc["transcript"]["utterances"]]
    texts += [w[2] for u in doc["transcript"]["utterances"] for w in u.get("words", ())]
    texts.append(doc["summary"]["caller_wanted"] or "")
    return [m.group() for t in texts for m in re.finditer(r"\d(?:[\d,. -]*\d){3,}", t)]


def test_card_numbers_never_stored(tmp_path: Path) -> None:
    build_call(tmp_path / "pay.wav", CARD_CALL)
    db = tmp_path / "cc.db"
    proc = cli(tmp_path, "analyze", "pay.wav", "--out", "out", "--database", f"sqlite:///{db}",
               "-q")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "out" / "pay.json").read_text())
    # the card as ASR wrote it is a [CARD] (16 digits, Luhn) or a [NUMBER] (ASR may
    # garble the digits); either way no digits of it are stored
    assert doc["redactions"]["card"] + doc["redactions"]["number"] >= 1, doc["transcript"]
    assert _digit_runs(doc) == []
    assert (
        "[CARD]" in doc["summary"]["caller_wanted"] or "[NUMBER]" in doc["summary"]["caller_wanted"]
    )
    import sqlite3

    with sqlite3.connect(db) as conn:
        (result,) = conn.execute("select result from call_analyses").fetchone()
    assert _digit_runs(json.loads(result)) == []
    # with --no-redact the digits are there: the checks above are not vacuous
    raw = cli(tmp_path, "analyze", "pay.wav", "--out", "raw", "--no-redact",
              "--database", f"sqlite:///{tmp_path / 'raw.db'}", "-q")  # fmt: skip
    assert raw.returncode == 0
    assert _digit_runs(json.loads((tmp_path / "raw" / "pay.json").read_text()))
