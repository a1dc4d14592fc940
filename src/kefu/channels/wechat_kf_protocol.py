"""WeCom kf's messages, no I/O: ``sync_msg`` entries and events as customer items, the
one-message codes WeCom gives (welcome and ``msg_code``) kept in the reply context, and an
outgoing message as a ``kf/send_msg`` body."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kefu.channels.base import DeliveryFailed, Outbound
from kefu.domain.enums import IdentityKind, MessageType
from kefu.domain.inbound import Inbound, InboundMessage, Media, SendFailure

WELCOME_SECONDS = 20  # a welcome_code is valid this long
TAKEN_FROM_POOL = 1  # session_status_change change_type: a servicer took it from the queue
SESSION_ENDED = 3  # session_status_change change_type: the session was ended
# Event codes (``msg_code``) other than the welcome: one message while the session stays in
# the state it was given for — queue 2 and servicer 3 for 48 hours (text only), ended 4 for
# 20 seconds (text or menu). Obtained from service_state/trans or session_status_change.
EVENT_CODE_SECONDS = {2: 48 * 3600, 3: 48 * 3600, 4: 20}
EVENT_CODE_TYPES = {2: ("text",), 3: ("text",), 4: ("text", "msgmenu")}
NO_EVENT_CODE: dict[str, Any] = {
    "event_code": None,
    "event_code_state": None,
    "event_code_until": None,
}
# WeCom's service_state: 0 untreated, 1 the smart assistant (the API answers), 2 waiting in
# WeCom's queue, 3 a servicer in the WeCom client, 4 ended (or entered, not yet written).
# kf/send_msg works only in 0 and 1, so kefu keeps every conversation it serves at 1 — its
# own queue and agents are not WeCom's — and ends the session when it is resolved. From 4
# no API call moves it: the customer's next message makes a new untreated session (0).
UNTREATED, SERVING, QUEUE, HUMAN, ENDED = 0, 1, 2, 3, 4
# Which kf media type each attachment kind is uploaded and sent as.
KF_MEDIA = {"image": "image", "audio": "voice", "video": "video", "file": "file"}
MEDIA_TYPES = {
    "image": MessageType.image,
    "voice": MessageType.audio,
    "video": MessageType.video,
    "file": MessageType.file,
}


# -- inbound ---------------------------------------------------------------------------------


def map_message(m: Mapping[str, Any]) -> Inbound | None:
    """One ``sync_msg`` entry as a customer item (``None``: nothing to store)."""
    if not isinstance(m, Mapping) or not m.get("msgid") or not m.get("external_userid"):
        return None
    user = str(m["external_userid"])[:128]
    common: dict[str, Any] = {
        "provider_id": f"msg:{str(m['msgid'])[:100]}",
        "address": user,
        "identities": ((IdentityKind.wecom_external, user),),
        "sent_at": datetime.fromtimestamp(int(m.get("send_time") or 0), UTC),
    }
    kind = str(m.get("msgtype") or "")
    if m.get("origin") == 4 and kind == "event":
        return _event(m.get("event") or {}, common)
    if m.get("origin") == 5:
        # A person of the business answering from the WeCom client: their message, already
        # delivered by WeCom, recorded in the conversation.
        message = _content(kind, m.get(kind) or {})
        servicer = str(m.get("servicer_userid") or "wecom")[:128]
        return Inbound(message=message, by_agent=servicer, **common) if message else None
    if m.get("origin") != 3:
        return None
    message = _content(kind, m.get(kind) or {})
    # A customer message ends the welcome_code's chance: the ordinary window takes over.
    context = {"welcome_code": None, "welcome_until": None}
    return (
        Inbound(message=message, window="message", reply_context=context, **common)
        if message
        else None
    )


# msg_send_fail fail_type → the reason shown on the message, and whether the window is closed.
# (The types WeCom documents; others are shown by number.)
SEND_FAILURES: dict[int, tuple[str, bool]] = {
    4: ("window_closed: WeCom msg_send_fail 4, the session has expired", True),
    5: ("window_closed: WeCom msg_send_fail 5, the session was ended", True),
    6: ("window_exhausted: WeCom msg_send_fail 6, over the message limit", True),
    10: ("wecom: the customer refused messages", True),
}


def _event(event: Mapping[str, Any], common: dict[str, Any]) -> Inbound | None:
    kind = event.get("event_type")
    if kind == "enter_session":
        source = session_source(event.get("scene"), event.get("scene_param"))
        code = str(event.get("welcome_code") or "")[:256]
        if not code:
            return Inbound(source=source, **common)
        # One greeting within 20 seconds through send_msg_on_event (the "event" window).
        until = int(common["sent_at"].timestamp()) + WELCOME_SECONDS
        context = {"welcome_code": code, "welcome_until": until}
        return Inbound(source=source, window="event", reply_context=context, **common)
    if kind == "msg_send_fail":
        failed = str(event.get("fail_msgid") or "")
        try:
            message_id = uuid.UUID(hex=failed)
        except ValueError:
            return None  # not one of ours (sent by another system on the account)
        fail_type = int(event.get("fail_type") or 0)
        reason, closed = SEND_FAILURES.get(
            fail_type, (f"wecom: the message was not delivered (fail_type {fail_type})", False)
        )
        failure = SendFailure(message_id=message_id, reason=reason, window_closed=closed)
        return Inbound(send_failure=failure, **common)
    if kind == "session_status_change":
        return _status_change(event, common)
    return None


def session_source(scene: Any, scene_param: Any) -> str | None:
    """The conversation's source for ``enter_session``: ``wecom:<scene>`` (the entry link's
    scene, from ``add_contact_way``), followed by ``:<scene_param>`` when the link carried
    one (``&scene_param=…`` appended to it: up to 128 bytes of the page's own context)."""
    scene_text = _printable(scene, 32)
    param = _printable(scene_param, 128)
    if not scene_text and not param:
        return None
    return f"wecom:{scene_text}" + (f":{param}" if param else "")


def _printable(value: Any, limit: int) -> str:
    text = str(value or "")[:limit]
    return "".join(ch for ch in text if ch.isprintable()).strip()


def _status_change(event: Mapping[str, Any], common: dict[str, Any]) -> Inbound | None:
    """A session taken from the queue by a servicer, or ended: the ``msg_code`` it carries
    allows one message in that state (a servicer's 48 hours, the end's 20 seconds: the window
    closes but for that one message)."""
    change = event.get("change_type")
    code = str(event.get("msg_code") or "")[:256]
    now = int(common["sent_at"].timestamp())
    if change == SESSION_ENDED:
        if not code:
            return Inbound(window="closed", reply_context=NO_EVENT_CODE, **common)
        return Inbound(window="ended", reply_context=event_code_context(code, 4, now), **common)
    if change == TAKEN_FROM_POOL and code:
        return Inbound(reply_context=event_code_context(code, HUMAN, now), **common)
    return None


def event_code_context(code: str, state: int, now: int) -> dict[str, Any]:
    """The reply context that keeps a ``msg_code`` given for ``state``."""
    if state not in EVENT_CODE_SECONDS:
        return NO_EVENT_CODE
    return {
        "event_code": code[:256],
        "event_code_state": state,
        "event_code_until": now + EVENT_CODE_SECONDS[state],
    }


def event_code(context: Mapping[str, Any] | None, msgtype: str) -> str | None:
    """The conversation's unused ``msg_code``, while it is valid and allows ``msgtype``."""
    if not context:
        return None
    code, state = context.get("event_code"), context.get("event_code_state")
    until = context.get("event_code_until")
    if not isinstance(code, str) or not code or not isinstance(until, int):
        return None
    if time.time() >= until or msgtype not in EVENT_CODE_TYPES.get(int(state or 0), ()):
        return None
    return code


def welcome_code(context: Mapping[str, Any] | None) -> str | None:
    """The conversation's unused welcome_code, while it is valid."""
    if not context or not isinstance(context.get("welcome_code"), str):
        return None
    until = context.get("welcome_until")
    if not isinstance(until, int) or time.time() >= until:
        return None
    return str(context["welcome_code"])


def _content(kind: str, part: Mapping[str, Any]) -> InboundMessage | None:
    if kind == "text":
        menu = str(part.get("menu_id") or "")[:64]
        return InboundMessage(
            type=MessageType.text,
            content=str(part.get("content") or "")[:20_000],
            payload={"button": {"id": menu}} if menu else None,
        )
    if kind in MEDIA_TYPES:
        media = Media(media_id=str(part.get("media_id") or "")[:500])
        return InboundMessage(type=MEDIA_TYPES[kind], content=kind, media=media)
    if kind == "location":
        lat, lng = float(part.get("latitude", 0)), float(part.get("longitude", 0))
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            return None
        payload = {"latitude": lat, "longitude": lng}
        name = str(part.get("name") or "")[:200]
        label = name or f"{lat}, {lng}"
        return InboundMessage(
            type=MessageType.location,
            content=label,
            payload=payload | ({"name": name} if name else {}),
        )
    if kind == "link":
        parts = [str(part.get(k) or "") for k in ("title", "desc", "url")]
        return InboundMessage(
            type=MessageType.text, content="\n".join(p for p in parts if p)[:20_000]
        )
    return None


# -- outbound --------------------------------------------------------------------------------


def build_send(out: Outbound, open_kfid: str, uploaded: str | None = None) -> dict[str, Any]:
    """The ``kf/send_msg`` body; ``uploaded`` is the media id of the message's attachment."""
    base = {"touser": out.address, "open_kfid": open_kfid, "msgid": out.message_id.hex}
    if out.file is not None and uploaded is not None:
        kind = KF_MEDIA[out.file.kind]
        return base | {"msgtype": kind, kind: {"media_id": uploaded}}
    buttons = [b for b in (out.payload or {}).get("buttons") or [] if isinstance(b, dict)]
    items: list[dict[str, Any]] = []
    for b in buttons:
        label = str(b.get("label") or "")[:80]
        if b.get("action") == "url" and str(b.get("value", "")).startswith(("https://", "http://")):
            items.append({"type": "view", "view": {"url": str(b["value"]), "content": label}})
        elif b.get("id") and label:
            items.append({"type": "click", "click": {"id": str(b["id"])[:64], "content": label}})
    if out.type not in (MessageType.text, MessageType.menu):
        raise DeliveryFailed(
            f"unsupported: WeChat kf cannot show {out.type.value} messages", retry=False
        )
    if items:
        menu = {"head_content": out.content, "list": items, "tail_content": ""}
        return base | {"msgtype": "msgmenu", "msgmenu": menu}
    return base | {"msgtype": "text", "text": {"content": out.content[:2048]}}
