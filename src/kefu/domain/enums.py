"""Enumerations shared by the model, the API and the events."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    agent = "agent"


class AgentStatus(StrEnum):
    online = "online"
    away = "away"
    offline = "offline"


class ChannelKind(StrEnum):
    web = "web"
    app = "app"
    wechat_oa = "wechat_oa"
    wechat_kf = "wechat_kf"
    email = "email"
    telegram = "telegram"
    api = "api"


class ConversationStatus(StrEnum):
    bot = "bot"
    queued = "queued"
    open = "open"
    pending = "pending"
    snoozed = "snoozed"
    resolved = "resolved"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class ListSort(StrEnum):
    """The conversation list's orders."""

    activity = "activity"  # newest activity first
    waiting = "waiting"  # longest waiting for an answer first (only those waiting)
    priority = "priority"  # highest priority first, then newest activity


class SenderKind(StrEnum):
    customer = "customer"
    agent = "agent"
    bot = "bot"
    system = "system"


class MessageType(StrEnum):
    text = "text"
    image = "image"
    file = "file"
    audio = "audio"
    video = "video"
    location = "location"
    card = "card"
    menu = "menu"
    note = "note"


class DeliveryState(StrEnum):
    stored = "stored"
    sent = "sent"
    delivered = "delivered"
    read = "read"
    failed = "failed"


class IdentityKind(StrEnum):
    visitor = "visitor"
    external = "external"
    email = "email"
    phone = "phone"
    wechat_openid = "wechat_openid"
    wechat_unionid = "wechat_unionid"
    wecom_external = "wecom_external"  # a WeCom external_userid
    telegram = "telegram"


class Visibility(StrEnum):
    """Who may see an event: every principal of the conversation, or agents only."""

    public = "public"
    agents = "agents"
    system = "system"  # consumed by the servers themselves, never sent to a client


class JobState(StrEnum):
    pending = "pending"
    running = "running"
    done = "done"
    failed = "failed"
