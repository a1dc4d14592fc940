"""The small-talk classifier on its own: what is not a question, in three languages."""

from __future__ import annotations

import pytest

from kefu.bot.smalltalk import Kind, classify, without_greeting

CASES = {
    Kind.greeting: [
        "Hi",
        "hello!",
        "hi there",
        "Hello there :)",
        "HEY",
        "good morning",
        "你好",
        "您好！",
        "你好呀",
        "在吗？",
        "こんにちは",
        "こんばんは。",
        "👋",
    ],
    Kind.thanks: [
        "thanks",
        "Thank you so much!",
        "thx",
        "ok thanks",
        "yes thank you",
        "谢谢",
        "謝謝！",
        "非常感谢",
        "ありがとうございます",
        "助かりました",
        "🙏",
    ],
    Kind.goodbye: ["bye", "Goodbye!", "no thanks", "再见", "拜拜", "さようなら", "失礼します"],
    Kind.no: ["no", "Nope.", "not really", "it didn't", "没有", "不是", "いいえ", "👎"],
    Kind.yes: ["yes", "Yes!", "yep", "是的", "对", "はい", "👍"],
    Kind.ack: ["ok", "OK.", "okay", "got it", "好的", "了解", "收到", "わかりました", "了解です"],
    Kind.empty: ["?", "...", "!!!", "🙂", "😂😂", "？？"],
}


@pytest.mark.parametrize(("kind", "text"), [(k, t) for k, ts in CASES.items() for t in ts])
def test_small_talk(kind: Kind, text: str) -> None:
    assert classify(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "how long does shipping take",
        "hi, how long does shipping take?",
        "no internet connection",
        "my order",
        "hasn't arrived",
        "thank you but where is my refund",
        "退款多久能到账",
        "不能登录",
        "你好，我的快递到哪了",
        "返金したい",
        "highway delivery",
        "okay so how do I cancel",
    ],
)
def test_questions_are_not_small_talk(text: str) -> None:
    assert classify(text) is None


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        ("hi, how long does shipping take?", "how long does shipping take"),
        ("Hello there! my order hasn't arrived", "my order hasn't arrived"),
        ("你好，退款多久能到账？", "退款多久能到账"),
        ("こんにちは、返品したいです", "返品したいです"),
        ("how long does shipping take?", "how long does shipping take?"),
        ("highlights please", "highlights please"),
    ],
)
def test_a_greeting_before_a_question_is_cut_off(text: str, rest: str) -> None:
    assert without_greeting(text) == rest
