"""Gated per-side transcription (tiny.en) on a call built from recorded English prompts.

Truth: the prompts' published transcripts (Debian's core-sounds-en.txt.gz) and the
times the test placed them at.  Hold music (opsound) sits on the agent channel between
two of its turns, where gating has to skip it.
"""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from callcenter.speech import asr
from callcenter.speech.asr import GateOptions, transcribe_call, words_per_minute
from callcenter.speech.audio import CallAudio, Layout
from callcenter.speech.conversation import Speaker
from callcenter.speech.transcribe import (
    AsrOptions,
    ModelError,
    Segment,
    Transcriber,
    Transcript,
    Word,
    word_error_rate,
)

TRANSCRIPTS = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
RATE = 8000
TOTAL_S = 40.0
AGENT = [(0.5, "agent-incorrect"), (14.0, "pls-hold-while-try"), (29.0, "queue-youarenext")]
CALLER = [(6.5, "agent-pass"), (10.5, "check-number-dial-again"), (35.0, "conf-invalid")]
MUSIC = (17.5, 27.5)  # hold music on the agent channel
Float = npt.NDArray[np.float32]


def _reference() -> dict[str, str]:
    if not TRANSCRIPTS.exists():
        pytest.fail(f"{TRANSCRIPTS} missing: install asterisk-core-sounds-en")
    out = {}
    with gzip.open(TRANSCRIPTS, "rt", encoding="utf-8") as fh:
        for line in fh:
            name, sep, text = line.partition(":")
            if sep and not line.startswith(";"):
                out[name.strip()] = text.strip()
    return out


@pytest.fixture(scope="module")
def tiny() -> Transcriber:
    return Transcriber(AsrOptions(model="tiny.en", language="en"))


@pytest.fixture(scope="module")
def call() -> tuple[CallAudio, dict[Speaker, list[tuple[float, float]]]]:
    """The stereo call and, per side, the placed prompt spans (start, start + length)."""
    from tests.speech.conftest import hold_music, place, prompt, prompt_duration

    music = hold_music(MUSIC[1] - MUSIC[0], RATE) * np.float32(0.5)
    agent = place([(t, prompt(n, RATE)) for t, n in AGENT] + [(MUSIC[0], music)], TOTAL_S, RATE)
    caller = place([(t, prompt(n, RATE)) for t, n in CALLER], TOTAL_S, RATE)
    audio = CallAudio("c", RATE, agent, caller, None, TOTAL_S, (), Layout.STEREO)
    placed = {
        Speaker.AGENT: [(t, t + prompt_duration(n)) for t, n in AGENT],
        Speaker.CALLER: [(t, t + prompt_duration(n)) for t, n in CALLER],
    }
    return audio, placed


def _inside(word: Word, spans: list[tuple[float, float]], tol: float) -> bool:
    return any(s - tol <= word.start and word.end <= e + tol for s, e in spans)


@pytest.mark.slow
def test_gated_is_as_accurate_as_ungated_and_in_call_time(
    tiny: Transcriber, call: tuple[CallAudio, dict[Speaker, list[tuple[float, float]]]]
) -> None:
    """Gated WER <= ungated WER per side, and < 10 % (measured 0 % on both sides, gated
    and ungated), every word within ±0.5 s of a prompt placed on its own side, every
    prompt transcribed at its place, nothing from the hold music."""
    ref = _reference()
    audio, placed = call
    gated = transcribe_call(audio, tiny)
    assert set(gated) == {Speaker.AGENT, Speaker.CALLER}
    for who, prompts in ((Speaker.AGENT, AGENT), (Speaker.CALLER, CALLER)):
        truth = " ".join(ref[n] for _, n in prompts)
        side = audio.agent if who is Speaker.AGENT else audio.caller
        assert side is not None
        up = np.interp(np.arange(side.size * 2) / 2, np.arange(side.size), side)  # to 16 kHz
        ungated = tiny.transcribe(up.astype(np.float32))
        g, u = word_error_rate(truth, gated[who].text), word_error_rate(truth, ungated.text)
        assert g <= u + 1e-9 and g < 0.10, (who, g, u, gated[who].text, ungated.text)
        words = gated[who].words
        assert words and all(_inside(w, placed[who], 0.5) for w in words), words
        for s, e in placed[who]:  # each prompt has its words where it was placed
            assert any(s - 0.5 <= w.start <= e for w in words), (who, s, e)
        assert not any(MUSIC[0] < w.start < MUSIC[1] for w in words)
        starts = [w.start for w in words]
        assert starts == sorted(starts)
        assert all(seg.start <= seg.end for seg in gated[who].segments)
        assert gated[who].language == "en"


