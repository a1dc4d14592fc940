"""The list's pure rules; web/agent/src/inbox/triage.test.ts checks the same vectors."""

from __future__ import annotations

import uuid

from kefu.domain.triage import PREVIEW_MAX, preview_of, visitor_name

VECTORS = {
    "01a252c0-72b0-707a-8b6b-43d22d7fd301": "Blue Heron 75",
    "00000000-0000-7000-8000-000000000000": "Amber Badger 10",
    "01a252c0-6ef1-7013-a9c2-ffffffffffff": "Violet Penguin 70",
}


def test_visitor_names_are_stable_and_shared_with_the_app() -> None:
    for cid, name in VECTORS.items():
        assert visitor_name(uuid.UUID(cid)) == name
    names = {visitor_name(uuid.uuid4()) for _ in range(2000)}
    assert len(names) > 1500  # 34,560 combinations: few repeats among 2,000 visitors


def test_preview_folds_whitespace_and_counts_code_points() -> None:
    assert preview_of("  a\n\tb  ") == "a b"
    long = preview_of(" a\n\tb  😀" * 50)
    assert len(long) == PREVIEW_MAX and long.startswith("a b 😀 a b")
    assert preview_of("") == ""
