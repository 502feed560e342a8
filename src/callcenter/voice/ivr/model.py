"""The IVR flow model: a flow is a graph of nodes by id, loaded from YAML (or the admin
page's JSON) into pydantic models. ``docs/ivr.md`` is the YAML reference.

A prompt is a catalogue name (``vm-intro``, ``digits/1``, ``bank/welcome``) looked up in
the caller's language, a list of names played one after the other, or a mapping
language → name(s) where the recordings have different names per language.

Parsing checks the shape of each field (types, ranges, DTMF keys); the rules that need
the whole flow or the outside world (references, reachability, prompts, queues, hours)
are :func:`callcenter.voice.ivr.check.check_flow`'s, so a flow being edited can be
loaded and shown before it is valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from callcenter.errors import UserError
from callcenter.yamlfile import error_location

DTMF_KEYS: Final = "0123456789*#"
"""The keys a telephone sends (RFC 4733 events 0–11; A–D are not on a phone's keypad)."""

ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
LANGUAGE_PATTERN: Final = r"^[a-z]{2,3}(_[A-Z]{2})?$"


class FlowError(UserError):
    """A flow that cannot be loaded or cannot work, said in one line naming the flow (or
    its file), the node and what is wrong."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


PromptNames = list[Annotated[str, Field(min_length=1, max_length=128)]]


class Prompt(_Model):
    """What to play: catalogue names, the same in every language (``names``) or per
    language (``by_language``; a language missing there falls back to ``names``)."""

    names: PromptNames = []
    by_language: dict[str, PromptNames] = {}

    def for_language(self, language: str) -> list[str]:
        return list(self.by_language.get(language, self.names))

    def all_names(self, languages: list[str]) -> list[tuple[str, str]]:
        """Every (language, name) this prompt plays in the given languages."""
        return [(lang, n) for lang in languages for n in self.for_language(lang)]


def _prompt(value: Any) -> Any:
    """A prompt written as ``name``, ``[name, …]`` or ``{lang: name or [names]}``."""
    if value is None or isinstance(value, Prompt):
        return value
    if isinstance(value, str):
        return Prompt(names=[value])
    if isinstance(value, list):
        return {"names": value}
    if isinstance(value, dict) and not ({"names", "by_language"} & value.keys()):
        return {"by_language": {str(k): [v] if isinstance(v, str) else v for k, v in value.items()}}
    return value


def _digit(value: Any) -> Any:
    """A DTMF key from YAML, where ``1`` is an int and ``"*"`` must be quoted."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9:
        return str(value)
    if isinstance(value, str) and len(value) == 1 and value in DTMF_KEYS:
        return value
    raise ValueError(f"expected one telephone key (0-9, * or #), got {value!r}")


def _pairs(value: Any, second: str) -> Any:
    """``{digit: target}`` → ``[{digit, <second>: target}]`` (the list form keeps a
    digit written twice, e.g. ``1`` and ``"1"``, for the check to name)."""
    if isinstance(value, dict):
        return [{"digit": k, second: v} for k, v in value.items()]
    return value


class MenuOption(_Model):
    digit: str
    next: str

    _d = field_validator("digit", mode="before")(_digit)


class LanguageOption(_Model):
    digit: str
    language: str

    _d = field_validator("digit", mode="before")(_digit)


Seconds = Annotated[float, Field(gt=0, le=3600)]
Tries = Annotated[int, Field(ge=1, le=10)]


class _Prompted(_Model):
    prompt: Prompt | None = None
    _p = field_validator("prompt", mode="before")(_prompt)


class PlayNode(_Prompted):
    """Play prompts, then go on. Digits typed during it stop it (when ``interruptible``)
    and wait for the next node that reads digits (type-ahead)."""

    kind: Literal["play"]
    prompt: Prompt
    next: str
    interruptible: bool = True


class NoticeNode(_Prompted):
    """The "this call is recorded" notice: played whole (not interruptible); the
    outcome then says the caller was told."""

    kind: Literal["notice"]
    prompt: Prompt
    next: str


class MenuNode(_Prompted):
    """A choice by one key. A timeout or a key not in ``options`` uses up a try (the
    prompt is played again after ``retry_prompt``); when ``tries`` are used up, the
    call goes to ``on_timeout`` (default ``on_invalid``) or ``on_invalid``."""

    kind: Literal["menu"]
    prompt: Prompt
    options: list[MenuOption] = Field(min_length=1)
    timeout: Seconds = 5.0
    tries: Tries = 3
    on_invalid: str
    on_timeout: str | None = None
    retry_prompt: Prompt | None = None

    _o = field_validator("options", mode="before")(lambda v: _pairs(v, "next"))
    _r = field_validator("retry_prompt", mode="before")(_prompt)


class CollectNode(_Prompted):
    """Digits ended by ``terminator``, by reaching ``max_digits`` or by
    ``digit_timeout`` s of silence; valid when the length fits, ``regex`` matches the
    whole value and the ``checksum`` holds. The value is kept as ``variable`` (shown
    on the agent's card under ``label``)."""

    kind: Literal["collect"]
    prompt: Prompt
    variable: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str | None = Field(default=None, max_length=80)
    min_digits: int = Field(default=1, ge=1, le=64)
    max_digits: int = Field(default=16, ge=1, le=64)
    terminator: str | None = "#"
    regex: str | None = None
    checksum: Literal["none", "luhn"] = "none"
    log_value: bool = True
    timeout: Seconds = 5.0
    digit_timeout: Seconds = 3.0
    tries: Tries = 3
    on_valid: str
    on_invalid: str
    retry_prompt: Prompt | None = None

    _r = field_validator("retry_prompt", mode="before")(_prompt)

    @field_validator("terminator", mode="before")
    @classmethod
    def _terminator(cls, value: Any) -> Any:
        return None if value is None else _digit(value)


class LanguageNode(_Prompted):
    """The caller picks a language by key; later prompts play in it. A timeout or a
    wrong key uses up a try; with none left the call goes on in the current language."""

    kind: Literal["language"]
    prompt: Prompt
    options: list[LanguageOption] = Field(min_length=1)
    timeout: Seconds = 5.0
    tries: Tries = 2
    next: str
    retry_prompt: Prompt | None = None

    _o = field_validator("options", mode="before")(lambda v: _pairs(v, "language"))
    _r = field_validator("retry_prompt", mode="before")(_prompt)


class HoursNode(_Model):
    """Business hours by name (the center's calendars): open or closed now."""

    kind: Literal["hours"]
    hours: str = Field(min_length=1, max_length=128)
    open: str
    closed: str


class QueueNode(_Prompted):
    """Terminal: the call waits in ``queue`` (higher ``priority`` served first)."""

    kind: Literal["queue"]
    queue: str = Field(min_length=1, max_length=128)
    priority: int = Field(default=0, ge=-1000, le=1000)


class VoicemailNode(_Prompted):
    """Terminal: after ``prompt``, the caller's message is recorded (at most
    ``max_seconds``; ``#`` or hanging up ends it); it becomes a ticket."""

    kind: Literal["voicemail"]
    prompt: Prompt
    max_seconds: float = Field(default=120.0, gt=0, le=3600)
    queue: str | None = Field(default=None, min_length=1, max_length=128)


class CallbackNode(_Prompted):
    """Terminal: the caller asks to be called back by ``queue``'s agents."""

    kind: Literal["callback"]
    queue: str = Field(min_length=1, max_length=128)


class HangupNode(_Prompted):
    """Terminal: play ``prompt`` (if any), then the flow hangs up."""

    kind: Literal["hangup"]


Node = Annotated[
    PlayNode
    | NoticeNode
    | MenuNode
    | CollectNode
    | LanguageNode
    | HoursNode
    | QueueNode
    | VoicemailNode
    | CallbackNode
    | HangupNode,
    Field(discriminator="kind"),
]
TERMINAL_KINDS: Final = frozenset({"queue", "voicemail", "callback", "hangup"})
_KINDS: Final = ("play", "notice", "menu", "collect", "language", "hours", *sorted(TERMINAL_KINDS))


class Flow(_Model):
    """One IVR flow: ``nodes`` by id, entered at ``start`` (default: the first node)."""

    name: str = Field(pattern=ID_PATTERN)
    language: str = Field(pattern=LANGUAGE_PATTERN)
    languages: list[Annotated[str, Field(pattern=LANGUAGE_PATTERN)]] = []
    start: str | None = None
    nodes: dict[Annotated[str, Field(pattern=ID_PATTERN)], Node] = Field(min_length=1)

    @property
    def start_node(self) -> str:
        return self.start if self.start is not None else next(iter(self.nodes))

    @property
    def offered(self) -> list[str]:
        """The languages the flow plays prompts in: ``languages``, or the default one."""
        return list(self.languages) if self.languages else [self.language]


def targets(node: Node) -> list[tuple[str, str]]:
    """The node ids ``node`` can go to, each with the field that names it."""
    match node:
        case PlayNode() | NoticeNode() | LanguageNode():
            return [("next", node.next)]
        case MenuNode():
            out = [(f"options[{o.digit}]", o.next) for o in node.options]
            out.append(("on_invalid", node.on_invalid))
            if node.on_timeout is not None:
                out.append(("on_timeout", node.on_timeout))
            return out
        case CollectNode():
            return [("on_valid", node.on_valid), ("on_invalid", node.on_invalid)]
        case HoursNode():
            return [("open", node.open), ("closed", node.closed)]
        case _:
            return []


def prompts_of(node: Node) -> list[tuple[str, Prompt]]:
    """The prompts a node plays, each with its field name."""
    out: list[tuple[str, Prompt]] = []
    prompt = getattr(node, "prompt", None)
    if prompt is not None:
        out.append(("prompt", prompt))
    retry = getattr(node, "retry_prompt", None)
    if retry is not None:
        out.append(("retry_prompt", retry))
    return out


if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:  # libyaml's parser when PyYAML has it: 8x faster than the pure-Python one
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):
    """PyYAML keeps the last of two equal keys silently; a flow with a node id (or a
    menu key) written twice must be refused, so this loader names the second one."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is written twice", key_node.start_mark
            )
        seen.add(key)
    out: dict[Any, Any] = loader.construct_mapping(node)
    return out


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _parse(data: Any, where: str) -> Flow:
    if not isinstance(data, dict):
        raise FlowError(f"{where}: expected a mapping with name, language and nodes")
    try:
        return Flow.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        parts = tuple(err["loc"])
        if len(parts) > 2 and parts[0] == "nodes" and parts[2] in _KINDS:
            parts = parts[:2] + parts[3:]  # the union member pydantic names: the node's kind
        loc = error_location(parts)
        msg = str(err["msg"]).removeprefix("Value error, ")
        msg = msg[:1].lower() + msg[1:]
        value = err.get("input")
        plain = err["type"] not in ("missing", "value_error") and not isinstance(value, dict | list)
        got = f" (got {value!r})" if plain else ""
        raise FlowError(f"{where}: {loc}: {msg}{got}") from None


def load_flow(source: Path | str) -> Flow:
    """A flow from a YAML file (a :class:`~pathlib.Path`) or YAML text (a ``str``).

    Raises :class:`FlowError`, one line: ``<file or 'flow'>[:line]: <problem>``.
    """
    where = str(source) if isinstance(source, Path) else "flow"
    if isinstance(source, Path):
        try:
            text = source.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise FlowError(f"{where}: no such file") from None
        except (IsADirectoryError, UnicodeDecodeError, PermissionError) as e:
            raise FlowError(
                f"{where}: cannot read it as a YAML text file ({type(e).__name__})"
            ) from None
    else:
        text = source
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or "invalid YAML"
        raise FlowError(f"{where}{line}: invalid YAML: {problem}") from None
    return _parse(data, where)


def flow_from_data(data: Any, where: str = "flow") -> Flow:
    """A flow from already-parsed data (the admin API's JSON body)."""
    return _parse(data, where)
