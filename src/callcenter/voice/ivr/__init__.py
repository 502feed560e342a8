"""IVR flows: the model (YAML), the check on save, the runner and the prompts.

A pure domain package: no Asterisk and no database here. The call controller
(``live/voice/``) drives an :class:`IvrRun` from ARI events and turns its actions into
ARI requests. ``docs/ivr.md`` is the reference.
"""

from callcenter.voice.ivr.actions import (
    Action,
    CancelTimer,
    Finish,
    Log,
    Outcome,
    Play,
    Record,
    StartTimer,
    StopPlay,
)
from callcenter.voice.ivr.check import check_flow
from callcenter.voice.ivr.model import Flow, FlowError, flow_from_data, load_flow
from callcenter.voice.ivr.prompts import PromptCatalogue, PromptError, convert_prompt
from callcenter.voice.ivr.runner import IvrRun, luhn_ok

__all__ = [
    "Action",
    "CancelTimer",
    "Finish",
    "Flow",
    "FlowError",
    "IvrRun",
    "Log",
    "Outcome",
    "Play",
    "PromptCatalogue",
    "PromptError",
    "Record",
    "StartTimer",
    "StopPlay",
    "check_flow",
    "convert_prompt",
    "flow_from_data",
    "load_flow",
    "luhn_ok",
]
