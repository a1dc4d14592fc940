"""Outgoing HTTP for channels, refused for private, loopback and link-local addresses.

The check runs on the address actually connected to — after DNS, on every redirect hop —
because the connection is opened by :class:`_GuardedBackend` with the address it checked
(TLS still verifies the host name). Decimal, octal or IPv6-mapped spellings of an address are
resolved first and so are caught too. An admin may allow networks explicitly
(``KEFU_FETCH_ALLOW_NETWORKS``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from typing import Any

import anyio
import httpcore
import httpx

from kefu.channels.base import DeliveryFailed

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(httpx.TransportError):
    """The URL leads to an address that is not allowed."""


def unreachable(exc: httpx.HTTPError) -> DeliveryFailed:
    """A request that failed: a refused address is final, anything else may pass."""
    if isinstance(exc, BlockedAddress):
        return DeliveryFailed(f"refused: {exc}", retry=False)
    return DeliveryFailed(f"unreachable: {type(exc).__name__}", retry=True)


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(v, strict=False) for v in values)


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def allowed(address: Address, allow: Sequence[Network]) -> bool:
    return is_public(address) or any(address in net for net in allow)


async def resolve(host: str, port: int) -> list[Address]:
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, allow: Sequence[Network]) -> None:
        self.allow = allow
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve(host, port)
        refused = [a for a in addresses if not allowed(a, self.allow)]
        if not addresses or refused:
            raise BlockedAddress(f"{host} resolves to an address that is not allowed")
        return await self.inner.connect_tcp(
            str(addresses[0]), port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, allow: Sequence[Network]) -> None:
        super().__init__()
        # Same pool as httpx builds, with the checking backend underneath.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=20,
            network_backend=_GuardedBackend(allow),
        )


async def get_limited(
    http: httpx.AsyncClient, url: str, max_bytes: int, **kw: Any
) -> tuple[bytes, httpx.Response]:
    """GET ``url`` into memory, refusing (``ValueError``) a body over ``max_bytes``."""
    async with http.stream("GET", url, **kw) as r:
        chunks: list[bytes] = []
        size = 0
        async for chunk in r.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise ValueError(f"the file is larger than {max_bytes:,} bytes")
            chunks.append(chunk)
    return b"".join(chunks), r


def guarded_client(
    allow: Sequence[str] = (), *, timeout: float = 10.0, max_redirects: int = 3
) -> httpx.AsyncClient:
    """An HTTP client that refuses non-public addresses (except the ``allow`` networks)."""
    return httpx.AsyncClient(
        transport=_GuardedTransport(parse_networks(allow)),
        timeout=timeout,
        follow_redirects=True,
        max_redirects=max_redirects,
        trust_env=False,
    )
