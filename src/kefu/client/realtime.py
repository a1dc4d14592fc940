"""The WebSocket half: live events, resumed by position after any disconnect, and sends that
are retried with the same ``client_msg_id`` until they are acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from kefu.client.http import Json, KefuError, new_client_msg_id

if TYPE_CHECKING:
    from kefu.client.http import KefuClient

SESSION_ENDED = 4001
# A send refused with one of these was not stored and goes again, with the same client_msg_id:
# the server's database is away for now, or the send failed on its side.
RETRIED_CODES = frozenset({"unavailable", "internal_error"})


class Realtime:
    """``async with client.realtime(since=p) as live``: connected, replayed from ``p``, live.

    ``position`` is the greatest position seen; persist it and pass it as ``since`` next time.
    Frames arrive through :meth:`events`, which yields ``event`` and ``typing`` frames, and a
    ``{"type": "resync_required"}`` frame when the server could not resume (reload then).
    """

    def __init__(self, client: KefuClient, *, since: int | None = None) -> None:
        self.client = client
        self.position = since
        self.connection: ClientConnection | None = None
        self.connects = 0
        self._frames: asyncio.Queue[Json] = asyncio.Queue()
        self._acks: dict[str, asyncio.Future[Json]] = {}
        self._live = asyncio.Event()
        self._closing = False
        self._runner: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        # The resume ticket the last ``ready``/``pong`` handed out, and when to stop trusting it.
        self._resume: tuple[str, float] | None = None

    async def __aenter__(self) -> Realtime:
        self._ready = asyncio.get_running_loop().create_future()
        self._runner = asyncio.create_task(self._run())
        await asyncio.shield(self._ready)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._closing = True
        if self.connection is not None:
            await self.connection.close()
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)

    # --- connection ---------------------------------------------------------------------------

    async def _run(self) -> None:
        delay = 0.25
        while not self._closing:
            resuming = self._resume is not None
            try:
                await self._connect_once()
                delay = 0.25
            except KefuError as exc:  # a ticket refused
                if exc.status != 503:
                    self._fail(exc)
                    return
            except (OSError, ConnectionClosed, TimeoutError, InvalidStatus) as exc:
                if isinstance(exc, ConnectionClosed) and _code(exc) == SESSION_ENDED:
                    self._fail(KefuError(401, "unauthenticated", "the session ended"))
                    return
                if isinstance(exc, InvalidStatus) and resuming:
                    continue  # the resume ticket was refused: ask for a ticket at once
            except Exception as exc:
                self._fail(exc)
                return
            finally:
                self._live.clear()
            if self._closing:
                return
            await asyncio.sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter
            delay = min(30.0, delay * 2)

    async def _connect_once(self) -> None:
        resume, self._resume = self._resume, None  # a resume ticket is tried once
        if resume is not None and resume[1] > time.monotonic():
            sub = resume[0]
        else:
            sub = await self.client.ticket()
        url = self.client.base_url.replace("http", "ws", 1) + "/ws"
        protocols = [Subprotocol("kefu.v1"), Subprotocol(sub)]
        async with connect(url, subprotocols=protocols, open_timeout=15) as conn:
            self.connection = conn
            self.connects += 1
            hello: Json = {"type": "hello", "batch": True}
            if self.position is not None:
                hello["since"] = self.position
            await conn.send(orjson.dumps(hello).decode())
            async for raw in conn:
                self._handle(orjson.loads(raw))

    def _handle(self, frame: Json) -> None:
        kind = frame.get("type")
        if kind == "batch":  # frames the server queued together, in order
            for inner in frame["frames"]:
                self._handle(inner)
            return
        if kind in ("event", "ready", "pong") and frame.get("position") is not None:
            self.position = max(self.position or 0, int(frame["position"]))
        if kind in ("ready", "pong") and isinstance(frame.get("resume"), str):
            # trusted for most of its life: the clocks of client and server may differ
            life = 0.8 * float(frame.get("resume_expires_in", 60))
            self._resume = (frame["resume"], time.monotonic() + life)
        if kind in ("event", "typing"):
            self._frames.put_nowait(frame)
        elif kind == "ready":
            self._go_live()
        elif kind == "resync_required":
            # Nothing was replayed: start again from the head, after telling the app.
            self.position = int(frame["position"])
            self._frames.put_nowait({"type": "resync_required", "position": self.position})
            self._go_live()
        elif kind == "ack":
            self._settle(frame["client_msg_id"], frame, None)
        elif kind == "error" and frame.get("client_msg_id"):
            error = KefuError(0, str(frame.get("code")), str(frame.get("message")))
            self._settle(frame["client_msg_id"], None, error)

    def _go_live(self) -> None:
        self._live.set()
        if self._ready is not None and not self._ready.done():
            self._ready.set_result(None)

    def _settle(self, client_msg_id: str, ack: Json | None, error: Exception | None) -> None:
        future = self._acks.get(client_msg_id)
        if future is None or future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(ack or {})

    def _fail(self, exc: Exception) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(exc)
        for future in self._acks.values():
            if not future.done():
                future.set_exception(exc)
        self._frames.put_nowait({"type": "closed", "error": str(exc)})

    # --- what the app uses ----------------------------------------------------------------------

    async def events(self) -> AsyncIterator[Json]:
        """Frames in arrival order, across reconnects; ends when the connection is closed for
        good (a ``closed`` frame is not yielded)."""
        while True:
            frame = await self._frames.get()
            if frame["type"] == "closed":
                return
            yield frame

    async def next_event(self, type: str | None = None, within: float = 10.0) -> Json:
        """The next ``event`` frame (of ``type`` if given) within ``within`` seconds, skipping
        others; :class:`TimeoutError` if none comes."""
        async with asyncio.timeout(within):
            async for frame in self.events():
                if frame["type"] == "event" and type in (None, frame["event"]["type"]):
                    return frame
        raise ConnectionError("the connection closed")

    async def send(
        self,
        conversation_id: str,
        content: str = "",
        *,
        type: str = "text",
        payload: Json | None = None,
        client_msg_id: str | None = None,
        within: float = 10.0,
    ) -> Json:
        """Send until acknowledged: after a disconnect the same frame (same ``client_msg_id``)
        goes again, and the server answers a repeat with the original message."""
        msg_id = client_msg_id or new_client_msg_id()
        frame: Json = {
            "type": "send",
            "client_msg_id": msg_id,
            "conversation_id": conversation_id,
            "content": content,
            "msg_type": type,
        }
        if payload is not None:
            frame["payload"] = payload
        delay = 0.25
        while True:
            future = asyncio.get_running_loop().create_future()
            self._acks[msg_id] = future
            try:
                await self._send_frame(frame, within)
                return await asyncio.wait_for(asyncio.shield(future), within)
            except (ConnectionClosed, TimeoutError):
                if self._closing:
                    raise
                await asyncio.sleep(0.05)  # let the runner notice the drop and reconnect
            except KefuError as exc:
                if exc.code not in RETRIED_CODES or self._closing:
                    raise
                await asyncio.sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter
                delay = min(5.0, delay * 2)
            finally:
                self._acks.pop(msg_id, None)

    async def typing(self, conversation_id: str, typing: bool = True) -> None:
        await self._send_frame(
            {"type": "typing", "conversation_id": conversation_id, "typing": typing}
        )

    async def read(self, conversation_id: str, seq: int) -> None:
        await self._send_frame({"type": "read", "conversation_id": conversation_id, "seq": seq})

    async def ping(self) -> None:
        await self._send_frame({"type": "ping"})

    async def _send_frame(self, frame: Json, within: float = 10.0) -> None:
        await asyncio.wait_for(self._live.wait(), within)
        assert self.connection is not None
        await self.connection.send(orjson.dumps(frame).decode())


def _code(exc: ConnectionClosed) -> int | None:
    with contextlib.suppress(AttributeError):
        if exc.rcvd is not None:
            return int(exc.rcvd.code)
    return None
