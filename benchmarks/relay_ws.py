"""B1: a bare relay on the ``websockets`` library's asyncio server (with uvloop).

python -m benchmarks.relay_ws --port 9001
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

import uvloop
from benchmarks.common import raise_nofile
from benchmarks.relay_core import SUBPROTOCOL, Peer, Relay, parse_ticket
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

relay = Relay()


async def handler(ws: ServerConnection) -> None:
    who = parse_ticket(ws.request.headers.get("Sec-WebSocket-Protocol", "") if ws.request else "")
    if who is None:
        await ws.close(1008, "unauthenticated")
        return
    peer = Peer(who[0], who[1], who[2], ws.send)
    relay.join(peer)
    try:
        async for raw in ws:
            await relay.handle(peer, raw)
    except ConnectionClosed:
        pass
    finally:
        relay.leave(peer)


async def main(port: int, max_size: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(
        handler,
        "127.0.0.1",
        port,
        subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
        max_size=max_size,
        compression=None,
        ping_interval=25,
        ping_timeout=25,
        backlog=4096,
    ):
        with contextlib.suppress(asyncio.CancelledError):
            await stop


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--max-size", type=int, default=64 * 1024)
    a = p.parse_args()
    raise_nofile()
    uvloop.run(main(a.port, a.max_size))
