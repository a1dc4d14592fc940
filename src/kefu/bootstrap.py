"""Creating a workspace's first people: ``kefu workspace create``, the demo, tests and benchmarks
all start from the same shape (a "Support" team, an admin, agents and a web inbox)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from kefu.actions.agents import create_agent
from kefu.actions.inboxes import create_inbox
from kefu.actions.teams import create_team
from kefu.actions.tx import Tx
from kefu.actions.workspaces import create_workspace
from kefu.domain.enums import Role
from kefu.domain.text import Email, Name, Password, Slug
from kefu.domain.views import AgentView, InboxView, TeamView
from kefu.runtime import Kefu
from kefu.security.passwords import PasswordHash, hash_new_password_async
from kefu.security.sealing import SecretBox


@dataclass(frozen=True)
class Person:
    email: str
    name: str


@dataclass(frozen=True)
class Staff:
    team: TeamView
    admin: AgentView
    agents: list[AgentView]
    inbox: InboxView


async def create_staff(
    tx: Tx,
    *,
    admin: Person,
    password_hash: PasswordHash,
    agents: Sequence[Person] = (),
    languages: Sequence[str] = (),
    capacity: int = 20,
    inbox_name: str = "Web site",
    greeting: str | None = None,
    require_identity: bool = False,
    allowed_origins: Sequence[str] = (),
    box: SecretBox,
) -> Staff:
    """A "Support" team with an admin and agents in it, and a web inbox routed to it. Acts as
    the installer (no actor). Expects the workspace's open transaction."""
    team = await create_team(tx, None, name="Support")
    owner = await create_agent(
        tx,
        None,
        email=admin.email,
        name=admin.name,
        password_hash=password_hash,
        role=Role.admin,
        team_ids=[team.id],
        languages=languages,
    )
    people = [
        await create_agent(
            tx,
            None,
            email=p.email,
            name=p.name,
            password_hash=password_hash,
            team_ids=[team.id],
            languages=languages,
            capacity=capacity,
        )
        for p in agents
    ]
    inbox = await create_inbox(
        tx,
        None,
        name=inbox_name,
        team_id=team.id,
        greeting=greeting,
        require_identity=require_identity,
        allowed_origins=allowed_origins,
        box=box,
    )
    return Staff(team, owner, people, inbox)


class NewWorkspace(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    slug: Slug
    admin_email: Email
    admin_name: Name
    password: Password


async def create_owner_workspace(kefu: Kefu, spec: NewWorkspace) -> tuple[str, str]:
    """Returns the workspace id and the key of its web inbox."""
    hashed = await hash_new_password_async(
        spec.password, [spec.admin_email, spec.admin_name, spec.name, spec.slug]
    )

    async def _everything(tx: Tx) -> tuple[str, str]:
        """One transaction: a failure leaves no half-made workspace behind."""
        ws_id = await create_workspace(tx, name=spec.name, slug=spec.slug)
        tx.adopt_workspace(ws_id)
        staff = await create_staff(
            tx,
            admin=Person(spec.admin_email, spec.admin_name),
            password_hash=hashed,
            box=kefu.secrets,
        )
        return str(ws_id), staff.inbox.key

    return await kefu.write(None, _everything)
