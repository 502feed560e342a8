"""``voice/ari.py`` against a real Asterisk: requests, typed errors, the event socket.

Truth is Asterisk's own answers: the version it reports, the events it sends for a
channel we create, the file its recorder writes (read back with the stdlib ``wave``).
"""

from __future__ import annotations

import asyncio
import contextlib
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.settings import Settings
from callcenter.voice.ari import (
    Ari,
    AriError,
    AriEvent,
    AriNotFoundError,
    AriUnavailableError,
)
from callcenter.voice.ari_events import EventSocket, connect_events
from callcenter.voice.asterisk import RunningAsterisk, find_install, start_asterisk

HELLO_WORLD_S = 1.404  # soxi -D /usr/share/asterisk/sounds/en/hello-world.wav


@pytest.fixture(scope="module")
def asterisk() -> Iterator[RunningAsterisk]:
    running = start_asterisk(find_install(Settings.load().cache_dir))
    try:
        yield running
    finally:
        running.stop()


async def _next(sock: EventSocket, kind: str, timeout: float = 5.0) -> AriEvent:
    async def find() -> AriEvent:
        async for event in sock:
            if event.type == kind:
                return event
        raise AssertionError(f"the socket closed before a {kind}")

    return await asyncio.wait_for(find(), timeout)


def test_info_reports_the_pinned_version(asterisk: RunningAsterisk) -> None:
    async def go() -> str:
        async with Ari(asterisk.ari_url, asterisk.ari_auth) as ari:
            info = await ari.info()
        return str(info["system"]["version"])

    assert asyncio.run(go()) == "22.10.1"


def test_wrong_password_is_an_ari_error_with_401(asterisk: RunningAsterisk) -> None:
    user, _ = asterisk.ari_auth

    async def go() -> None:
        async with Ari(asterisk.ari_url, (user, "wrong")) as ari:
            await ari.info()

    with pytest.raises(AriError) as e:
        asyncio.run(go())
    assert e.value.status == 401
    assert "GET /asterisk/info" in str(e.value)

    async def socket() -> None:
        await connect_events(asterisk.ari_url, (user, "wrong"), "callcenter")

    with pytest.raises(AriError) as e:
        asyncio.run(socket())
    assert e.value.status == 401


def test_nobody_listening_is_unavailable() -> None:
    async def go() -> None:
        async with Ari("http://127.0.0.1:9/ari", ("u", "p"), timeout=1.0) as ari:
            await ari.info()

    with pytest.raises(AriUnavailableError, match=r"127\.0\.0\.1:9/ari did not answer"):
        asyncio.run(go())
    with pytest.raises(AriUnavailableError, match=r"ARI events at ws://127\.0\.0\.1:9/ari/events"):
        asyncio.run(connect_events("http://127.0.0.1:9/ari", ("u", "p"), "x", open_timeout=1))


def test_unknown_objects_are_not_found_and_hangup_of_a_gone_channel_is_quiet(
    asterisk: RunningAsterisk,
) -> None:
    async def go() -> None:
        async with Ari(asterisk.ari_url, asterisk.ari_auth) as ari:
            await ari.hangup("no-such-channel")  # already gone: nothing to do
            await ari.destroy_bridge("no-such-bridge")
            with pytest.raises(AriNotFoundError, match="404"):
                await ari.answer("no-such-channel")

    asyncio.run(go())


