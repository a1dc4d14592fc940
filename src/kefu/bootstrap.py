"""Creating a workspace with its first admin (``kefu workspace create``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from kefu.actions.agents import create_agent
from kefu.actions.inboxes import create_inbox
from kefu.actions.teams import create_team
from kefu.actions.tx import Tx
from kefu.actions.workspaces import create_workspace
from kefu.domain.enums import Role
from kefu.domain.text import Email, Name, Password, Slug
from kefu.runtime import Kefu
from kefu.security.passwords import hash_password_async


class NewWorkspace(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    slug: Slug
    admin_email: Email
    admin_name: Name
    password: Password


async def create_owner_workspace(kefu: Kefu, spec: NewWorkspace) -> tuple[str, str]:
    """Returns the workspace id and the key of its web inbox."""
    hashed = await hash_password_async(spec.password)

    async def _everything(tx: Tx) -> tuple[str, str]:
        """One transaction: a failure leaves no half-made workspace behind."""
        ws_id = await create_workspace(tx, name=spec.name, slug=spec.slug)
        tx.adopt_workspace(ws_id)
        team = await create_team(tx, None, name="Support")
        await create_agent(
            tx,
            None,
            email=spec.admin_email,
            name=spec.admin_name,
            password_hash=hashed,
            role=Role.admin,
            team_ids=[team.id],
        )
        inbox = await create_inbox(tx, None, name="Web site", team_id=team.id)
        return str(ws_id), inbox.key

    return await kefu.write(None, _everything)
