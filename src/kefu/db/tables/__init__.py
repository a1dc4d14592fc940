"""The schema. Every workspace-owned table leads with ``workspace_id`` in its primary key,
unique constraints and foreign keys, so the data can later be distributed by workspace.

One module per area; importing this package defines every table on ``Base.metadata``.
"""

from __future__ import annotations

from kefu.db.tables.base import NAMING, Base
from kefu.db.tables.channels import ChannelToken, EntryLink, InboundReceipt, Inbox, InboxChannel
from kefu.db.tables.conversations import (
    Conversation,
    ConversationRead,
    ConversationTag,
    Event,
    Message,
    SavedView,
)
from kefu.db.tables.jobs import Attachment, Job
from kefu.db.tables.knowledge import BotSetting, BotState, CannedReply, KbArticle
from kefu.db.tables.people import (
    Agent,
    AgentInvite,
    AuthSession,
    Contact,
    ContactIdentity,
    ContactMerge,
    Notification,
    SecondFactor,
    Workspace,
)
from kefu.db.tables.routing import RoutingSettings, Team, TeamMember
from kefu.db.tables.webhooks import Webhook, WebhookDelivery

__all__ = [
    "NAMING",
    "Agent",
    "AgentInvite",
    "Attachment",
    "AuthSession",
    "Base",
    "BotSetting",
    "BotState",
    "CannedReply",
    "ChannelToken",
    "Contact",
    "ContactIdentity",
    "ContactMerge",
    "Conversation",
    "ConversationRead",
    "ConversationTag",
    "EntryLink",
    "Event",
    "InboundReceipt",
    "Inbox",
    "InboxChannel",
    "Job",
    "KbArticle",
    "Message",
    "Notification",
    "RoutingSettings",
    "SavedView",
    "SecondFactor",
    "Team",
    "TeamMember",
    "Webhook",
    "WebhookDelivery",
    "Workspace",
]
