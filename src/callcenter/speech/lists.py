"""The organisation's word lists: one YAML file per kind and language.

Built-in lists live in ``speech/lists/<language>/<kind>.yaml`` inside the package
(``kind``: keywords, topics, etiquette, sentiment, resolution ...); a center gives its
own file instead (``--keywords FILE``, ``--topics FILE``). A user file holds one
language (its top-level keys are the kind's keys) or several, under ``languages:``
(``languages: {en: {...}, ru: {...}}``). Each stage validates the mapping it gets
with its own pydantic model; this module only finds and reads the YAML, and turns every
problem into one line naming the file.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml

from callcenter.errors import InputFileError

_LANG: Final = re.compile(r"[a-z]{2,3}")


class ListError(InputFileError):
    """A word list that cannot be used: ``<file>: <problem>``."""


def builtin_languages(kind: str) -> list[str]:
    """Languages that have a built-in list of this kind."""
    root = resources.files("callcenter.speech") / "lists"
    return sorted(d.name for d in root.iterdir() if d.is_dir() and (d / f"{kind}.yaml").is_file())


def _read(source: str, text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ListError(source, f"not valid YAML{where} ({getattr(e, 'problem', e)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ListError(source, f"expected a mapping at the top, got {type(data).__name__}")
    return data


def load_list(kind: str, language: str, path: str | Path | None = None) -> dict[str, Any]:
    """The mapping for ``kind`` in ``language``: from ``path`` if given, else built in.

    Returns ``{}`` when there is no built-in list for that language (the stage then
    reports nothing rather than guessing). A user file that holds several languages but
    not this one also gives ``{}``.
    """
    language = (language or "").lower()
    if path is None:
        ref = resources.files("callcenter.speech") / "lists" / language / f"{kind}.yaml"
        if not language or not ref.is_file():
            return {}
        return _read(f"{kind}.yaml ({language}, built in)", ref.read_text(encoding="utf-8"))
    p = Path(path)
    if not p.is_file():
        raise ListError(p, f"no such {kind} file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ListError(p, "not UTF-8 text") from None
    data = _read(str(p), text)
    if "languages" in data:
        langs = data["languages"]
        if not isinstance(langs, dict) or not all(
            isinstance(k, str) and _LANG.fullmatch(k) for k in langs
        ):
            raise ListError(p, "languages: expected a mapping of language codes (en, ru, fa)")
        section = langs.get(language) or {}
        if not isinstance(section, dict):
            raise ListError(p, f"languages.{language}: expected a mapping")
        return section
    return data
