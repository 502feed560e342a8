"""Reading rosters for adherence (callcenter.wfm.adherence.roster): both shapes, and one
clear line for every kind of bad input."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest

from callcenter.wfm.adherence.roster import RosterError, Shift, load_roster, roster_from_records

T0 = 1_772_409_600.0  # 2026-03-02T00:00:00Z
HEADER = "agent,date,shift_start,shift_end,break_start,break_end\n"


def write(tmp_path: Path, text: str, name: str = "roster.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_csv_one_row_per_break(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        HEADER + "a1,2026-03-02,2026-03-02T08:00:00Z,2026-03-02T16:30:00Z,"
        "2026-03-02T12:00:00Z,2026-03-02T12:30:00Z\n"
        # the same shift's other break, rows in any order, blank lines ignored
        + "b1,2026-03-02,2026-03-02T09:00:00Z,2026-03-02T17:00:00Z,,\n\n"
        + "a1,2026-03-02,2026-03-02T08:00:00Z,2026-03-02T16:30:00Z,"
        "2026-03-02T10:00:00Z,2026-03-02T10:15:00Z\n",
    )
    roster = load_roster(p)
    a1, b1 = roster.shifts
    assert (a1.agent, a1.date, a1.start, a1.end) == (
        "a1",
        dt.date(2026, 3, 2),
        T0 + 8 * 3600,
        T0 + 16.5 * 3600,
    )
    assert a1.breaks == ((T0 + 10 * 3600, T0 + 10.25 * 3600), (T0 + 12 * 3600, T0 + 12.5 * 3600))
    assert a1.break_s == 45 * 60 and a1.length_s == 8.5 * 3600
    assert b1.breaks == () and roster.agents == ("a1", "b1")


def test_csv_times_of_day_offsets_and_extra_columns(tmp_path: Path) -> None:
    # a time of day is on the row's date; an offset is converted to UTC; a date-time
    # without an offset is UTC; other columns (the scheduler's template name) are ignored
    p = write(
        tmp_path,
        "Agent,Date,Shift_Start,Shift_End,template\n"
        "a1,2026-03-02,08:00,24:00,early\n"
        "a2,2026-03-02,2026-03-02T11:00:00+03:00,2026-03-02 16:00,late\n",
    )
    a1, a2 = load_roster(p).shifts
    assert (a1.start, a1.end) == (T0 + 8 * 3600, T0 + 24 * 3600)
    assert (a2.start, a2.end) == (T0 + 8 * 3600, T0 + 16 * 3600)


def test_csv_breaks_column_of_intervals(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "agent,date,shift_start,shift_end,breaks\n"
        "a1,2026-03-02,08:00,16:00,10:00/10:15; 2026-03-02T12:00:00Z/2026-03-02T12:30:00Z\n"
        "a2,2026-03-02,08:00,16:00,\n",
    )
    a1, a2 = load_roster(p).shifts
    assert a1.breaks == ((T0 + 10 * 3600, T0 + 10.25 * 3600), (T0 + 12 * 3600, T0 + 12.5 * 3600))
    assert a2.breaks == ()
    bad = write(
        tmp_path, "agent,date,shift_start,shift_end,breaks\na1,2026-03-02,08:00,16:00,10:00-10:15\n"
    )
    with pytest.raises(RosterError) as err:
        load_roster(bad)
    assert str(err.value).endswith(
        "roster.csv:2: breaks '10:00-10:15' is not a list of breaks; expected start/end "
        "intervals separated by ';' like 10:00/10:15;12:00/12:30"
    )


def test_json_shapes(tmp_path: Path) -> None:
    doc = {
        "shifts": [
            {
                "agent": "a1",
                "date": "2026-03-02",
                "shift_start": "2026-03-02T08:00:00Z",
                "shift_end": "2026-03-02T16:00:00Z",
                "breaks": [
                    {"start": "2026-03-02T10:00:00Z", "end": "2026-03-02T10:15:00Z"},
                    {"break_start": "12:00", "break_end": "12:30"},
                    ["14:00", "14:15"],
                ],
                "template": "early",
            },
            {
                "agent": "a2",
                "date": "2026-03-02",
                "shift_start": "09:00",
                "shift_end": "17:00",
                "break_start": "13:00",
                "break_end": "13:30",
            },
        ]
    }
    p = tmp_path / "roster.json"
    p.write_bytes(orjson.dumps(doc))
    a1, a2 = load_roster(p).shifts
    assert [b - a for a, b in a1.breaks] == [900, 1800, 900]
    assert a2.breaks == ((T0 + 13 * 3600, T0 + 13.5 * 3600),)
    # a bare list works as well, and so do in-memory records
    p.write_bytes(orjson.dumps(doc["shifts"]))

    def spans(shifts: tuple[Shift, ...]) -> list[tuple[object, ...]]:
        return [(s.agent, s.start, s.end, s.breaks) for s in shifts]

    assert spans(load_roster(p).shifts) == spans((a1, a2))
    assert spans(roster_from_records(doc["shifts"]).shifts) == spans((a1, a2))


ROW = "a1,2026-03-02,2026-03-02T08:00:00Z,2026-03-02T16:00:00Z"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "agent,date,shift_start\na1,2026-03-02,08:00\n",
            "roster.csv: missing column(s) 'shift_end'; expected columns agent, date, "
            "shift_start, shift_end (and optional break_start, break_end)",
        ),
        (
            "agent,date,shift_start,shift_end,break_start\n" + ROW + ",10:00\n",
            "roster.csv: missing column 'break_end'; break_start and break_end go together",
        ),
        (
            HEADER + "a1,2026-03-02,2026-03-02T16:00:00Z,2026-03-02T08:00:00Z,,\n",
            "roster.csv:2: shift_end 2026-03-02T08:00:00Z is not after shift_start "
            "2026-03-02T16:00:00Z; expected a shift that ends after it starts",
        ),
        (
            HEADER + "a1,02/03/2026,08:00,16:00,,\n",
            "roster.csv:2: date '02/03/2026' is not a date; expected YYYY-MM-DD",
        ),
        (
            HEADER + "a1,2026-02-30,08:00,16:00,,\n",
            "roster.csv:2: date '2026-02-30' is not a date; expected YYYY-MM-DD",
        ),
        (
            HEADER + "a1,2026-03-02,8 am,16:00,,\n",
            "roster.csv:2: shift_start '8 am' is not a date-time; expected an ISO 8601 "
            "date-time like 2026-03-02T08:00:00Z or a time of day like 08:00",
        ),
        (
            HEADER + "a1,2026-03-02,2026-03-02,16:00,,\n",
            "roster.csv:2: shift_start '2026-03-02' is not a date-time",
        ),
        (
            HEADER + "a1,2026-03-02,08:00,25:00,,\n",
            "roster.csv:2: shift_end '25:00' is not a date-time",
        ),
        (HEADER, "roster.csv: the roster has no shifts; expected at least one row with agent"),
        ("", "roster.csv: the file is empty; expected a header row agent, date"),
        (
            HEADER + ",2026-03-02,08:00,16:00,,\n",
            "roster.csv:2: agent '' is empty; expected an agent name",
        ),
        (
            HEADER + ROW + ",10:00,\n",
            "roster.csv:2: break_end is empty; expected both break_start and break_end",
        ),
        (
            HEADER + ROW + ",10:15,10:00\n",
            "roster.csv:2: break_end 2026-03-02T10:00:00Z is not after break_start "
            "2026-03-02T10:15:00Z; expected a break that ends after it starts",
        ),
        (
            HEADER + ROW + ",07:30,08:15\n",
            "roster.csv:2: break 2026-03-02T07:30:00Z-2026-03-02T08:15:00Z is not inside the "
            "shift 2026-03-02T08:00:00Z-2026-03-02T16:00:00Z; expected breaks within their shift",
        ),
        (
            HEADER + ROW + ",10:00,10:30\n" + ROW + ",10:15,10:45\n",
            "roster.csv:3: break 2026-03-02T10:15:00Z-2026-03-02T10:45:00Z overlaps break "
            "2026-03-02T10:00:00Z-2026-03-02T10:30:00Z of the same shift",
        ),
        (
            HEADER + ROW + ",,\na1,2026-03-02,15:00,20:00,,\n",
            "roster.csv: agent 'a1' has overlapping shifts 2026-03-02T08:00:00Z-"
            "2026-03-02T16:00:00Z (roster.csv:2) and 2026-03-02T15:00:00Z-2026-03-02T20:00:00Z "
            "(roster.csv:3); expected one shift at a time per agent",
        ),
    ],
)
def test_bad_csv_rosters(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RosterError) as err:
        load_roster(write(tmp_path, text))
    text_of = str(err.value)
    assert text_of.replace(str(tmp_path) + "/", "").startswith(message)
    assert "\n" not in text_of


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (b"{not json", "roster.json: not valid JSON"),
        (
            b'{"agents": []}',
            'roster.json: expected a JSON list of shifts (or an object with a "shifts" list)',
        ),
        (b"[]", "roster.json: the roster has no shifts"),
        (b"[3]", "roster.json: entry 1: 3 is not an object; expected a shift"),
        (
            b'[{"agent": "a1", "date": "2026-03-02"}]',
            "roster.json: entry 1: missing key(s) 'shift_start', 'shift_end'",
        ),
        (
            b'[{"agent": "a1", "date": "2026-03-02", "shift_start": 8, "shift_end": "16:00"}]',
            "roster.json: entry 1: shift_start 8 is not a date-time",
        ),
        (
            b'[{"agent": "a1", "date": "2026-03-02", "shift_start": "08:00", '
            b'"shift_end": "16:00", "breaks": "12:00"}]',
            "roster.json: entry 1: breaks '12:00' is not a list; expected a list of breaks",
        ),
        (
            b'[{"agent": "a1", "date": "2026-03-02", "shift_start": "08:00", '
            b'"shift_end": "16:00", "breaks": [["12:00"]]}]',
            "roster.json: entry 1: breaks[0] ['12:00'] is not a break",
        ),
    ],
)
def test_bad_json_rosters(tmp_path: Path, doc: bytes, message: str) -> None:
    p = tmp_path / "roster.json"
    p.write_bytes(doc)
    with pytest.raises(RosterError) as err:
        load_roster(p)
    assert str(err.value).replace(str(tmp_path) + "/", "").startswith(message)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match=r"nope\.csv: no such file"):
        load_roster(tmp_path / "nope.csv")
    with pytest.raises(RosterError, match="is a directory; expected a roster CSV or JSON file"):
        load_roster(tmp_path)
