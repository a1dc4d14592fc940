"""Signed links: one file, one variant, one conversation, until they expire."""

from __future__ import annotations

import uuid
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from kefu.attachments.signing import BUCKET, FileRef, expiry, signed_path, verify
from kefu.domain.errors import NotFound

SECRET = "s" * 40


def _ref() -> FileRef:
    return FileRef(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "original")


def _sig(path: str) -> tuple[int, str]:
    query = parse_qs(urlsplit(path).query)
    return int(query["expires"][0]), query["sig"][0]


def test_a_link_works_until_it_expires() -> None:
    ref = _ref()
    expires = expiry(900, now=1_000_000)
    assert expires % BUCKET == 0 and 1_000_900 <= expires < 1_000_900 + BUCKET
    at, sig = _sig(signed_path(SECRET, ref, expires))
    verify(SECRET, ref, at, sig, now=expires - 1)
    with pytest.raises(NotFound) as err:
        verify(SECRET, ref, at, sig, now=expires + 1)
    assert err.value.code == "link_invalid"


def test_a_link_opens_nothing_else() -> None:
    ref = _ref()
    at, sig = _sig(signed_path(SECRET, ref, 2_000_000_000))
    for other in (
        replace(ref, variant="thumbnail"),
        replace(ref, conversation_id=uuid.uuid4()),
        replace(ref, workspace_id=uuid.uuid4()),
        replace(ref, attachment_id=uuid.uuid4()),
    ):
        with pytest.raises(NotFound):
            verify(SECRET, other, at, sig)
    with pytest.raises(NotFound):
        verify("another secret" * 3, ref, at, sig)
    with pytest.raises(NotFound):
        verify(SECRET, ref, at + BUCKET, sig)


@pytest.mark.parametrize("sig", ["\x80Úv\x9c\x1ba", "签名", "é" * 40])
def test_a_signature_beyond_ascii_is_a_forged_link(sig: str) -> None:
    """Found by the API fuzzer: compare_digest refuses non-ASCII str (a 500 before)."""
    with pytest.raises(NotFound) as err:
        verify(SECRET, _ref(), 2_000_000_000, sig, now=1_000_000)
    assert err.value.code == "link_invalid"
