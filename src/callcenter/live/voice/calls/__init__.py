"""The call controller (``docs/voice.md``): :class:`CallController` in :mod:`.controller`,
built from :mod:`.base` and the queue, IVR and recording sides."""

from callcenter.live.voice.calls.base import (
    AGENT_LEG,
    CALL_PREFIX,
    CONTACT_HEADER,
    PHONE_PAUSE,
    SNOOP_LEG,
)
from callcenter.live.voice.calls.controller import HANDLED_EVENTS, CallController

__all__ = [
    "AGENT_LEG",
    "CALL_PREFIX",
    "CONTACT_HEADER",
    "HANDLED_EVENTS",
    "PHONE_PAUSE",
    "SNOOP_LEG",
    "CallController",
]
