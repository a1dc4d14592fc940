"""Build the scripted conversations `kefu bot simulate` is measured on (docs/bot.md).

    python benchmarks/bot_conversations.py /work/shared/data benchmarks/conversations

writes ``kb.csv`` (text,category,language) and ``conversations.jsonl``. English: 20 Banking77
intents, 60 example questions each in the knowledge base; the questions customers ask are
other, unseen Banking77 questions of the same intents, and out-of-scope ones are CLINC150
``oos_val``. Chinese and Japanese: the FAQ fixtures of tests/bot/data, customers asking the
held-out test questions. Each conversation follows one of the shapes below, with small talk
in the customer's language. Deterministic (seeded)."""

from __future__ import annotations

import csv
import json
import random
import sys
from pathlib import Path

EN_INTENTS = (
    "card_arrival",
    "lost_or_stolen_card",
    "pin_blocked",
    "change_pin",
    "exchange_rate",
    "top_up_failed",
    "failed_transfer",
    "request_refund",
    "transfer_not_received_by_recipient",
    "cash_withdrawal_charge",
    "declined_card_payment",
    "activate_my_card",
    "age_limit",
    "apple_pay_or_google_pay",
    "card_delivery_estimate",
    "edit_personal_details",
    "passcode_forgotten",
    "terminate_account",
    "verify_my_identity",
    "wrong_amount_of_cash_received",
)
KB_PER_INTENT = 60
SMALL = {
    "en": {
        "hi": ["Hi", "hello", "Hello there!", "hey", "good morning", "hi there :)"],
        "thanks": ["thanks", "Thank you!", "thanks a lot", "thx", "great, thanks"],
        "bye": ["bye", "goodbye!", "no thanks, that's all"],
        "ack": ["ok", "okay", "got it", "👍", "..."],
        "yes": ["yes", "yep", "Yes it did"],
        "no": ["no", "nope", "not really"],
        "person": [
            "I want to talk to a person",
            "can I speak to a human please",
            "agent please",
            "let me talk to customer service",
        ],
        "join": ", ",
    },
    "zh-CN": {
        "hi": ["你好", "您好", "你好呀", "在吗？", "hi"],
        "thanks": ["谢谢", "谢谢！", "好的，谢谢", "非常感谢"],
        "bye": ["再见", "拜拜", "没事了，谢谢"],
        "ack": ["好的", "嗯嗯", "了解", "收到", "👌"],
        "yes": ["是的", "有帮助", "对"],
        "no": ["没有", "不是", "没有帮助"],
        "person": ["转人工", "我要找人工客服", "请帮我转真人"],
        "join": "，",
    },
    "ja": {
        "hi": ["こんにちは", "こんばんは", "すみません", "はじめまして"],
        "thanks": ["ありがとうございます", "ありがとう！", "助かりました"],
        "bye": ["失礼します", "さようなら", "以上です"],
        "ack": ["わかりました", "了解です", "承知しました", "なるほど"],
        "yes": ["はい", "はい、解決しました"],
        "no": ["いいえ", "違います"],
        "person": ["オペレーターと話したい", "担当者につないでください", "人間と話したいです"],
        "join": "、",
    },
}


def _rows(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8") as f:
        return [(r["text"], r["category"]) for r in csv.DictReader(f)]


def _split(q: str, lang: str) -> list[str]:
    """A question cut in two messages, as customers type it."""
    if lang == "en":
        words = q.split()
        cut = max(1, len(words) // 2)
        return [" ".join(words[:cut]), " ".join(words[cut:])]
    cut = max(1, len(q) // 2)
    return [q[:cut], q[cut:]]


def _conversation(rng: random.Random, lang: str, q: str, cat: str, oos: str | None) -> dict:
    s = SMALL[lang]
    say = lambda key: rng.choice(s[key])  # noqa: E731
    a = f"answer:{cat}"
    shape = rng.randrange(8)
    if oos is not None:
        turns = [{"say": say("hi"), "expect": "no_handoff"}, {"say": oos, "expect": "handoff"}]
    elif shape == 0:  # greeting first, then the question, then thanks
        turns = [
            {"say": say("hi"), "expect": "no_handoff"},
            {"say": q, "expect": a},
            {"say": say("thanks"), "expect": "no_handoff"},
        ]
    elif shape == 1:  # greeting and question in one message, yes, bye
        turns = [
            {"say": say("hi") + s["join"] + q, "expect": a},
            {"say": say("yes"), "expect": "no_handoff"},
            {"say": say("bye"), "expect": "no_handoff"},
        ]
    elif shape == 2:  # the answer did not help, twice
        turns = [
            {"say": q, "expect": a},
            {"say": say("no"), "expect": "no_handoff"},
            {"say": say("no"), "expect": "handoff"},
        ]
    elif shape == 3:  # a question in pieces
        turns = [
            {"say": [say("hi"), *_split(q, lang)], "expect": a},
            {"say": say("thanks"), "expect": "no_handoff"},
        ]
    elif shape == 4:  # a person, asked for after the menu
        turns = [
            {"say": say("hi"), "expect": "no_handoff"},
            {"say": say("person"), "expect": "handoff", "person": True},
        ]
    elif shape == 5:  # acknowledgements around an answer
        turns = [
            {"say": say("ack"), "expect": "no_handoff"},
            {"say": q, "expect": a},
            {"say": say("ack"), "expect": "no_handoff"},
            {"say": say("bye"), "expect": "no_handoff"},
        ]
    elif shape == 6:  # a question, then a person anyway
        turns = [
            {"say": q, "expect": a},
            {"say": say("person"), "expect": "handoff", "person": True},
        ]
    else:  # just the question
        turns = [{"say": q, "expect": a}, {"say": say("thanks"), "expect": "no_handoff"}]
    return {"language": lang, "turns": turns}


def main(data: Path, out: Path) -> None:
    rng = random.Random(19)
    fixtures = Path(__file__).resolve().parent.parent / "tests" / "bot" / "data"
    by_intent: dict[str, list[str]] = {}
    for text, cat in _rows(data / "banking77" / "train.csv"):
        if cat in EN_INTENTS:
            by_intent.setdefault(cat, []).append(text)
    kb: list[tuple[str, str, str]] = []
    asks: list[tuple[str, str, str]] = []
    for cat in EN_INTENTS:
        texts = by_intent[cat]
        rng.shuffle(texts)
        kb += [(t, cat, "en") for t in texts[:KB_PER_INTENT]]
        asks += [("en", t, cat) for t in texts[KB_PER_INTENT:][:4]]
    for lang, name in (("zh-CN", "zh"), ("ja", "ja")):
        kb += [(t, c, lang) for t, c in _rows(fixtures / f"faq_{name}_kb.csv")]
        asks += [(lang, t, c) for t, c in _rows(fixtures / f"faq_{name}_test.csv")]
    oos = [q for q, _ in json.loads((data / "clinc150" / "dev.json").read_text())["oos_val"]]
    # The fixtures' "oos" rows are questions no article answers: the bot must hand them off.
    conversations = [
        _conversation(rng, lang, q, cat, q if cat == "oos" else None) for lang, q, cat in asks
    ]
    conversations += [_conversation(rng, "en", "", "", q) for q in oos[:25]]
    out.mkdir(parents=True, exist_ok=True)
    with (out / "kb.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "category", "language"])
        w.writerows(kb)
    with (out / "conversations.jsonl").open("w", encoding="utf-8") as f:
        for c in conversations:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    print(f"{len(kb)} knowledge-base questions, {len(conversations)} conversations")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
