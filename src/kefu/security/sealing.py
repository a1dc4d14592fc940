"""Secrets kept in the database, sealed with a key derived from the server's secret key.

A sealed value is ``s1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>``: AES-256-GCM under a
key derived from ``KEFU_SECRET_KEY`` with HKDF-SHA256, with a fresh 96-bit nonce per seal and
the row it belongs to as associated data (a value copied into another row does not open).
The key id (8 hex digits, a digest of the derived key, not of the secret) says which key sealed
a value, so the secret key can be rotated: set the new ``KEFU_SECRET_KEY``, list the old one in
``KEFU_PREVIOUS_SECRET_KEYS``; values sealed with an old key still open and are sealed again
with the current key when they are next used, or all at once by ``kefu secrets reseal``. See
docs/security.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kefu.domain.errors import KefuError

VERSION = "s1"
_INFO = b"kefu sealed secrets v1"
_NONCE = 12


class SecretKeyMismatch(KefuError):
    """A sealed value that none of the configured keys opens: the server runs with another
    ``KEFU_SECRET_KEY`` than the one that sealed it. An operator's problem, not the user's."""

    code = "secret_key_mismatch"
    status = 500


@dataclass(frozen=True, slots=True)
class _Key:
    id: str
    aead: AESGCM


def _derive(secret_key: str) -> _Key:
    material = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode()
    )
    key_id = hmac.new(material, b"key id", hashlib.sha256).hexdigest()[:8]
    return _Key(key_id, AESGCM(material))


def is_sealed(value: str) -> bool:
    return value.startswith(VERSION + ".")


class SecretBox:
    """Seals with the current key; opens with the current or any previous one."""

    def __init__(self, secret_key: str, previous: Sequence[str] = ()) -> None:
        self._current = _derive(secret_key)
        self._keys = {k.id: k for k in (_derive(s) for s in [*previous, secret_key])}

    @property
    def key_id(self) -> str:
        return self._current.id

    def seal(self, plaintext: str, *, context: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._current.aead.encrypt(nonce, plaintext.encode(), context.encode())
        blob = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{VERSION}.{self._current.id}.{blob}"

    def open(self, value: str, *, context: str) -> str:
        """The plaintext of ``value``; :class:`SecretKeyMismatch` when no configured key
        opens it (wrong key, or a value that belongs to another row)."""
        version, key_id, blob = [*value.split(".", 2), "", ""][:3]
        if version != VERSION:
            raise SecretKeyMismatch(f"not a sealed value (format {version[:8]!r})")
        key = self._keys.get(key_id)
        if key is None:
            raise SecretKeyMismatch(
                f"a secret sealed with key {key_id} cannot be opened: this server's "
                f"KEFU_SECRET_KEY is key {self._current.id}; list the key it was sealed with in "
                "KEFU_PREVIOUS_SECRET_KEYS"
            )
        raw = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
        try:
            return key.aead.decrypt(raw[:_NONCE], raw[_NONCE:], context.encode()).decode()
        except InvalidTag:
            raise SecretKeyMismatch(
                f"a secret sealed with key {key_id} failed its integrity check"
            ) from None

    @property
    def current_prefix(self) -> str:
        """How every value sealed with the current key begins."""
        return f"{VERSION}.{self._current.id}."

    def is_current(self, value: str) -> bool:
        """Sealed with the current key (no need to seal it again)."""
        return value.startswith(self.current_prefix)


# A set of named values sealed together (an inbox's channel secrets): each is bound to the
# row's context and its own name, so a value moved to another name or row does not open.


def seal_field(box: SecretBox, name: str, value: str, *, context: str) -> str:
    return box.seal(value, context=f"{context}/{name}")


def open_fields(box: SecretBox, stored: Mapping[str, str], *, context: str) -> dict[str, str]:
    """The plaintexts of values sealed with :func:`seal_field`."""
    return {name: box.open(value, context=f"{context}/{name}") for name, value in stored.items()}


def reseal_fields(box: SecretBox, stored: Mapping[str, str], *, context: str) -> dict[str, str]:
    """``stored`` with every value not sealed with the current key sealed again with it."""
    return {
        name: value
        if box.is_current(value)
        else seal_field(box, name, box.open(value, context=f"{context}/{name}"), context=context)
        for name, value in stored.items()
    }


def fields_to_reseal(box: SecretBox, stored: Mapping[str, str]) -> bool:
    """Whether any value is sealed with a previous key (or is not sealed at all)."""
    return any(not box.is_current(value) for value in stored.values())
