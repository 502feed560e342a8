"""The Harper Valley Bank conversations in ``tests/data/harper-valley`` as test input.

Real human wording and turn timing (human transcripts, speaker roles, times in ms), the
caller's labelled intent and the survey ratings. See that folder's README and LICENSE
(Apache-2.0, Gridspace Inc.). Only reads the files: nothing here calls the code under
test except :class:`~callcenter.speech.conversation.Conversation` to hold the turns.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from callcenter.speech.conversation import Conversation

ROOT = Path(__file__).resolve().parents[1] / "data" / "harper-valley"

# Truth tables written by reading the corpus, shared by the tests and
# bench/eval_harper_valley.py: the default taxonomy's topic for each labelled intent,
# the words that name an intent (the caller's summary line) and its outcome (the agent's).
INTENT_TO_TOPIC = {
    "replace card": "card_replacement",
    "check balance": "balance_inquiry",
    "reset password": "online_banking_access",
    "pay bill": "bill_payment",
    "transfer money": "money_transfer",
    "schedule appointment": "appointment",
    "order checks": "checkbook",
    "get branch hours": "branch_hours_location",
}
INTENT_WORDS = {
    "replace card": {"card"},
    "check balance": {"balance"},
    "reset password": {"password"},
    "pay bill": {"bill", "pay"},
    "transfer money": {"transfer", "move"},
    "schedule appointment": {"appointment"},
    "order checks": {"check", "checks", "checkbook", "checkbooks"},
    "get branch hours": {"hours", "open"},
}
OUTCOME_WORDS = {
    "replace card": {"card"},
    "check balance": {"balance", "balances", "dollars"},
    "reset password": {"password", "link"},
    "pay bill": {"payment", "paid", "bill"},
    "transfer money": {"transfer", "transferred"},
    "schedule appointment": {"appointment", "scheduled"},
    "order checks": {"check", "checks", "checkbook"},
    "get branch hours": {"hours", "am", "pm", "open"},
}


@dataclass(frozen=True)
class Call:
    sid: str
    intent: str  # tasks[0].task_type, the caller's assigned task
    conversation: Conversation  # human transcripts; [noise]-style tags kept as written
    caller_rating: int | None  # caller's partner_rating (0-10) of the agent
    agent_rating: int | None
    utterances: tuple[dict[str, object], ...]  # the raw transcript rows (emotion, acts)
    metadata: dict[str, object]


def _rating(value: str) -> int | None:
    return int(value) if value.strip() else None


@cache
def calls() -> tuple[Call, ...]:
    """All 57 conversations, in index.csv order."""
    out = []
    with (ROOT / "index.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            sid = row["sid"]
            rows = json.loads((ROOT / "transcript" / f"{sid}.json").read_text())
            meta = json.loads((ROOT / "metadata" / f"{sid}.json").read_text())
            turns = [
                (
                    r["speaker_role"],
                    r["start_ms"] / 1000,
                    (r["start_ms"] + r["duration_ms"]) / 1000,
                    r["human_transcript"],
                )
                for r in rows
            ]
            out.append(
                Call(
                    sid,
                    row["task_type"],
                    Conversation.from_turns(turns, "en", float(row["duration_s"])),
                    _rating(row["caller_partner_rating"]),
                    _rating(row["agent_partner_rating"]),
                    tuple(rows),
                    meta,
                )
            )
    return tuple(out)


def words(text: str) -> set[str]:
    """Lower-case words, with the transcribers' "a m" / "p m" joined."""
    return set(re.findall(r"[a-z]+", text.lower().replace("a m", "am").replace("p m", "pm")))


def form_words(call: Call) -> set[str]:
    """Words (3+ letters) of what the agent entered in the task form, besides the task."""
    agent = call.metadata["agent"]
    assert isinstance(agent, dict)
    out: set[str] = set()
    for r in agent.get("responses", []):
        for k, v in (r.get("data") or {}).items():
            if k != "task_type":
                out |= {w for w in words(str(v)) if len(w) >= 3}
    return out
