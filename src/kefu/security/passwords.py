"""Password hashing with Argon2id, and the strength rule every new password meets.
Both are CPU-bound: callers run them in a thread (the ``_async`` functions do).

A new password is at least :data:`MIN_LENGTH` characters and scores at least
:data:`MIN_SCORE` (of 4) with zxcvbn, which knows common passwords, dictionary words, names,
keyboard walks, dates, repeats and l33t spellings, and is told the person's own email and name.
The only way to a :data:`PasswordHash` (what the actions that set a password take) is
:func:`hash_new_password`, so no path can store a password that was not checked.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Sequence
from typing import NewType

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

from kefu.domain.errors import InvalidInput

MIN_LENGTH = 10
MIN_SCORE = 3  # zxcvbn: "safely unguessable", about 10^8 guesses or more
_CHECKED_CHARS = 72  # zxcvbn's own limit; its cost grows quickly with length
# zxcvbn keeps the user inputs of a call in a module-level dictionary: one call at a time.
_ZXCVBN = threading.Lock()

# The hash of a password that met the strength rule.
PasswordHash = NewType("PasswordHash", str)

_hasher = PasswordHasher()
# A real hash of a random string, verified when the email is unknown so timing tells nothing.
_DUMMY = _hasher.hash("kefu-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(hashed: str | None, password: str) -> bool:
    try:
        return _hasher.verify(hashed or _DUMMY, password) and hashed is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password_async(hashed: str | None, password: str) -> bool:
    return await asyncio.to_thread(verify_password, hashed, password)


def check_password(password: str, user_inputs: Sequence[str] = ()) -> None:
    """:class:`InvalidInput` ``weak_password`` (422) with a message that says why, unless
    ``password`` meets the rule. ``user_inputs``: the person's email, name and the like."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            f"choose a password of at least {MIN_LENGTH} characters; "
            "a few uncommon words make a good one",
            code="weak_password",
        )
    words = [w for item in user_inputs for w in re.split(r"[@.\s_\-+]+", item.lower()) if w]
    with _ZXCVBN:
        result = zxcvbn(password[:_CHECKED_CHARS], user_inputs=[*user_inputs, *words, "kefu"])
    if result["score"] < MIN_SCORE:
        feedback = result.get("feedback") or {}
        hints = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
        why = " ".join(h.strip() for h in hints if h and h.strip())
        raise InvalidInput(
            "this password is too easy to guess"
            + (f": {why}" if why else "")
            + " Choose a longer one, e.g. a few uncommon words.",
            code="weak_password",
        )


def hash_new_password(password: str, user_inputs: Sequence[str] = ()) -> PasswordHash:
    """Check ``password`` against the strength rule, then hash it."""
    check_password(password, user_inputs)
    return PasswordHash(hash_password(password))


async def hash_new_password_async(password: str, user_inputs: Sequence[str] = ()) -> PasswordHash:
    return await asyncio.to_thread(hash_new_password, password, user_inputs)
