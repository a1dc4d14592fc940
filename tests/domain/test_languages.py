"""One reading of language tags: canonical case, Chinese scripts, fallbacks, lookups."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kefu.domain.languages import (
    LanguageTagError,
    bot_usable,
    canonical,
    fallbacks,
    pick,
    rank,
)


@pytest.mark.parametrize(
    ("tag", "want"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("en-us", "en-US"),
        ("zh-cn", "zh-CN"),
        ("zh_CN", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("zh-hans", "zh-CN"),
        ("zh-Hant", "zh-TW"),
        ("zh-Hant-HK", "zh-HK"),
        ("zh-Hans-SG", "zh-SG"),
        ("ja", "ja"),
        ("ja-jp", "ja-JP"),
        ("es-419", "es-419"),
    ],
)
def test_canonical(tag: str, want: str) -> None:
    assert canonical(tag) == want


@pytest.mark.parametrize("tag", ["", "e", "not a language", "zh--CN", "12", "x" * 20])
def test_not_tags(tag: str) -> None:
    with pytest.raises(LanguageTagError):
        canonical(tag)


def test_fallbacks() -> None:
    assert fallbacks("zh-CN") == ("zh-CN", "zh")
    assert fallbacks("zh-Hans") == ("zh-CN", "zh")
    assert fallbacks("zh-HK") == ("zh-HK", "zh-TW", "zh")
    assert fallbacks("en-GB") == ("en-GB", "en")
    assert fallbacks("ja") == ("ja",)


def test_pick_finds_a_text_through_the_fallbacks() -> None:
    welcome = {"zh-CN": "您好", "en": "Hi", "zh-TW": "您好（繁）"}
    assert pick(welcome, "zh-CN") == "您好"
    assert pick(welcome, "zh") == "您好"  # the same language, first in order
    assert pick(welcome, "zh-HK") == "您好（繁）"
    assert pick(welcome, "en-GB") == "Hi"
    assert pick(welcome, "ja") is None
    assert pick({"zh": "您好"}, "zh-CN") == "您好"
    assert pick({"zh-cn": "您好"}, "zh-CN") == "您好"


def test_rank_and_usable() -> None:
    assert rank("zh-CN", "zh-CN") == 0 and rank("zh", "zh-CN") == 1
    assert rank("zh-TW", "zh-CN") == 2 and rank("en", "zh-CN") is None
    assert bot_usable("zh-Hant") and bot_usable("en-GB") and not bot_usable("fr")


# The cases the widget checks against its own reading (web/widget/test/lang.test.ts): both
# sides read every tag the same way.
WIDGET_CASES = json.loads(
    (Path(__file__).parents[2] / "web/widget/test/language-tags.json").read_text(encoding="utf-8")
)
WIDGET_LOCALES = {"en": "en", "zh-CN": "zh-CN", "ja": "ja"}


@pytest.mark.parametrize(("tag", "want"), WIDGET_CASES["canonical"])
def test_the_widgets_canonical_cases(tag: str, want: str) -> None:
    assert canonical(tag) == want


@pytest.mark.parametrize("tag", WIDGET_CASES["invalid"])
def test_the_widgets_invalid_cases(tag: str) -> None:
    with pytest.raises(LanguageTagError):
        canonical(tag)


@pytest.mark.parametrize(("tag", "want"), WIDGET_CASES["fallbacks"])
def test_the_widgets_fallback_cases(tag: str, want: list[str]) -> None:
    assert list(fallbacks(tag)) == want


@pytest.mark.parametrize(("mapping", "tag", "want"), WIDGET_CASES["pick"])
def test_the_widgets_pick_cases(mapping: dict[str, str], tag: str, want: str | None) -> None:
    assert pick(mapping, tag) == want


@pytest.mark.parametrize(("tags", "want"), WIDGET_CASES["locale"])
def test_the_widgets_locale_is_the_servers_pick(tags: list[str], want: str) -> None:
    """The widget speaks en, zh-CN and ja; for a customer's tags it chooses the first that
    the server's own lookup finds among those three."""
    found = next((got for t in tags if (got := pick(WIDGET_LOCALES, t)) is not None), "en")
    assert found == want
