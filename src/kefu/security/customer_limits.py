"""Budgets for what customers write, one per visitor session and one per client address.

The socket and HTTP draw on the same keys, so a visitor cannot double its rate by using both;
the socket's own token bucket (``TokenBucket``) only smooths frames on top of this.
"""

from __future__ import annotations

import uuid

from kefu.config import Settings
from kefu.security.ratelimit import Limiter


async def admit_customer_send(
    limiter: Limiter, settings: Settings, session_id: uuid.UUID, ip: str
) -> None:
    """Count one message a customer sends; ``429 rate_limited`` past either budget."""
    await limiter.require(
        f"send:ip:{ip}",
        settings.customer_sends_per_minute_per_ip,
        60,
        "too many messages from this address; wait",
    )
    await limiter.require(
        f"send:session:{session_id}",
        settings.customer_sends_per_minute,
        60,
        "too many messages; wait",
    )


async def admit_start(limiter: Limiter, settings: Settings, session_id: uuid.UUID, ip: str) -> None:
    """Count one conversation a customer starts; ``429 rate_limited`` past either budget."""
    await limiter.require(
        f"start:ip:{ip}",
        settings.conversation_starts_per_minute_per_ip,
        60,
        "too many new conversations from this address; wait",
    )
    await limiter.require(
        f"start:session:{session_id}",
        settings.conversation_starts_per_minute,
        60,
        "too many new conversations; wait",
    )


CONTEXT_REPORTS_PER_MINUTE = 20  # page changes a widget reports (it sends at most one a second)


async def admit_context_report(limiter: Limiter, session_id: uuid.UUID) -> None:
    """Count one visitor-context report; ``429 rate_limited`` past the session's budget."""
    await limiter.require(
        f"context:session:{session_id}",
        CONTEXT_REPORTS_PER_MINUTE,
        60,
        "too many page reports; wait",
    )
