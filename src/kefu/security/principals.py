"""Turning a bearer token, session cookie or WebSocket ticket into an actor.

Every lookup is one statement: the session row joined with the agent or contact it belongs to
(and, for sockets, the inbox whose origins a customer may connect from). Connecting is the hot
path of a reconnect storm, so it pays for one round trip to the database, not three.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kefu.actions.sessions import VISITOR, token_digest
from kefu.db.tables import Agent, AuthSession, Contact, Inbox
from kefu.db.types import utcnow
from kefu.domain.actors import AgentActor, CustomerActor
from kefu.domain.enums import Role
from kefu.domain.errors import Unauthenticated

# A session or a bare connection (:meth:`kefu.db.engine.Database.read_conn`): the lookups are
# Core statements that return rows.
Reader = AsyncSession | AsyncConnection


@dataclass(frozen=True, slots=True)
class Principal:
    actor: AgentActor | CustomerActor
    session_id: uuid.UUID
    kind: str


def _lookup(*, origins: bool) -> Select[Any]:
    """The session with its agent or contact (and its inbox's origins), in one statement."""
    s = AuthSession
    cols: list[Any] = [
        s.workspace_id,
        s.id,
        s.kind,
        s.inbox_id,
        s.expires_at,
        s.revoked_at,
        Contact.id,
        Contact.name,
        Agent.id,
        Agent.role,
        Agent.name,
        Agent.active,
    ]
    if origins:
        cols.append(Inbox.allowed_origins)
    stmt = (
        select(*cols)
        .select_from(s)
        .outerjoin(
            Contact, and_(Contact.workspace_id == s.workspace_id, Contact.id == s.contact_id)
        )
        .outerjoin(Agent, and_(Agent.workspace_id == s.workspace_id, Agent.id == s.agent_id))
    )
    if origins:
        stmt = stmt.outerjoin(
            Inbox, and_(Inbox.workspace_id == s.workspace_id, Inbox.id == s.inbox_id)
        )
    return stmt


_BY_TOKEN = _lookup(origins=False).where(AuthSession.token_hash == bindparam("digest"))
_BY_ID = _lookup(origins=False).where(
    AuthSession.workspace_id == bindparam("ws"), AuthSession.id == bindparam("sid")
)
_BY_ID_WITH_ORIGINS = _lookup(origins=True).where(
    AuthSession.workspace_id == bindparam("ws"), AuthSession.id == bindparam("sid")
)


def _principal(row: Row[Any] | None) -> Principal:
    """The live principal of a looked-up row; :class:`Unauthenticated` for anything else."""
    if row is None:
        raise Unauthenticated("invalid or expired token")
    values: tuple[Any, ...] = tuple(row)
    ws_id, sid, kind, inbox_id, expires_at, revoked_at = values[:6]
    contact_id, contact_name, agent_id, role, agent_name, active = values[6:12]
    if revoked_at is not None:
        raise Unauthenticated("invalid or expired token")
    if expires_at is not None and expires_at <= utcnow():
        raise Unauthenticated("invalid or expired token")
    if kind == VISITOR:
        assert inbox_id is not None
        if contact_id is None:
            raise Unauthenticated("invalid or expired token")
        actor: AgentActor | CustomerActor = CustomerActor(
            workspace_id=ws_id,
            contact_id=contact_id,
            inbox_id=inbox_id,
            name=contact_name,
            session_id=sid,
        )
    else:
        if agent_id is None or not active:
            raise Unauthenticated("invalid or expired token")
        actor = AgentActor(
            workspace_id=ws_id,
            agent_id=agent_id,
            role=Role(role),
            name=agent_name,
            session_id=sid,
        )
    return Principal(actor, sid, kind)


async def principal_for_token(session: Reader, token: str) -> Principal:
    """The live session behind ``token``; :class:`Unauthenticated` for anything else."""
    if not token or len(token) > 200:
        raise Unauthenticated("invalid or expired token")
    result = await session.execute(_BY_TOKEN, {"digest": token_digest(token)})
    return _principal(result.one_or_none())


async def principal_for_session_id(
    session: Reader, workspace_id: uuid.UUID, session_id: uuid.UUID
) -> Principal:
    result = await session.execute(_BY_ID, {"ws": workspace_id, "sid": session_id})
    return _principal(result.one_or_none())


async def principal_and_origins(
    session: Reader, workspace_id: uuid.UUID, session_id: uuid.UUID
) -> tuple[Principal, list[str]]:
    """The live session ``session_id`` and the origins (besides the server's own) its socket
    may connect from: a customer's inbox allow-list; none for agents. One statement."""
    result = await session.execute(_BY_ID_WITH_ORIGINS, {"ws": workspace_id, "sid": session_id})
    row = result.one_or_none()
    principal = _principal(row)
    assert row is not None
    extra = row[12] if isinstance(principal.actor, CustomerActor) else None
    return principal, list(extra or [])


async def principal_for_session(session: AsyncSession, row: AuthSession | None) -> Principal:
    """The live principal of an already loaded session row."""
    if row is None:
        raise Unauthenticated("invalid or expired token")
    return await principal_for_session_id(session, row.workspace_id, row.id)
