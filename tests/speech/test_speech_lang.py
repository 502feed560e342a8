"""Text normalisation per language, against hand-written expected strings."""

from __future__ import annotations

import pytest

from callcenter.speech.lang import base_language, normalize, strip_tags, to_ascii_digits, tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello,   World!", "hello world"),
        ("I've got a NEW card.", "ive got a new card"),
        ("e-mail: ME@Example.COM", "e mail me example com"),
        ("[noise] hello <unk> there [laughter]", "hello there"),
        ("  \t tabs\nand\r\nnewlines  ", "tabs and newlines"),
        ("ＦＵＬＬ width", "full width"),  # NFKC
        ("", ""),
    ],
)
def test_english(text: str, expected: str) -> None:
    assert normalize(text, "en") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ещё раз: ЁЛКА!", "еще раз елка"),
        ("Чем-то ещё помочь?", "чем то еще помочь"),
        ("«Добрый день», — сказал он.", "добрый день сказал он"),
    ],
)
def test_russian(text: str, expected: str) -> None:
    assert normalize(text, "ru") == expected


def test_persian_letter_variants_unify() -> None:
    arabic = "كارت بانكي"  # Arabic kaf (U+0643) and Arabic yeh (U+064A)
    persian = "کارت بانکی"  # Persian keheh (U+06A9) and Farsi yeh (U+06CC)
    assert arabic != persian
    assert normalize(arabic, "fa") == persian
    assert normalize("مصطفى", "fa") == "مصطفی"  # alef maksura → yeh
    assert normalize("خانة", "fa") == "خانه"  # teh marbuta → heh


def test_persian_tatweel_diacritics_punctuation() -> None:
    assert normalize("ســـلام", "fa") == "سلام"  # tatweel
    assert normalize("بِخَرَم", "fa") == "بخرم"  # kasra, fatha
    assert normalize("«سلام»، خوبی؟", "fa") == "سلام خوبی"
    assert normalize("آب", "fa") == "آب"  # alef madda is a letter of its own: kept


def test_persian_zwnj_and_space_alike() -> None:
    zwnj = "می\u200cخواهم"
    assert normalize(zwnj, "fa") == "می خواهم"
    assert normalize("می خواهم", "fa") == normalize(zwnj, "fa")
    assert tokens("کارت\u200cها", "fa") == ["کارت", "ها"]


def test_invisible_direction_marks_removed() -> None:
    assert normalize("\u200fسلام\u200e \u202bدنیا\u202c", "fa") == "سلام دنیا"


def test_persian_and_arabic_indic_digits() -> None:
    assert to_ascii_digits("۰۱۲۳۴۵۶۷۸۹") == "0123456789"
    assert to_ascii_digits("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    assert to_ascii_digits("کد ۱۲۳ و ٤٥") == "کد 123 و 45"
    assert to_ascii_digits("abc 42") == "abc 42"
    assert normalize("شماره ۱۲۳", "fa") == "شماره 123"


def test_to_ascii_digits_keeps_offsets() -> None:
    text = "کارت ۴۵۳۲ ۰۱۵۱"
    assert len(to_ascii_digits(text)) == len(text)


def test_tokens() -> None:
    assert tokens("Hello, my name is Elizabeth.", "en") == [
        "hello",
        "my",
        "name",
        "is",
        "elizabeth",
    ]
    assert tokens("Меня зовут Алёна", "ru") == ["меня", "зовут", "алена"]
    assert tokens("", "en") == []


def test_base_language_and_tags() -> None:
    assert base_language("fa-IR") == "fa"
    assert base_language("RU") == "ru"
    assert base_language("") == ""
    assert normalize("كيك", "fa-IR") == "کیک"
    assert strip_tags("[noise] hi <unk>").split() == ["hi"]


def test_persian_rules_only_for_persian() -> None:
    # Arabic text keeps its own letters when the language is not Persian
    assert normalize("كتاب", "ar") == "كتاب"
