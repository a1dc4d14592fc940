"""Seeding a demo workspace: an admin, two agents, a team and a web inbox."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import partial

from sqlalchemy import select

from kefu.actions.tx import Tx
from kefu.actions.workspaces import create_workspace
from kefu.bootstrap import Person, create_staff
from kefu.db.tables import Workspace
from kefu.domain.errors import InvalidInput
from kefu.runtime import Kefu
from kefu.security.passwords import check_password, hash_new_password

DEMO_SLUG = "demo"


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
            agents=[Person("li@demo.kefu", "Li Wei"), Person("sato@demo.kefu", "Sato Yui")],
            password_hash=hashed,
            languages=["en", "zh", "ja"],
            greeting="Hi! How can we help?",
            box=kefu.secrets,
        )
        return staff.inbox.key

    key = await kefu.write(ws_id, _people)
    return DemoAccounts(
        "admin@demo.kefu", password, ("li@demo.kefu", "sato@demo.kefu"), password, key
    )
