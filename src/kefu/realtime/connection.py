"""One WebSocket connection of the gateway (:mod:`kefu.realtime.gateway`): its actor, its
position in the workspace's event stream, and the protocol it speaks once authenticated.

Frames are JSON objects with a ``type``. Client: ``hello {since?}``, ``send``, ``typing``,
``read``, ``ping``. Server: ``ready {position, resume}``, ``resync_required``, ``event``,
``ack``, ``error``, ``typing``, ``pong``, and ``batch {frames}`` (several of those, in order,
as one frame, to a client whose ``hello`` asked for it). What a socket receives is decided by
the same access rule as the HTTP API (:func:`kefu.queries.access.can_see_event`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Sequence
from functools import partial
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.websockets import WebSocket, WebSocketState

from kefu.actions.conversations import mark_read
from kefu.actions.messages import send_message
from kefu.actions.tx import CommittedEvent
from kefu.db.errors import database_unavailable
from kefu.domain.actors import AgentActor, CustomerActor
from kefu.domain.errors import KefuError, RateLimited
from kefu.jobs.channels import forward_typing
from kefu.queries.access import access_conversation
from kefu.realtime.frames import FRAMES, Hello, Ping, Read, Send, TypingIn
from kefu.realtime.hub import WorkspaceHub, event_frame
from kefu.realtime.stream import read_events, stream_bounds
from kefu.runtime import Kefu
from kefu.security.customer_limits import admit_customer_send
from kefu.security.principals import (
    Principal,
)
from kefu.security.ratelimit import TokenBucket, address_key
from kefu.security.tickets import RESUME_SECONDS, TICKET_PREFIX, issue_ticket

log = logging.getLogger(__name__)

SUBPROTOCOL = "kefu.v1"
MAX_BAD_FRAMES = 10
MAX_INFLIGHT_SENDS = 64
# A batch frame carries frames queued together, up to this many characters of them (a single
# frame larger than that still goes alone) ...
MAX_BATCH_CHARS = 256 * 1024
# ... and at most this many.
MAX_BATCH_FRAMES = 500
_BATCH_HEAD, _BATCH_TAIL = '{"type":"batch","frames":[', "]}"
RENEW_RESUME_AFTER = RESUME_SECONDS / 2  # a pong renews the client's resume ticket after this


def _dumps(obj: dict[str, Any]) -> str:
    return orjson.dumps(obj).decode()


def _take_batch(out: deque[str]) -> str:
    """Take frames from the front of ``out`` (at least one) and join them into a batch frame;
    a lone frame is returned as it is."""
    frames = [out.popleft()]
    size = len(frames[0])
    while out and len(frames) < MAX_BATCH_FRAMES and size + len(out[0]) < MAX_BATCH_CHARS:
        size += len(out[0]) + 1
        frames.append(out.popleft())
    if len(frames) == 1:
        return frames[0]
    return _BATCH_HEAD + ",".join(frames) + _BATCH_TAIL


class Connection:
    """One socket: its actor, its stream position, and a small outbound buffer.

    An idle socket is the common case (thousands per node), so a connection holds only what it
    needs: slots, and the buffer, flusher, send limit and task set exist only while in use."""

    __slots__ = (
        "_closer",
        "_closing",
        "_drained",
        "_flusher",
        "_inflight",
        "_out",
        "_tasks",
        "actor",
        "bad_frames",
        "batch",
        "bucket",
        "hello_done",
        "hub",
        "kefu",
        "live",
        "pos",
        "resume_at",
        "session_id",
        "ws",
    )

    def __init__(self, ws: WebSocket, principal: Principal, kefu: Kefu) -> None:
        self.ws = ws
        self.kefu = kefu
        self.actor: AgentActor | CustomerActor = principal.actor
        self.session_id: uuid.UUID | None = principal.session_id
        self.pos = 0
        self.live = False
        self.hub: WorkspaceHub | None = None
        self._out: deque[str] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._drained: asyncio.Event | None = None  # set when the queue empties (replays)
        self._closing: tuple[int, str] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._inflight: asyncio.Semaphore | None = None
        self._tasks: set[asyncio.Task[None]] | None = None
        self.bucket = TokenBucket(kefu.settings.ws_rate_per_second, kefu.settings.ws_rate_burst)
        self.bad_frames = 0
        self.batch = False  # the client reads batch frames (its hello said so)
        self.hello_done = False
        self.resume_at = 0.0  # when the client was last handed a resume ticket (monotonic)

    @property
    def safe_position(self) -> int:
        """A position to resume from: everything this socket may see up to it is already in
        its outbound buffer, ahead of the frame that carries it."""
        if self.live and self.hub is not None:
            return max(self.pos, self.hub.delivered)
        return self.pos

    @property
    def closing(self) -> bool:
        return self._closing is not None

    def push(self, frame: str) -> None:
        if self._closing is not None:
            return
        out = self._out
        if out is None:
            out = self._out = deque()
        elif len(out) >= self.kefu.settings.ws_queue_size:
            # A consumer this slow resumes from the database instead of holding memory.
            self.too_slow("its queue is full")
            return
        out.append(frame)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    def too_slow(self, why: str) -> None:
        """Close with 4008: the client resumes from the database instead of the node holding
        its frames. Logged with the socket's backlog (an operator's first question)."""
        if self._closing is not None:
            return
        behind = (self.hub.delivered - self.pos) if self.hub is not None else 0
        log.warning(
            "closing a slow socket (4008, %s): %d frames queued, %d events behind, "
            "replaying=%s, actor=%s",
            why,
            len(self._out or ()),
            max(0, behind),
            not self.live,
            self.actor.sender_id,
        )
        self.close_soon(4008, "too slow: reconnect and resume")

    async def drain(self) -> bool:
        """Wait until everything queued was handed to the socket (the socket's own buffer
        pausing the writer while the client does not read). False if the socket closed or
        did not drain within ``ws_drain_seconds`` (then it is closed as too slow)."""
        while self._out and self._closing is None:
            if self._drained is None:
                self._drained = asyncio.Event()
            try:
                async with asyncio.timeout(self.kefu.settings.ws_drain_seconds):
                    await self._drained.wait()
            except TimeoutError:
                self.too_slow("its replay did not drain")
                return False
        return self._closing is None

    def close_soon(self, code: int, reason: str) -> None:
        if self._closing is None:
            self._closing = (code, reason)
            self._out = None
            self._closer = self._spawn(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        if self.ws.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):  # the peer may be gone already
                await self.ws.close(code, reason)

    async def _flush(self) -> None:
        """Send what is queued. To a client that reads batch frames, the frames queued since
        the last send go as one (a commit's events reach an agent as one WebSocket frame, not
        one each): the cost of a frame is mostly per frame, not per byte."""
        with contextlib.suppress(Exception):  # a peer gone away: the receive loop ends it
            while out := self._out:
                if self.batch and len(out) > 1:
                    await self.ws.send_text(_take_batch(out))
                else:
                    await self.ws.send_text(out.popleft())
        self._out = None  # no await since the loop ended: nothing was pushed in between
        self._flusher = None
        if self._drained is not None:
            self._drained.set()
            self._drained = None

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _address(self) -> str:
        return address_key(self.ws.client.host) if self.ws.client else "unknown"

    def error(
        self,
        code: str,
        message: str,
        client_msg_id: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
        if client_msg_id is not None:
            frame["client_msg_id"] = client_msg_id
        if retry_after is not None:
            frame["retry_after"] = retry_after
        self.push(_dumps(frame))

    # --- the protocol ---------------------------------------------------------------

    async def hello(self, frame: Hello) -> None:
        self.batch = frame.batch
        if self.hub is None:
            self.hub = await self.kefu.hubs.join(self)
        self.live = False
        delivered = self.hub.delivered
        if frame.since is None or frame.since == delivered:
            # Nothing missed (the common reconnect): the hub has delivered everything up to
            # here and nothing newer than that is pruned, so no query is needed.
            self.pos = delivered
        else:
            async with self.kefu.db.read_conn() as session:
                floor, head = await stream_bounds(session, self.actor.workspace_id)
                if frame.since < floor or frame.since > head:
                    self.push(_dumps({"type": "resync_required", "position": head}))
                    return
                self.pos = frame.since
                await self._replay(session)
        await self._replay(None)
        self.hello_done = True
        self.push(_dumps(self._with_resume({"type": "ready", "position": self.pos}, after=0.0)))

    def _with_resume(self, frame: dict[str, Any], *, after: float) -> dict[str, Any]:
        """Add a resume ticket to ``frame`` if the last one was handed out at least ``after``
        seconds ago (``ready``: always; ``pong``: half-way to its expiry). The client
        reconnects with it, without asking over HTTP."""
        now = time.monotonic()
        if self.session_id is None or (self.resume_at and now - self.resume_at < after):
            return frame
        self.resume_at = now
        ticket = issue_ticket(
            self.kefu.settings.secret_key, self.actor.workspace_id, self.session_id, RESUME_SECONDS
        )
        frame["resume"] = TICKET_PREFIX + ticket
        frame["resume_expires_in"] = RESUME_SECONDS
        return frame

    async def _replay(self, session: AsyncConnection | None) -> None:
        """Send what was missed, then join the live stream with no gap and no repeat
        (``session``: read the first page with it; ``None``: open sessions as needed).

        Paced by the socket: a page is read only once the previous one was handed to the
        socket, so a replay of any length never fills the queue of a client that reads; one
        that stops reading is closed by :meth:`drain`."""
        assert self.hub is not None
        settings = self.kefu.settings
        page = max(1, min(settings.replay_page_size, settings.ws_queue_size // 2))
        while True:
            if session is None and not await self.drain():
                return
            upto = self.hub.delivered
            if self.pos >= upto:
                self.live = True  # no await between the check and this: nothing slips by
                return
            if session is not None:
                rows = await self._read(session, upto, page)
            else:
                async with self.kefu.db.read_conn() as fresh:
                    rows = await self._read(fresh, upto, page)
            for e in rows:
                self.push(event_frame(e))
            self.pos = rows[-1].position if len(rows) == page else upto
            if session is not None:
                return  # the caller goes on without holding its session

    async def _read(
        self, session: AsyncConnection, upto: int, page: int
    ) -> Sequence[CommittedEvent]:
        return await read_events(
            session,
            self.actor.workspace_id,
            after=self.pos,
            upto=upto,
            actor=self.actor,
            limit=page,
        )

    async def send(self, frame: Send) -> None:
        if self._inflight is None:
            self._inflight = asyncio.Semaphore(MAX_INFLIGHT_SENDS)
        async with self._inflight:
            try:
                if isinstance(self.actor, CustomerActor) and self.session_id is not None:
                    await admit_customer_send(
                        self.kefu.limiter, self.kefu.settings, self.session_id, self._address()
                    )
                sent = await self.kefu.write(
                    self.actor.workspace_id,
                    partial(
                        send_message,
                        actor=self.actor,
                        conversation_id=frame.conversation_id,
                        content=frame.content,
                        type=frame.msg_type,
                        payload=frame.payload,
                        client_msg_id=frame.client_msg_id,
                    ),
                    conversations=(frame.conversation_id,),
                )
            except RateLimited as exc:
                self.error(exc.code, exc.message, frame.client_msg_id, exc.retry_after)
                return
            except KefuError as exc:
                self.error(exc.code, exc.message, frame.client_msg_id)
                return
            except Exception as exc:
                if database_unavailable(exc):
                    log.warning("send not stored, database unavailable: %s", exc)
                    code = "unavailable"
                else:
                    log.exception("send failed")
                    code = "internal_error"
                self.error(code, "the message was not stored", frame.client_msg_id)
                return
            self.push(
                _dumps(
                    {
                        "type": "ack",
                        "client_msg_id": frame.client_msg_id,
                        "message_id": str(sent.message.id),
                        "conversation_id": str(sent.message.conversation_id),
                        "seq": sent.message.seq,
                        "duplicate": sent.duplicate,
                    }
                )
            )

    async def read(self, frame: Read) -> None:
        try:
            await self.kefu.write(
                self.actor.workspace_id,
                partial(
                    mark_read,
                    actor=self.actor,
                    conversation_id=frame.conversation_id,
                    seq=frame.seq,
                ),
            )
        except KefuError as exc:
            self.error(exc.code, exc.message)

    async def typing(self, frame: TypingIn) -> None:
        try:
            async with self.kefu.db.read() as session:
                conv = await access_conversation(session, self.actor, frame.conversation_id)
        except KefuError as exc:
            self.error(exc.code, exc.message)
            return
        private = frame.private and isinstance(self.actor, AgentActor)
        signal = {
            "contact_id": str(conv.contact_id),
            "private": private,
            "sender_kind": self.actor.sender_kind.value,
            "sender_id": str(self.actor.sender_id),
            "frame": {
                "type": "typing",
                "conversation_id": str(conv.id),
                "sender_kind": self.actor.sender_kind.value,
                "sender_name": self.actor.name,
                "typing": frame.typing,
            },
        }
        await self.kefu.bus.publish_signal(self.actor.workspace_id, signal)
        if isinstance(self.actor, AgentActor) and not private:
            forward_typing(self.kefu, conv, frame.typing)

    async def handle(self, raw: str) -> None:
        if not self.bucket.take():
            self.error("rate_limited", "slow down")
            self.bad_frames += 1
            return
        try:
            data = orjson.loads(raw)
            frame = FRAMES.validate_python(data)
        except (orjson.JSONDecodeError, ValidationError, RecursionError):
            self.bad_frames += 1
            self.error("invalid_frame", "frames are JSON objects with a known type")
            return
        if isinstance(frame, Ping):
            pong = {"type": "pong", "nonce": frame.nonce, "position": self.safe_position}
            self.push(_dumps(self._with_resume(pong, after=RENEW_RESUME_AFTER)))
        elif isinstance(frame, Hello):
            await self.hello(frame)
        elif not self.hello_done:
            self.error("hello_first", "send hello before anything else")
        elif isinstance(frame, Send):
            self._spawn(self.send(frame))
        elif isinstance(frame, Read):
            self._spawn(self.read(frame))
        else:
            await self.typing(frame)

    async def finish(self) -> None:
        if self.hub is not None:
            await self.kefu.hubs.leave(self)
        for task in list(self._tasks or ()):
            if task is not self._closer:
                task.cancel()
        if self._closer is not None:  # a close the server decided on is still sent
            await self._closer
