"""Speech analytics: call recordings in, per-call results out, in small typed stages.

Stages so far: :mod:`~callcenter.speech.discover` finds the calls in files and folders,
:mod:`~callcenter.speech.audio` decodes a call and splits agent from caller,
:mod:`~callcenter.speech.activity` / :mod:`~callcenter.speech.metrics` measure talk,
silence, overtalk and hold, :mod:`~callcenter.speech.transcribe` turns each side into
timed words.
"""

from callcenter.speech.audio import (
    AUDIO_EXTENSIONS,
    AudioError,
    AudioInfo,
    AudioOptions,
    CallAudio,
    Layout,
    Side,
    decode,
    load_call,
    probe,
)
from callcenter.speech.discover import Discovery, discover

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioError",
    "AudioInfo",
    "AudioOptions",
    "CallAudio",
    "Discovery",
    "Layout",
    "Side",
    "decode",
    "discover",
    "load_call",
    "probe",
]
