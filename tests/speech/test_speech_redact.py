"""PII redaction: cards (Luhn), phones, e-mails — written, spoken, in Persian digits.

The card numbers are standard test numbers whose Luhn validity was checked by hand:
4532 0151 1283 0366 (Visa, valid), 4532 0151 1283 0367 (last digit changed: invalid),
5555 5555 5555 4444 (Mastercard, valid), 378282246310005 (Amex, 15 digits, valid). The
phone numbers use reserved fictional ranges (US 555-01xx) or well-formed mobile
prefixes (RU 916, IR 0912, LT 6xx).
"""

from __future__ import annotations

import pytest
from harper_valley import calls

from callcenter.speech.conversation import Conversation, Speaker, Utterance
from callcenter.speech.redact import Redactions, luhn, redact_conversation, redact_text
from callcenter.speech.transcribe import Word

NONE = {"card": 0, "phone": 0, "email": 0, "number": 0}


def _one(kind: str, n: int = 1) -> dict[str, int]:
    return {**NONE, kind: n}


def test_luhn() -> None:
    assert luhn("4532015112830366")
    assert luhn("5555555555554444")
    assert luhn("378282246310005")
    assert not luhn("4532015112830367")
    assert not luhn("1234567812345678")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my card is 4532 0151 1283 0366 thanks", "my card is [CARD] thanks"),
        ("card 4532-0151-1283-0366.", "card [CARD]."),
        ("5555555555554444", "[CARD]"),
        ("amex 3782 822463 10005 ok", "amex [CARD] ok"),
    ],
)
def test_written_cards(text: str, expected: str) -> None:
    assert redact_text(text, "en") == (expected, _one("card"))


def test_luhn_failure_is_not_a_card() -> None:
    # documented: 13-19 digits failing Luhn are not a card, but a long digit run
    assert redact_text("card 4532 0151 1283 0367 ok", "en") == ("card [NUMBER] ok", _one("number"))
    spoken = "four five three two zero one five one one two eight three zero three six seven"
    assert redact_text(spoken, "en") == ("[NUMBER]", _one("number"))


def test_card_after_other_digits() -> None:
    # a 24-digit run: the card is found inside it, the rest (8 digits) is left alone
    text = "ref 2024 0115 then 4532 0151 1283 0366"
    assert redact_text(text, "en") == ("ref 2024 0115 then [CARD]", _one("card"))
    text = "ref 2024 0115 4532 0151 1283 0366"
    assert redact_text(text, "en") == ("ref 2024 0115 [CARD]", _one("card"))


def test_digits_glued_to_a_card_go_with_it() -> None:
    # ASR wrote the read-out card with a tail of thousands groups (seen from
    # faster-whisper tiny.en on "4111 1111 1111 1111"): the digits glued to the card
    # without a space are part of what was written for it, none may stay behind
    text = "Number 4111 1111 1111 1111,111,111."
    assert redact_text(text, "en") == ("Number [CARD].", _one("card"))
    assert redact_text("4,111,111,111,111,111,111,111", "en") == ("[CARD]", _one("card"))
    # glued on the left as well; digits set apart by a space are still judged alone
    text = "ref 2024-0115-4532-0151-1283-0366 ok"
    assert redact_text(text, "en") == ("ref [CARD] ok", _one("card"))


def test_english_spoken_digit_cards() -> None:
    spoken = "four five three two zero one five one one two eight three zero three six six"
    assert redact_text(f"sure it's {spoken} thank you", "en") == (
        "sure it's [CARD] thank you",
        _one("card"),
    )
    grouped = "forty five thirty two oh one five one twelve eighty three oh three sixty six"
    assert redact_text(grouped, "en") == ("[CARD]", _one("card"))
    commas = "five, five, five, five, double five, five, five, five, five, five, five, 4444"
    assert redact_text(commas, "en") == ("[CARD]", _one("card"))


def test_russian_spoken_digit_card() -> None:
    said = (
        "номер карты четыре пять три два ноль один пять один один два восемь три ноль три "
        "шесть шесть, срок действия"
    )
    assert redact_text(said, "ru") == ("номер карты [CARD], срок действия", _one("card"))
    said = "сорок пять тридцать два ноль один пятьдесят один двенадцать восемьдесят три 0366"
    assert redact_text(said, "ru") == ("[CARD]", _one("card"))


