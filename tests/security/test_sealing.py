"""Sealed secrets: what a stored value reveals, which keys open it, and how it fails."""

from __future__ import annotations

import pytest

from kefu.security.sealing import SecretBox, SecretKeyMismatch, is_sealed

KEY = "k" * 40
OLD = "o" * 40


def test_round_trip_with_a_fresh_nonce() -> None:
    box = SecretBox(KEY)
    a, b = (
        box.seal("JBSWY3DPEHPK3PXP", context="row/1"),
        box.seal("JBSWY3DPEHPK3PXP", context="row/1"),
    )
    assert a != b and is_sealed(a) and "JBSWY3DPEHPK3PXP" not in a
    assert box.open(a, context="row/1") == box.open(b, context="row/1") == "JBSWY3DPEHPK3PXP"
    assert a.split(".")[1] == box.key_id and box.is_current(a)


def test_bound_to_its_row() -> None:
    box = SecretBox(KEY)
    sealed = box.seal("secret", context="row/1")
    with pytest.raises(SecretKeyMismatch, match="integrity"):
        box.open(sealed, context="row/2")


def test_tampering_is_refused() -> None:
    box = SecretBox(KEY)
    sealed = box.seal("secret", context="row/1")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(SecretKeyMismatch):
        box.open(flipped, context="row/1")


def test_rotation_and_a_wrong_key() -> None:
    old = SecretBox(OLD).seal("secret", context="row/1")
    rotated = SecretBox(KEY, [OLD])
    assert rotated.open(old, context="row/1") == "secret"
    assert not rotated.is_current(old)
    with pytest.raises(SecretKeyMismatch, match="KEFU_PREVIOUS_SECRET_KEYS") as err:
        SecretBox(KEY).open(old, context="row/1")
    assert err.value.code == "secret_key_mismatch" and err.value.status == 500
    with pytest.raises(SecretKeyMismatch, match="not a sealed value"):
        SecretBox(KEY).open("JBSWY3DPEHPK3PXP", context="row/1")
