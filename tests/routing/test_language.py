from __future__ import annotations

from kefu.routing.language import detect, detector, supported


def test_detects_among_the_workspace_languages() -> None:
    codes = ["en", "zh", "ja"]
    assert detect("我想退货，订单还没到", codes) == "zh"
    assert detect("注文した商品がまだ届きません", codes) == "ja"
    assert detect("Where is my order? It has not arrived yet.", codes) == "en"


def test_nothing_to_choose_from_or_nothing_to_read() -> None:
    assert detect("hello there", ["en"]) is None
    assert detect("hello there", []) is None
    assert detect("   ", ["en", "zh"]) is None
    assert detect("12345", ["en", "zh"]) is None


def test_unknown_codes_are_ignored_and_detectors_are_shared() -> None:
    assert supported("xx") is None
    assert detector(["en", "zh", "xx"]) is detector(["zh", "en"])
