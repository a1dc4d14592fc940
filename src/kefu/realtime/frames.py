"""The frames a client sends on ``/ws``, validated before anything else looks at them."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from kefu.domain.enums import MessageType
from kefu.domain.numbers import BoundedInt
from kefu.domain.text import Body, ClientMsgId, Payload


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Hello(_Frame):
    type: Literal["hello"]
    since: BoundedInt | None = None
    # The client reads ``batch`` frames: frames queued together are sent as one.
    batch: bool = False


class Send(_Frame):
    type: Literal["send"]
    client_msg_id: ClientMsgId
    conversation_id: uuid.UUID
    content: Body = ""
    msg_type: MessageType = MessageType.text
    payload: Payload | None = None


class TypingIn(_Frame):
    type: Literal["typing"]
    conversation_id: uuid.UUID
    typing: bool = True
    private: bool = False


class Read(_Frame):
    type: Literal["read"]
    conversation_id: uuid.UUID
    seq: BoundedInt


class Ping(_Frame):
    type: Literal["ping"]
    nonce: str | None = Field(default=None, max_length=64)


ClientFrame = Annotated[Hello | Send | TypingIn | Read | Ping, Field(discriminator="type")]
FRAMES: TypeAdapter[Hello | Send | TypingIn | Read | Ping] = TypeAdapter(ClientFrame)
