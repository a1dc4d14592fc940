"""Sign-in limits that slow the guesser down, not the account's owner.

Attempts are counted per (account, client address): past ``KEFU_LOGIN_ATTEMPTS_PER_MINUTE`` in a
minute that address is put on hold for a minute, and each later burst from it doubles the hold
(up to ``KEFU_LOGIN_HOLD_MAX_SECONDS``; strikes are forgotten a day after the first). Refused
attempts are answered at once with ``429`` and ``Retry-After`` (the server never sleeps on a
request) and are not counted anywhere else, so a guesser on hold costs the account nothing. The
owner, from any other address, keeps signing in; only the per-account ceiling (10× by default,
from every address together) and the per-address limit (3×, over all accounts) bound a guesser
that spreads over many addresses or many accounts.
"""

from __future__ import annotations

import hashlib

from kefu.config import Settings
from kefu.domain.errors import RateLimited
from kefu.security.ratelimit import Limiter

STRIKES_SECONDS = 86_400
FIRST_HOLD_SECONDS = 60


def _pair(email: str, ip: str) -> str:
    return hashlib.sha256(f"{email}\n{ip}".encode()).hexdigest()[:32]


async def admit_sign_in(limiter: Limiter, settings: Settings, email: str, ip: str) -> None:
    """Count one sign-in attempt for ``email`` from ``ip``, or raise ``429 rate_limited``."""
    pair = _pair(email, ip)
    wait = await limiter.held(f"login:hold:{pair}")
    if wait:
        raise RateLimited("too many sign-in attempts from this address; wait", retry_after=wait)
    limit = settings.login_attempts_per_minute
    await limiter.require(f"login:ip:{ip}", limit * 3, 60, "too many sign-in attempts; wait")
    verdict = await limiter.hit(f"login:pair:{pair}", limit, 60)
    if not verdict.allowed:
        wait = verdict.retry_after
        if verdict.count == limit + 1:  # the first refusal of this burst: a strike
            strikes = await limiter.strike(f"login:strikes:{pair}", STRIKES_SECONDS)
            hold = FIRST_HOLD_SECONDS * 2 ** min(strikes - 1, 16)
            wait = max(wait, min(hold, settings.login_hold_max_seconds))
            await limiter.hold(f"login:hold:{pair}", wait)
        raise RateLimited("too many sign-in attempts from this address; wait", retry_after=wait)
    await limiter.require(
        f"login:account:{hashlib.sha256(email.encode()).hexdigest()[:32]}",
        settings.login_account_ceiling,
        60,
        "too many sign-in attempts for this account; wait",
    )
