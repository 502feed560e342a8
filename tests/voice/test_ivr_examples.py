"""The example flows (examples/ivr/) pass `callcenter ivr check`, and a call walks the bank's
flow as its YAML says; the command's refusals are one line with exit status 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from callcenter.events import EventType
from callcenter.voice.ivr import (
    Finish,
    IvrRun,
    Log,
    Outcome,
    Play,
    PromptCatalogue,
    StopPlay,
    load_flow,
)
from callcenter.voice.ivr.prompts import SYSTEM_SOUNDS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "ivr"
QUEUES = ["--queue", "cards", "--queue", "loans", "--queue", "sales", "--queue", "support",
          "--queue", "accounting", "--hours", "weekdays", "--hours", "office"]  # fmt: skip

pytestmark = pytest.mark.skipif(
    not (SYSTEM_SOUNDS / "ru" / "vm-intro.wav").exists(),
    reason="Debian's asterisk-core-sounds-{en,ru}-wav are not installed",
)


@pytest.fixture(scope="module")
def prompts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples' own prompts, spoken by espeak-ng (examples/ivr/make_prompts.sh)."""
    out = tmp_path_factory.mktemp("prompts")
    subprocess.run(["bash", str(EXAMPLES / "make_prompts.sh"), str(out)], check=True,
                   capture_output=True)  # fmt: skip
    return out


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    code = "from callcenter.cli.main import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, "ivr", "check", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**env, "COLUMNS": "200"},
    )


@pytest.mark.parametrize("name", ["bank", "pbx"])
def test_the_example_flows_pass_the_check(prompts: Path, name: str) -> None:
    proc = _cli(str(EXAMPLES / f"{name}.yaml"), "--prompts", str(prompts), *QUEUES)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith(f"flow {name}: ")
    assert proc.stdout.splitlines()[-1] == "ok"


def test_the_bank_summary(prompts: Path) -> None:
    proc = _cli(str(EXAMPLES / "bank.yaml"), "--prompts", str(prompts))
    assert proc.stdout.splitlines() == [
        "flow bank: 12 nodes, start 'welcome', languages en, ru (default en)",
        "  nodes: play 2, language 1, hours 1, notice 1, collect 1, menu 1, queue 2, "
        "callback 1, voicemail 1, hangup 1",
        "  queues: cards, loans",
        "  business hours: weekdays",
        "  collected: account (Account number)",
        "  prompts: 11 names, each recorded in en, ru",
        "ok",
    ]


def test_a_flow_that_cannot_work_exits_1_with_one_line(tmp_path: Path, prompts: Path) -> None:
    proc = _cli(str(EXAMPLES / "pbx.yaml"), "--prompts", str(tmp_path))  # no own prompts
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (
        "error: flow 'pbx', node 'notice': prompt 'cc-recorded' has no recording in "
        "language 'en' in the prompt catalogue\n"
    )
    proc = _cli(str(EXAMPLES / "pbx.yaml"), "--prompts", str(prompts), "--queue", "sales")
    assert (proc.returncode, proc.stderr) == (
        1,
        "error: flow 'pbx', node 'support': queue 'support' does not exist (known: sales)\n",
    )
    proc = _cli(str(tmp_path / "none.yaml"), "--prompts", str(prompts))
    assert (proc.returncode, proc.stderr) == (1, f"error: {tmp_path / 'none.yaml'}: no such file\n")
    proc = _cli(str(EXAMPLES / "pbx.yaml"), "--prompts", str(tmp_path / "nowhere"))
    assert (proc.returncode, proc.stderr) == (
        1,
        f"error: --prompts {tmp_path / 'nowhere'}: no such folder\n",
    )


def test_a_russian_caller_walks_the_bank_flow(prompts: Path) -> None:
    flow = load_flow(EXAMPLES / "bank.yaml")
    cat = PromptCatalogue.default(prompts)
    run = IvrRun(flow, hours_open=lambda name, now: name == "weekdays")
    run.start(0.0)  # bank-welcome
    assert run.on_played("play-1", 2.0) == [Play(["bank-language"], "en", "play-2", True)]
    assert run.on_digit("2", 3.0) == [  # русский: hours open → the notice, in Russian
        StopPlay("play-2"),
        Log(EventType.IVR_CHOICE, 3.0, "choose-language", "ru"),
        Log(EventType.IVR_CHOICE, 3.0, "office-hours", "open"),
        Play(["cc-recorded"], "ru", "play-3", False),
    ]
    assert run.on_played("play-3", 5.0) == [Play(["bank-account"], "ru", "play-4", True)]
    assert cat.path("bank-account", "ru") == prompts / "ru" / "bank-account.wav"
    for i, d in enumerate("411111111111"):  # 12 keys = max_digits: no '#' needed
        run.on_digit(d, 6.0 + i / 4)
    # by hand, Luhn from the right: 1+2+1+2+1+2+1+2+1+2+1+8 = 24: invalid, asked again
    assert run.variables == {}
    for i, d in enumerate("79927398713#"):
        out = run.on_digit(d, 10.0 + i / 4)
    assert run.variables == {"account": "79927398713"}
    menu = out[-1]
    assert isinstance(menu, Play) and (menu.prompts, menu.language) == (["bank-menu"], "ru")
    out = run.on_digit("2", 14.0)
    hold = out[-1]
    assert out[:-1] == [StopPlay(menu.token), Log(EventType.IVR_CHOICE, 14.0, "main", "2")]
    assert isinstance(hold, Play) and (hold.prompts, hold.interruptible) == (
        ["pls-hold-while-try"],
        False,
    )
    loans = Outcome(
        "queue",
        "loans",
        "ru",
        queue="loans",
        priority=1,
        variables={"account": "79927398713"},
        labels={"account": "Account number"},
        notice=True,
    )
    assert run.on_played(hold.token, 16.0) == [
        Log(EventType.IVR_LEAVE, 16.0, "loans", "queue", "loans"),
        Finish(loans),
    ]