@pytest.mark.slow
def test_mono_call_is_one_unknown_speaker(
    tiny: Transcriber, call: tuple[CallAudio, dict[Speaker, list[tuple[float, float]]]]
) -> None:
    ref = _reference()
    audio, placed = call
    mixed = audio.mix()
    mono = CallAudio("m", RATE, None, None, mixed, TOTAL_S, (), Layout.MONO)
    out = transcribe_call(mono, tiny, options=GateOptions(batch_size=1))
    assert list(out) == [Speaker.UNKNOWN]
    order = sorted(AGENT + CALLER)
    wer = word_error_rate(" ".join(ref[n] for _, n in order), out[Speaker.UNKNOWN].text)
    assert wer < 0.15, (wer, out[Speaker.UNKNOWN].text)  # measured 0 %
    everyone = placed[Speaker.AGENT] + placed[Speaker.CALLER]
    assert all(_inside(w, everyone, 0.5) for w in out[Speaker.UNKNOWN].words)


def test_given_spans_limit_what_is_transcribed(
    tiny: Transcriber, call: tuple[CallAudio, dict[Speaker, list[tuple[float, float]]]]
) -> None:
    """Only the caller's second prompt is given as speech: only its words come back."""
    ref = _reference()
    audio, placed = call
    span = placed[Speaker.CALLER][1]
    out = transcribe_call(audio, tiny, {Speaker.AGENT: [], Speaker.CALLER: [span]})
    assert out[Speaker.AGENT].segments == ()
    assert word_error_rate(ref[CALLER[1][1]], out[Speaker.CALLER].text) < 0.2
    assert all(
        span[0] - 0.3 <= w.start and w.end <= span[1] + 0.3 for w in out[Speaker.CALLER].words
    )


def test_english_only_model_refuses_another_language(
    call: tuple[CallAudio, dict[Speaker, list[tuple[float, float]]]],
) -> None:
    with pytest.raises(ModelError, match="English-only; --language ru"):
        transcribe_call(call[0], Transcriber(AsrOptions(language="ru")))


def test_chunks_pack_speech_and_map_back_to_call_time() -> None:
    """Pieces are copied from where they are in the call; chunks stay under the limit;
    a 70 s span is cut into pieces that tile it."""
    x = (np.arange(16000 * 200) % 1000).astype(np.float32) / np.float32(
        1000
    )  # position-coded audio
    x[16000 * 150 : 16000 * 151] = 0.0  # a quiet second inside the long span
    spans = [(1.0, 3.0), (3.3, 4.0), (10.0, 12.0), (100.0, 170.0)]
    opts = GateOptions(pad_s=0.1, merge_gap_s=0.6, joiner_s=0.5, max_chunk_s=28.0)
    chunks = asr._chunks(x, spans, opts)
    pieces = [p for c in chunks for p in c.pieces]
    assert (pieces[0].start, pieces[0].end) == pytest.approx((0.9, 4.1))  # merged, padded
    assert (pieces[1].start, pieces[1].end) == pytest.approx((9.9, 12.1))
    long = [(p.start, p.end) for p in pieces[2:]]
    assert long[0][0] == pytest.approx(99.9) and long[-1][1] == pytest.approx(170.1)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(long))
    assert any(150.0 <= e <= 151.0 for _, e in long[:-1])  # cut in the quiet second
    for c in chunks:
        assert c.audio.size <= 28.0 * 16000 + 1
        for p in c.pieces:
            i, j = round(p.offset * 16000), round(p.start * 16000)
            n = round((p.end - p.start) * 16000)
            np.testing.assert_array_equal(c.audio[i : i + n], x[j : j + n])


def test_words_per_minute_counts_words_over_talk_minutes() -> None:
    words = tuple(Word(i * 0.5, i * 0.5 + 0.4, f" w{i}", 0.9) for i in range(30))
    tr = Transcript("en", 1.0, (Segment(0.0, 15.0, "x", words),))
    assert words_per_minute(tr, [(0.0, 10.0), (20.0, 30.0)]) == pytest.approx(90.0)
    assert words_per_minute(tr, []) is None
    assert words_per_minute(Transcript("en", 1.0), [(0.0, 60.0)]) == 0.0


def test_gate_options_are_checked() -> None:
    with pytest.raises(ValueError, match="max_chunk_s"):
        GateOptions(max_chunk_s=45.0)
    with pytest.raises(ValueError, match="batch_size"):
        GateOptions(batch_size=0)
