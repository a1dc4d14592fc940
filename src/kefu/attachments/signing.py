"""Signed, expiring download URLs, each scoped to one workspace, conversation, attachment and
variant. Anyone holding the URL may fetch that one file until it expires; nothing else."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from typing import Literal

from kefu.domain.errors import NotFound

Variant = Literal["original", "thumbnail"]
PREFIX = "/api/files"
BUCKET = 300  # expiries are rounded up to this, so a URL stays the same (cacheable) for a while


@dataclass(frozen=True, slots=True)
class FileRef:
    workspace_id: uuid.UUID
    conversation_id: uuid.UUID
    attachment_id: uuid.UUID
    variant: Variant


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"kefu attachment url v1", hashlib.sha256).digest()


def _sig(secret: str, ref: FileRef, expires: int) -> str:
    text = f"{ref.workspace_id}:{ref.conversation_id}:{ref.attachment_id}:{ref.variant}:{expires}"
    return hmac.new(_key(secret), text.encode(), hashlib.sha256).hexdigest()[:40]


def expiry(lifetime: int, now: float | None = None) -> int:
    at = int(now if now is not None else time.time()) + lifetime
    return -(-at // BUCKET) * BUCKET


def signed_path(secret: str, ref: FileRef, expires: int) -> str:
    return (
        f"{PREFIX}/{ref.workspace_id}/{ref.conversation_id}/{ref.attachment_id}"
        f"?variant={ref.variant}&expires={expires}&sig={_sig(secret, ref, expires)}"
    )


def verify(secret: str, ref: FileRef, expires: int, sig: str, now: float | None = None) -> None:
    """A forged and an expired link get the same answer (404 ``link_invalid``), so neither
    tells more than the other."""
    # Bytes, not str: ``compare_digest`` refuses (TypeError) a str with non-ASCII characters.
    good = hmac.compare_digest(_sig(secret, ref, expires).encode(), sig.encode(errors="replace"))
    if not good or expires < (now if now is not None else time.time()):
        raise NotFound("file not found or link expired", code="link_invalid")
