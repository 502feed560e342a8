"""The columnar (polars) queue_log import gives exactly what the line mapper gives.

The line mapper (``import_queue_log``) is the readable reference whose mapping the other
tests check against hand-computed figures; the columnar path (what ``callcenter import
asterisk`` runs on a file) is an independent re-implementation with sorts and fills in
place of per-call state.  Here both read the same logs — the fixtures and a few hundred
randomly generated dirty ones (duplicates, lines out of order, garbage, calls that never
leave, overflows, transfers, ids NONE/REALTIME, agents by channel or name, '|' in caller
names, dates instead of epochs, CRLF) — and must agree on every event, in order, on the
counts and messages of the summary and on what is known of each call.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from callcenter.imports.asterisk import QueueLogImport, import_queue_log
from callcenter.imports.asterisk import columnar as asterisk_columnar
from callcenter.imports.asterisk import columnar_events as asterisk_columnar_events
from callcenter.imports.asterisk.columnar import ColumnarImport, import_queue_log_columnar

DATA = Path(__file__).parent / "data"
QUEUES = ["support", "sales", "billing", "vip"]
AGENTS = [
    "SIP/1001",
    "SIP/1001-0000002a",
    "PJSIP/alice-00000f1",
    "Local/1002@agents/n",
    "Agent/1003",
    "Bob Jones",
    "IAX2/peer/1004",
    "NONE",
    "",
]


def _events(imp: QueueLogImport | ColumnarImport) -> list[dict[str, Any]]:
    if isinstance(imp, QueueLogImport):
        return [
            {k: str(v) if k == "type" else v for k, v in e.to_dict().items()} for e in imp.events
        ]
    return [
        {k: v for k, v in row.items() if v is not None} for row in imp.events.iter_rows(named=True)
    ]


def _calls(imp: QueueLogImport | ColumnarImport) -> dict[str, tuple[Any, ...]]:
    calls = imp.calls if isinstance(imp, QueueLogImport) else imp.call_info(imp.contacts())
    return {k: (v.caller, v.queue, v.agent, v.start) for k, v in calls.items()}


def assert_same(path: Path) -> ColumnarImport:
    ref, col = import_queue_log(path), import_queue_log_columnar(path)
    ref_events, col_events = _events(ref), _events(col)
    assert len(col_events) == len(ref_events)
    for i, (a, b) in enumerate(zip(ref_events, col_events, strict=True)):
        assert a == b, f"event {i}: line mapper {a} != columnar {b}"
    assert col.stats.to_dict() == ref.stats.to_dict()
    assert col.stats.raw == ref.stats.raw
    assert _calls(col) == _calls(ref)
    return col


def random_log(seed: int) -> str:
    """A dirty queue_log with the shapes real ones have (see the module docstring)."""
    rng = random.Random(seed)
    t0 = 1_714_550_400
    lines: list[tuple[float, str]] = []

    def add(t: float, callid: str, queue: str, agent: str, event: str, *data: str) -> None:
        lines.append(
            (
                t,
                "|".join(
                    [
                        f"{t:.0f}" if rng.random() < 0.9 else f"{t:.3f}",
                        callid,
                        queue,
                        agent,
                        event,
                        *data,
                    ]
                ),
            )
        )

    for n in range(rng.randint(5, 40)):
        callid = rng.choice(["", "NONE", "REALTIME"]) if rng.random() < 0.03 else f"{t0 + n}.{n}"
        t = t0 + rng.randint(0, 3600)
        queue = rng.choice(QUEUES)
        name = rng.choice(
            ['"Ann|Lee" <5551001>', "5552002", "Unknown", '"Bob" <>', "", " 5553003 "]
        )
        pos = rng.choice(["1", "2", "0", "", "x"])
        add(
            t, callid, queue if rng.random() > 0.03 else "NONE", "NONE", "ENTERQUEUE", "", name, pos
        )
        agent = rng.choice(AGENTS)
        wait = rng.randint(0, 90)
        for _ in range(rng.choice([0, 0, 1, 2])):  # rings nobody answered
            t += rng.randint(1, 20)
            add(
                t,
                callid,
                queue,
                rng.choice(AGENTS),
                rng.choice(["RINGNOANSWER", "RINGCANCELED", "SYSCOMPAT"]),
                rng.choice(["15000", "0", "", "abc"]),
            )
        t += wait
        outcome = rng.random()
        if outcome < 0.55:
            add(
                t,
                callid,
                rng.choice([queue, queue, "NONE"]),
                agent,
                "CONNECT",
                rng.choice([str(wait), "", " 7 "]),
                f"{t0}.{n}",
                rng.choice(["5", "", "-1"]),
            )
            t += rng.randint(10, 600)
            end = rng.random()
            if end < 0.7:
                add(
                    t,
                    callid,
                    queue,
                    agent,
                    rng.choice(["COMPLETECALLER", "COMPLETEAGENT"]),
                    str(wait),
                    rng.choice(["120", "abc", ""]),
                    "1",
                )
            elif end < 0.8:
                add(t, callid, queue, agent, "AGENTDUMP")
            elif end < 0.9:
                add(
                    t,
                    callid,
                    queue,
                    agent,
                    "BLINDTRANSFER",
                    "2000",
                    "from-internal",
                    str(wait),
                    "60",
                )
            else:
                add(
                    t,
                    callid,
                    queue,
                    agent,
                    "ATTENDEDTRANSFER",
                    *rng.choice(
                        [
                            ["BRIDGE", "abc-123", "5", "60", "1"],
                            ["LINK", "SIP/a-1", "SIP/b-2", "5", "60", "1"],
                            ["APP", "Dial", "5", "60", "1"],
                        ]
                    ),
                )
        elif outcome < 0.7:
            add(t, callid, rng.choice([queue, "", "NONE"]), "NONE", "ABANDON", "2", "1", str(wait))
        elif outcome < 0.85:
            exit_name = rng.choice(["EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY", "WITHDRAW"])
            data = (
                ["5", "2", "1", str(wait)] if exit_name == "EXITWITHKEY" else ["2", "1", str(wait)]
            )
            add(t, callid, rng.choice([queue, queue, ""]), "NONE", exit_name, *data)
            if rng.random() < 0.6:  # overflow into another queue
                add(t, callid, rng.choice(QUEUES), "NONE", "ENTERQUEUE", "", name, "1")
                if rng.random() < 0.5:
                    add(t + 30, callid, "NONE", agent, "CONNECT", "30", "x", "3")
        # else: the call never leaves the queue
    for _k in range(rng.randint(0, 12)):  # agents' own lines
        t = t0 + rng.randint(0, 3600)
        event = rng.choice(
            [
                "PAUSE",
                "UNPAUSE",
                "PAUSEALL",
                "UNPAUSEALL",
                "ADDMEMBER",
                "REMOVEMEMBER",
                "AGENTLOGIN",
                "AGENTLOGOFF",
                "AGENTCALLBACKLOGOFF",
            ]
        )
        add(
            t,
            "NONE",
            rng.choice([*QUEUES, "NONE"]),
            rng.choice(AGENTS),
            event,
            *rng.choice([[], ["Lunch"], [" "], ["", "", "Autologoff"], ["1|2"]]),
        )
    for _k in range(rng.randint(0, 4)):  # what the mapping does not use, or cannot read
        t = t0 + rng.randint(0, 3600)
        lines.append(
            (
                t,
                rng.choice(
                    [
                        f"{t}|NONE|NONE|NONE|QUEUESTART|",
                        f"{t}|NONE|NONE|NONE|CONFIGRELOAD|",
                        f"{t}|1.1|support|NONE|DID|5551000",
                        f"{t}|1.1|support|NONE|SOMETHINGNEW|a|b",
                        "garbage without pipes",
                        f"{t}|1.1|support",
                        "not-a-time|1.1|support|NONE|ENTERQUEUE||5551|1",
                        f"{t}|1.1|support|NONE|enterqueue||5551|1",
                        "-5|1.1|support|NONE|ABANDON|1|1|1",
                        "inf|1.1|support|NONE|ABANDON|1|1|1",
                        "",
                        "   ",
                    ]
                ),
            )
        )
    lines.sort(key=lambda x: x[0])
    text = [ln for _, ln in lines]
    for _ in range(rng.randint(0, 4)):  # out of order: swap neighbours
        if len(text) > 2:
            i = rng.randrange(len(text) - 1)
            text[i], text[i + 1] = text[i + 1], text[i]
    for _ in range(rng.randint(0, 3)):  # exact duplicates
        i = rng.randrange(len(text))
        text.insert(i + 1, text[i])
    if rng.random() < 0.1:  # a database export: dates, not epochs
        text = [
            "2024-05-01 08:00:00.5" + ln[ln.index("|") :] if ln[:10].isdigit() and "|" in ln else ln
            for ln in text
        ]
    eol = "\r\n" if rng.random() < 0.2 else "\n"
    return eol.join(text) + (eol if rng.random() < 0.8 else "")


def test_fixture_day_is_the_same() -> None:
    col = assert_same(DATA / "queue_log_day")
    assert col.events.height > 30


@pytest.mark.parametrize("seed", range(120))
def test_random_dirty_logs_are_the_same(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if seed % 2:  # lines parsed in parallel slices, as in a big file
        monkeypatch.setattr(asterisk_columnar_events, "MIN_SLICE", 1)
    p = tmp_path / "queue_log"
    p.write_bytes(random_log(seed).encode())
    try:
        import_queue_log(p)
    except Exception as e:  # a log with no readable line: both refuse it alike
        with pytest.raises(type(e), match="not an Asterisk queue_log"):
            import_queue_log_columnar(p)
        return
    assert_same(p)


def test_random_logs_cover_the_dirty_cases(tmp_path: Path) -> None:
    """The generator does produce what the comparison is meant to cover."""
    seen: dict[str, int] = {}
    for seed in range(120):
        p = tmp_path / f"q{seed}"
        p.write_bytes(random_log(seed).encode())
        try:
            s = import_queue_log(p).stats
        except Exception:
            continue
        seen["bad"] = seen.get("bad", 0) + s.bad
        seen["duplicates"] = seen.get("duplicates", 0) + s.duplicates
        seen["unmapped"] = seen.get("unmapped", 0) + sum(s.unmapped_events.values())
        for note in s.notes:
            key = "overflow" if "overflow" in note else "left open"
            seen[key] = seen.get(key, 0) + 1
    assert all(
        seen.get(k, 0) > 10 for k in ("bad", "duplicates", "unmapped", "overflow", "left open")
    ), seen


def test_hash_collisions_fall_back_to_exact_strings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every line and every call id hashing alike must not change the result."""
    p = tmp_path / "queue_log"
    p.write_bytes(random_log(7).encode())
    expected = import_queue_log_columnar(p)

    def same_hash(values: Any) -> Any:
        return values.hash() * 0

    monkeypatch.setattr(asterisk_columnar, "fast_hash", same_hash)
    got = import_queue_log_columnar(p)
    assert got.events.equals(expected.events)
    assert got.stats.to_dict() == expected.stats.to_dict()


def test_empty_and_binary_files_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n\n")
    with pytest.raises(Exception, match="empty file"):
        import_queue_log_columnar(empty)
    binary = tmp_path / "bin"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(Exception, match="binary file"):
        import_queue_log_columnar(binary)
    with pytest.raises(Exception, match="no such file"):
        import_queue_log_columnar(tmp_path / "missing")


def test_a_nul_byte_after_the_start_is_a_bad_line_not_a_crash(tmp_path: Path) -> None:
    p = tmp_path / "queue_log"
    good = "1714550400|1.1|support|NONE|ENTERQUEUE||5551|1\n"
    p.write_bytes((good * 5000).encode() + b"17145\x0050401|x\n" + good.encode())
    col = assert_same(p)
    assert col.stats.bad == 1 and col.stats.duplicates == 5000
