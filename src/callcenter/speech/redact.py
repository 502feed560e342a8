"""PII redaction of what is stored: card numbers, phone numbers, e-mail addresses.

What is replaced, and by what (``docs/speech-rules.md`` has the details and limits):

* ``[EMAIL]``: a written address (``john.smith@gmail.com``) or a spoken one (``john
  dot smith at gmail dot com``, ``иван точка петров собака яндекс точка ру``, ``... ات
  جیمیل دات کام``) whose domain ends in a known top-level domain;
* ``[CARD]``: 13 to 19 digits in a row — written, with spaces or dashes between groups,
  or spoken as number words (``four five three two``, ``forty five thirty two``,
  ``четыре пять три два``, ``چهار پنج سه دو``) — that pass the Luhn check;
* ``[PHONE]``: what the ``phonenumbers`` library finds as a valid number for the
  language's country (US, RU, IR, LT; ``+``-prefixed numbers anywhere), digit runs of 7
  to 15 digits (spoken too) that it accepts as a valid number, and runs of 7 to 15
  digits right after a cue word (``phone``, ``number``, ``телефон``, ``номер``,
  ``شماره``, ``تلفن``);
* ``[NUMBER]``: any other run of 9 or more digits (account numbers, and 13-19 digits
  that fail the Luhn check: not a card, but still an identifier).

Persian (``۰-۹``) and Arabic-Indic (``٠-٩``) digits count as digits everywhere; the text
outside the redacted spans is returned unchanged, character for character. Dates
(``2024-01-15``, ``15.01.2024``), times (``10:30``), amounts (``$250``, ``1,250,000`` —
thousands-grouped up to 12 digits —, ``12.50``) and numbers of fewer than 9 digits are
left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Final

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher

from callcenter.speech.conversation import Conversation, Utterance
from callcenter.speech.lang import base_language, normalize, to_ascii_digits
from callcenter.speech.transcribe import Word

KINDS: Final = ("card", "phone", "email", "number")
REPLACEMENT: Final = {k: f"[{k.upper()}]" for k in KINDS}
REGIONS: Final = {"en": "US", "ru": "RU", "fa": "IR", "lt": "LT"}
MIN_NUMBER: Final = 9  # digits in a run that is redacted as [NUMBER]
_PHONE_CUE: Final = re.compile(
    r"(?:phone|number|cell|mobile|телефон|номер|мобильн|شماره|تلفن|موبایل|numeris|telefon)"
    r"\w*\W+(?:\w+\W+){0,3}$",
    re.IGNORECASE,
)

_SEPARATORS: Final = str.maketrans({"٫": ".", "٬": ",", "،": ","})

# --- number words (all languages at once: ASR output may mix them) ---------------------
_UNITS: Final = {
    "zero": 0, "oh": 0, "o": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ноль": 0, "нуль": 0, "один": 1, "одна": 1, "одно": 1, "два": 2, "две": 2, "три": 3,
    "четыре": 4, "пять": 5, "шесть": 6, "семь": 7, "восемь": 8, "девять": 9,
    "صفر": 0, "یک": 1, "دو": 2, "سه": 3, "چهار": 4, "پنج": 5, "شش": 6, "هفت": 7,
    "هشت": 8, "نه": 9,
    "nulis": 0, "vienas": 1, "du": 2, "trys": 3, "keturi": 4, "penki": 5, "šeši": 6,
    "septyni": 7, "aštuoni": 8, "devyni": 9,
}  # fmt: skip
_TEENS: Final = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "десять": 10, "одиннадцать": 11, "двенадцать": 12, "тринадцать": 13,
    "четырнадцать": 14, "пятнадцать": 15, "шестнадцать": 16, "семнадцать": 17,
    "восемнадцать": 18, "девятнадцать": 19,
    "ده": 10, "یازده": 11, "دوازده": 12, "سیزده": 13, "چهارده": 14, "پانزده": 15,
    "شانزده": 16, "هفده": 17, "هجده": 18, "هیجده": 18, "نوزده": 19,
    "dešimt": 10, "vienuolika": 11, "dvylika": 12, "trylika": 13, "keturiolika": 14,
    "penkiolika": 15, "šešiolika": 16, "septyniolika": 17, "aštuoniolika": 18,
    "devyniolika": 19,
}  # fmt: skip
_TENS: Final = {
    "twenty": 2, "thirty": 3, "forty": 4, "fifty": 5, "sixty": 6, "seventy": 7,
    "eighty": 8, "ninety": 9,
    "двадцать": 2, "тридцать": 3, "сорок": 4, "пятьдесят": 5, "шестьдесят": 6,
    "семьдесят": 7, "восемьдесят": 8, "девяносто": 9,
    "بیست": 2, "سی": 3, "چهل": 4, "پنجاه": 5, "شصت": 6, "هفتاد": 7, "هشتاد": 8, "نود": 9,
    "dvidešimt": 2, "trisdešimt": 3, "keturiasdešimt": 4, "penkiasdešimt": 5,
    "šešiasdešimt": 6, "septyniasdešimt": 7, "aštuoniasdešimt": 8, "devyniasdešimt": 9,
}  # fmt: skip
_REPEAT: Final = {"double": 2, "triple": 3}
_AND: Final = frozenset({"و"})  # Persian "چهل و پنج" (forty-five)

_TOKEN: Final = re.compile(r"\d+|[^\W\d_]+")
_GAP: Final = re.compile(r"[\s,.;\-–—]{1,4}")

# --- e-mail -------------------------------------------------------------------------------
_WRITTEN_EMAIL: Final = re.compile(r"(?<![\w.+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
_AT: Final = r"at|собака|эт|ات|اَت|eta"
_DOT: Final = r"dot|точка|дот|دات|نقطه|taškas"
_SEP: Final = rf"{_DOT}|underscore|dash|hyphen|подчеркивание|подчёркивание|дефис|тире|آندرلاین"
_TLD: Final = (
    r"com|org|net|edu|gov|info|biz|io|co|uk|us|de|eu|ru|ir|lt|ру|рф|ком|орг|کام|ir|آی\s+آر"
)
_W: Final = r"[^\W_]+"
_SPOKEN_EMAIL: Final = re.compile(
    rf"(?<!\w){_W}(?:\s+(?:{_SEP})\s+{_W}|[._]{_W})*"
    rf"\s+(?:{_AT})\s+"
    rf"{_W}(?:(?:\s+(?:{_DOT})\s+|\.){_W})*?(?:\s+(?:{_DOT})\s+|\.)(?:{_TLD})(?!\w)",
    re.IGNORECASE,
)

# --- not PII: kept out of digit runs -------------------------------------------------------
_NOT_PII: Final = re.compile(
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?!\d)"  # 2024-01-15
    r"|(?<!\d)\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?!\d)"  # 15.01.2024
    r"|(?<!\d)\d{1,2}:\d{2}(?::\d{2})?"  # 10:30
    r"|[$€£₽¥﷼]\s?\d+(?:[.,]\d+)*"  # $250, $1,250.50
    # 1,250,000 — up to 12 digits: a longer "amount" is an identifier that ASR wrote
    # with thousands separators (a card read out comes back as 4,111,111,111,...)
    r"|(?<!\d)\d{1,3}(?:,\d{3}){1,3}(?:\.\d+)?(?![\d,])"
    r"|(?<![\d.])\d+\.\d+(?![\d.])"  # 12.50
    # 150 000 000 рублей: thousands grouped by spaces, then a currency word
    r"|(?<!\d)\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?=\s*(?:руб|р\.|₽|тыс|млн|млрд|доллар|евро"
    r"|dollar|euro|usd|eur|rub|تومان|ریال|rial|toman))",
    re.IGNORECASE,
)


_MAX_PHONE_DIGITS: Final = 15


def luhn(digits: str) -> bool:
    """The Luhn checksum of a string of digits (payment card numbers pass it)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class _Group:
    start: int
    end: int
    digits: str


