"""``/api/admin/ivr/...`` and the queues' call options against a real server:
administrators only, every refusal by its exact line, the audit log, real WAV and MP3
uploads converted and listed, the upload's own body limit, and what the call controller
reads (``flow_by_name``, ``queue_voice``) checked against what was sent."""

from __future__ import annotations

import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy.orm import Session
from tests.support.seed import seed
from tests.support.server import Client, LiveServer, running_server, signed_in

from callcenter.live.voice.flows import flow_by_name, prompt_catalogue, queue_voice
from callcenter.live.voice.model import QueueVoice
from callcenter.settings import Settings
from callcenter.storage.db import make_engine

FLOWS = "/api/admin/ivr/flows"
PROMPTS = "/api/admin/ivr/prompts"
NUMBERS = "/api/admin/voice/numbers"
MAX_UPLOAD = 3_000_000  # the server's ivr_prompt_max_bytes here; max_body_bytes stays 1 MiB

GOOD = """\
name: main-menu
language: en
languages: [en, ru]
nodes:
  welcome:
    kind: menu
    prompt: vm-intro
    options: {1: phones, 2: hotline}
    on_invalid: bye
  phones: {kind: queue, queue: phones}
  hotline: {kind: queue, queue: hotline}
  bye: {kind: hangup, prompt: goodbye}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp("ivradmin")
    url = f"sqlite:///{tmp / 'center.db'}"
    seed(url)
    env = {"CALLCENTER_IVR_PROMPTS_DIR": str(tmp / "prompts"),
           "CALLCENTER_IVR_PROMPT_MAX_BYTES": str(MAX_UPLOAD)}  # fmt: skip
    with running_server(url, tmp, **env) as srv:
        with srv.client("admin") as admin:
            for name in ("phones", "hotline"):
                admin.ok("POST", "/api/admin/queues", json={"name": name, "channel": "voice"})
        yield srv


@pytest.fixture(scope="module")
def clients(server: LiveServer) -> Iterator[dict[str, Client]]:
    with signed_in(server, "admin", "manager", "sue", "quinn", "ann") as out:
        yield out


@pytest.fixture
def db(server: LiveServer) -> Iterator[Session]:
    engine = make_engine(server.db_url)
    try:
        with Session(engine) as s:
            yield s
    finally:
        engine.dispose()


def _audit(c: Client, entity: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = c.ok("GET", "/api/audit", params={"entity": entity})["entries"]
    return out


def _tone_wav(path: Path, seconds: float, rate: int = 44100, channels: int = 2) -> None:
    """A 440 Hz tone made by sox (independent of the code under test)."""
    subprocess.run(
        ["sox", "-n", "-r", str(rate), "-c", str(channels), "-b", "16", str(path),
         "synth", str(seconds), "sine", "440", "vol", "0.5"],
        check=True,
    )  # fmt: skip


def _tone_mp3(path: Path, seconds: float, rate: int = 44100) -> None:
    """An MP3 of a 440 Hz tone, encoded by PyAV (FFmpeg's libmp3lame)."""
    import av

    t = np.arange(int(seconds * rate)) / rate
    pcm = (np.sin(2 * np.pi * 440 * t) * 12000).astype(np.int16)
    with av.open(str(path), "w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=rate, layout="mono")
        for start in range(0, len(pcm), 1152):
            frame = av.AudioFrame.from_ndarray(pcm[None, start : start + 1152], "s16", "mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def _upload(c: Client, path: Path, name: str, language: str) -> Any:
    with path.open("rb") as f:
        form = {"name": name, "language": language}
        return c.request("POST", PROMPTS, data=form, files={"file": (path.name, f)})


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", FLOWS),
        ("GET", f"{FLOWS}/main-menu"),
        ("PUT", f"{FLOWS}/main-menu"),
        ("DELETE", f"{FLOWS}/main-menu"),
        ("GET", PROMPTS),
        ("POST", PROMPTS),
    ],
)
def test_only_administrators(
    clients: dict[str, Client], server: LiveServer, method: str, url: str
) -> None:
    for role in ("manager", "sue", "quinn", "ann"):
        assert clients[role].request(method, url, json={}).status_code == 403, role
    with server.client() as anonymous:
        assert anonymous.request(method, url, json={}).status_code == 401


def test_flow_round_trip_audit_and_the_controller_view(
    clients: dict[str, Client], db: Session
) -> None:
    admin = clients["admin"]
    made = admin.ok("PUT", f"{FLOWS}/main-menu", json={"source": GOOD})
    assert (made["name"], made["nodes"], made["languages"], made["numbers"]) == (
        "main-menu", 4, ["en", "ru"], [],
    )  # fmt: skip
    assert made["source"] == GOOD and made["updated_by"] == "admin"
    listed = admin.ok("GET", FLOWS)
    assert [(f["name"], f["nodes"]) for f in listed] == [("main-menu", 4)]
    assert "source" not in listed[0]
    # what the call controller reads: the parsed flow, the same object while unchanged
    flow = flow_by_name(db, "main-menu")
    assert flow is not None and flow.start_node == "welcome"
    assert flow_by_name(db, "main-menu") is flow
    assert flow_by_name(db, "no-such-flow") is None
    # replaced: one node more; the controller sees the new text
    longer = GOOD + "  lost-and-found: {kind: hangup}\n"
    longer = longer.replace("2: hotline}", "2: hotline, 0: lost-and-found}")
    admin.ok("PUT", f"{FLOWS}/main-menu", json={"source": longer})
    assert admin.ok("GET", f"{FLOWS}/main-menu")["nodes"] == 5
    db.rollback()
    again = flow_by_name(db, "main-menu")
    assert again is not None and again is not flow and "lost-and-found" in again.nodes
    admin.ok("PUT", f"{FLOWS}/main-menu", json={"source": GOOD})
    actions = [e["action"] for e in _audit(admin, "ivr_flow")]
    assert actions[:3] == ["ivr_flow.update", "ivr_flow.update", "ivr_flow.create"]


BROKEN = [
    (GOOD.replace("prompt: goodbye", "prompt: no-such-prompt"),
     "flow 'main-menu', node 'bye': prompt 'no-such-prompt' has no recording in language 'en' "
     "in the prompt catalogue"),
    (GOOD + "  lost: {kind: hangup}\n",
     "flow 'main-menu', node 'lost': never reached from the start node 'welcome'"),
    (GOOD.replace("queue: hotline", "queue: billing"),
     "flow 'main-menu', node 'hotline': queue 'billing' does not exist (known: hotline, phones)"),
    (GOOD.replace("on_invalid: bye", "on_invalid: byebye"),
     "flow 'main-menu', node 'welcome': on_invalid goes to 'byebye', which is not a node of "
     "this flow"),
    (GOOD.replace("  phones: {kind: queue, queue: phones}",
                  "  phones: {kind: hours, hours: office, open: welcome, closed: bye}"),
     "flow 'main-menu', node 'phones': business hours 'office' do not exist (known: none)"),
    (GOOD.replace("name: main-menu", "name: other"),
     "name: the flow's text says 'other' but it is saved as 'main-menu'; expected the same name"),
    ("name: main-menu\nnodes: [\n", "flow:3: invalid YAML: did not find expected node content"),
]  # fmt: skip


@pytest.mark.parametrize(("source", "message"), BROKEN)
def test_a_flow_that_cannot_work_is_refused_with_one_line(
    clients: dict[str, Client], source: str, message: str
) -> None:
    admin = clients["admin"]
    assert admin.refused("PUT", f"{FLOWS}/main-menu", 422, json={"source": source}) == message


def test_numbers_name_existing_flows_and_a_used_flow_stays(clients: dict[str, Client]) -> None:
    admin = clients["admin"]
    admin.ok("PUT", f"{FLOWS}/main-menu", json={"source": GOOD})
    bad = {"number": "+37052000009", "target_kind": "ivr", "target": "mian-menu"}
    assert admin.refused("POST", NUMBERS, 422, json=bad) == (
        "target: no IVR flow 'mian-menu'; expected an IVR flow's name (known: main-menu)"
    )
    made = admin.ok("POST", NUMBERS, json={**bad, "target": "main-menu"})
    patch = {"target": "nope"}
    assert admin.refused("PATCH", f"{NUMBERS}/{made['id']}", 422, json=patch) == (
        "target: no IVR flow 'nope'; expected an IVR flow's name (known: main-menu)"
    )
    assert admin.ok("GET", f"{FLOWS}/main-menu")["numbers"] == ["+37052000009"]
    assert admin.refused("DELETE", f"{FLOWS}/main-menu", 409) == (
        "IVR flow 'main-menu' is used by numbers +37052000009; point them elsewhere or delete "
        "them first"
    )
    admin.ok("DELETE", f"{NUMBERS}/{made['id']}")
    admin.ok("PUT", f"{FLOWS}/spare", json={"source": GOOD.replace("main-menu", "spare")})
    admin.ok("DELETE", f"{FLOWS}/spare")
    assert admin.refused("DELETE", f"{FLOWS}/spare", 404) == "no IVR flow 'spare'"
    assert admin.refused("GET", f"{FLOWS}/spare", 404) == "no IVR flow 'spare'"
    assert _audit(admin, "ivr_flow")[0]["action"] == "ivr_flow.delete"


def _wav_info(path: Path) -> tuple[int, int, int, int]:
    with wave.open(str(path), "rb") as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()


def test_wav_and_mp3_uploads_are_converted_listed_and_audited(
    clients: dict[str, Client], server: LiveServer, tmp_path: Path
) -> None:
    admin = clients["admin"]
    wav, mp3 = tmp_path / "Welcome Message.wav", tmp_path / "menu.mp3"
    _tone_wav(wav, 1.5)
    _tone_mp3(mp3, 2.0)
    r = _upload(admin, wav, "welcome-center", "en")
    assert r.status_code == 201, r.text
    assert r.json() == {"name": "welcome-center", "language": "en", "seconds": 1.5,
                        "replaced": False}  # fmt: skip
    prompts = server.workdir / "prompts"
    # 1.5 s at 8 kHz: 12,000 frames, mono, 16-bit
    assert _wav_info(prompts / "en" / "welcome-center.wav") == (8000, 1, 2, 12000)
    r = _upload(admin, mp3, "menu-main", "ru")
    assert r.status_code == 201, r.text
    assert abs(r.json()["seconds"] - 2.0) <= 0.06  # MP3 frames are 26 ms
    rate, channels, width, frames = _wav_info(prompts / "ru" / "menu-main.wav")
    assert (rate, channels, width) == (8000, 1, 2) and abs(frames / 8000 - 2.0) <= 0.06
    again = _upload(admin, wav, "welcome-center", "en")
    assert again.status_code == 201 and again.json()["replaced"] is True
    listed = {p["language"]: p for p in admin.ok("GET", PROMPTS)}
    assert listed["en"]["own"] == ["welcome-center"]
    assert listed["ru"]["own"] == ["menu-main"]
    assert "vm-intro" in listed["en"]["system"] and "vm-intro" in listed["ru"]["system"]
    only = admin.ok("GET", PROMPTS, params={"language": "ru"})
    assert [p["language"] for p in only] == ["ru"]
    entries = _audit(admin, "ivr_prompt")
    assert [(e["action"], e["entity_id"]) for e in entries[:3]] == [
        ("ivr_prompt.upload", "en/welcome-center"),
        ("ivr_prompt.upload", "ru/menu-main"),
        ("ivr_prompt.upload", "en/welcome-center"),
    ]
    assert entries[2]["changes"]["file"] == [None, "Welcome_Message.wav"]
    assert entries[0]["changes"]["replaced"] == [None, True]
    # the controller's catalogue sees an upload made after the server started, own first
    settings = Settings(database_url=server.db_url, ivr_prompts_dir=prompts)
    catalogue = prompt_catalogue(settings)
    assert catalogue.media("welcome-center", "en") == f"sound:{prompts / 'en' / 'welcome-center'}"
    assert catalogue.media("vm-intro", "ru") == "sound:/usr/share/asterisk/sounds/ru/vm-intro"
    # an uploaded prompt can be named by a flow at once
    own = GOOD.replace("prompt: goodbye", "prompt: welcome-center").replace(
        "languages: [en, ru]", "languages: [en]"
    )
    assert admin.ok("PUT", f"{FLOWS}/main-menu", json={"source": own})["languages"] == ["en"]
    admin.ok("PUT", f"{FLOWS}/main-menu", json={"source": GOOD})


def test_bad_uploads_get_one_clear_line(
    clients: dict[str, Client], server: LiveServer, tmp_path: Path
) -> None:
    admin = clients["admin"]
    text = tmp_path / "notes.wav"
    text.write_text("this is not a recording\n")
    r = _upload(admin, text, "notes", "en")
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "notes.wav: not an audio file (expected WAV or MP3)"
    wav = tmp_path / "tone.wav"
    _tone_wav(wav, 0.5)
    r = _upload(admin, wav, "Bad Name", "en")
    assert r.json()["error"]["message"] == (
        "prompt name 'Bad Name': expected 1-64 lower-case letters, digits, '-' or '_', "
        "starting with a letter or digit"
    )
    r = _upload(admin, wav, "fine", "english")
    assert r.json()["error"]["message"] == (
        "prompt language 'english': expected a code like 'en', 'ru' or 'pt_BR'"
    )
    assert not (server.workdir / "prompts" / "en" / "notes.wav").exists()
    assert admin.refused("GET", PROMPTS, 422, params={"language": "EN"}) == (
        "language: 'EN' is not a language code; expected e.g. 'en', 'ru' or 'pt_BR'"
    )


def test_uploads_have_their_own_body_limit(clients: dict[str, Client], tmp_path: Path) -> None:
    admin = clients["admin"]
    # 20 s of 44.1 kHz mono 16-bit: 1,764,044 bytes, above max_body_bytes (1 MiB), below
    # ivr_prompt_max_bytes
    big = tmp_path / "big.wav"
    _tone_wav(big, 20.0, channels=1)
    assert 1 << 20 < big.stat().st_size < MAX_UPLOAD
    r = _upload(admin, big, "long-hold", "en")
    assert r.status_code == 201, r.text
    assert r.json()["seconds"] == 20.0
    huge = tmp_path / "huge.wav"
    _tone_wav(huge, 40.0, channels=1)  # 3.5 MB
    r = _upload(admin, huge, "too-long", "en")
    assert r.status_code == 413
    assert r.json()["error"]["message"] == (
        f"request body too large: at most {MAX_UPLOAD} bytes (ivr_prompt_max_bytes)"
    )
    # every other route keeps the global limit
    source = "# " + "x" * (1 << 20) + "\n" + GOOD
    assert admin.refused("PUT", f"{FLOWS}/main-menu", 413, json={"source": source}) == (
        f"request body too large: at most {1 << 20} bytes (max_body_bytes)"
    )


def _queue(c: Client, name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [q for q in c.ok("GET", "/api/admin/queues") if q["name"] == name]
    return found[0]


def test_queue_call_options_round_trip(
    clients: dict[str, Client], db: Session, tmp_path: Path
) -> None:
    admin = clients["admin"]
    q = _queue(admin, "phones")
    assert (q["announce_every_s"], q["callback_digit"], q["callback_prompt"],
            q["record_calls"]) == (30.0, None, None, True)  # fmt: skip
    assert queue_voice(db, "phones") == QueueVoice()
    wav = tmp_path / "offer.wav"
    _tone_wav(wav, 1.0)
    assert _upload(admin, wav, "press-9-callback", "en").status_code == 201
    body = {"announce_every_s": 45, "callback_digit": "9", "callback_prompt": "press-9-callback",
            "record_calls": False}  # fmt: skip
    out = admin.ok("PATCH", f"/api/admin/queues/{q['id']}", json=body)
    assert {k: out[k] for k in body} == {**body, "announce_every_s": 45.0}
    db.rollback()
    assert queue_voice(db, "phones") == QueueVoice(45.0, "9", "press-9-callback", False)
    # a Debian prompt in some language does too; 0 turns announcements off
    off = {"announce_every_s": 0, "callback_digit": "#", "callback_prompt": "vm-intro"}
    admin.ok("PATCH", f"/api/admin/queues/{q['id']}", json=off)
    db.rollback()
    assert queue_voice(db, "phones") == QueueVoice(0.0, "#", "vm-intro", False)
    new = {"name": "callers", "channel": "voice", "announce_every_s": 600}
    made = admin.ok("POST", "/api/admin/queues", json=new)
    assert (made["announce_every_s"], made["record_calls"]) == (600.0, True)
    assert queue_voice(db, "no-such-queue") == QueueVoice()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"announce_every_s": 5},
         "announce_every_s: 5 is out of range; expected 0 (never) or 10 to 600 seconds"),
        ({"announce_every_s": 600.5},
         "announce_every_s: 600.5 is out of range; expected 0 (never) or 10 to 600 seconds"),
        ({"announce_every_s": -10},
         "announce_every_s: -10 is out of range; expected 0 (never) or 10 to 600 seconds"),
        ({"callback_digit": "12", "callback_prompt": "vm-intro"},
         "callback_digit: '12' is not a telephone key; expected one of 0-9, * or #, or null "
         "(no call back offered)"),
        ({"callback_digit": "A", "callback_prompt": "vm-intro"},
         "callback_digit: 'A' is not a telephone key; expected one of 0-9, * or #, or null "
         "(no call back offered)"),
        ({"callback_digit": "5", "callback_prompt": "no-such-prompt"},
         "callback_prompt: 'no-such-prompt' is not in the prompt catalogue in any language; "
         "expected a prompt's name (upload one on the IVR tab)"),
        ({"callback_digit": "5", "callback_prompt": None},
         "callback_prompt: missing; callback_digit '5' needs the prompt that offers the call back"),
    ],
)  # fmt: skip
def test_bad_queue_call_options_get_one_clear_line(
    clients: dict[str, Client], body: dict[str, Any], message: str
) -> None:
    admin = clients["admin"]
    q = _queue(admin, "hotline")
    assert admin.refused("PATCH", f"/api/admin/queues/{q['id']}", 422, json=body) == message
    new = {"name": "refused", "channel": "voice", **body}
    assert admin.refused("POST", "/api/admin/queues", 422, json=new) == message
