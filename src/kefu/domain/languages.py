"""One reading of BCP 47 language tags for the whole product: the bot, the knowledge base, bot
and widget settings, routing and language detection all look a language up through here.

- :func:`canonical` writes a tag in its canonical case (``zh-CN``, ``ja``, ``en-US``,
  ``zh-Hant``) and folds the Chinese scripts onto the regions the product speaks
  (``zh-Hans`` → ``zh-CN``, ``zh-Hant`` → ``zh-TW``, ``zh-Hans-SG`` → ``zh-SG``).
- :func:`fallbacks` is the order in which a tag's texts are looked for: ``zh-HK`` → ``zh-TW``
  → ``zh``; ``zh-CN`` → ``zh``; ``en-GB`` → ``en``.
- :func:`pick` finds a tag's value in a mapping keyed by tags, through the fallbacks, then any
  key of the same language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TypeVar

V = TypeVar("V")

#: What a tag may look like before it is made canonical (``_`` is read as ``-``).
TAG = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
MAX_LENGTH = 16

#: The languages the bot speaks (its own texts and its language guess).
BOT_LANGUAGES = frozenset({"en", "zh", "ja"})

_SCRIPTS = {"zh-Hans": "zh-CN", "zh-Hant": "zh-TW"}
# A region's next best: traditional Chinese of Hong Kong and Macau reads as Taiwan's, then zh.
_NEXT = {"zh-MO": "zh-HK", "zh-HK": "zh-TW", "zh-SG": "zh-CN"}


class LanguageTagError(ValueError):
    """Not a language tag."""


def canonical(tag: str) -> str:
    """``tag`` in canonical form; :class:`LanguageTagError` when it is not a language tag."""
    if len(tag) > MAX_LENGTH or not TAG.match(tag):
        raise LanguageTagError("a language tag like en, zh-CN or ja")
    parts = tag.replace("_", "-").split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())  # script
        elif len(part) == 2 or (len(part) == 3 and part.isdigit()):
            out.append(part.upper())  # region
        else:
            out.append(part.lower())
    if out[0] == "zh" and len(out) > 1 and out[1] in ("Hans", "Hant"):
        script = _SCRIPTS[f"zh-{out[1]}"]
        if len(out) > 2 and len(out[2]) == 2:
            return f"zh-{out[2]}"  # zh-Hant-HK → zh-HK
        return script
    return "-".join(out)


def primary(tag: str) -> str:
    """The language subtag of a tag (``zh-CN`` → ``zh``); an unreadable tag is returned folded."""
    return tag.replace("_", "-").split("-")[0].lower()


def fallbacks(tag: str) -> tuple[str, ...]:
    """Where to look for ``tag``'s texts, best first (the tag itself first)."""
    try:
        current = canonical(tag)
    except LanguageTagError:
        return (primary(tag),)
    chain = [current]
    while current in _NEXT:
        current = _NEXT[current]
        chain.append(current)
    base = primary(chain[0])
    if base not in chain:
        chain.append(base)
    return tuple(chain)


def pick(mapping: Mapping[str, V], tag: str) -> V | None:
    """``mapping``'s value for ``tag`` (keys in any case): through :func:`fallbacks`, then the
    first key, in sorted order, of the same language (a ``zh-CN`` text for a ``zh`` reader)."""
    keys: dict[str, str] = {}
    for key in mapping:
        try:
            keys.setdefault(canonical(key), key)
        except LanguageTagError:
            continue
    for candidate in fallbacks(tag):
        if candidate in keys:
            return mapping[keys[candidate]]
    base = primary(tag)
    for candidate in sorted(keys):
        if primary(candidate) == base:
            return mapping[keys[candidate]]
    return None


def rank(tag: str, wanted: str) -> int | None:
    """How well content in ``tag`` serves a reader of ``wanted``: 0 best, None not at all."""
    chain = fallbacks(wanted)
    try:
        have = canonical(tag)
    except LanguageTagError:
        return None
    if have in chain:
        return chain.index(have)
    return len(chain) if primary(have) == primary(wanted) else None


def bot_usable(tag: str) -> bool:
    """Whether the bot can ever reply in ``tag`` (it guesses and speaks only these)."""
    return primary(tag) in BOT_LANGUAGES


def same_language(a: str, b: str) -> bool:
    return primary(a) == primary(b)


def covered(tag: str, tags: Iterable[str]) -> bool:
    """Whether a person speaking any of ``tags`` reads ``tag`` (by language, not region)."""
    base = primary(tag)
    return any(primary(t) == base for t in tags)