def test_persian_digits_card_round_trip() -> None:
    text = "شماره کارت من ۴۵۳۲ ۰۱۵۱ ۱۲۸۳ ۰۳۶۶ است، ممنون"
    assert redact_text(text, "fa") == ("شماره کارت من [CARD] است، ممنون", _one("card"))
    arabic_indic = "رقم ٤٥٣٢٠١٥١١٢٨٣٠٣٦٦"
    assert redact_text(arabic_indic, "fa") == ("رقم [CARD]", _one("card"))


def test_persian_spoken_card() -> None:
    said = "چهار پنج سه دو صفر یک پنج یک یک دو هشت سه صفر سه شش شش"
    assert redact_text(f"کارتم {said} هست", "fa") == ("کارتم [CARD] هست", _one("card"))
    tens = "چهل و پنج سی و دو صفر یک پنجاه و یک دوازده هشتاد و سه صفر سه شصت و شش"
    assert redact_text(tens, "fa") == ("[CARD]", _one("card"))


def test_persian_text_unchanged_outside_redactions() -> None:
    # right-to-left text with ZWNJ, Arabic letter variants, direction marks: byte for byte
    text = "\u200fسلام، مي\u200cخواهم كارتم را ببندم. تلفن: ۰۹۱۲ ۳۴۵ ۶۷۸۹ ـ ممنون\u200e"
    out, counts = redact_text(text, "fa")
    assert out == "\u200fسلام، مي\u200cخواهم كارتم را ببندم. تلفن: [PHONE] ـ ممنون\u200e"
    assert counts == _one("phone")
    plain = "سلام، مي\u200cخواهم حساب پس\u200cانداز باز کنم؛ ۲۵۰ هزار تومان دارم"
    assert redact_text(plain, "fa") == (plain, NONE)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("call me on 415-555-0132 or (212) 555 0199", "en", "call me on [PHONE] or [PHONE]"),
        ("мой номер 8 (916) 123-45-67, звоните", "ru", "мой номер [PHONE], звоните"),
        ("+7 916 123 45 67", "ru", "[PHONE]"),
        ("با ۰۹۱۲ ۳۴۵ ۶۷۸۹ تماس بگیرید", "fa", "با [PHONE] تماس بگیرید"),
        ("+98 912 345 6789", "fa", "[PHONE]"),
        ("skambinkite +370 612 34567", "lt", "skambinkite [PHONE]"),
        ("from London +44 20 7946 0958", "en", "from London [PHONE]"),
    ],
)
def test_written_phones(text: str, language: str, expected: str) -> None:
    out, counts = redact_text(text, language)
    assert out == expected
    assert counts["phone"] == expected.count("[PHONE]")
    assert counts["card"] == counts["email"] == counts["number"] == 0


def test_spoken_phones() -> None:
    said = "my number is four one five five five five zero one three two"
    assert redact_text(said, "en") == ("my number is [PHONE]", _one("phone"))
    # seven digits are a phone only right after a word such as "number"
    assert redact_text("my phone number is five five five one two three four", "en") == (
        "my phone number is [PHONE]",
        _one("phone"),
    )
    said = "мой телефон восемь девять один шесть один два три четыре пять шесть семь"
    assert redact_text(said, "ru") == ("мой телефон [PHONE]", _one("phone"))


def test_long_digit_runs() -> None:
    assert redact_text("account 123456789012", "en") == ("account [NUMBER]", _one("number"))


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("mail john.smith@gmail.com now", "en", "mail [EMAIL] now"),
        ("it's john dot smith at gmail dot com thanks", "en", "it's [EMAIL] thanks"),
        ("j_doe at example.org", "en", "[EMAIL]"),
        ("почта иван точка петров собака яндекс точка ру", "ru", "почта [EMAIL]"),
        ("ivan.petrov@yandex.ru", "ru", "[EMAIL]"),
        ("ایمیل من ali.rezaei@gmail.com است", "fa", "ایمیل من [EMAIL] است"),
        ("ایمیل من علی ات جیمیل دات کام است", "fa", "ایمیل من [EMAIL] است"),
    ],
)
def test_emails(text: str, language: str, expected: str) -> None:
    assert redact_text(text, language) == (expected, _one("email"))


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I paid $250 on 2024-01-15 at 10:30, twenty dollars each", "en"),
        ("the total was 1,250,000 and 12.50 per unit, ref 15.01.2024", "en"),
        ("a hundred and thirty four dollars", "en"),
        ("the branch hours are nine thirty a m to five p m", "en"),
        ("meet me at home, I'll be at the bank at five", "en"),
        ("zip code is four one nine one two", "en"),
        ("встреча 15.01.2024 в 10:30, сумма 1500 рублей, тысяча двести", "ru"),
        ("قسط ۲٬۵۰۰٬۰۰۰ ریال تا ۱۴۰۲/۰۵/۱۲ ساعت ۱۰:۳۰", "fa"),
        ("one of the two cards, three days ago, four times", "en"),
        ("кредит 150 000 000 рублей на 36 месяцев", "ru"),
        ("وام ۱۵۰ ۰۰۰ ۰۰۰ تومان", "fa"),
    ],
)
def test_ordinary_numbers_survive(text: str, language: str) -> None:
    assert redact_text(text, language) == (text, NONE)


