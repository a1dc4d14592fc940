"""The REST half: sessions, conversations, messages, attachments. Sends retry with the same
``client_msg_id``, so a retry after a lost answer never makes a second message."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from kefu.client.realtime import Realtime

PREFIX = "/api/client/v1"
Json = dict[str, Any]


class KefuError(Exception):
    """An answer with an error body: ``status``, the stable ``code`` and a ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    visitor_token: str
    contact_id: str
    verified: bool
    inbox: Json


def new_client_msg_id() -> str:
    return uuid.uuid4().hex


class KefuClient:
    """One customer of one inbox. Keep ``session.visitor_token`` to come back as the same
    customer (pass it as ``visitor_token``); give ``user`` (with its HMAC ``hash``) or
    ``user_jwt`` for a user your backend vouches for."""

    def __init__(
        self,
        base_url: str,
        inbox_key: str,
        *,
        visitor_token: str | None = None,
        user: Json | None = None,
        user_jwt: str | None = None,
        retries: int = 4,
        unavailable_for: float = 60.0,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.inbox_key = inbox_key
        self.visitor_token = visitor_token
        self.user, self.user_jwt = user, user_jwt
        self.retries = retries
        self.unavailable_for = unavailable_for
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport)
        self.session: Session | None = None

    async def __aenter__(self) -> KefuClient:
        await self.open_session()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    # --- plumbing -------------------------------------------------------------------------

    @property
    def token(self) -> str:
        if self.session is None:
            raise RuntimeError("open a session first")
        return self.session.token

    async def _call(self, method: str, path: str, *, retry: bool = False, **kw: Any) -> Any:
        """One request; with ``retry``, network failures and 5xx answers are retried with
        back-off (only for requests that are safe to repeat). A 503 (the server's database is
        away for now) is retried for up to ``unavailable_for`` seconds, no sooner than its
        ``Retry-After`` says."""
        headers = {"authorization": f"Bearer {self.token}"} if self.session else {}
        attempts = self.retries + 1 if retry else 1
        deadline = time.monotonic() + self.unavailable_for
        attempt = 0
        while True:
            wait = min(8.0, 0.25 * 2**attempt)
            attempt += 1
            try:
                r = await self.http.request(method, path, headers=headers, **kw)
            except httpx.TransportError:
                if attempt >= attempts:
                    raise
            else:
                if retry and r.status_code == 503 and time.monotonic() + wait < deadline:
                    wait = max(wait, _retry_after(r))
                elif r.status_code < 500 or attempt >= attempts:
                    return _answer(r)
            await asyncio.sleep(wait)

    # --- sessions ---------------------------------------------------------------------------

    async def open_session(self) -> Session:
        body: Json = {"inbox_key": self.inbox_key}
        if self.visitor_token:
            body["visitor_token"] = self.visitor_token
        if self.user is not None:
            body["user"] = self.user
        if self.user_jwt is not None:
            body["user_jwt"] = self.user_jwt
        self.session = None
        data = await self._call("POST", f"{PREFIX}/sessions", json=body, retry=True)
        self.session = Session(
            data["token"],
            data["visitor_token"],
            data["contact_id"],
            data["verified"],
            data["inbox"],
        )
        self.visitor_token = self.session.visitor_token
        return self.session

    async def ticket(self) -> str:
        """A WebSocket subprotocol carrying a 60-second ticket."""
        data = await self._call("POST", f"{PREFIX}/realtime/ticket", retry=True)
        sub: str = data["subprotocol"]
        return sub

    async def update_contact(self, **fields: Any) -> None:
        await self._call("PATCH", f"{PREFIX}/contact", json=fields, retry=True)

    # --- conversations and messages --------------------------------------------------------

    async def start_conversation(
        self,
        content: str | None = None,
        *,
        source: str | None = None,
        client_msg_id: str | None = None,
        type: str = "text",
        payload: Json | None = None,
    ) -> Json:
        """Start a conversation, with a first message if ``content`` is given. Retried safely:
        the first message's ``client_msg_id`` makes a repeat return the same conversation."""
        body: Json = {}
        if source is not None:
            body["source"] = source
        retry = content is None
        if content is not None:
            msg: Json = {"content": content, "type": type, "payload": payload}
            msg["client_msg_id"] = client_msg_id or new_client_msg_id()
            body["message"] = msg
            retry = True
        data: Json = await self._call("POST", f"{PREFIX}/conversations", json=body, retry=retry)
        return data

    async def conversations(self) -> list[Json]:
        data = await self._call("GET", f"{PREFIX}/conversations", retry=True)
        items: list[Json] = data["items"]
        return items

    async def conversation(self, conversation_id: str) -> Json:
        data: Json = await self._call(
            "GET", f"{PREFIX}/conversations/{conversation_id}", retry=True
        )
        return data

    async def messages(
        self,
        conversation_id: str,
        *,
        after_seq: int | None = None,
        before_seq: int | None = None,
        limit: int = 50,
    ) -> list[Json]:
        params: Json = {"limit": limit}
        if after_seq is not None:
            params["after_seq"] = after_seq
        if before_seq is not None:
            params["before_seq"] = before_seq
        path = f"{PREFIX}/conversations/{conversation_id}/messages"
        data = await self._call("GET", path, params=params, retry=True)
        items: list[Json] = data["items"]
        return items

    async def history_after(self, conversation_id: str, after_seq: int = 0) -> list[Json]:
        """Every message after ``after_seq``, page by page."""
        out: list[Json] = []
        while True:
            page = await self.messages(conversation_id, after_seq=after_seq, limit=200)
            out += page
            if len(page) < 200:
                return out
            after_seq = page[-1]["seq"]

    async def send(
        self,
        conversation_id: str,
        content: str = "",
        *,
        type: str = "text",
        payload: Json | None = None,
        client_msg_id: str | None = None,
    ) -> Json:
        """Send a message; returns ``{"message", "duplicate"}``. Lost answers and 5xx are
        retried with the same ``client_msg_id``: the message is stored once."""
        body = {
            "content": content,
            "type": type,
            "payload": payload,
            "client_msg_id": client_msg_id or new_client_msg_id(),
        }
        path = f"{PREFIX}/conversations/{conversation_id}/messages"
        data: Json = await self._call("POST", path, json=body, retry=True)
        return data

    async def mark_read(self, conversation_id: str, seq: int) -> int:
        path = f"{PREFIX}/conversations/{conversation_id}/read"
        data = await self._call("POST", path, json={"seq": seq}, retry=True)
        read: int = data["seq"]
        return read

    # --- attachments ----------------------------------------------------------------------

    async def upload(
        self, conversation_id: str, name: str, data: bytes, mime: str = "application/octet-stream"
    ) -> Json:
        """Upload a file; returns the attachment with its signed ``url``. Send it with
        ``send(conversation_id, type="image", payload={"attachment_id": …})``."""
        path = f"{PREFIX}/conversations/{conversation_id}/attachments"
        out: Json = await self._call("POST", path, files={"file": (name, data, mime)})
        return out

    async def attachment(self, conversation_id: str, attachment_id: str) -> Json:
        """The attachment with fresh signed links."""
        path = f"{PREFIX}/conversations/{conversation_id}/attachments/{attachment_id}"
        data: Json = await self._call("GET", path, retry=True)
        return data

    async def download(self, url: str) -> bytes:
        """The bytes behind a signed link (no session needed)."""
        r = await self.http.get(url)
        if r.status_code != 200:
            _answer(r)
        return r.content

    # --- real time -------------------------------------------------------------------------

    def realtime(self, *, since: int | None = None) -> Realtime:
        from kefu.client.realtime import Realtime

        return Realtime(self, since=since)


def _retry_after(r: httpx.Response) -> float:
    try:
        return min(30.0, max(0.0, float(r.headers.get("retry-after", "1"))))
    except ValueError:
        return 1.0


def _answer(r: httpx.Response) -> Any:
    if r.status_code == 204:
        return None
    try:
        body = r.json()
    except ValueError:
        body = None
    if r.is_success:
        return body
    err = body.get("error", {}) if isinstance(body, dict) else {}
    raise KefuError(r.status_code, str(err.get("code", "http_error")), str(err.get("message", "")))
