"""Sign-in sessions, API tokens and visitor sessions. Secrets are stored only as digests."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update

from kefu.actions.tx import Tx
from kefu.db.tables import AuthSession
from kefu.domain.enums import Visibility
from kefu.domain.events import SessionsRevoked
from kefu.domain.ids import new_id

AGENT_SESSION = "session"
API_TOKEN = "api"  # noqa: S105 - a kind name, not a secret
VISITOR = "visitor"

_PREFIX = {AGENT_SESSION: "kfs_", API_TOKEN: "kfk_", VISITOR: "kfv_"}


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Issued:
    session_id: uuid.UUID
    token: str  # shown once, never stored


async def open_session(
    tx: Tx,
    *,
    kind: str,
    agent_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    inbox_id: uuid.UUID | None = None,
    name: str | None = None,
    lifetime: timedelta | None = None,
) -> Issued:
    token = _PREFIX[kind] + secrets.token_urlsafe(32)
    row = AuthSession(
        workspace_id=tx.workspace_id,
        id=new_id(),
        token_hash=token_digest(token),
        kind=kind,
        name=name,
        agent_id=agent_id,
        contact_id=contact_id,
        inbox_id=inbox_id,
        created_at=tx.now,
        expires_at=tx.now + lifetime if lifetime else None,
    )
    tx.session.add(row)
    await tx.session.flush()
    return Issued(row.id, token)


async def revoke_sessions(
    tx: Tx,
    *,
    session_id: uuid.UUID | None = None,
    agent_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    keep: uuid.UUID | None = None,
    kind: str | None = None,
) -> list[uuid.UUID]:
    """End one session, or every session of an agent or a contact but ``keep``; their
    sockets close."""
    if session_id is None and agent_id is None and contact_id is None:
        raise ValueError("name a session, an agent or a contact")
    stmt = update(AuthSession).where(
        AuthSession.workspace_id == tx.workspace_id, AuthSession.revoked_at.is_(None)
    )
    if session_id is not None:
        stmt = stmt.where(AuthSession.id == session_id)
    if agent_id is not None:
        stmt = stmt.where(AuthSession.agent_id == agent_id)
    if contact_id is not None:
        stmt = stmt.where(AuthSession.contact_id == contact_id)
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    if kind is not None:
        stmt = stmt.where(AuthSession.kind == kind)
    ended = list(
        (
            await tx.session.execute(stmt.values(revoked_at=tx.now).returning(AuthSession.id))
        ).scalars()
    )
    if ended:
        tx.emit(SessionsRevoked(session_ids=ended), visibility=Visibility.system)
    return ended
