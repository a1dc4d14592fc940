"""The turn policy on its own: who asks for a person, who is angry, which reason is recorded."""

from __future__ import annotations

import pytest

from kefu.bot.dialogue import (
    Answer,
    Handoff,
    HandoffReason,
    Memory,
    Rephrase,
    Thanks,
    asks_for_person,
    decide,
    language_of,
    sounds_angry,
)
from kefu.bot.matching import Match


@pytest.mark.parametrize(
    "text",
    [
        "human please",
        "I want an AGENT",
        "let me speak to a real person",
        "Talk to someone",
        "人工",
        "转人工",
        "我要找客服",
        "オペレーターをお願いします",
        "担当者と話したい",
    ],
)
def test_asking_for_a_person_in_three_languages(text: str) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize("text", ["how do I reset my password", "退款多久到账", "返金したい"])
def test_ordinary_questions_are_not_requests_for_a_person(text: str) -> None:
    assert not asks_for_person(text) and not sounds_angry(text)


@pytest.mark.parametrize("text", ["this is USELESS", "垃圾机器人", "最悪", "answer me!!!"])
def test_angry_wording(text: str) -> None:
    assert sounds_angry(text)


def test_language_guess() -> None:
    assert [language_of(t) for t in ("hello", "你好", "這個訂單", "こんにちは", "123")] == [
        "en",
        "zh-CN",
        "zh-TW",
        "ja",
        "en",
    ]
    assert language_of("???", default="zh") == "zh"


def _m(confidence: float) -> Match:
    return Match("a1", confidence, 0.55)


def test_reasons_and_memory() -> None:
    blank = Memory()
    assert decide("x", "handoff", blank, _m(0.9))[0] == Handoff(HandoffReason.button)
    assert decide("a question", None, blank, _m(0.1))[0] == Handoff(HandoffReason.out_of_scope)
    assert decide("a question", None, blank, _m(0.45))[0] == Handoff(HandoffReason.unsure)
    assert decide("a question", None, blank, None)[0] == Handoff(HandoffReason.out_of_scope)
    decision, memory = decide("A  Question", None, blank, _m(0.9))
    assert decision == Answer("a1", 0.9) and memory.last_question == "a question"
    assert decide("a question", None, memory, _m(0.9))[0] == Handoff(HandoffReason.frustrated)
    first_no, memory = decide("no", "helpful_no", memory, None)
    assert first_no == Rephrase() and memory.not_helpful == 1
    assert decide("no", "helpful_no", memory, None)[0] == Handoff(HandoffReason.not_helpful)
    thanks, memory = decide("yes", "helpful_yes", memory, None)
    assert thanks == Thanks() and memory.not_helpful == 0
    assert decide("", "kb:a2", memory, None)[0] == Answer("a2", 1.0)
