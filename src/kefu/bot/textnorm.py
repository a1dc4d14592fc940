"""Text normalisation and tokens for the n-gram matcher, one form per way of writing a question.

A customer may write the same question in full-width or half-width forms, in traditional or
simplified characters, in Taiwan's or the mainland's words. :func:`normalise` maps them to one
form before any n-gram is counted, for the example questions and the question alike:

- NFKC (full-width letters, digits and punctuation → half-width, compatibility ideographs →
  unified ones) and case folding;
- for text with Han characters only: traditional → simplified with OpenCC's ``tw2sp``
  conversion (characters, variants and Taiwan's phrases: 帳號 → 账号, 軟體 → 软件), then the
  few variants the conversion keeps apart that a support question means the same by (帐 → 账).

:data:`TOKEN_PATTERN` is the word block's token: a run of letters or digits, as for English, but
every Han or kana character alone. Chinese and Japanese have no spaces, so the plain pattern
makes a whole question one "word" that no other question shares: the word block was then empty
for almost every Chinese question asked, while it carried half the weight of every example
question the classifier was trained on.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opencc import OpenCC

#: Longest question the matcher reads; the rest is ignored (bounds the cost of one query).
MAX_QUERY_CHARS = 1000

#: Kana, CJK unified ideographs (with extension A) and compatibility ideographs.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")

#: Word-block tokens: one Han or kana character, or a run of other letters and digits.
TOKEN_PATTERN = rf"(?u)[{_CJK}]|[^\W{_CJK}]+"

#: Variants OpenCC leaves apart (both are simplified forms) that mean the same in a question.
_VARIANTS = str.maketrans({"帐": "账"})


@cache
def _to_simplified() -> OpenCC:
    """One converter per process, loaded on first use (its dictionaries take ~0.1 s); it
    keeps no state between conversions, so threads share it."""
    from opencc import OpenCC

    return OpenCC("tw2sp")


def simplified(text: str) -> str:
    """Traditional characters and Taiwan's phrasing as simplified Chinese (other text as is)."""
    if not _CJK_CHAR.search(text):
        return text
    # The converter reads a C string: a NUL would end the text, a lone surrogate can't be sent.
    safe = text.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")
    converted: str = _to_simplified().convert(safe)
    return converted.translate(_VARIANTS)


def normalise(text: str) -> str:
    """The form n-grams are counted on (the first :data:`MAX_QUERY_CHARS` characters)."""
    return simplified(unicodedata.normalize("NFKC", text[:MAX_QUERY_CHARS]).casefold())