def _word_value(token: str) -> str:
    return normalize(token, "fa") if not token.isascii() else token.lower()


def _runs(text: str) -> list[list[_Group]]:
    """Runs of consecutive digit groups (digits or number words) in ``text``."""
    toks = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    runs: list[list[_Group]] = []
    run: list[_Group] = []
    i = 0
    while i < len(toks):
        s, e, t = toks[i]
        w = _word_value(t)
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        linked = nxt is not None and _GAP.fullmatch(text[e : nxt[0]]) is not None
        group: _Group | None = None
        step = 1
        if t.isdigit():
            group = _Group(s, e, t)
        elif w in _UNITS and (w not in ("o", "oh") or run):
            group = _Group(s, e, str(_UNITS[w]))
        elif w in _TEENS:
            group = _Group(s, e, str(_TEENS[w]))
        elif w in _TENS:
            group = _Group(s, e, f"{_TENS[w]}0")
            j = i + 1
            if nxt is not None and _word_value(nxt[2]) in _AND and i + 2 < len(toks):
                j = i + 2
            if j < len(toks) and text[toks[j - 1][1] : toks[j][0]].isspace():
                u = _word_value(toks[j][2])
                if u in _UNITS and _UNITS[u] > 0:
                    group = _Group(s, toks[j][1], f"{_TENS[w]}{_UNITS[u]}")
                    step = j - i + 1
        elif w in _REPEAT and linked and nxt is not None and _word_value(nxt[2]) in _UNITS:
            group = _Group(s, nxt[1], str(_UNITS[_word_value(nxt[2])]) * _REPEAT[w])
            step = 2
        if group is None:
            if run:
                runs.append(run)
            run = []
            i += 1
            continue
        if run and _GAP.fullmatch(text[run[-1].end : group.start]) is None:
            runs.append(run)
            run = []
        run.append(group)
        i += step
    if run:
        runs.append(run)
    return runs


