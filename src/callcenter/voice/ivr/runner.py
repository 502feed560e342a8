"""The IVR runner: one call's walk through a flow, as a pure, deterministic state machine.

The call controller feeds it what happened (:meth:`IvrRun.on_digit`, ``on_played``,
``on_timer``, ``on_recorded``, ``on_hangup``, each with the time) and carries out the
:mod:`actions <callcenter.voice.ivr.actions>` it returns, in order, as ARI requests. The
runner reads no clock and does no I/O; business hours are asked of the injected
``hours_open(name, now)``. Tokens are ``play-<n>``, ``timer-<n>``, ``record-<n>``; an
event for a token that is no longer current (a timer already cancelled, a playback
already stopped) is ignored.

DTMF: a key pressed while an interruptible prompt plays stops it; a key pressed while a
prompt plays that may not be interrupted, or pressed during a ``play`` node, is kept
(type-ahead) for the next node that reads keys, which then skips its prompt. An invalid
entry clears the keys kept.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable

from callcenter.events import EventType
from callcenter.voice.ivr.actions import (
    Action,
    CancelTimer,
    Finish,
    Log,
    Outcome,
    OutcomeKind,
    Play,
    Record,
    StartTimer,
    StopPlay,
)
from callcenter.voice.ivr.model import (
    CallbackNode,
    CollectNode,
    Flow,
    FlowError,
    HangupNode,
    HoursNode,
    LanguageNode,
    MenuNode,
    Node,
    NoticeNode,
    PlayNode,
    Prompt,
    QueueNode,
    VoicemailNode,
)

HoursOpen = Callable[[str, float], bool]
MAX_HOPS = 1000  # node changes without waiting for the caller: a flow check would refuse more


def luhn_ok(value: str) -> bool:
    """The Luhn (mod 10) check of card and account numbers: doubling every second digit
    from the right, the digit sum is a multiple of 10."""
    if not value.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(value)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


class IvrRun:
    """One call in ``flow``, its prompts in ``language`` (default: the flow's)."""

    def __init__(
        self, flow: Flow, language: str | None = None, *, hours_open: HoursOpen | None = None
    ) -> None:
        lang = language or flow.language
        if lang not in flow.offered:
            raise FlowError(
                f"flow {flow.name!r}: language {lang!r} is not offered ({', '.join(flow.offered)})"
            )
        if hours_open is None and any(n.kind == "hours" for n in flow.nodes.values()):
            raise FlowError(f"flow {flow.name!r} has hours nodes: give the run hours_open")
        self.flow = flow
        self.language = lang
        self.hours_open = hours_open
        self.node_id = flow.start_node
        self.variables: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        self.notice = False
        self.outcome: Outcome | None = None
        self._keys: deque[str] = deque()
        self._serial = 0
        self._playing: str | None = None
        self._interruptible = False
        self._timer: str | None = None
        self._recording: str | None = None
        self._tries = 0
        self._digits = ""
        self._hops = 0
        self._regex: dict[str, re.Pattern[str]] = {}

    # --- what happens to the call -------------------------------------------------------

    def start(self, now: float) -> list[Action]:
        """The call enters the flow."""
        return [Log(EventType.IVR_ENTER, now), *self._enter(self.flow.start_node, now)]

    def on_digit(self, digit: str, now: float) -> list[Action]:
        """The caller pressed ``digit`` (RFC 4733 or SIP INFO, as ARI reports it)."""
        if self.outcome is not None or self._recording is not None:
            return []
        node = self._node()
        out: list[Action] = []
        if self._timer is not None:
            out.append(CancelTimer(self._timer))
            self._timer = None
        if self._playing is not None:
            if not self._interruptible:
                self._keys.append(digit)
                return out
            out.append(StopPlay(self._playing))
            self._playing = None
        if isinstance(node, PlayNode):
            self._keys.append(digit)
            return [*out, *self._enter(node.next, now)]
        if isinstance(node, MenuNode | LanguageNode):
            return [*out, *self._choose(node, digit, now)]
        if isinstance(node, CollectNode):
            return [*out, *self._collect(node, digit, now, live=True)]
        self._keys.append(digit)  # a terminal's prompt: nothing reads keys any more
        return out

    def on_played(self, token: str, now: float) -> list[Action]:
        """The playback ``token`` ended by itself."""
        if token != self._playing or self.outcome is not None:
            return []
        self._playing = None
        node = self._node()
        match node:
            case NoticeNode():
                self.notice = True
                return self._enter(node.next, now)
            case PlayNode():
                return self._enter(node.next, now)
            case MenuNode() | LanguageNode() | CollectNode():
                return [self._start_timer(node.timeout)]
            case VoicemailNode():
                self._recording = self._token("record")
                return [Record(node.max_seconds, self._recording)]
            case _:
                return self._finish(now)

    def on_timer(self, token: str, now: float) -> list[Action]:
        """The timer ``token`` ran out."""
        if token != self._timer or self.outcome is not None:
            return []
        self._timer = None
        node = self._node()
        if isinstance(node, CollectNode) and self._digits:
            return self._evaluate(node, now)
        assert isinstance(node, MenuNode | LanguageNode | CollectNode)
        return self._wrong(node, "timeout", now)

    def on_recorded(self, token: str, now: float) -> list[Action]:
        """The voicemail recording ``token`` ended (``#``, silence or its time limit)."""
        if token != self._recording or self.outcome is not None:
            return []
        self._recording = None
        return self._finish(now)

    def on_hangup(self, now: float) -> list[Action]:
        """The caller hung up. During a voicemail recording that ends the message (the
        outcome is ``voicemail``); anywhere else the call is abandoned in the IVR."""
        if self.outcome is not None:
            return []
        if self._recording is not None:
            return self.on_recorded(self._recording, now)
        out: list[Action] = []
        if self._timer is not None:
            out.append(CancelTimer(self._timer))
            self._timer = None
        self._playing = None
        return [*out, *self._finish(now, "abandon")]

    # --- moving through the flow --------------------------------------------------------

    def _node(self) -> Node:
        return self.flow.nodes[self.node_id]

    def _token(self, kind: str) -> str:
        self._serial += 1
        return f"{kind}-{self._serial}"

    def _start_timer(self, seconds: float) -> StartTimer:
        self._timer = self._token("timer")
        return StartTimer(seconds, self._timer)

    def _play(self, prompt: list[Prompt | None], interruptible: bool) -> Play:
        names = [n for p in prompt if p is not None for n in p.for_language(self.language)]
        self._playing = self._token("play")
        self._interruptible = interruptible
        return Play(names, self.language, self._playing, interruptible)

    def _enter(self, node_id: str, now: float) -> list[Action]:
        self._hops += 1
        if self._hops > MAX_HOPS:
            raise FlowError(f"flow {self.flow.name!r}, node {node_id!r}: the flow never waits")
        self.node_id, self._tries, self._digits = node_id, 0, ""
        node = self.flow.nodes[node_id]
        match node:
            case PlayNode():
                if self._keys and node.interruptible:
                    return self._enter(node.next, now)  # the caller typed ahead
                return [self._play([node.prompt], node.interruptible)]
            case NoticeNode():
                return [self._play([node.prompt], False)]
            case MenuNode() | LanguageNode():
                if self._keys:
                    return self._choose(node, self._keys.popleft(), now)
                return [self._play([node.prompt], True)]
            case CollectNode():
                return self._enter_collect(node, now)
            case HoursNode():
                assert self.hours_open is not None
                is_open = self.hours_open(node.hours, now)
                log = Log(EventType.IVR_CHOICE, now, node_id, "open" if is_open else "closed")
                return [log, *self._enter(node.open if is_open else node.closed, now)]
            case VoicemailNode():
                return [self._play([node.prompt], False)]
            case QueueNode() | CallbackNode() | HangupNode():
                if node.prompt is not None and node.prompt.for_language(self.language):
                    return [self._play([node.prompt], False)]
                return self._finish(now)
        raise AssertionError(node)  # pragma: no cover - the node kinds are all above

    def _choose(self, node: MenuNode | LanguageNode, digit: str, now: float) -> list[Action]:
        """A key for a menu or a language choice."""
        if isinstance(node, MenuNode):
            for opt in node.options:
                if opt.digit == digit:
                    return [Log(EventType.IVR_CHOICE, now, self.node_id, digit),
                            *self._enter(opt.next, now)]  # fmt: skip
        else:
            for lang in node.options:
                if lang.digit == digit:
                    self.language = lang.language
                    return [Log(EventType.IVR_CHOICE, now, self.node_id, lang.language),
                            *self._enter(node.next, now)]  # fmt: skip
        return self._wrong(node, f"invalid:{digit}", now)

    def _wrong(
        self, node: MenuNode | LanguageNode | CollectNode, what: str, now: float
    ) -> list[Action]:
        """A timeout or an invalid entry: try again, or leave by the node's exit."""
        self._tries += 1
        self._keys.clear()
        self._digits = ""
        log = Log(EventType.IVR_CHOICE, now, self.node_id, what)
        if self._tries < node.tries:
            return [log, self._play([node.retry_prompt, node.prompt], True)]
        if isinstance(node, LanguageNode):
            return [log, *self._enter(node.next, now)]
        if isinstance(node, MenuNode) and what == "timeout" and node.on_timeout is not None:
            return [log, *self._enter(node.on_timeout, now)]
        return [log, *self._enter(node.on_invalid, now)]

    def _enter_collect(self, node: CollectNode, now: float) -> list[Action]:
        while self._keys:
            out = self._collect(node, self._keys.popleft(), now, live=False)
            if out:
                return out
        if self._digits:
            return [self._start_timer(node.digit_timeout)]
        return [self._play([node.prompt], True)]

    def _collect(self, node: CollectNode, digit: str, now: float, *, live: bool) -> list[Action]:
        """One key of a value: [] while more may come and it came from the buffer."""
        if digit == node.terminator:
            return self._evaluate(node, now)
        self._digits += digit
        if len(self._digits) >= node.max_digits:
            return self._evaluate(node, now)
        return [self._start_timer(node.digit_timeout)] if live else []

    def _valid(self, node: CollectNode, value: str) -> bool:
        if not node.min_digits <= len(value) <= node.max_digits:
            return False
        if node.regex is not None:
            pattern = self._regex.setdefault(node.regex, re.compile(node.regex))
            if pattern.fullmatch(value) is None:
                return False
        return node.checksum != "luhn" or luhn_ok(value)

    def _evaluate(self, node: CollectNode, now: float) -> list[Action]:
        value = self._digits
        if not self._valid(node, value):
            return self._wrong(node, "invalid", now)
        self.variables[node.variable] = value
        self.labels[node.variable] = node.label or node.variable
        shown = value if node.log_value else "valid"
        return [Log(EventType.IVR_CHOICE, now, self.node_id, shown),
                *self._enter(node.on_valid, now)]  # fmt: skip

    def _finish(self, now: float, kind: OutcomeKind | None = None) -> list[Action]:
        node = self._node()
        final: OutcomeKind
        if kind is not None:
            final = kind
        else:
            assert isinstance(node, QueueNode | VoicemailNode | CallbackNode | HangupNode)
            final = node.kind
        queue = getattr(node, "queue", None) if kind is None else None
        self.outcome = Outcome(
            kind=final,
            node=self.node_id,
            language=self.language,
            queue=queue,
            priority=node.priority if isinstance(node, QueueNode) and kind is None else 0,
            variables=dict(self.variables),
            labels=dict(self.labels),
            notice=self.notice,
            max_seconds=node.max_seconds if isinstance(node, VoicemailNode) else None,
        )
        return [Log(EventType.IVR_LEAVE, now, self.node_id, final, queue), Finish(self.outcome)]
