"""The channel contract.

An adapter is a narrow, database-free plugin with two methods and one rule:

* :meth:`Adapter.parse` turns a provider's webhook request into a :class:`Parsed` — the answer
  to give the provider at once, and the customer items (:class:`Inbound`) it carried. It checks
  the provider's signature and bounds every field; it raises :class:`BadSignature` or
  :class:`BadRequest`, and then nothing is stored.
* :meth:`Adapter.send` performs one outbound send (:class:`Outbound`) through the provider's
  API and returns the provider's message id, or raises :class:`DeliveryFailed` with the
  provider's reason and whether a retry may help.
* :attr:`Adapter.window` is the provider's messaging-window rule, or ``None``.

Everything else — de-duplication, contacts, conversations, jobs, delivery state — is done by
``kefu.actions.channels``, ``kefu.actions.ingest``, ``kefu.actions.channel_outcomes`` and
``kefu.jobs.channels`` around the adapter.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import httpx

from kefu.domain.enums import ChannelKind, MessageType
from kefu.domain.errors import KefuError
from kefu.domain.inbound import Inbound, Media
from kefu.domain.window import WindowRule, WindowTouch

if TYPE_CHECKING:  # channels.http imports this module
    from kefu.channels.http import Network

# -- inbound ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HookRequest:
    """A webhook request as the adapter sees it: no framework types."""

    method: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True, slots=True)
class HookReply:
    """What to answer the provider right away (before any processing)."""

    status: int = 200
    body: bytes = b""
    media_type: str = "text/plain"


@dataclass(frozen=True, slots=True)
class Parsed:
    reply: HookReply
    items: tuple[Inbound, ...] = ()
    # The provider only announced that items wait to be fetched (WeCom kf): what the pull
    # needs from the announcement (e.g. its short-lived token).
    pull: Mapping[str, str] | None = None
    # What names this signed request (e.g. timestamp, nonce and signature) when the signature
    # does not cover the body: the hook refuses the same name with another body for
    # ``once_seconds`` (as long as the provider's timestamp stays acceptable).
    once: str | None = None
    once_seconds: int = 0


@dataclass(frozen=True, slots=True)
class Pulled:
    """One page of items fetched from a provider, the cursor after it, and whether more wait."""

    items: tuple[Inbound, ...]
    cursor: str | None
    more: bool


# -- outbound --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutFile:
    """The attachment an outgoing image/audio/video/file message carries, read from storage
    (it passed the attachment checks when it was uploaded). ``kind`` is the attachment kind
    (``image``, ``audio``, ``video`` or ``file``)."""

    name: str
    mime: str
    kind: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message to deliver. ``message_id`` is stable across retries (idempotency key)."""

    message_id: uuid.UUID
    address: str
    type: MessageType
    content: str
    payload: Mapping[str, Any] | None
    # The conversation's last ``Inbound.reply_context`` (threaded channels such as mail).
    reply_context: Mapping[str, Any] | None = None
    # The stored attachment of an image/audio/video/file message, to upload to the provider.
    file: OutFile | None = None


@dataclass(frozen=True, slots=True)
class Delivered:
    provider_id: str | None = None
    # The provider's id of the sent message as later inbound items name it
    # (``Inbound.answers``, e.g. a Telegram button press): kept to find the message again.
    key: str | None = None
    # What the send changed in the conversation's reply context (merged; ``None`` values
    # remove keys), e.g. a one-message code it used up.
    reply_context: Mapping[str, Any] | None = None