def _glued(text: str, a: _Group, b: _Group) -> bool:
    """Groups written as one token: joined by a comma, dot or dash with no space
    (``1111,111,111``, ``4532-0151``)."""
    gap = text[a.end : b.start]
    return gap != "" and not any(ch.isspace() for ch in gap)


def _cards(run: list[_Group], text: str) -> Iterable[Span]:
    """The run if it has 13-19 digits and passes Luhn; in a longer run (a card said
    right after other digits), group-aligned windows of 13-19 digits passing Luhn,
    leftmost-longest first. A window is widened to whole written tokens: digits glued
    to the card without a space (ASR's ``4111 1111 1111 1111,111,111``) are part of
    what was written for it and must not stay behind."""
    digits = "".join(g.digits for g in run)
    if len(digits) <= 19:
        if len(digits) >= 13 and luhn(digits):
            yield Span(run[0].start, run[-1].end, "card")
        return
    i = 0
    taken = 0  # groups before this index belong to a card already yielded
    while i < len(run):
        best = None
        n = 0
        for j in range(i, len(run)):
            n += len(run[j].digits)
            if n > 19:
                break
            if n >= 13 and luhn("".join(g.digits for g in run[i : j + 1])):
                best = j
        if best is not None:
            lo = i
            while lo > taken and _glued(text, run[lo - 1], run[lo]):
                lo -= 1
            while best + 1 < len(run) and _glued(text, run[best], run[best + 1]):
                best += 1
            yield Span(run[lo].start, run[best].end, "card")
            i = taken = best + 1
        else:
            i += 1


def _phone_valid(digits: str, region: str | None) -> bool:
    if not 7 <= len(digits) <= 15:
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(digits, region))
    except phonenumbers.NumberParseException:
        return False


def _mask(chars: list[str], spans: Iterable[tuple[int, int]]) -> None:
    for s, e in spans:
        chars[s:e] = "#" * (e - s)


def find_pii(text: str, language: str) -> list[Span]:
    """The spans of ``text`` to redact, in order, not overlapping."""
    region = REGIONS.get(base_language(language))
    work = list(to_ascii_digits(text).translate(_SEPARATORS))
    found: list[Span] = []

    def take(spans: Iterable[Span]) -> None:
        new = list(spans)
        found.extend(new)
        _mask(work, ((s.start, s.end) for s in new))

    take(Span(m.start(), m.end(), "email") for m in _WRITTEN_EMAIL.finditer("".join(work)))
    take(Span(m.start(), m.end(), "email") for m in _SPOKEN_EMAIL.finditer("".join(work)))
    joined = "".join(work)
    take(c for run in _runs(joined) for c in _cards(run, joined))
    # Longer than any phone number (E.164: 15 digits) and not a card: an identifier,
    # whatever separators ASR wrote into it (a card read out may come back as
    # "4,111,111,...", which must not pass for an amount below).
    take(
        Span(run[0].start, run[-1].end, "number")
        for run in _runs("".join(work))
        if sum(len(g.digits) for g in run) > _MAX_PHONE_DIGITS
    )
    _mask(work, (m.span() for m in _NOT_PII.finditer("".join(work))))
    masked = "".join(work)
    take(
        Span(m.start, m.end, "phone")
        for m in PhoneNumberMatcher(masked, region or "ZZ", leniency=Leniency.VALID)
    )
    rest = []
    for run in _runs("".join(work)):
        digits = "".join(g.digits for g in run)
        cued = (
            len(digits) >= 7
            and _PHONE_CUE.search(masked[max(0, run[0].start - 60) : run[0].start]) is not None
        )
        if _phone_valid(digits, region) or (cued and len(digits) <= 15):
            rest.append(Span(run[0].start, run[-1].end, "phone"))
        elif len(digits) >= MIN_NUMBER:
            rest.append(Span(run[0].start, run[-1].end, "number"))
    take(rest)
    return sorted(found, key=lambda s: s.start)