def _w(pairs: list[tuple[float, str]]) -> tuple[Word, ...]:
    return tuple(Word(s, s + 0.4, t, 0.9) for s, t in pairs)


def test_conversation_words_redacted_consistently() -> None:
    spoken = "four five three two zero one five one one two eight three zero three six six"
    parts = ["my", "card", "is", *spoken.split(), "thanks"]
    words = _w([(10.0 + i * 0.5, f" {p}") for i, p in enumerate(parts)])
    u_card = Utterance(Speaker.CALLER, 10.0, 20.0, " ".join(parts), words)
    email_words = _w([(30.0, " write"), (30.5, " to"), (31.0, " a.b@example.com,"), (31.5, " ok")])
    u_mail = Utterance(Speaker.AGENT, 30.0, 32.0, "write to a.b@example.com, ok", email_words)
    u_plain = Utterance(Speaker.AGENT, 40.0, 41.0, "that is twenty dollars")
    conv = Conversation("en", (u_card, u_mail, u_plain), 50.0)

    red, counts = redact_conversation(conv)
    assert counts == Redactions(card=1, email=1)
    assert counts.to_dict() == {"card": 1, "phone": 0, "email": 1, "number": 0, "total": 2}
    card, mail, plain = red.utterances
    assert card.text == "my card is [CARD] thanks"
    assert [(w.start, w.end, w.text) for w in card.words] == [
        (10.0, 10.4, " my"),
        (10.5, 10.9, " card"),
        (11.0, 11.4, " is"),
        (11.5, 19.4, " [CARD]"),  # first digit word's start .. last digit word's end
        (19.5, 19.9, " thanks"),
    ]
    assert [w.text for w in mail.words] == [" write", " to", " [EMAIL],", " ok"]
    assert mail.text == "write to [EMAIL], ok"
    assert plain == u_plain
    assert (red.language, red.duration_s) == ("en", 50.0)
    # no digit word survives anywhere in the stored words
    digit_words = set(spoken.split())
    assert not any(w.text.strip() in digit_words for u in red.utterances for w in u.words)


def test_harper_valley_redactions() -> None:
    """Over the 57 calls, what was found by reading them: one caller says a ten-digit
    phone number in one utterance, twice (call 06f5d96b), and the agent of 0b153339
    reads back ten digits ("one two nine three five three seven four zero two"); no card
    numbers or e-mails are said in full within one utterance. Amounts, times, zip codes
    and dates elsewhere stay."""
    changed: list[tuple[str, str]] = []
    total = dict.fromkeys(NONE, 0)
    for call in calls():
        red, counts = redact_conversation(call.conversation)
        for kind in total:
            total[kind] += getattr(counts, kind)
        for a, b in zip(call.conversation.utterances, red.utterances, strict=True):
            if a.text != b.text:
                changed.append((call.sid, b.text))
    assert changed == [
        ("06f5d96bd7e64511", "my phone number is [PHONE]"),
        ("06f5d96bd7e64511", "yes my phone number is [PHONE]"),
        ("0b153339c9184252", "okay so that's [NUMBER]"),
    ]
    assert total == {"card": 0, "phone": 2, "email": 0, "number": 1}


def test_asr_thousands_grouping_of_a_long_number_is_not_an_amount() -> None:
    # Whisper writes a card read aloud as if it were an amount; 19 digits fail Luhn
    text, counts = redact_text("Number 4,111,111,111,111,111,111.", "en")
    assert text == "Number [NUMBER]." and counts["number"] == 1
    # while a real amount, up to 12 digits, stays
    amount = "it costs 999,999,999,999 total"
    assert redact_text(amount, "en")[0] == amount
