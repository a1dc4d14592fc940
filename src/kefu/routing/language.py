"""Language detection of a customer's first message, among the languages a workspace routes
by (lingua, with only those languages' models loaded, so memory stays small)."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from kefu.domain.languages import primary

MAX_CHARS = 500  # the opening of a message says enough
_lock = threading.Lock()
_detectors: dict[frozenset[str], LanguageDetector] = {}
_KEEP = 4  # detectors kept for distinct language sets


def supported(code: str) -> Language | None:
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(primary(code)))
    except ValueError:
        return None


def detector(codes: Iterable[str]) -> LanguageDetector | None:
    """A detector for the supported ones of ``codes`` (None for fewer than two)."""
    languages = {lang for code in codes if (lang := supported(code)) is not None}
    if len(languages) < 2:
        return None
    key = frozenset(lang.iso_code_639_1.name.lower() for lang in languages)
    with _lock:
        found = _detectors.get(key)
        if found is None:
            if len(_detectors) >= _KEEP:
                _detectors.pop(next(iter(_detectors)))
            found = LanguageDetectorBuilder.from_languages(*languages).build()
            _detectors[key] = found
        return found


def detect(text: str, codes: Iterable[str]) -> str | None:
    """The ISO 639-1 code of ``text``'s language among ``codes``; None when unsure."""
    text = text.strip()[:MAX_CHARS]
    if not text:
        return None
    found = detector(codes)
    if found is None:
        return None
    lang = found.detect_language_of(text)
    return lang.iso_code_639_1.name.lower() if lang is not None else None