def _apply(text: str, spans: list[Span], offset: int = 0) -> str:
    out, pos = [], 0
    for s in spans:
        out.append(text[pos : s.start - offset])
        out.append(REPLACEMENT[s.kind])
        pos = s.end - offset
    out.append(text[pos:])
    return "".join(out)


def _counts(spans: Iterable[Span]) -> dict[str, int]:
    counts = dict.fromkeys(KINDS, 0)
    for s in spans:
        counts[s.kind] += 1
    return counts


def redact_text(text: str, language: str) -> tuple[str, dict[str, int]]:
    """``text`` with each PII span replaced by its token, and the count per kind."""
    spans = find_pii(text, language)
    return _apply(text, spans), _counts(spans)


@dataclass(frozen=True)
class Redactions:
    """How many spans of each kind were redacted in a conversation."""

    card: int = 0
    phone: int = 0
    email: int = 0
    number: int = 0

    @property
    def total(self) -> int:
        return self.card + self.phone + self.email + self.number

    def to_dict(self) -> dict[str, Any]:
        return {"card": self.card, "phone": self.phone, "email": self.email,
                "number": self.number, "total": self.total}  # fmt: skip


def _redact_words(words: tuple[Word, ...], language: str) -> tuple[Word, ...]:
    """Words merged and replaced wherever a span of their joined text touches them."""
    texts = [w.text.strip() for w in words]
    bounds, pos = [], 0
    for t in texts:
        bounds.append((pos, pos + len(t)))
        pos += len(t) + 1
    spans = find_pii(" ".join(texts), language)
    if not spans:
        return words
    owner = [
        next((k for k, s in enumerate(spans) if s.start < e and b < s.end), None) for b, e in bounds
    ]
    out: list[Word] = []
    i = 0
    while i < len(words):
        k = owner[i]
        if k is None:
            out.append(words[i])
            i += 1
            continue
        j = i
        while j + 1 < len(words) and (nk := owner[j + 1]) is not None:
            if spans[nk].start >= bounds[j][1]:
                break  # a new span that does not reach back into word j
            j += 1
        lo, hi = bounds[i][0], bounds[j][1]
        inside = [
            Span(max(s.start, lo), min(s.end, hi), s.kind)
            for s in spans
            if s.start < hi and lo < s.end
        ]
        lead = words[i].text[: len(words[i].text) - len(words[i].text.lstrip())]
        text = lead + _apply(" ".join(texts)[lo:hi], inside, lo)
        prob = min(w.probability for w in words[i : j + 1])
        out.append(Word(words[i].start, words[j].end, text, prob))
        i = j + 1
    return tuple(out)


def redact_utterance(u: Utterance, language: str) -> tuple[Utterance, dict[str, int]]:
    text, counts = redact_text(u.text, language)
    words = _redact_words(u.words, language) if u.words else u.words
    return replace(u, text=text, words=words), counts


def redact_conversation(conv: Conversation) -> tuple[Conversation, Redactions]:
    """The conversation with every utterance's text and timed words redacted."""
    total = dict.fromkeys(KINDS, 0)
    utterances = []
    for u in conv.utterances:
        red, counts = redact_utterance(u, conv.language)
        utterances.append(red)
        for k, v in counts.items():
            total[k] += v
    return replace(conv, utterances=tuple(utterances)), Redactions(**total)
