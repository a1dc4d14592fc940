"""The WeChat Official Account's messages, no I/O: a callback's XML as a customer item, and an
outgoing message as a customer-service API body."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element

from kefu.channels.base import BadRequest, DeliveryFailed, Outbound
from kefu.channels.wechat_api import xml_text
from kefu.domain.enums import IdentityKind, MessageType
from kefu.domain.inbound import Inbound, InboundMessage, Media

# Which WeChat media type each attachment kind is uploaded as (the customer-service API sends
# images, voice and video; other files cannot be sent to an Official Account's follower).
OA_MEDIA = {"image": "image", "audio": "voice", "video": "video"}


# -- inbound ---------------------------------------------------------------------------------


def parse_message(root: Element) -> Inbound | None:
    """The customer item of a decrypted WeChat message or event (``None``: nothing to store)."""
    openid = xml_text(root, "FromUserName", 128)
    msg_type = xml_text(root, "MsgType", 32)
    created = xml_text(root, "CreateTime", 20)
    if not openid or not created.isdigit():
        raise BadRequest("FromUserName and CreateTime are required")
    common: dict[str, Any] = {
        "address": openid,
        "identities": ((IdentityKind.wechat_openid, openid),),
        "sent_at": datetime.fromtimestamp(int(created), UTC),
    }
    if msg_type == "event":
        return _event(root, openid, created, common)
    msg_id = xml_text(root, "MsgId", 32)
    if not msg_id.isdigit():
        raise BadRequest("MsgId is required")
    message = _message(root, msg_type)
    if message is None:
        return None
    return Inbound(provider_id=f"msg:{msg_id}", message=message, window="message", **common)


def _message(root: Element, msg_type: str) -> InboundMessage | None:
    if msg_type == "text":
        menu_id = xml_text(root, "bizmsgmenuid", 64)  # a tapped msgmenu item
        button = {"button": {"id": menu_id}} if menu_id else None
        return InboundMessage(
            type=MessageType.text, content=xml_text(root, "Content"), payload=button
        )
    if msg_type == "image":
        media = Media(
            url=xml_text(root, "PicUrl", 2000) or None, media_id=xml_text(root, "MediaId", 500)
        )
        return InboundMessage(type=MessageType.image, content="image", media=media)
    if msg_type == "voice":
        media = Media(
            media_id=xml_text(root, "MediaId", 500), mime=f"audio/{xml_text(root, 'Format', 20)}"
        )
        return InboundMessage(
            type=MessageType.audio, content=xml_text(root, "Recognition") or "voice", media=media
        )
    if msg_type in ("video", "shortvideo"):
        media = Media(media_id=xml_text(root, "MediaId", 500))
        return InboundMessage(type=MessageType.video, content="video", media=media)
    if msg_type == "location":
        try:
            lat, lng = (
                float(xml_text(root, "Location_X", 32)),
                float(xml_text(root, "Location_Y", 32)),
            )
        except ValueError as exc:
            raise BadRequest("bad location") from exc
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise BadRequest("bad location")
        payload: dict[str, Any] = {"latitude": lat, "longitude": lng}
        label = xml_text(root, "Label", 500)
        if label:
            payload["name"] = label[:200]
        return InboundMessage(
            type=MessageType.location, content=label or f"{lat}, {lng}", payload=payload
        )
    if msg_type == "link":
        parts = [
            xml_text(root, "Title", 500),
            xml_text(root, "Description", 2000),
            xml_text(root, "Url", 2000),
        ]
        return InboundMessage(type=MessageType.text, content="\n".join(p for p in parts if p))
    return None  # types WeChat may add later: acknowledged, not stored


def _event(root: Element, openid: str, created: str, common: dict[str, Any]) -> Inbound | None:
    event = xml_text(root, "Event", 64)
    key = xml_text(root, "EventKey", 500)
    pid = f"event:{openid}:{created}"
    if event == "subscribe":
        scene = key.removeprefix("qrscene_") if key.startswith("qrscene_") else None
        source = f"qrscene:{scene}"[:200] if scene else "wechat:subscribe"
        return Inbound(provider_id=pid, window="event", source=source, **common)
    if event == "SCAN":
        return Inbound(provider_id=pid, window="event", source=f"qrscene:{key}"[:200], **common)
    if event == "unsubscribe":
        return Inbound(provider_id=pid, window="closed", **common)
    if event == "CLICK" and key:
        message = InboundMessage(
            type=MessageType.text, content=key, payload={"button": {"id": key[:64]}}
        )
        return Inbound(provider_id=pid, window="event", message=message, **common)
    return None  # VIEW, LOCATION reports, kf session events …: acknowledged


# -- outbound --------------------------------------------------------------------------------


def build_send(
    out: Outbound, uploaded: str | None = None, thumb: str | None = None
) -> dict[str, Any]:
    """The customer-service API body for ``out`` (docs/messages.md types mapped); ``uploaded``
    is the media id of the message's attachment, uploaded just before, ``thumb`` that of a
    video's thumbnail."""
    payload = dict(out.payload or {})
    base: dict[str, Any] = {"touser": out.address}
    buttons = [b for b in payload.get("buttons") or [] if isinstance(b, dict)]
    replies = [b for b in buttons if b.get("action") != "url" and b.get("id") and b.get("label")]
    links = [
        b
        for b in buttons
        if b.get("action") == "url" and str(b.get("value", "")).startswith(("https://", "http://"))
    ]
    text = out.content
    if links:
        text += "".join(f'\n<a href="{b["value"]}">{b["label"]}</a>' for b in links)
    if out.type == MessageType.card:
        article = {
            "title": str(payload.get("title") or out.content)[:64],
            "description": str(payload.get("text") or "")[:120],
            "url": str(payload.get("url") or ""),
            "picurl": str(payload.get("image_url") or ""),
        }
        return base | {"msgtype": "news", "news": {"articles": [article]}}
    if out.file is not None and uploaded is not None:
        kind = OA_MEDIA[out.file.kind]
        part: dict[str, Any] = {"media_id": uploaded}
        if kind == "video":
            title = out.content if out.content.strip() else out.file.name
            part |= {"title": title[:64], "description": ""}
            if thumb is not None:
                part["thumb_media_id"] = thumb
        return base | {"msgtype": kind, kind: part}
    if out.type in (MessageType.image, MessageType.audio, MessageType.video):
        media_id = payload.get("media_id")
        if not isinstance(media_id, str):
            raise DeliveryFailed(
                "unsupported: this file has not been uploaded to WeChat", retry=False
            )
        kind = {"image": "image", "audio": "voice", "video": "video"}[out.type.value]
        return base | {"msgtype": kind, kind: {"media_id": media_id}}
    if out.type not in (MessageType.text, MessageType.menu):
        raise DeliveryFailed(
            f"unsupported: WeChat cannot show {out.type.value} messages", retry=False
        )
    if replies:
        items = [{"id": str(b["id"])[:64], "content": str(b["label"])[:80]} for b in replies]
        return base | {
            "msgtype": "msgmenu",
            "msgmenu": {"head_content": text, "list": items, "tail_content": ""},
        }
    return base | {"msgtype": "text", "text": {"content": text}}
