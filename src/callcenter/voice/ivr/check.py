"""The check a flow passes before it is saved: every rule that needs the whole flow or
the outside world (the prompt catalogue, the center's queues and business hours).

One :class:`FlowError` is raised for the first problem found, one line naming the flow,
the node and what is wrong, e.g. ``flow 'bank', node 'main': options[1] goes to
'cardz', which is not a node of this flow``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Collection, Iterable
from typing import Protocol

from callcenter.voice.ivr.model import (
    TERMINAL_KINDS,
    CollectNode,
    Flow,
    FlowError,
    HoursNode,
    LanguageNode,
    MenuNode,
    Node,
    prompts_of,
    targets,
)


class Prompts(Protocol):
    """What the check needs of a prompt catalogue."""

    def has(self, name: str, language: str) -> bool: ...


def _join(items: Iterable[str]) -> str:
    return ", ".join(items)


def check_flow(
    flow: Flow,
    catalogue: Prompts,
    *,
    queues: Collection[str] | None = None,
    hours: Collection[str] | None = None,
) -> None:
    """Raise :class:`FlowError` if ``flow`` cannot work: an unknown node reference, a
    node never reached, a loop without exit, a prompt missing in a language the flow
    offers, a key used twice in a menu, a bad regex, or (when ``queues`` / ``hours``
    are given) a queue or business-hours name the center does not have."""
    _check_languages(flow)
    for node_id, node in flow.nodes.items():
        where = f"flow {flow.name!r}, node {node_id!r}"
        for field, target in targets(node):
            if target not in flow.nodes:
                raise FlowError(
                    f"{where}: {field} goes to {target!r}, which is not a node of this flow"
                )
        _check_node(where, flow, node, queues, hours)
        _check_prompts(where, flow, node, catalogue)
    _check_graph(flow)


def _check_languages(flow: Flow) -> None:
    where = f"flow {flow.name!r}"
    seen: set[str] = set()
    for lang in flow.languages:
        if lang in seen:
            raise FlowError(f"{where}: language {lang!r} is listed twice in languages")
        seen.add(lang)
    if flow.language not in flow.offered:
        raise FlowError(
            f"{where}: the default language {flow.language!r} is not among the languages "
            f"offered ({_join(flow.offered)})"
        )
    if flow.start is not None and flow.start not in flow.nodes:
        raise FlowError(f"{where}: start {flow.start!r} is not a node of this flow")


def _twice(where: str, digits: list[tuple[str, str]]) -> None:
    seen: dict[str, str] = {}
    for digit, target in digits:
        if digit in seen:
            raise FlowError(
                f"{where}: key {digit!r} is used twice (for {seen[digit]!r} and {target!r})"
            )
        seen[digit] = target


def _check_node(
    where: str,
    flow: Flow,
    node: Node,
    queues: Collection[str] | None,
    hours: Collection[str] | None,
) -> None:
    match node:
        case MenuNode():
            _twice(where, [(o.digit, o.next) for o in node.options])
        case LanguageNode():
            _twice(where, [(o.digit, o.language) for o in node.options])
            for o in node.options:
                if o.language not in flow.offered:
                    raise FlowError(
                        f"{where}: key {o.digit!r} chooses language {o.language!r}, which "
                        f"the flow does not offer ({_join(flow.offered)})"
                    )
        case CollectNode():
            _check_collect(where, node)
        case HoursNode() if hours is not None and node.hours not in hours:
            raise FlowError(
                f"{where}: business hours {node.hours!r} do not exist "
                f"(known: {_join(sorted(hours)) or 'none'})"
            )
    queue = getattr(node, "queue", None)
    if queues is not None and queue is not None and queue not in queues:
        raise FlowError(
            f"{where}: queue {queue!r} does not exist (known: {_join(sorted(queues)) or 'none'})"
        )


def _check_collect(where: str, node: CollectNode) -> None:
    if node.min_digits > node.max_digits:
        raise FlowError(
            f"{where}: min_digits {node.min_digits} is more than max_digits {node.max_digits}"
        )
    if node.terminator is not None and node.terminator.isdigit():
        raise FlowError(
            f"{where}: terminator {node.terminator!r} is a digit of the value; use '#' or '*'"
        )
    if node.regex is not None:
        try:
            re.compile(node.regex)
        except re.error as e:
            raise FlowError(
                f"{where}: regex {node.regex!r} is not a valid regular expression ({e})"
            ) from None


def _check_prompts(where: str, flow: Flow, node: Node, catalogue: Prompts) -> None:
    for field, prompt in prompts_of(node):
        for lang in flow.offered:
            names = prompt.for_language(lang)
            if not names and field == "prompt" and node.kind in _PROMPT_REQUIRED:
                raise FlowError(f"{where}: {field} has nothing to play in language {lang!r}")
            for name in names:
                if not catalogue.has(name, lang):
                    raise FlowError(
                        f"{where}: {field} {name!r} has no recording in language {lang!r} "
                        "in the prompt catalogue"
                    )


_PROMPT_REQUIRED = frozenset({"play", "notice", "menu", "collect", "language", "voicemail"})


def _reach(start: Iterable[str], edges: dict[str, list[str]]) -> set[str]:
    seen = set(start)
    todo = deque(seen)
    while todo:
        for nxt in edges.get(todo.popleft(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _check_graph(flow: Flow) -> None:
    edges = {nid: [t for _, t in targets(n)] for nid, n in flow.nodes.items()}
    start = flow.start_node
    reached = _reach([start], edges)
    for nid in flow.nodes:
        if nid not in reached:
            raise FlowError(
                f"flow {flow.name!r}, node {nid!r}: never reached from the start node {start!r}"
            )
    back: dict[str, list[str]] = {}
    for nid, outs in edges.items():
        for t in outs:
            back.setdefault(t, []).append(nid)
    ends = [nid for nid, n in flow.nodes.items() if n.kind in TERMINAL_KINDS]
    exits = _reach(ends, back)
    trapped = [nid for nid in flow.nodes if nid not in exits]
    if trapped:
        raise FlowError(
            f"flow {flow.name!r}, node {trapped[0]!r}: a loop without exit — no queue, "
            f"voicemail, callback or hangup can be reached from nodes {_join(trapped)}"
        )
    hours_edges = {
        nid: [t for t in outs if flow.nodes[t].kind == "hours"]
        for nid, outs in edges.items()
        if flow.nodes[nid].kind == "hours"
    }
    for nid in hours_edges:
        if nid in _reach(hours_edges[nid], hours_edges):
            raise FlowError(
                f"flow {flow.name!r}, node {nid!r}: hours nodes lead back to it without "
                "playing anything (a loop the call would spin in)"
            )
