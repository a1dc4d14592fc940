"""Turns that are not questions: greetings, thanks, goodbyes, acknowledgements, yes and no,
emoji and punctuation alone, in English, Chinese and Japanese.

Deterministic: the text is normalised (NFKC, case-folded, punctuation and emoji removed, the
emoji's meaning kept), then read left to right as a sequence of known phrases and filler words.
A text made of phrases and fillers only is small talk; its kind is the strongest phrase's
(thanks over goodbye over no over yes over acknowledgement over greeting). A greeting that
opens a question is cut off (:func:`without_greeting`), so the question is matched alone.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    thanks = "thanks"
    goodbye = "goodbye"
    no = "no"
    yes = "yes"
    ack = "ack"
    greeting = "greeting"
    empty = "empty"  # emoji or punctuation only, with no meaning we know


_STRENGTH = (Kind.thanks, Kind.goodbye, Kind.no, Kind.yes, Kind.ack, Kind.greeting)

_PHRASES: dict[Kind, tuple[str, ...]] = {
    Kind.greeting: (
        "hi",
        "hii",
        "hiii",
        "hello",
        "helo",
        "hallo",
        "hey",
        "heya",
        "hiya",
        "howdy",
        "yo",
        "good morning",
        "good afternoon",
        "good evening",
        "good day",
        "morning",
        "greetings",
        "anyone there",
        "is anyone there",
        "anybody there",
        "are you there",
        "you there",
        "how are you",
        "how r u",
        "how are you doing",
        "你好",
        "您好",
        "嗨",
        "哈喽",
        "哈啰",
        "哈囉",
        "嘿",
        "在吗",
        "在嗎",
        "在不在",
        "有人吗",
        "有人嗎",
        "早上好",
        "上午好",
        "中午好",
        "下午好",
        "晚上好",
        "早安",
        "午安",
        "晚安",
        "大家好",
        "你好啊",
        "こんにちは",
        "こんにちわ",
        "こんばんは",
        "おはよう",
        "おはようございます",
        "はじめまして",
        "もしもし",
        "すみません",
        "すいません",
        "やあ",
        "どうも",
    ),
    Kind.thanks: (
        "thanks",
        "thank you",
        "thankyou",
        "thx",
        "thnx",
        "tks",
        "ty",
        "tysm",
        "cheers",
        "many thanks",
        "much appreciated",
        "appreciate it",
        "i appreciate it",
        "thanks a lot",
        "thanks a bunch",
        "that's helpful",
        "thats helpful",
        "very helpful",
        "that helps",
        "that helped",
        "great help",
        "谢谢",
        "謝謝",
        "多谢",
        "多謝",
        "感谢",
        "感謝",
        "谢了",
        "謝了",
        "谢啦",
        "感谢您",
        "非常感谢",
        "非常感謝",
        "太感谢了",
        "辛苦了",
        "麻烦了",
        "谢谢你",
        "谢谢您",
        "thank",
        "ありがとう",
        "ありがとうございます",
        "ありがとうございました",
        "どうもありがとう",
        "助かりました",
        "助かります",
        "感謝します",
        "お世話になりました",
        "サンキュー",
    ),
    Kind.goodbye: (
        "bye",
        "bye bye",
        "byebye",
        "goodbye",
        "good bye",
        "see you",
        "see ya",
        "cya",
        "later",
        "take care",
        "have a nice day",
        "have a good day",
        "good night",
        "no thanks",
        "no thank you",
        "that's all",
        "thats all",
        "that is all",
        "nothing else",
        "i'm done",
        "im done",
        "all good",
        "再见",
        "再見",
        "拜拜",
        "拜",
        "回见",
        "没事了",
        "沒事了",
        "没有了",
        "就这些",
        "さようなら",
        "さよなら",
        "では",
        "じゃあね",
        "またね",
        "失礼します",
        "失礼しました",
        "以上です",
        "大丈夫です",
    ),
    Kind.no: (
        "no",
        "nope",
        "nah",
        "not really",
        "no it didn't",
        "it didn't",
        "it did not",
        "didn't help",
        "did not help",
        "that didn't help",
        "not helpful",
        "no it did not",
        "not at all",
        "wrong",
        "不",
        "不是",
        "没有",
        "沒有",
        "没",
        "否",
        "没帮助",
        "没有帮助",
        "沒有幫助",
        "不对",
        "不對",
        "不行",
        "没解决",
        "没有解决",
        "沒解決",
        "いいえ",
        "いえ",
        "いや",
        "違います",
        "ちがう",
        "違う",
        "だめ",
        "ダメ",
        "だめでした",
        "解決しませんでした",
        "役に立たなかった",
    ),
    Kind.yes: (
        "yes",
        "yeah",
        "yea",
        "yep",
        "yup",
        "ya",
        "y",
        "sure",
        "it did",
        "yes it did",
        "it helped",
        "correct",
        "exactly",
        "right",
        "of course",
        "是",
        "是的",
        "对",
        "對",
        "对的",
        "對的",
        "有",
        "有帮助",
        "有幫助",
        "有用",
        "解决了",
        "解決了",
        "嗯",
        "嗯嗯",
        "恩",
        "はい",
        "うん",
        "ええ",
        "そうです",
        "解決しました",
        "役に立ちました",
    ),
    Kind.ack: (
        "ok",
        "okay",
        "okey",
        "k",
        "kk",
        "okk",
        "alright",
        "all right",
        "got it",
        "i see",
        "understood",
        "cool",
        "great",
        "perfect",
        "fine",
        "nice",
        "awesome",
        "good",
        "noted",
        "makes sense",
        "roger",
        "will do",
        "i understand",
        "gotcha",
        "好",
        "好的",
        "好滴",
        "好吧",
        "行",
        "可以",
        "知道了",
        "明白",
        "明白了",
        "了解",
        "了解了",
        "收到",
        "懂了",
        "好嘞",
        "哦",
        "噢",
        "喔",
        "わかりました",
        "分かりました",
        "了解です",
        "了解しました",
        "承知しました",
        "かしこまりました",
        "なるほど",
        "オッケー",
        "おけ",
        "おっけー",
        "りょ",
        "はーい",
    ),
}

# Words that carry nothing on their own: "hi there", "thanks so much", "你好呀", "はい、です".
_FILLERS = (
    "there",
    "so",
    "very",
    "much",
    "a",
    "lot",
    "you",
    "guys",
    "team",
    "all",
    "everyone",
    "again",
    "then",
    "oh",
    "ah",
    "um",
    "uh",
    "well",
    "just",
    "really",
    "and",
    "for",
    "your",
    "help",
    "the",
    "it",
    "that",
    "dear",
    "sir",
    "madam",
    "friend",
    "bot",
    "man",
    "呀",
    "啊",
    "哦",
    "噢",
    "啦",
    "嘛",
    "哈",
    "哈哈",
    "呢",
    "了",
    "的",
    "吧",
    "哈哈哈",
    "亲",
    "親",
    "您",
    "你",
    "么",
    "麼",
    "很",
    "非常",
    "哟",
    "喽",
    "咯",
    "です",
    "ます",
    "ね",
    "よ",
    "な",
    "さん",
    "さま",
    "様",
    "あ",
    "あの",
    "えっと",
    "ー",
    "本当に",
    "どうも",
    "ございます",
    "でした",
    "、",
)

# Emoji whose meaning we read; any other emoji or symbol is just removed.
_EMOJI: dict[str, Kind] = {
    "\U0001f44d": Kind.yes,  # thumbs up
    "\U0001f44c": Kind.ack,  # OK hand
    "\u2705": Kind.yes,  # check mark button
    "\u2714": Kind.yes,  # check mark
    "\U0001f197": Kind.ack,  # OK button
    "\U0001f64f": Kind.thanks,  # folded hands
    "\U0001f44b": Kind.greeting,  # waving hand
    "\U0001f44e": Kind.no,  # thumbs down
    "\u274c": Kind.no,  # cross mark
}

_TABLE: list[tuple[str, Kind | None]] = sorted(
    [(p, kind) for kind, phrases in _PHRASES.items() for p in phrases]
    + [(f, None) for f in _FILLERS],
    key=lambda item: -len(item[0]),
)


def _cased(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _meaningful(ch: str) -> bool:
    category = unicodedata.category(ch)
    return ch == "'" or not (category[0] in "PSZC" or (category == "Mn" and ord(ch) > 0x2FF))


@dataclass(frozen=True, slots=True)
class Reading:
    """What a text says as small talk: ``kind`` (None: it is not small talk) and, for a text
    that opens with a greeting, what follows it."""

    kind: Kind | None
    rest: str


def _clean(text: str) -> tuple[str, list[Kind]]:
    """The text with punctuation and emoji as spaces, and the meanings of its emoji."""
    kinds: list[Kind] = []
    out: list[str] = []
    for ch in _cased(text).replace("\u2019", "'"):
        if ch in _EMOJI:
            kinds.append(_EMOJI[ch])
            out.append(" ")
        else:
            out.append(ch if _meaningful(ch) else " ")
    return " ".join("".join(out).split()), kinds


def _boundary(text: str, end: int, phrase: str) -> bool:
    """Whether a phrase ending at ``end`` ends a word (CJK phrases always do)."""
    if end >= len(text) or text[end] == " ":
        return True
    return not (phrase[-1].isascii() and text[end].isascii() and text[end].isalnum())


def _next_phrase(text: str, at: int) -> tuple[int, Kind | None] | None:
    for phrase, kind in _TABLE:
        if text.startswith(phrase, at) and _boundary(text, at + len(phrase), phrase):
            return at + len(phrase), kind
    return None


def _read(text: str, only: frozenset[Kind] | None = None) -> tuple[list[Kind], int]:
    """Phrases and fillers from the start of ``text`` (of the kinds in ``only``, if given):
    their kinds, and where the first other word starts."""
    kinds: list[Kind] = []
    at = 0
    while at < len(text):
        if text[at] == " ":
            at += 1
            continue
        found = _next_phrase(text, at)
        if found is None:
            break
        end, kind = found
        if kind is not None and only is not None and kind not in only:
            break
        if kind is not None:
            kinds.append(kind)
        at = end
    return kinds, at


def strongest(kinds: list[Kind]) -> Kind | None:
    for kind in _STRENGTH:
        if kind in kinds:
            return kind
    return None


def classify(text: str) -> Kind | None:
    """The kind of small talk ``text`` is, or None when it is (or holds) a question."""
    clean, emoji = _clean(text)
    if len(clean) > 80:
        return None
    kinds, at = _read(clean)
    if at < len(clean):
        return None
    kind = strongest(kinds + emoji)
    if kind is None and not clean:
        return Kind.empty  # emoji or punctuation alone
    return kind


_GREETING = frozenset({Kind.greeting})


def without_greeting(text: str) -> str:
    """``text`` without the greeting it opens with ("hi, how long does shipping take?" → "how
    long does shipping take"); ``text`` itself when it does not open with one."""
    clean, _ = _clean(text)
    kinds, at = _read(clean, _GREETING)
    if not kinds or at >= len(clean):
        return text
    return clean[at:].strip()


def read(text: str) -> Reading:
    kind = classify(text)
    return Reading(kind, "" if kind is not None else without_greeting(text))
