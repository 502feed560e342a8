"""A contact's recording and analysis in the CRM, against a real server.

Recordings are hand-made stereo WAVs filed where the controller files them; contacts are
written straight into the server's SQLite file (as tests/api/test_crm.py does).  Who may
hear what follows the CRM's row scope, worked out by hand from the seed: ann and bob are
agents of team blue, cid of team green, sue supervises blue, admin and quinn (QA) see all.
"""

from __future__ import annotations

import json
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session
from tests.support.seed import PASSWORD, seed
from tests.support.server import LiveServer, running_server

from callcenter.storage.analysis_store import AnalysisStore
from callcenter.storage.db import make_engine
from callcenter.storage.tables import ContactAgent, ContactRow
from callcenter.voice.archive import recording_path, recording_relpath

NOW = time.time()
RATE = 8000

# contact -> (agent who held it, recording?, analysis)
CONTACTS = {
    "m-ann": ("ann", True, "done"),
    "m-cid": ("cid", True, "pending"),
    "m-bad": ("ann", True, "failed"),
    "m-none": ("ann", False, "none"),
    "m-away": ("ann", "../../outside.wav", "pending"),  # a stored path that leaves the folder
}


def _stereo(path: Path, seconds: float) -> None:
    t = np.arange(round(seconds * RATE)) / RATE
    left = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    right = (8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.stack([left, right], axis=1).astype("<i2").tobytes())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp("media-crm")
    db_url = f"sqlite:///{tmp / 'center.db'}"
    seed(db_url)
    rec = tmp / "recordings"
    engine = make_engine(db_url)
    with Session(engine) as s, s.begin():
        for cid, (agent, recorded, _analysis) in CONTACTS.items():
            url = None
            if recorded is True:
                url = recording_relpath(cid, NOW)
                _stereo(recording_path(rec, cid, NOW), 1.0)
            elif isinstance(recorded, str):
                url = recorded
            s.add(ContactRow(id=cid, channel="voice", queue="support", agent=agent,
                             status="closed", arrived_at=NOW - 60, answered_at=NOW,
                             recording_url=url))  # fmt: skip
            s.flush()
            s.add(ContactAgent(contact_id=cid, agent=agent))
    (tmp / "outside.wav").write_bytes(b"RIFF secret")
    doc = {
        "call_id": "m-ann",
        "layout": "stereo",
        "analyzed_at": "2026-12-07T10:00:00Z",
        "call": {"agent": "ann", "queue": "support"},
        "metrics": {"agent_talk_s": 4.24},
    }
    with engine.begin() as conn:
        AnalysisStore(conn).save(doc)
    engine.dispose()
    (tmp / "analysis").mkdir()
    (tmp / "analysis" / "m-bad.failed.json").write_text(
        json.dumps({"contact_id": "m-bad", "reason": "x.wav: no speech found (all silence)"})
    )
    with running_server(db_url, tmp, CALLCENTER_RECORDINGS_DIR=str(rec)) as srv:
        srv.recordings = rec  # type: ignore[attr-defined]
        yield srv


# who -> the contacts whose recording they may hear (row scope)
MAY_HEAR = {
    "ann": {"m-ann"},  # held it; not m-cid
    "cid": {"m-cid"},
    "bob": set(),  # same team as ann, but did not hold her calls
    "sue": {"m-ann"},  # supervises blue (ann), not green (cid)
    "quinn": {"m-ann", "m-cid"},
    "admin": {"m-ann", "m-cid"},
}


@pytest.mark.parametrize("who", sorted(MAY_HEAR))
def test_the_recording_follows_the_contacts_visibility(server: LiveServer, who: str) -> None:
    rec: Path = server.recordings  # type: ignore[attr-defined]
    with server.client(who) as c:
        for cid in ("m-ann", "m-cid"):
            r = c.get(f"/api/contacts/{cid}/recording")
            if cid in MAY_HEAR[who]:
                assert r.status_code == 200, r.text
                assert r.headers["content-type"] == "audio/wav"
                assert r.content == recording_path(rec, cid, NOW).read_bytes()
                assert r.headers["cache-control"] == "private, no-store"
            else:  # exactly like a contact that does not exist
                assert r.status_code == 404
                assert r.json() == {
                    "error": {"code": "not_found", "message": f"no contact {cid!r}"}
                }


def test_a_byte_range_is_served_for_seeking(server: LiveServer) -> None:
    whole = recording_path(server.recordings, "m-ann", NOW).read_bytes()  # type: ignore[attr-defined]
    with server.client("ann") as c:
        r = c.get("/api/contacts/m-ann/recording", headers={"Range": "bytes=44-143"})
    assert r.status_code == 206
    assert r.content == whole[44:144]
    assert r.headers["content-range"] == f"bytes 44-143/{len(whole)}"


def test_no_recording_and_a_path_outside_the_folder_are_404(server: LiveServer) -> None:
    with server.client("ann") as c:
        for cid in ("m-none", "m-away", "nope"):
            r = c.get(f"/api/contacts/{cid}/recording")
            assert r.status_code == 404, (cid, r.text)
            assert "secret" not in r.text
    with server.client() as anonymous:
        assert anonymous.get("/api/contacts/m-ann/recording").status_code == 401


def test_the_analysis_says_where_it_stands(server: LiveServer) -> None:
    with server.client("ann") as c:
        done = c.ok("GET", "/api/contacts/m-ann/analysis")
        assert done["status"] == "done"
        assert done["result"]["metrics"]["agent_talk_s"] == 4.24
        failed = c.ok("GET", "/api/contacts/m-bad/analysis")
        assert failed == {
            "contact_id": "m-bad",
            "status": "failed",
            "reason": "x.wav: no speech found (all silence)",
            "result": None,
        }
        assert c.ok("GET", "/api/contacts/m-none/analysis")["status"] == "none"
        assert c.get("/api/contacts/m-cid/analysis").status_code == 404  # not hers
    with server.client("admin") as c:
        assert c.ok("GET", "/api/contacts/m-cid/analysis")["status"] == "pending"


def test_the_crm_page_plays_the_recording_and_shows_the_analysis(
    server: LiveServer, page: Page
) -> None:
    page.goto(server.url + "/login?next=/crm")
    page.fill("#username", "ann")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(server.url + "/crm")
    # the page has started (its own work listed): the contact opens on the hash change
    # alone, as when a link to it is followed from an open CRM page
    expect(page.locator("#my-follow-ups")).to_contain_text("None.")
    page.goto(server.url + "/crm#contact=m-ann")
    expect(page.locator("#analysis dl[data-status=done]")).to_contain_text("Agent talk4.2 s")
    # Chromium itself loads the WAV through the route and reads its length (1.0 s).
    duration = page.evaluate(
        """() => new Promise((ok, fail) => {
            const a = document.getElementById("recording-player");
            if (a.readyState >= 1) return ok(a.duration);
            a.addEventListener("loadedmetadata", () => ok(a.duration));
            a.addEventListener("error", () => fail(String(a.error && a.error.code)));
        })"""
    )
    assert duration == pytest.approx(1.0, abs=0.01)
    page.goto(server.url + "/crm#contact=m-bad")
    page.reload()
    expect(page.locator("#analysis [data-status=failed]")).to_have_text(
        "Analysis: failed — x.wav: no speech found (all silence)"
    )
    page.goto(server.url + "/crm#contact=m-none")
    page.reload()
    expect(page.locator("#contact-id")).to_have_text("m-none")
    expect(page.locator("#recording")).to_be_hidden()
    assert page.locator("#crm-error").text_content() == ""
