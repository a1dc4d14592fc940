"""A Redis-backed limit store that survives Redis: while Redis cannot be reached, limits are
counted in this node's memory (so they hold per node, never fail the request and never open),
and Redis is used again as soon as it answers."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from kefu.security.ratelimit import MemoryStore, RedisStore, Store

log = logging.getLogger(__name__)

T = TypeVar("T")
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class FallbackStore:
    """Every operation goes to Redis (which retries once on a fresh connection); if that
    fails too, to memory, and for ``pause`` seconds after a failure straight to memory, apart
    from one request at a time that tries Redis again. A warning is logged when Redis is lost
    (and at most every ``warn_every`` seconds while it stays lost), and one when it is back."""

    def __init__(
        self,
        primary: RedisStore,
        memory: MemoryStore | None = None,
        *,
        pause: float = 2.0,
        warn_every: float = 60.0,
    ) -> None:
        self.primary = primary
        self.memory = memory if memory is not None else MemoryStore()
        self.pause, self.warn_every = pause, warn_every
        self.down_since: float | None = None  # monotonic; None while Redis answers
        self._retry_at = 0.0
        self._probing = False
        self._warned_at = -float("inf")

    @property
    def degraded(self) -> bool:
        return self.down_since is not None

    async def _run(self, op: Callable[[Store], Awaitable[T]]) -> T:
        now = time.monotonic()
        if self.down_since is not None and (now < self._retry_at or self._probing):
            return await op(self.memory)
        probe = self.down_since is not None
        self._probing = self._probing or probe
        try:
            result = await op(self.primary)
        except UNREACHABLE as exc:
            self._lost(exc, now)
            return await op(self.memory)
        finally:
            if probe:
                self._probing = False
        if self.down_since is not None:
            log.warning(
                "rate limits: Redis answers again after %.0f s; counting there again",
                now - self.down_since,
            )
            self.down_since = None
        return result

    def _lost(self, exc: BaseException, now: float) -> None:
        if self.down_since is None:
            self.down_since = now
        self._retry_at = now + self.pause
        if now - self._warned_at >= self.warn_every:
            self._warned_at = now
            log.warning(
                "rate limits: Redis unreachable (%s); counting in this node's memory",
                type(exc).__name__,
            )

    async def incr(self, name: str, ttl: int) -> int:
        return await self._run(lambda s: s.incr(name, ttl))

    async def first_seen(self, name: str, ttl: int) -> bool:
        return await self._run(lambda s: s.first_seen(name, ttl))

    async def hold(self, name: str, seconds: int) -> None:
        await self._run(lambda s: s.hold(name, seconds))

    async def held(self, name: str) -> int:
        return await self._run(lambda s: s.held(name))

    async def close(self) -> None:
        await self.primary.close()
