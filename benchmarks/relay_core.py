"""What the two relay baselines (B1, B2) share: customer → agent forwarding, nothing stored.

A relay speaks just enough of kefu's protocol for the same load generator to drive it:
``hello`` → ``ready``; ``send`` → ``ack`` to the customer and an ``event`` carrying a
``message.created`` to the conversation's agent; ``ping`` → ``pong``. Frames are parsed and their
fields checked, sequence numbers are counted in memory, and that is all: no database, no
access checks, no fan-out beyond the one agent. It is the floor any chat server sits on.

Who is who travels in the ticket subprotocol, as with kefu: ``kefu.ticket.a.<agent>`` for an
agent, ``kefu.ticket.c.<conversation>.<agent>`` for a customer in a conversation with that agent.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

SUBPROTOCOL = "kefu.v1"
TICKET = "kefu.ticket."
MAX_CONTENT = 10_000

Send = Callable[[str], Awaitable[None]]


class Peer:
    __slots__ = ("agent", "conversation", "role", "send")

    def __init__(self, role: str, conversation: str | None, agent: str, send: Send) -> None:
        self.role = role
        self.conversation = conversation
        self.agent = agent
        self.send = send


def parse_ticket(offered: str) -> tuple[str, str | None, str] | None:
    """(role, conversation, agent) from the offered subprotocols, or None."""
    for proto in (p.strip() for p in offered.split(",")):
        if not proto.startswith(TICKET):
            continue
        parts = proto[len(TICKET) :].split(".")
        if parts[0] == "a" and len(parts) == 2:
            return "agent", None, parts[1]
        if parts[0] == "c" and len(parts) == 3:
            return "customer", parts[1], parts[2]
    return None


def _dumps(obj: dict[str, Any]) -> str:
    return orjson.dumps(obj).decode()


class Relay:
    def __init__(self) -> None:
        self.agents: dict[str, Peer] = {}
        self.seqs: dict[str, int] = {}
        self.position = 0

    def join(self, peer: Peer) -> None:
        if peer.role == "agent":
            self.agents[peer.agent] = peer

    def leave(self, peer: Peer) -> None:
        if peer.role == "agent" and self.agents.get(peer.agent) is peer:
            del self.agents[peer.agent]

    async def handle(self, peer: Peer, raw: str | bytes) -> None:
        try:
            frame = orjson.loads(raw)
            kind = frame["type"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            await peer.send(_dumps({"type": "error", "code": "invalid_frame", "message": "?"}))
            return
        if kind == "hello":
            await peer.send(_dumps({"type": "ready", "position": self.position}))
        elif kind == "ping":
            await peer.send(_dumps({"type": "pong", "nonce": frame.get("nonce")}))
        elif kind == "send":
            await self._send(peer, frame)
        else:
            await peer.send(_dumps({"type": "error", "code": "invalid_frame", "message": kind}))

    async def _send(self, peer: Peer, frame: dict[str, Any]) -> None:
        cmid, conv, content = (
            frame.get("client_msg_id"),
            frame.get("conversation_id"),
            frame.get("content"),
        )
        if (
            not isinstance(cmid, str)
            or not 0 < len(cmid) <= 64
            or not isinstance(content, str)
            or len(content) > MAX_CONTENT
            or conv != peer.conversation
        ):
            await peer.send(_dumps({"type": "error", "code": "invalid_frame", "message": "send"}))
            return
        seq = self.seqs.get(conv, 0) + 1
        self.seqs[conv] = seq
        self.position += 1
        message_id = str(uuid.uuid4())
        agent = self.agents.get(peer.agent)
        if agent is not None:
            event = {
                "type": "event",
                "position": self.position,
                "event": {
                    "type": "message.created",
                    "message": {
                        "id": message_id,
                        "conversation_id": conv,
                        "seq": seq,
                        "sender_kind": "customer",
                        "type": "text",
                        "content": content,
                        "client_msg_id": cmid,
                        "created_at": time.time(),
                    },
                },
            }
            await agent.send(_dumps(event))
        ack = {
            "type": "ack",
            "client_msg_id": cmid,
            "message_id": message_id,
            "conversation_id": conv,
            "seq": seq,
            "duplicate": False,
        }
        await peer.send(_dumps(ack))
