"""speech.audio on real recordings: formats, layouts, channel mapping and bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from callcenter.errors import UserError
from callcenter.speech import (
    AudioError,
    AudioOptions,
    CallAudio,
    Layout,
    Side,
    decode,
    discover,
    load_call,
)

FORMATS = ["pcm16", "ulaw", "alaw", "flac", "vorbis", "mp3", "opus"]
TOL = 0.03  # seconds


def _check_sides(call: CallAudio, spans: dict[str, tuple[float, float]], agent_ch: str) -> None:
    """Energy on the right side at the right time (within one 50 ms window), little on
    the other side."""
    from tests.speech.conftest import active, rms  # the shared helpers, not the code under test

    caller_ch = "right" if agent_ch == "left" else "left"
    assert call.agent is not None and call.caller is not None
    for arr, ch, other in (
        (call.agent, agent_ch, call.caller),
        (call.caller, caller_ch, call.agent),
    ):
        got = active(arr, call.rate)
        assert got is not None, f"{ch}: no energy found"
        want = spans[ch]
        assert abs(got[0] - want[0]) <= 0.06 and abs(got[1] - want[1]) <= 0.06, (ch, got, want)
        lo, hi = round(want[0] / 0.05), round(want[1] / 0.05)
        mine = rms(arr, call.rate)[lo:hi].max()
        theirs = rms(other, call.rate)[lo:hi].max()
        assert theirs < 0.1 * mine, f"{ch}: other side has {theirs:.4f} vs {mine:.4f}"


@pytest.mark.parametrize("rate", [8000, 44100])
@pytest.mark.parametrize("fmt", FORMATS)
def test_stereo_formats(
    fmt: str,
    rate: int,
    two_party_call: Callable[..., tuple[Path, dict[str, tuple[float, float]]]],
    encode: Callable[[Path, Path, str], Path],
) -> None:
    src, spans = two_party_call(rate)
    path = encode(src, src.with_suffix(""), fmt)
    call = load_call([path], AudioOptions(layout=Layout.STEREO, rate=16000))
    assert call.layout is Layout.STEREO and call.has_sides and call.mixed is None
    assert call.rate == 16000 and call.agent is not None and call.agent.dtype == np.float32
    assert abs(call.duration_s - 5.0) <= TOL, call.duration_s
    assert call.call_id == path.stem and call.sources == (str(path),)
    _check_sides(call, spans, "left")


def test_agent_on_right_channel_swaps_sides(
    two_party_call: Callable[..., tuple[Path, dict[str, tuple[float, float]]]],
) -> None:
    path, spans = two_party_call(8000)
    left = load_call([path], AudioOptions(agent_channel="left"))
    right = load_call([path], AudioOptions(agent_channel="right"))
    _check_sides(right, spans, "right")
    assert right.side(Side.AGENT) is right.agent
    assert np.array_equal(left.agent, right.caller) and np.array_equal(left.caller, right.agent)


def test_decode_keeps_channels_and_reports_rate(
    two_party_call: Callable[..., tuple[Path, dict[str, tuple[float, float]]]],
) -> None:
    path, _ = two_party_call(44100)
    data, original = decode(path, 8000)
    assert original == 44100 and data.shape[0] == 2 and data.dtype == np.float32
    assert abs(data.shape[1] / 8000 - 5.0) <= TOL
    assert np.abs(data).max() <= 1.0


def test_pair_of_mono_files_padded_to_longer(
    tmp_path: Path,
    place: Callable[..., np.ndarray],
    prompt: Callable[..., np.ndarray],
    write_wav: Callable[..., Path],
) -> None:
    agent = write_wav(
        tmp_path / "call42-agent.wav", place([(0.5, prompt("agent-loginok"))], 3.0, 8000), 8000
    )
    caller = write_wav(
        tmp_path / "call42-caller.wav",
        place([(2.0, prompt("all-circuits-busy-now"))], 4.5, 8000),
        8000,
    )
    call = load_call([agent, caller], AudioOptions(layout=Layout.PAIR, rate=8000))
    assert call.call_id == "call42" and call.has_sides and call.layout is Layout.PAIR
    assert call.agent is not None and call.caller is not None
    assert call.agent.size == call.caller.size == 36000
    assert abs(call.duration_s - 4.5) <= TOL
    assert not call.agent[24000:].any()  # padding is silence
    assert np.abs(call.caller[16000:]).max() > 0.05  # the caller speaks at 2 s
    assert np.abs(call.agent[:4000]).max() == 0.0 < np.abs(call.agent[4000:18000]).max()


def test_mono_layout_has_no_sides(
    tmp_path: Path,
    write_wav: Callable[..., Path],
    place: Callable[..., np.ndarray],
    prompt: Callable[..., np.ndarray],
) -> None:
    x = place([(0.2, prompt("agent-loginok")), (2.2, prompt("auth-thankyou"))], 3.5, 8000)
    path = write_wav(tmp_path / "mixed.wav", x, 8000)
    call = load_call([path], AudioOptions(layout="mono", rate=16000))  # type: ignore[arg-type]
    assert not call.has_sides and call.agent is None and call.caller is None
    assert call.side(Side.CALLER) is None and call.mixed is not None
    assert call.mix() is call.mixed and abs(call.duration_s - 3.5) <= TOL and call.notes == ()


def test_mono_layout_downmixes_a_stereo_file(
    two_party_call: Callable[..., tuple[Path, dict[str, tuple[float, float]]]],
) -> None:
    path, _ = two_party_call(8000)
    call = load_call([path], AudioOptions(layout=Layout.MONO, rate=8000))
    assert call.mixed is not None and call.mixed.ndim == 1
    assert call.notes == (f"{path}: has 2 channels; mixed down for --layout mono",)
    stereo = load_call([path], AudioOptions(rate=8000))
    np.testing.assert_allclose(call.mixed, stereo.mix(), atol=1e-6)


def test_all_silence_is_not_an_error(tmp_path: Path, write_wav: Callable[..., Path]) -> None:
    path = write_wav(tmp_path / "quiet.wav", np.zeros((2, 16000)), 8000)
    call = load_call([path], AudioOptions())
    assert call.agent is not None and not call.agent.any() and abs(call.duration_s - 2.0) <= TOL


# --- bad input: each gives exactly one line naming the file ---------------------------


def _error(paths: list[Path], options: AudioOptions) -> str:
    with pytest.raises(AudioError) as info:
        load_call(paths, options)
    assert type(info.value) is AudioError and info.value.__cause__ is None
    msg = str(info.value)
    assert "\n" not in msg
    return msg


@pytest.fixture
def prompt_wav() -> Path:
    from tests.speech.conftest import prompt_path

    return prompt_path("agent-loginok")


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    assert _error([p], AudioOptions()) == f"{p}: empty file (0 bytes)"


def test_truncated_wav_header(tmp_path: Path, prompt_wav: Path) -> None:
    p = tmp_path / "trunc.wav"
    p.write_bytes(prompt_wav.read_bytes()[:20])
    assert _error([p], AudioOptions(layout=Layout.MONO)) == (
        f"{p}: not an audio file ffmpeg can decode (Invalid data found when processing input)"
    )


def test_text_file_named_wav(tmp_path: Path) -> None:
    p = tmp_path / "notes.wav"
    p.write_text("call notes: customer asked for a refund\n")
    assert _error([p], AudioOptions()) == (
        f"{p}: not an audio file ffmpeg can decode (Invalid data found when processing input)"
    )


def test_zero_length_audio(tmp_path: Path, write_wav: Callable[..., Path]) -> None:
    p = write_wav(tmp_path / "zero.wav", np.zeros((2, 0)), 8000)
    assert p.stat().st_size == 44
    assert _error([p], AudioOptions()) == f"{p}: no audio samples (zero-length)"


def test_mono_file_with_stereo_layout(prompt_wav: Path) -> None:
    assert _error([prompt_wav], AudioOptions(layout=Layout.STEREO)) == (
        f"{prompt_wav}: has 1 channel; --layout stereo needs 2 (agent and caller)"
    )


def test_sample_rate_below_8k(tmp_path: Path, write_wav: Callable[..., Path]) -> None:
    p = write_wav(tmp_path / "low.wav", np.full(4000, 0.1), 4000)
    assert (
        _error([p], AudioOptions(layout=Layout.MONO))
        == f"{p}: sample rate 4000 Hz is below 8000 Hz"
    )


def test_longer_than_max_duration(
    two_party_call: Callable[..., tuple[Path, dict[str, tuple[float, float]]]],
) -> None:
    path, _ = two_party_call(8000)
    msg = _error([path], AudioOptions(max_duration_s=2.0))
    assert msg == f"{path}: lasts 0:00:05, longer than the 0:00:02 limit (max_duration_s)"


def test_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "nope.wav"
    assert _error([p], AudioOptions()) == f"{p}: no such file"


def test_pair_needs_two_files(prompt_wav: Path) -> None:
    assert _error([prompt_wav], AudioOptions(layout=Layout.PAIR)) == (
        f"{prompt_wav}: 1 file given; --layout pair needs 2 (agent, caller)"
    )


def test_pair_with_a_stereo_file(
    two_party_call: Callable[..., tuple[Path, dict[str, tuple[float, float]]]],
    prompt_wav: Path,
) -> None:
    path, _ = two_party_call(8000)
    assert _error([prompt_wav, path], AudioOptions(layout=Layout.PAIR)) == (
        f"{path}: has 2 channels; --layout pair needs a mono file per side (this one is the caller)"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rate": 4000}, "invalid sample rate: 4000; expected 8000..48000 Hz"),
        ({"rate": 96000}, "invalid sample rate: 96000; expected 8000..48000 Hz"),
        ({"layout": "quad"}, "invalid layout: 'quad'; expected one of stereo, pair, mono"),
        (
            {"agent_channel": "center"},
            "invalid agent channel: 'center'; expected 'left' or 'right'",
        ),
        ({"max_duration_s": 0}, "invalid max duration: 0; expected seconds > 0"),
    ],
)
def test_options_are_validated(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UserError) as info:
        AudioOptions(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


# --- discover ---------------------------------------------------------------------------


def test_discover_pairs_and_unpaired(tmp_path: Path, write_wav: Callable[..., Path]) -> None:
    tone = np.full(800, 0.1)
    sub = tmp_path / "2024" / "05"
    sub.mkdir(parents=True)
    names = [
        "a1-agent.wav",
        "a1-caller.wav",
        "b2_agent.flac",
        "b2_caller.flac",
        "c3-out.wav",
        "c3-in.wav",
        "lonely-agent.wav",
        "nosuffix.wav",
    ]
    for n in names:
        write_wav(sub / n, tone, 8000)
    (sub / "readme.txt").write_text("not audio")
    found = discover([tmp_path], Layout.PAIR)
    assert found.calls == [
        [sub / "a1-agent.wav", sub / "a1-caller.wav"],
        [sub / "b2_agent.flac", sub / "b2_caller.flac"],
        [sub / "c3-out.wav", sub / "c3-in.wav"],
    ]
    assert [str(e) for e in found.errors] == [
        f"{sub / 'lonely-agent.wav'}: unpaired: no caller file for call 'lonely'",
        f"{sub / 'nosuffix.wav'}: name has no side suffix; --layout pair needs "
        "<call>-agent / <call>-caller (or _agent/_caller, -out/-in)",
    ]
    call = load_call(found.calls[2], AudioOptions(layout=Layout.PAIR))
    assert call.call_id == "c3"


def test_discover_single_file_layouts(tmp_path: Path, write_wav: Callable[..., Path]) -> None:
    for n in ["b.wav", "a.MP3", "c.txt"]:
        (tmp_path / n).write_bytes(b"x")
    found = discover([tmp_path, tmp_path / "a.MP3", tmp_path / "missing.wav"], "stereo")
    assert found.calls == [[tmp_path / "a.MP3"], [tmp_path / "b.wav"]]
    assert [str(e) for e in found.errors] == [f"{tmp_path / 'missing.wav'}: no such file or folder"]
