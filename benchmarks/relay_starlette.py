"""B2: the same relay as B1 on uvicorn + Starlette, run with the options ``kefu serve`` uses
(uvloop, httptools, the websockets-sansio protocol).

    python -m benchmarks.relay_starlette --port 9002
"""

from __future__ import annotations

import argparse

import uvicorn
from benchmarks.common import raise_nofile
from benchmarks.relay_core import SUBPROTOCOL, Peer, Relay, parse_ticket
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

relay = Relay()


async def endpoint(ws: WebSocket) -> None:
    offered = ws.headers.get("sec-websocket-protocol", "")
    who = parse_ticket(offered)
    if who is None:
        await ws.close(1008, "unauthenticated")
        return
    await ws.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    peer = Peer(who[0], who[1], who[2], ws.send_text)
    relay.join(peer)
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            raw = message.get("text") or message.get("bytes") or b""
            await relay.handle(peer, raw)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        relay.leave(peer)


app = Starlette(routes=[WebSocketRoute("/ws", endpoint)])

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--max-size", type=int, default=64 * 1024)
    a = p.parse_args()
    raise_nofile()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=a.port,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        ws_max_size=a.max_size,
        ws_ping_interval=25,
        ws_ping_timeout=25,
        log_level="warning",
        access_log=False,
        backlog=4096,
    )
