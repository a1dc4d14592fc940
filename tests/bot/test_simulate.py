"""`kefu bot simulate`: scripted customers through the real engine, with a known outcome."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

KEFU = [sys.executable, "-m", "kefu.cli"]
DATA = Path(__file__).parent / "data"

CONVERSATIONS = [
    # greeting, question, thanks: answered, resolved, deflected
    {
        "language": "en",
        "turns": [
            {"say": "Hi", "expect": "no_handoff"},
            {"say": "how long does a refund take", "expect": "answer:refund"},
            {"say": "thanks!", "expect": "no_handoff"},
        ],
    },
    # a question in pieces, then a person asked for
    {
        "language": "en",
        "turns": [
            {"say": ["hello", "how do I reset", "my password"], "expect": "answer:password"},
            {"say": "I want to talk to a person", "expect": "handoff"},
        ],
    },
    # "no" twice; a wrong expectation on purpose (the article is "shipping", not "refund")
    {
        "language": "en",
        "turns": [
            {"say": "where is my parcel", "expect": "answer:refund"},
            {"say": "no", "expect": "no_handoff"},
            {"say": "no", "expect": "handoff"},
        ],
    },
    # an out-of-scope question, expected (wrongly) to be answered: a needless hand-off
    {
        "language": "en",
        "turns": [
            {"say": "ok", "expect": "no_handoff"},
            {"say": "what is the capital city of Peru", "expect": "answer:refund"},
        ],
    },
    # a goodbye expected (wrongly) to hand off: missed, and trapped when asked for a person
    {
        "language": "en",
        "turns": [
            {"say": "bye", "expect": "handoff", "person": True},
        ],
    },
]


def test_simulate_a_tiny_set(tmp_path: Path) -> None:
    conv = tmp_path / "conv.jsonl"
    conv.write_text("\n".join(json.dumps(c) for c in CONVERSATIONS), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    done = subprocess.run(
        [
            *KEFU,
            "bot",
            "simulate",
            "--kb",
            str(DATA / "faq_en_kb.csv"),
            "--conversations",
            str(conv),
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "backend": "tfidf",
        "conversations": 5,
        "turns": 11,
        "turns_correct": 8,
        "turn_accuracy": 0.7273,
        "wrong_answers": 1,
        "needless_handoffs": 1,
        "missed_handoffs": 1,
        "trapped": 1,
        "deflection": 0.4,
    }


def test_simulate_refuses_bad_files(tmp_path: Path) -> None:
    conv = tmp_path / "conv.jsonl"
    conv.write_text('{"turns": [{"say": "hi", "expect": "maybe"}]}\n', encoding="utf-8")
    done = subprocess.run(
        [
            *KEFU,
            "bot",
            "simulate",
            "--kb",
            str(DATA / "faq_en_kb.csv"),
            "--conversations",
            str(conv),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and "line 1" in done.stderr and done.stdout == ""