class DeliveryFailed(Exception):
    """The provider refused or could not be reached. ``retry`` says whether trying again later
    may succeed; ``reason`` is shown to agents on the message; ``window_closed`` says the
    provider refused because the messaging window is closed or used up."""

    def __init__(self, reason: str, *, retry: bool, window_closed: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason[:500]
        self.retry = retry
        self.window_closed = window_closed


class BadSignature(KefuError):
    code = "bad_signature"
    status = 403


class BadRequest(KefuError):
    code = "bad_request"
    status = 400


class ProviderRefused(KefuError):
    """An administrative call to the provider (not a delivery) failed: its reason is shown."""

    code = "provider_refused"
    status = 502


# -- configuration and send context ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """An inbox's channel settings; ``secrets`` never leave the server after they are set."""

    inbox_id: uuid.UUID
    settings: Mapping[str, Any]
    secrets: Mapping[str, str]


TokenFetch = Callable[[], Awaitable[tuple[str, int]]]  # -> (token, lifetime in seconds)


class SendContext(Protocol):
    """What an adapter may use while sending: an HTTP client (SSRF-guarded) and a shared cache
    of the provider's access token (one per inbox, shared by every node)."""

    @property
    def http(self) -> httpx.AsyncClient: ...

    @property
    def allow_networks(self) -> Sequence[Network]:
        """Private networks an admin allowed (for connections made without ``http``)."""
        ...

    async def token(self, fetch: TokenFetch, *, refresh: bool = False) -> str: ...


# -- the adapter -----------------------------------------------------------------------------


class Adapter(Protocol):
    kind: ClassVar[ChannelKind]
    # Setting and secret names the inbox's configuration must provide.
    required_settings: ClassVar[tuple[str, ...]]
    required_secrets: ClassVar[tuple[str, ...]]
    window: ClassVar[WindowRule | None]

    def parse(self, request: HookRequest, config: ChannelConfig) -> Parsed: ...

    async def send(self, out: Outbound, config: ChannelConfig, ctx: SendContext) -> Delivered: ...


@runtime_checkable
class Puller(Protocol):
    """An adapter whose provider must be asked for the items (a fourth, optional method)."""

    async def pull(
        self, config: ChannelConfig, ctx: SendContext, hint: Mapping[str, str], cursor: str | None
    ) -> Pulled: ...


@dataclass(frozen=True, slots=True)
class Synced:
    """What a :class:`StateSyncer` did (``note``, for the log), and what the provider gave
    for later replies (``reply_context``: merged into the conversation's, a ``None`` value
    removing a key; e.g. WeCom's ``msg_code`` for one message in the new state)."""

    note: str
    reply_context: Mapping[str, Any] | None = None
    # Why the provider's state was left behind ours without a refusal (e.g. a session the
    # provider keeps with its own staff): shown to agents like a refusal.
    refused: str | None = None
    # How the move changed the messaging window (e.g. an ended WeCom session: "ended", closed
    # but for the one message its code allows), or ``None``.
    window: WindowTouch | None = None


@runtime_checkable
class StateSyncer(Protocol):
    """An adapter whose provider keeps its own state of a conversation (WeCom kf's
    ``service_state``): told when ours changes. ``status`` is our conversation status.
    Raises :class:`DeliveryFailed` when the provider refuses (the conversation shows it)."""

    async def sync_state(
        self, config: ChannelConfig, ctx: SendContext, address: str, status: str
    ) -> Synced: ...


@runtime_checkable
class LinkMaker(Protocol):
    """An adapter whose provider makes the entry links of an inbox (WeCom kf
    ``add_contact_way``): returns the provider's URL for ``source``, which comes back as the
    source of the conversations it opens. Raises :class:`BadRequest` for a source the provider
    cannot carry, :class:`DeliveryFailed` when it refuses or cannot be reached."""

    async def make_link(self, config: ChannelConfig, ctx: SendContext, source: str) -> str: ...


@runtime_checkable
class Prober(Protocol):
    """An adapter that can check an inbox's configuration with its provider (the settings
    screen's *Test connection*): fetches a fresh token, asks who the bot is, logs in to the
    mail server… Returns what the provider confirmed, for people (``"@shop_bot"``); raises
    :class:`DeliveryFailed` with the provider's own reason when it refuses or can't be reached.
    Never uses or stores the shared token: the point is to try the credentials now."""

    async def probe(self, config: ChannelConfig, ctx: SendContext) -> str: ...


@runtime_checkable
class WebhookRegistrar(Protocol):
    """An adapter whose provider is told the webhook URL by API (Telegram ``setWebhook``),
    called when the inbox's configuration is saved. Returns what the provider confirmed;
    raises :class:`DeliveryFailed` with its reason."""

    async def register_webhook(self, config: ChannelConfig, ctx: SendContext, url: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Fetched:
    data: bytes
    name: str | None = None


@runtime_checkable
class MediaFetcher(Protocol):
    """An adapter that can download the media a customer sent (optional): the ingest job stores
    it as an attachment, through the attachment checks, before the message is written."""

    async def fetch_media(
        self, media: Media, config: ChannelConfig, ctx: SendContext, max_bytes: int
    ) -> Fetched: ...


@runtime_checkable
class Typist(Protocol):
    """An adapter that can show the customer that an agent is typing (optional)."""

    async def typing(
        self, address: str, on: bool, config: ChannelConfig, ctx: SendContext
    ) -> None: ...


@dataclass
class Registry:
    """The adapters this process knows, by channel kind."""

    adapters: dict[ChannelKind, Adapter] = field(default_factory=dict)

    def add(self, adapter: Adapter) -> None:
        self.adapters[adapter.kind] = adapter

    def get(self, kind: ChannelKind | str) -> Adapter | None:
        try:
            return self.adapters.get(ChannelKind(kind))
        except ValueError:
            return None
