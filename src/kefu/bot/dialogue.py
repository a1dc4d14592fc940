"""What the bot does with one customer turn: answer, reply to small talk, or hand off.

Pure functions over the customer's text (one turn may be several messages sent in a row), the
button they pressed, the conversation's bot memory and the trained matcher;
:mod:`kefu.actions.bot` carries the decision out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from kefu.bot import smalltalk
from kefu.bot.matching import Match
from kefu.bot.smalltalk import Kind


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


# Characters written only in traditional Chinese (their simplified forms differ): a text with
# one of them is read as zh-TW.
_TRADITIONAL = frozenset(
    "們這個說會為麼嗎時問題號碼運貨訂單帳戶錢還沒發讓與來對過後學點從當實現開關應該無給條"
    "買賣換價寄達謝幫辦費網頁證聯絡區間體機電話記錄處理"
)


def language_of(text: str, default: str = "en") -> str:
    """A coarse guess good enough to pick a reply language, as a canonical tag: kana → ja,
    Han → zh-CN (zh-TW with traditional-only characters), Latin letters → en, else
    ``default`` (text with no letters: emoji, punctuation, digits)."""
    han = traditional = False
    for ch in text:
        code = ord(ch)
        if 0x3040 <= code <= 0x30FF:
            return "ja"
        if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
            han = True
            traditional = traditional or ch in _TRADITIONAL
    if han:
        return "zh-TW" if traditional else "zh-CN"
    return "en" if any(ch.isalpha() for ch in text) else default


#: The stage the bot's memory keeps once the bot resolved the conversation.
RESOLVED_BY_BOT = "resolved"


@dataclass(frozen=True, slots=True)
class Memory:
    """What the bot remembers of a conversation between turns."""

    last_question: str = ""
    last_article: str | None = None  # the matcher category (article id) last answered
    not_helpful: int = 0
    # Where the "Did this help?" exchange stands: "" (no answer yet), "asked" (an answer and
    # the question are out), "rephrase" (the customer said no; asked to say it otherwise),
    # "helped" (the customer said it helped), RESOLVED_BY_BOT (the bot resolved the
    # conversation: a customer who writes again gets the bot afresh, see
    # kefu.actions.conversations.wake).
    stage: str = ""

    def but(self, *, stage: str | None = None, not_helpful: int | None = None) -> Memory:
        return Memory(
            self.last_question,
            self.last_article,
            self.not_helpful if not_helpful is None else not_helpful,
            self.stage if stage is None else stage,
        )


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


@dataclass(frozen=True, slots=True)
class Greet:
    """A greeting after the welcome menu went out: a short greeting back, no menu."""


@dataclass(frozen=True, slots=True)
class Close:
    """Thanks or goodbye: a polite close; ``resolve`` when the customer's question was
    answered (the conversation is then resolved)."""

    resolve: bool


@dataclass(frozen=True, slots=True)
class Prompt:
    """An acknowledgement or an emoji with no question before it: invite the question."""


@dataclass(frozen=True, slots=True)
class Silent:
    """Nothing to say (a greeting answered by the welcome menu, "ok" after an answer)."""


Decision = Handoff | Answer | Thanks | Rephrase | Greet | Close | Prompt | Silent


def question_of(texts: str | Sequence[str]) -> tuple[str, Kind | None]:
    """The question in a turn's messages, each without a greeting it opens with, and messages
    that are small talk left out; with the turn's small talk when there is no question."""
    parts: list[str] = []
    kinds: list[Kind] = []
    for text in [texts] if isinstance(texts, str) else texts:
        reading = smalltalk.read(text)
        if reading.kind is not None:
            kinds.append(reading.kind)
        elif reading.rest.strip():
            parts.append(reading.rest.strip())
    small = smalltalk.strongest(kinds) or (Kind.empty if kinds else None)
    return " ".join(parts), small


def _small_talk(kind: Kind, memory: Memory, greeted: bool) -> tuple[Decision, Memory]:
    stage = memory.stage
    match kind:
        case Kind.greeting:
            return (Silent() if greeted else Greet()), memory
        case Kind.thanks | Kind.goodbye:
            answered = stage in ("asked", "helped")
            return Close(answered), memory.but(stage="helped" if answered else stage)
        case Kind.no if stage in ("asked", "rephrase"):
            return _not_helpful(memory)
        case Kind.no if stage == "helped":
            return Close(True), memory  # "no, nothing else"
        case Kind.yes | Kind.ack if stage == "asked":
            return Thanks(), memory.but(stage="helped", not_helpful=0)
    if stage == "":
        return Prompt(), memory
    return Silent(), memory


def _not_helpful(memory: Memory) -> tuple[Decision, Memory]:
    after = memory.but(stage="rephrase", not_helpful=memory.not_helpful + 1)
    if after.not_helpful >= NOT_HELPFUL_LIMIT:
        return Handoff(HandoffReason.not_helpful), after
    return Rephrase(), after


def decide(
    text: str | Sequence[str],
    button: str | None,
    memory: Memory,
    match: Match | None,
    *,
    greeted: bool = False,
) -> tuple[Decision, Memory]:
    """One turn: ``text`` is the customer's message, or the messages they sent in a row.
    ``match`` is the matcher's reading of :func:`question_of` ``text`` (None when the
    workspace has no trained matcher, or the turn holds no question); ``greeted``: the welcome
    menu went out just before this turn."""
    if button == "handoff":
        return Handoff(HandoffReason.button), memory
    if button == "helpful_yes":
        return Thanks(), memory.but(stage="helped", not_helpful=0)
    if button == "helpful_no":
        return _not_helpful(memory)
    if button is not None and button.startswith("kb:"):
        return Answer(button[3:], 1.0), Memory("", button[3:], memory.not_helpful, "asked")
    whole = text if isinstance(text, str) else "\n".join(text)
    if asks_for_person(whole):
        return Handoff(HandoffReason.asked), memory
    asked, small = question_of(text)
    if not asked and small is not None:
        return _small_talk(small, memory, greeted)
    question = normalise(asked)
    if sounds_angry(whole) or (question and question == memory.last_question):
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
        question, match.category, memory.not_helpful, "asked"
    )
