"""The after-call job waits for Asterisk's RecordingFinished instead of polling ARI:
:class:`MediaWatch` (the end to end path: tests/voice/test_voice_server_calls.py)."""

from __future__ import annotations

import asyncio

from callcenter.live.voice.model import MediaWatch


def test_a_recording_closed_before_anyone_waits_is_not_waited_for() -> None:
    async def main() -> list[str]:
        watch = MediaWatch()
        watch.closed("call-1-agent")  # the agent hung up first: its side closed early
        return await asyncio.wait_for(watch.wait(["call-1-agent"], 5.0), 1.0)

    assert asyncio.run(main()) == []


def test_a_wait_ends_when_the_last_side_closes() -> None:
    async def main() -> tuple[bool, list[str]]:
        watch = MediaWatch()
        waiting = asyncio.create_task(watch.wait(["call-1-agent", "call-1-caller"], 5.0))
        await asyncio.sleep(0)
        watch.closed("call-1-caller")
        await asyncio.sleep(0.01)
        early = waiting.done()  # one side is still open
        watch.closed("call-1-agent")
        return early, await asyncio.wait_for(waiting, 1.0)

    assert asyncio.run(main()) == (False, [])


def test_what_never_closes_is_named_after_the_timeout() -> None:
    async def main() -> list[str]:
        watch = MediaWatch()
        watch.closed("call-2-caller")
        return await watch.wait(["call-2-caller", "call-2-agent"], 0.05)

    assert asyncio.run(main()) == ["call-2-agent"]


def test_closed_names_nobody_waits_for_are_bounded() -> None:
    async def main() -> list[str]:
        watch = MediaWatch(keep=2)
        for name in ("vm-1", "vm-2", "vm-3"):  # voicemail: no after-call job waits
            watch.closed(name)
        return await watch.wait(["vm-1", "vm-3"], 0.05)  # vm-1 was forgotten

    assert asyncio.run(main()) == ["vm-1"]
