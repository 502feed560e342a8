"""Topic classification: Harper Valley intents (labelled, independent of the taxonomy's
phrases), hand-written Russian and Persian calls, and bad taxonomy files."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from harper_valley import INTENT_TO_TOPIC, calls

from callcenter.speech.conversation import Conversation
from callcenter.speech.lists import ListError, builtin_languages
from callcenter.speech.topics import OTHER, TopicClassifier, load_taxonomy

# The corpus's 8 intents -> the default taxonomy's own topic names.
# Measured: 55/57 (order checks 4/6, every other intent all correct).
MEASURED_PER_INTENT = {k: 4 if k == "order checks" else None for k in INTENT_TO_TOPIC}


@pytest.fixture(scope="module")
def english() -> TopicClassifier:
    return TopicClassifier(load_taxonomy("en"))


def one(text: str, language: str, speaker: str = "caller") -> Conversation:
    return Conversation.from_turns([(speaker, 0.0, 3.0, text)], language)


def test_harper_valley_accuracy(english: TopicClassifier) -> None:
    data = calls()
    assert set(INTENT_TO_TOPIC) == {c.intent for c in data}
    assert set(INTENT_TO_TOPIC.values()) <= set(english.taxonomy.names())
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    t0 = time.perf_counter()
    got = [english.classify(c.conversation) for c in data]
    assert time.perf_counter() - t0 < 5.0  # ~5 ms a call measured
    for c, r in zip(data, got, strict=True):
        total[c.intent] += 1
        right[c.intent] += r.topic == INTENT_TO_TOPIC[c.intent]
    accuracy = sum(right.values()) / len(data)
    assert accuracy >= 0.94  # measured 55/57 = 0.965
    for intent, n in total.items():
        floor = MEASURED_PER_INTENT[intent]
        assert right[intent] >= (n if floor is None else floor), intent
    assert all(r.topic != OTHER for r in got)  # every call is a bank topic
    assert min(r.support for r in got) >= 0.25  # measured 0.309; threshold 0.2


def test_result_shape(english: TopicClassifier) -> None:
    r = english.classify(one("I lost my credit card, please send me a new one", "en"))
    assert r.topic == "card_replacement"
    assert r.runner_up is not None and r.runner_up != r.topic
    assert next(iter(r.scores)) == r.topic and r.score == max(r.scores.values())
    assert set(r.scores) == set(english.taxonomy.names())
    d = r.to_dict()
    assert d["topic"] == "card_replacement" and isinstance(d["scores"], dict)


def test_caller_weighs_more_than_agent_and_early_more_than_late(
    english: TopicClassifier,
) -> None:
    conv = Conversation.from_turns(
        [
            ("agent", 0, 3, "would you like to check your balance"),
            ("caller", 3, 6, "no, I want to order new checks"),
        ],
        "en",
    )
    assert english.classify(conv).topic == "checkbook"
    first = "I need to reset my online banking password"
    then = "and what are your branch opening hours"
    number = "my account number is one two three four five six seven eight nine"
    for a, b, topic in (
        (first, then, "online_banking_access"),
        (then, first, "branch_hours_location"),
    ):
        turns = [("caller", 0, 3, a)]
        turns += [("caller", 3 + i, 4 + i, number) for i in range(6)]
        turns.append(("caller", 90, 93, b))
        assert english.classify(Conversation.from_turns(turns, "en")).topic == topic


OFF_TOPIC = [
    ("my neighbour's dog keeps barking all night", "en"),
    ("can you recommend a good movie", "en"),
    ("hello how are you doing", "en"),
    ("the weather is lovely today isn't it", "en"),
    ("I would like to buy a plane ticket to Chicago", "en"),
    ("hi I wanted to ask whether you sell pizza with extra cheese", "en"),
    ("Погода хорошая сегодня", "ru"),
    ("Соседская собака лает всю ночь", "ru"),
    ("Какой фильм посоветуете посмотреть", "ru"),
    ("Я хочу купить билет на поезд до Москвы", "ru"),
    ("Хочу заказать пиццу с сыром", "ru"),
    ("هوا امروز خیلی خوب است", "fa"),
]


def test_off_topic_is_other() -> None:
    clf = {lang: TopicClassifier(load_taxonomy(lang)) for lang in ("en", "ru", "fa")}
    got = [clf[lang].classify(one(text, lang)).topic for text, lang in OFF_TOPIC]
    # measured 11/12: "order a pizza" shares "заказать" with ordering a cheque book
    assert got.count(OTHER) >= 11, list(zip(got, OFF_TOPIC, strict=True))


def test_support_is_needed_from_the_caller(english: TopicClassifier) -> None:
    agent_only = one("would you like to check your balance", "en", speaker="agent")
    r = english.classify(agent_only)  # the caller never speaks: the agent's words count
    assert r.topic == "balance_inquiry" and r.support > 0.2
    conv = Conversation.from_turns(
        [
            ("agent", 0, 3, "would you like to check your balance"),
            ("caller", 3, 6, "hello how are you doing"),
        ],
        "en",
    )
    r = english.classify(conv)
    assert r.topic == OTHER and r.support == 0.0 and r.to_dict()["support"] == 0.0


def test_empty_conversation_is_other(english: TopicClassifier) -> None:
    assert english.classify(Conversation("en", ())).topic == OTHER
    assert english.classify(one("[noise] <unk>", "en")).topic == OTHER


RUSSIAN = [
    (
        [
            ("agent", "Банк, здравствуйте, меня зовут Анна, чем могу помочь?"),
            ("caller", "Добрый день. Я вчера, кажется, потерял свою карточку в такси."),
            ("caller", "Её надо заблокировать и сделать новую."),
            ("agent", "Сейчас заблокирую. Какую карту, дебетовую или кредитную?"),
        ],
        "card_replacement",
    ),
    (
        [
            ("agent", "Здравствуйте, слушаю вас."),
            ("caller", "Подскажите, сколько у меня сейчас денег на сберегательном?"),
            ("agent", "Одну минуту, остаток сорок две тысячи."),
        ],
        "balance_inquiry",
    ),
    (
        [
            ("agent", "Добрый день, банк на связи."),
            ("caller", "Не могу зайти в приложение, пишет неверный пароль, уже три раза вводил."),
            ("agent", "Давайте восстановим доступ."),
        ],
        "online_banking_access",
    ),
    (
        [
            ("agent", "Здравствуйте!"),
            ("caller", "Мне нужно перекинуть десять тысяч с накопительного счёта на карту."),
        ],
        "money_transfer",
    ),
    (
        [
            ("caller", "Алло, во сколько завтра открывается ваш офис на Ленина?"),
            ("agent", "С девяти утра."),
        ],
        "branch_hours_location",
    ),
    (
        [
            ("caller", "Здравствуйте, хочу оплатить квартплату и свет за прошлый месяц."),
        ],
        "bill_payment",
    ),
    (
        [
            ("caller", "С моей карты кто-то снял пять тысяч, я этого не делал!"),
            ("agent", "Понимаю, давайте оформим заявление."),
        ],
        "fraud_dispute",
    ),
    (
        [
            ("caller", "Я бы хотел записаться к консультанту в отделение на четверг."),
        ],
        "appointment",
    ),
]


def test_russian_calls() -> None:
    clf = TopicClassifier(load_taxonomy("ru"))
    got = []
    for turns, _ in RUSSIAN:
        conv = Conversation.from_turns(
            [(sp, 4.0 * i, 4.0 * i + 3, t) for i, (sp, t) in enumerate(turns)], "ru"
        )
        got.append(clf.classify(conv).topic)
    right = [g == topic for g, (_, topic) in zip(got, RUSSIAN, strict=True)]
    # measured 7/8: "somebody took 5,000 from my card" is "other" (support 0.18 < 0.2;
    # its best topic would be card_replacement, not fraud_dispute)
    assert sum(right) >= 7, got


def test_persian_calls() -> None:
    clf = TopicClassifier(load_taxonomy("fa"))
    assert clf.classify(one("سلام، کارت بانکی‌ام را دیروز گم کردم", "fa")).topic == (
        "card_replacement"
    )
    assert clf.classify(one("می‌خواهم قبض گاز را پرداخت کنم", "fa")).topic == "bill_payment"


def test_builtin_languages_and_missing_language() -> None:
    for lang in ("en", "ru", "fa"):
        t = load_taxonomy(lang)
        assert t.language == lang and len(t.topics) >= 10 and t.background
        assert all(topic.examples for topic in t.topics)
    assert load_taxonomy("EN-us").language == "en" and load_taxonomy("ru_RU").language == "ru"
    assert builtin_languages("topics") == ["en", "fa", "ru"]
    none = load_taxonomy("xx")  # no built-in list: no topic rather than a guess
    assert none.topics == () and none.language == "xx"
    with pytest.raises(ValueError, match="no topics to classify into"):
        TopicClassifier(none)


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "topics.yaml"
    p.write_text(text, encoding="utf-8")
    return p


GOOD = "topics:\n  a: {examples: [apples and pears]}\n  b: {examples: [bikes and cars]}\n"


def test_user_taxonomy(tmp_path: Path) -> None:
    t = load_taxonomy("en", write(tmp_path, "threshold: 0.3\n" + GOOD))
    assert t.names() == ("a", "b") and t.threshold == 0.3
    assert load_taxonomy("en", write(tmp_path, GOOD)).threshold == 0.2  # the default
    assert TopicClassifier(t).classify(one("I like pears", "en")).topic == "a"
    multi = write(tmp_path, "languages:\n  ru:\n    topics:\n      a: {examples: [apples]}\n")
    assert load_taxonomy("ru", multi).names() == ("a",)
    assert load_taxonomy("en", multi).topics == ()  # not in the file: no topics


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("topics: [", "not valid YAML at line"),
        ("- a\n- b\n", "expected a mapping at the top"),
        ("", "expected at least one topic"),
        ("topics: {}\n", "topics: Dictionary should have at least 1 item"),
        ("topics: 5\n", "topics: Input should be a valid dictionary"),
        ("topics:\n  a: [x, y]\n", "topics.a: Input should be a valid dictionary"),
        ("topics:\n  a: {examples: []}\n", "topics.a.examples: List should have at least 1 item"),
        ("topics:\n  a: {label: x}\n", "topics.a.examples: missing"),
        ("topics:\n  a: {examples: ['  ']}\n", "topics.a.examples: an example is empty"),
        (
            "topics:\n  a: {exmples: [x]}\n",
            "topics.a.exmples: unknown key (expected label, examples)",
        ),
        (
            GOOD + "treshold: 0.1\n",
            "treshold: unknown key (expected threshold, topics, background)",
        ),
        ("threshold: 2\n" + GOOD, "threshold: Input should be less than or equal to 1"),
        ("topics:\n  other: {examples: [x]}\n", "'other' is reserved"),
        ("topics:\n  Bad Name: {examples: [x]}\n", "must be lower-case letters"),
    ],
)
def test_bad_taxonomy_files(tmp_path: Path, text: str, message: str) -> None:
    p = write(tmp_path, text)
    with pytest.raises(ListError) as e:
        load_taxonomy("en", p)
    assert message in str(e.value)
    assert str(e.value).startswith(str(p)) and "\n" not in str(e.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ListError, match="no such topics file"):
        load_taxonomy("en", tmp_path / "none.yaml")
