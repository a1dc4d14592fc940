"""Seeding a demo workspace: an admin, two agents, a team and a web inbox.

The demo is meant to be tried at once: its agents are online before anyone signs in (so a
widget conversation is assigned from its first message), and its inbox allows the pages a
newcomer serves on their own machine (``python3 -m http.server 8080``: ``DEMO_ORIGINS``) as well
as kefu's own."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import partial

from sqlalchemy import select

from kefu.actions.presence import hold_online
from kefu.actions.tx import Tx
from kefu.actions.workspaces import create_workspace
from kefu.bootstrap import Person, create_staff
from kefu.db.tables import Agent, Inbox, Workspace
from kefu.domain.errors import InvalidInput
from kefu.runtime import Kefu
from kefu.security.passwords import check_password, hash_new_password

DEMO_SLUG = "demo"
DEMO_AGENTS = ("li@demo.kefu", "sato@demo.kefu")
# A page served next to the README's embed example with `python3 -m http.server 8080`.
DEMO_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")


@dataclass(frozen=True)
class DemoAccounts:
    admin_email: str
    admin_password: str
    agent_emails: tuple[str, ...]
    agent_password: str
    inbox_key: str


async def demo_exists(kefu: Kefu) -> bool:
    async with kefu.db.read() as session:
        found = await session.scalar(select(Workspace.id).where(Workspace.slug == DEMO_SLUG))
    return found is not None


async def demo_inbox_key(kefu: Kefu) -> str | None:
    """The key of the demo workspace's first web inbox (None without a demo workspace)."""
    async with kefu.db.read() as session:
        key: str | None = await session.scalar(
            select(Inbox.key)
            .join(Workspace, Workspace.id == Inbox.workspace_id)
            .where(Workspace.slug == DEMO_SLUG, Inbox.channel == "web")
            .order_by(Inbox.created_at)
            .limit(1)
        )
    return key


async def demo_agents_online(kefu: Kefu) -> None:
    """Put the demo's agents online (at every start: a restart finds them offline once their
    browsers have gone)."""
    async with kefu.db.read() as session:
        ws_id = await session.scalar(select(Workspace.id).where(Workspace.slug == DEMO_SLUG))
        if ws_id is None:
            return
        ids = list(
            await session.scalars(
                select(Agent.id).where(Agent.workspace_id == ws_id, Agent.email.in_(DEMO_AGENTS))
            )
        )
    await kefu.write(ws_id, partial(hold_online, agent_ids=ids))


_DEMO_INPUTS = ("admin@demo.kefu", "Ada Admin", "demo")


def _generated() -> str:
    """A random password that meets the password rule (16 URL-safe characters nearly always
    do; one that happens not to is drawn again)."""
    while True:
        password = secrets.token_urlsafe(12)
        try:
            check_password(password, _DEMO_INPUTS)
        except InvalidInput:
            continue
        return password


async def seed_demo(kefu: Kefu) -> DemoAccounts:
    """The demo workspace; ``weak_password`` (before anything is written) if
    ``KEFU_DEMO_PASSWORD`` does not meet the password rule."""
    password = os.environ.get("KEFU_DEMO_PASSWORD") or _generated()
    hashed = hash_new_password(password, _DEMO_INPUTS)
    ws_id = await kefu.write(None, partial(create_workspace, name="Demo Company", slug=DEMO_SLUG))

    async def _people(tx: Tx) -> str:
        staff = await create_staff(
            tx,
            admin=Person("admin@demo.kefu", "Ada Admin"),
            agents=[Person(DEMO_AGENTS[0], "Li Wei"), Person(DEMO_AGENTS[1], "Sato Yui")],
            password_hash=hashed,
            languages=["en", "zh", "ja"],
            greeting="Hi! How can we help?",
            allowed_origins=DEMO_ORIGINS,
            box=kefu.secrets,
        )
        return staff.inbox.key

    key = await kefu.write(ws_id, _people)
    return DemoAccounts("admin@demo.kefu", password, DEMO_AGENTS, password, key)
