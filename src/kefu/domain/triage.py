"""What the conversation list shows of a conversation beyond its row: the last message's
preview, the rank a priority sorts by, and the friendly name of an anonymous visitor.

Pure functions shared by the actions that keep the row current, the reducer that applies the
events, and the migration's backfill (the agent app's ``inbox/triage.ts`` ports them).
"""

from __future__ import annotations

import uuid

from kefu.domain.enums import Priority, SenderKind

PREVIEW_MAX = 140

# Higher sorts first in the list's priority order (and in the routing queue).
PRIORITY_RANK: dict[Priority, int] = {
    Priority.low: 0,
    Priority.normal: 1,
    Priority.high: 2,
    Priority.urgent: 3,
}

# A message from one of these answers the customer: the conversation stops waiting.
ANSWERS = frozenset({SenderKind.agent, SenderKind.bot})


def preview_of(content: str) -> str:
    """The list's one-line preview: whitespace runs folded to one space, at most
    ``PREVIEW_MAX`` characters (code points, as JavaScript's ``Array.from`` counts them)."""
    return " ".join(content.split())[:PREVIEW_MAX]


# Sixteen adjectives and twenty-four animals; the agent app holds the same lists translated.
ADJECTIVES = (
    "Amber", "Blue", "Brave", "Calm", "Coral", "Golden", "Green", "Happy",
    "Jade", "Kind", "Lucky", "Quiet", "Red", "Silver", "Swift", "Violet",
)  # fmt: skip
ANIMALS = (
    "Badger", "Crane", "Deer", "Dolphin", "Eagle", "Falcon", "Fox", "Hare",
    "Heron", "Koala", "Lynx", "Marten", "Otter", "Owl", "Panda", "Penguin",
    "Rabbit", "Robin", "Seal", "Sparrow", "Swan", "Tiger", "Turtle", "Whale",
)  # fmt: skip


def visitor_parts(contact_id: uuid.UUID) -> tuple[int, int, int]:
    """Adjective index, animal index and a number from 10 to 99, from the id's last 32 bits
    (random in kefu's ids): the same contact always gets the same name."""
    n = int(contact_id.hex[-8:], 16)
    return n % 16, (n // 16) % 24, (n // 384) % 90 + 10


def visitor_name(contact_id: uuid.UUID) -> str:
    """A stable, friendly name for a contact without one ("Blue Otter 42"), in English."""
    a, b, number = visitor_parts(contact_id)
    return f"{ADJECTIVES[a]} {ANIMALS[b]} {number}"