def test_a_channel_enters_the_app_plays_waits_with_music_and_is_recorded(
    asterisk: RunningAsterisk,
) -> None:
    """Originate a Local channel into our app; play a Debian prompt to it; record it
    while the prompt is played to the Local channel's other half; put it in a holding
    bridge with music; hang up. Every step is confirmed by the event Asterisk sends,
    and the recording by the file it wrote."""
    spool = asterisk.config.base_dir / "spool" / "recording"

    async def go() -> tuple[list[str], Path]:
        seen: list[str] = []
        async with Ari(asterisk.ari_url, asterisk.ari_auth) as ari:
            sock = await connect_events(asterisk.ari_url, asterisk.ari_auth, "callcenter")
            try:
                ch = await ari.originate(
                    "Local/s@callcenter-in", app="callcenter", app_args=["probe", "42"]
                )
                other = ""
                start = await _next(sock, "StasisStart")
                while start.channel is None or start.channel.id != ch.id:
                    # the Local channel's other half ran the dialplan into our app;
                    # answering it answers ours, which then enters with its arguments
                    assert start.channel is not None and start.args == ()
                    other = start.channel.id
                    await ari.answer(other)
                    start = await _next(sock, "StasisStart")
                assert start.args == ("probe", "42")
                seen.append("start")
                await ari.answer(ch.id)
                playback = await ari.play(ch.id, "sound:hello-world", lang="en")
                done = await _next(sock, "PlaybackFinished")
                assert done.object_id("playback") == playback
                assert done.raw["playback"]["state"] == "done"  # not "failed": the file exists
                seen.append("played")
                # a channel in a bridge cannot be recorded itself (Asterisk: "Cannot
                # record channel while in bridge"; calls are recorded on snoop channels)
                await ari.record(ch.id, "probe-rec")
                await _next(sock, "RecordingStarted")
                # what is played to the other half comes out of ours: the recording
                # holds Debian's hello-world prompt
                await ari.play(other, "sound:hello-world", lang="en")
                await _next(sock, "PlaybackFinished")
                await asyncio.sleep(0.2)
                await ari.stop_recording("probe-rec")
                finished = await _next(sock, "RecordingFinished")
                assert finished.object_id("recording") == "probe-rec"
                seen.append("recorded")
                bridge = await ari.create_bridge("holding", name="probe-hold")
                await ari.bridge_moh(bridge)
                await ari.add_to_bridge(bridge, [ch.id])
                entered = await _next(sock, "ChannelEnteredBridge")
                assert entered.object_id("bridge") == bridge
                seen.append("held")
                await ari.hangup(ch.id)
                gone = await _next(sock, "ChannelDestroyed")
                assert gone.channel is not None
                await ari.destroy_bridge(bridge)
            finally:
                await sock.aclose()
        return seen, spool / "probe-rec.wav"

    seen, path = asyncio.run(go())
    assert seen == ["start", "played", "recorded", "held"]
    with wave.open(str(path)) as w:
        seconds = w.getnframes() / w.getframerate()
        assert (w.getnchannels(), w.getframerate()) == (1, 8000)
    # the prompt lasts 1.404 s (soxi); a Local channel carries frames only while
    # something plays, so the file holds the prompt and nothing else
    assert abs(seconds - HELLO_WORLD_S) <= 0.1


def test_an_event_filter_leaves_only_the_types_asked_for(asterisk: RunningAsterisk) -> None:
    """The controller asks for the dozen event types it acts on; a channel's life then
    sends only those (unfiltered, the same life brings ChannelStateChange, ChannelVarset,
    ChannelDialplan, ... as well)."""

    async def life(allowed: set[str] | None) -> list[str]:
        seen: list[str] = []
        async with Ari(asterisk.ari_url, asterisk.ari_auth) as ari:
            sock = await connect_events(asterisk.ari_url, asterisk.ari_auth, "callcenter")
            try:
                await ari.filter_events("callcenter", allowed or ())
                ch = await ari.originate("Local/s@callcenter-in", app="callcenter")
                first = await _next(sock, "StasisStart")
                assert first.channel is not None
                await ari.answer(first.channel.id)
                await asyncio.sleep(0.3)
                await ari.hangup(ch.id)
                await ari.hangup(first.channel.id)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        async for event in sock:
                            seen.append(event.type)
            finally:
                await ari.filter_events("callcenter", ())  # nothing asked: every type
                await sock.aclose()
        return seen

    everything = asyncio.run(life(None))
    assert "ChannelStateChange" in everything  # what the filter is for
    only = asyncio.run(life({"StasisStart", "StasisEnd"}))
    assert "StasisEnd" in only and set(only) <= {"StasisStart", "StasisEnd"}
