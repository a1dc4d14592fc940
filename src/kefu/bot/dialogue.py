"""What the bot does with one customer turn: answer, show the menu, or hand off.

Pure functions over the customer's text, the button they pressed, the conversation's bot
memory and the trained matcher; :mod:`kefu.actions.bot` carries the decision out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from kefu.bot.matcher import Match


class HandoffReason(StrEnum):
    asked = "asked_for_person"
    button = "handoff_button"
    unsure = "unsure"
    not_helpful = "not_helpful"
    out_of_scope = "out_of_scope"
    frustrated = "frustrated"


#: Below this confidence a question is taken as out of scope rather than merely unclear.
OUT_OF_SCOPE_BELOW = 0.3
#: "No" this many times in a row hands the customer over.
NOT_HELPFUL_LIMIT = 2

_ASK_EN = re.compile(
    r"\b(human|humans|agent|agents|real person|a person|live person|someone real|operator|"
    r"representative|rep|staff|talk to (a |an )?(person|someone|somebody)|"
    r"speak to (a |an )?(person|someone|somebody)|customer service|support team)\b",
    re.IGNORECASE,
)
_ASK_CJK = (
    "人工",
    "转人工",
    "轉人工",
    "客服",
    "真人",
    "人工服务",
    "找人",
    "オペレーター",
    "担当者",
    "人間",
    "スタッフ",
    "有人",
)
_ANGRY_EN = re.compile(
    r"\b(useless|stupid|ridiculous|terrible|awful|worst|angry|furious|wtf|damn|"
    r"hate|pathetic|nonsense|rubbish|garbage|scam)\b",
    re.IGNORECASE,
)
_ANGRY_CJK = (
    "垃圾",
    "没用",
    "沒用",
    "废物",
    "气死",
    "氣死",
    "投诉",
    "投訴",
    "太差",
    "骗子",
    "滚",
    "ふざけ",
    "最悪",
    "使えない",
    "役に立たない",
    "怒",
    "ひどい",
    "いい加減",
)


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def asks_for_person(text: str) -> bool:
    t = normalise(text)
    return bool(_ASK_EN.search(t)) or any(w in t for w in _ASK_CJK)


def sounds_angry(text: str) -> bool:
    t = normalise(text)
    return bool(_ANGRY_EN.search(t)) or any(w in t for w in _ANGRY_CJK) or "!!!" in t


def language_of(text: str, default: str = "en") -> str:
    """A coarse guess good enough to pick a reply language: kana → ja, Han → zh, else default
    for text with no letters, en for Latin script."""
    has_han = False
    for ch in text:
        code = ord(ch)
        if 0x3040 <= code <= 0x30FF:
            return "ja"
        if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
            has_han = True
    if has_han:
        return "zh"
    return "en" if any(ch.isalpha() for ch in text) else default


@dataclass(frozen=True, slots=True)
class Memory:
    """What the bot remembers of a conversation between turns."""

    last_question: str = ""
    last_article: str | None = None  # the matcher category (article id) last answered
    not_helpful: int = 0


@dataclass(frozen=True, slots=True)
class Handoff:
    reason: HandoffReason


@dataclass(frozen=True, slots=True)
class Answer:
    article: str  # the matcher category: the article's id
    confidence: float


@dataclass(frozen=True, slots=True)
class Thanks:
    """The customer said the answer helped."""


@dataclass(frozen=True, slots=True)
class Rephrase:
    """The answer did not help (first time): ask the customer to say it differently."""


Decision = Handoff | Answer | Thanks | Rephrase


def decide(
    text: str, button: str | None, memory: Memory, match: Match | None
) -> tuple[Decision, Memory]:
    """One turn. ``match`` is None when the workspace has no trained matcher (no articles)."""
    if button == "handoff":
        return Handoff(HandoffReason.button), memory
    if button == "helpful_yes":
        return Thanks(), Memory(memory.last_question, memory.last_article, 0)
    if button == "helpful_no":
        count = memory.not_helpful + 1
        after = Memory(memory.last_question, memory.last_article, count)
        if count >= NOT_HELPFUL_LIMIT:
            return Handoff(HandoffReason.not_helpful), after
        return Rephrase(), after
    if button is not None and button.startswith("kb:"):
        return Answer(button[3:], 1.0), Memory("", button[3:], memory.not_helpful)
    question = normalise(text)
    if asks_for_person(text):
        return Handoff(HandoffReason.asked), memory
    if sounds_angry(text) or (question and question == memory.last_question):
        return Handoff(HandoffReason.frustrated), memory
    if match is None:
        return Handoff(HandoffReason.out_of_scope), memory
    if not match.answer:
        reason = (
            HandoffReason.out_of_scope
            if match.confidence < OUT_OF_SCOPE_BELOW
            else HandoffReason.unsure
        )
        return Handoff(reason), Memory(question, memory.last_article, memory.not_helpful)
    return Answer(match.category, match.confidence), Memory(
        question, match.category, memory.not_helpful
    )
