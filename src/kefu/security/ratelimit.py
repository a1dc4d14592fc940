"""Rate limits: fixed windows, holds and one-time keys, counted in Redis when configured (shared
by all nodes), else in process memory.

A :class:`Limiter` answers in :class:`Verdict`s that say how long to wait (the ``Retry-After``
of a ``429``). Its store is one of :class:`MemoryStore` or :class:`RedisStore`; a Redis store is
wrapped in :class:`FallbackStore` (``kefu.security.limitstore``), which counts in this node's
memory while Redis cannot be reached, so that a limit neither fails the request nor opens.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kefu.domain.errors import RateLimited


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds until the window ends (or the hold lifts)
    count: int = 0  # attempts in the window so far, this one included


class Store(Protocol):
    """The few operations limits need, each one atomic on its own."""

    async def incr(self, name: str, ttl: int) -> int:
        """Add one to counter ``name`` (created with lifetime ``ttl`` seconds); the new count."""
        ...

    async def first_seen(self, name: str, ttl: int) -> bool:
        """Remember ``name`` for ``ttl`` seconds; True if it was not remembered already."""
        ...

    async def hold(self, name: str, seconds: int) -> None:
        """Set (or extend) a hold called ``name`` lasting ``seconds``."""
        ...

    async def held(self, name: str) -> int:
        """Whole seconds left on hold ``name``; 0 when there is none."""
        ...

    async def close(self) -> None: ...


class MemoryStore:
    """Counters, holds and one-time keys of this process, each with an expiry; at most
    ``max_keys`` are kept (expired ones go first, then the oldest)."""

    def __init__(self, max_keys: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self._items: dict[str, tuple[int, float]] = {}  # name → (value, expires at)
        self._max = max_keys
        self._clock = clock

    def _get(self, name: str, now: float) -> int | None:
        item = self._items.get(name)
        if item is None or item[1] <= now:
            return None
        return item[0]

    def _put(self, name: str, value: int, expires: float, now: float) -> None:
        if name not in self._items and len(self._items) >= self._max:
            self._items = {k: v for k, v in self._items.items() if v[1] > now}
            while len(self._items) >= self._max:
                del self._items[next(iter(self._items))]
        self._items[name] = (value, expires)

    async def incr(self, name: str, ttl: int) -> int:
        now = self._clock()
        item = self._items.get(name)
        if item is None or item[1] <= now:
            self._put(name, 1, now + ttl, now)
            return 1
        self._items[name] = (item[0] + 1, item[1])
        return item[0] + 1

    async def first_seen(self, name: str, ttl: int) -> bool:
        now = self._clock()
        if self._get(name, now) is not None:
            return False
        self._put(name, 1, now + ttl, now)
        return True

    async def hold(self, name: str, seconds: int) -> None:
        now = self._clock()
        self._put(name, 1, now + seconds, now)

    async def held(self, name: str) -> int:
        item = self._items.get(name)
        left = item[1] - self._clock() if item is not None else 0.0
        return math.ceil(left) if left > 0 else 0

    async def close(self) -> None:
        return None


_INCR = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class RedisStore:
    """The same operations in Redis, under ``kefu:rl:``. Commands fail fast (short timeouts)
    and are retried once on a fresh connection (a pooled one may have died with a restart);
    :class:`~kefu.security.limitstore.FallbackStore` handles what still fails."""

    def __init__(self, url: str, timeout: float = 1.0) -> None:
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self._redis = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        self._incr = self._redis.register_script(_INCR)

    async def incr(self, name: str, ttl: int) -> int:
        return int(await self._incr(keys=[f"kefu:rl:{name}"], args=[ttl]))

    async def first_seen(self, name: str, ttl: int) -> bool:
        return bool(await self._redis.set(f"kefu:rl:{name}", 1, nx=True, ex=ttl))

    async def hold(self, name: str, seconds: int) -> None:
        await self._redis.set(f"kefu:rl:{name}", 1, ex=seconds)

    async def held(self, name: str) -> int:
        ms = int(await self._redis.pttl(f"kefu:rl:{name}"))
        return math.ceil(ms / 1000) if ms > 0 else 0

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


class Limiter:
    """Fixed-window counters and holds over a :class:`Store`."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._clock = clock

    async def hit(self, key: str, limit: int, window_seconds: int) -> Verdict:
        """Count one attempt at ``key``; refused once the current window holds ``limit``."""
        now = self._clock()
        window = int(now // window_seconds)
        count = await self.store.incr(f"{key}:{window}", window_seconds + 1)
        if count <= limit:
            return Verdict(True, 0, count)
        return Verdict(False, max(1, math.ceil((window + 1) * window_seconds - now)), count)

    async def require(self, key: str, limit: int, window_seconds: int, message: str) -> None:
        """:meth:`hit`, raising ``429 rate_limited`` (with ``Retry-After``) when refused."""
        verdict = await self.hit(key, limit, window_seconds)
        if not verdict.allowed:
            raise RateLimited(message, retry_after=verdict.retry_after)

    async def first_seen(self, key: str, ttl: int) -> bool:
        return await self.store.first_seen(key, ttl)

    async def hold(self, key: str, seconds: int) -> None:
        await self.store.hold(key, seconds)

    async def held(self, key: str) -> int:
        return await self.store.held(key)

    async def strike(self, key: str, ttl: int) -> int:
        """Count one strike at ``key`` (forgotten ``ttl`` seconds after the first); the count."""
        return await self.store.incr(key, ttl)

    async def close(self) -> None:
        await self.store.close()


def address_key(ip: str) -> str:
    """The part of a client address a per-address limit counts: the whole IPv4 address, the
    /64 network of an IPv6 one (one subscriber usually holds a whole /64)."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64]
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr)


class TokenBucket:
    """Per-connection smoothing for WebSocket frames."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.stamp = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
