"""TOTP two-factor sign-in (RFC 6238 through pyotp) with hashed one-time recovery codes.

Enrolment is two steps: ``begin_totp`` stores a pending secret and returns it (and its
``otpauth://`` URI for a QR code); ``confirm_totp`` checks a first code, turns it on and returns
ten recovery codes, shown once and stored only as SHA-256 digests. A code is accepted once:
the step it was made in is remembered. The secret is stored sealed (AES-GCM under a key derived
from ``KEFU_SECRET_KEY``, bound to its row: :mod:`kefu.security.sealing`); a secret sealed with
a previous key is sealed again with the current one when a code is accepted. These rows are
private to the agent, so nothing here records an event.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from sqlalchemy import select

from kefu.actions.sessions import AGENT_SESSION, Issued, open_session, revoke_sessions
from kefu.actions.tx import Tx
from kefu.db.tables import Agent, SecondFactor
from kefu.domain.actors import Actor
from kefu.domain.enums import Role
from kefu.domain.errors import Conflict, NotFound, Unauthenticated
from kefu.queries.access import access_agent, require_role
from kefu.security.sealing import SecretBox

ISSUER = "kefu"
RECOVERY_CODES = 10


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    uri: str


def _digest(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


def _context(row: SecondFactor) -> str:
    return f"second_factors/{row.workspace_id}/{row.agent_id}"


def _new_recovery_code() -> str:
    raw = secrets.token_hex(6)  # 48 bits, shown as xxxx-xxxx-xxxx
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


async def begin_totp(tx: Tx, actor: Actor, *, box: SecretBox) -> Enrolment:
    me = require_role(actor, Role.agent)
    agent = await tx.session.get(Agent, (tx.workspace_id, me.agent_id))
    if agent is None:
        raise NotFound("agent not found")
    row = await tx.session.get(SecondFactor, (tx.workspace_id, me.agent_id))
    if row is not None and row.confirmed_at is not None:
        raise Conflict("two-factor sign-in is already on", code="totp_enabled")
    secret = pyotp.random_base32()
    if row is None:
        row = SecondFactor(
            workspace_id=tx.workspace_id,
            agent_id=me.agent_id,
            secret="",
            confirmed_at=None,
            last_step=0,
            recovery_hashes=[],
            created_at=tx.now,
        )
        tx.session.add(row)
    row.secret, row.created_at = box.seal(secret, context=_context(row)), tx.now
    await tx.session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=agent.email, issuer_name=ISSUER)
    return Enrolment(secret, uri)


async def confirm_totp(tx: Tx, actor: Actor, *, code: str, box: SecretBox) -> list[str]:
    """Turn two-factor sign-in on with a first valid code; returns the recovery codes.
    Every other session and API token of the agent ends (their sockets close): whoever
    signed in with the password alone before is signed out; the session that did this stays."""
    me = require_role(actor, Role.agent)
    row = await tx.session.get(SecondFactor, (tx.workspace_id, me.agent_id))
    if row is None or row.confirmed_at is not None:
        raise Conflict("start enrolment first", code="totp_not_pending")
    if not _accept_totp(row, code, tx.now.timestamp(), box):
        raise Unauthenticated("the two-factor code is wrong or too old", code="bad_otp")
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    row.recovery_hashes = [_digest(c) for c in codes]
    row.confirmed_at = tx.now
    await tx.session.flush()
    await revoke_sessions(tx, agent_id=me.agent_id, keep=me.session_id)
    return codes


async def disable_totp(
    tx: Tx,
    actor: Actor,
    *,
    box: SecretBox,
    agent_id: uuid.UUID | None = None,
    code: str | None = None,
) -> None:
    """Turn it off: the agent for themselves with a current or recovery ``code`` (so a borrowed
    session cannot), or an admin for another agent who lost their device."""
    me = require_role(actor, Role.agent)
    target = (await access_agent(tx.session, actor, agent_id or me.agent_id)).id
    if target != me.agent_id:
        require_role(actor, Role.admin)
    row = await tx.session.get(SecondFactor, (tx.workspace_id, target))
    if row is None:
        if target != me.agent_id:
            return  # an admin's reset of an agent who has none: nothing to do
        raise NotFound("two-factor sign-in is off", code="totp_disabled")
    if target == me.agent_id and row.confirmed_at is not None:
        await verify_second_factor(tx, agent_id=target, code=code or "", box=box)
    await tx.session.delete(row)
    await tx.session.flush()


async def verify_second_factor(tx: Tx, *, agent_id: uuid.UUID, code: str, box: SecretBox) -> None:
    """Check a TOTP code or use up a recovery code; ``bad_otp`` otherwise. Expects the caller
    to rate-limit attempts."""
    row = await tx.session.get(SecondFactor, (tx.workspace_id, agent_id))
    if row is None or row.confirmed_at is None:
        return
    code = code.strip()
    if code.isdigit() and _accept_totp(row, code, tx.now.timestamp(), box):
        await tx.session.flush()
        return
    digest = _digest(code)
    for stored in row.recovery_hashes:
        if hmac.compare_digest(stored, digest):
            row.recovery_hashes = [h for h in row.recovery_hashes if h != stored]
            await tx.session.flush()
            return
    raise Unauthenticated("the two-factor code is wrong", code="bad_otp")


def _accept_totp(row: SecondFactor, code: str, now: float, box: SecretBox) -> bool:
    """Accept a code from this step or the one either side, once."""
    secret = box.open(row.secret, context=_context(row))
    totp = pyotp.TOTP(secret)
    step = int(now // totp.interval)
    for s in (step - 1, step, step + 1):
        if s > row.last_step and hmac.compare_digest(totp.generate_otp(s), code):
            row.last_step = s
            if not box.is_current(row.secret):  # sealed with a previous key
                row.secret = box.seal(secret, context=_context(row))
            return True
    return False


async def open_agent_session(
    tx: Tx, *, agent_id: uuid.UUID, otp: str | None, lifetime: timedelta, box: SecretBox
) -> Issued:
    """The last step of signing in, after the password: the second factor when the agent has
    turned it on (``otp_required`` without a code), then a new session."""
    row = await tx.session.get(SecondFactor, (tx.workspace_id, agent_id))
    if row is not None and row.confirmed_at is not None:
        if not otp:
            raise Unauthenticated("enter the code from your authenticator app", code="otp_required")
        await verify_second_factor(tx, agent_id=agent_id, code=otp, box=box)
    return await open_session(tx, kind=AGENT_SESSION, agent_id=agent_id, lifetime=lifetime)


async def reseal_second_factors(tx: Tx, *, box: SecretBox) -> int:
    """Seal again with the current key every secret of the workspace sealed with a previous
    one (after a rotation of ``KEFU_SECRET_KEY``); returns how many. A secret no configured
    key opens stops it with ``secret_key_mismatch``."""
    rows = (
        await tx.session.execute(
            select(SecondFactor).where(
                SecondFactor.workspace_id == tx.workspace_id,
                SecondFactor.secret.not_like(box.current_prefix + "%"),
            )
        )
    ).scalars()
    done = 0
    for row in rows:
        row.secret = box.seal(box.open(row.secret, context=_context(row)), context=_context(row))
        done += 1
    await tx.session.flush()
    return done
