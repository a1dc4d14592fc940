"""TOTP two-factor: enrol, confirm (recovery codes), the sign-in step, disable."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pyotp
import pytest

from kefu.actions import twofactor
from kefu.db.tables import SecondFactor
from kefu.domain.enums import Role
from kefu.domain.errors import Conflict, InvalidInput, Unauthenticated
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, check
from tests.support import make_world

pytestmark = pytest.mark.storage
DAY = timedelta(days=1)


async def test_enrol_sign_in_and_disable(kefu: Kefu) -> None:
    world = await make_world(kefu)
    me = agent_actor(world, Role.agent)
    ws = world.workspace_id
    enrol = await check(kefu, world, partial(twofactor.begin_totp, actor=me), expect=[])
    assert enrol.uri.startswith("otpauth://totp/")
    totp = pyotp.TOTP(enrol.secret)
    with pytest.raises(InvalidInput):
        await kefu.write(ws, partial(twofactor.confirm_totp, actor=me, code="000000x"))
    codes = await check(
        kefu, world, partial(twofactor.confirm_totp, actor=me, code=totp.now()), expect=[]
    )
    assert len(codes) == 10 and len(set(codes)) == 10
    async with kefu.db.read() as s:
        row = await s.get(SecondFactor, (ws, me.agent_id))
        assert row is not None and codes[0] not in str(row.recovery_hashes)
    with pytest.raises(Conflict):
        await kefu.write(ws, partial(twofactor.begin_totp, actor=me))

    sign_in = partial(twofactor.open_agent_session, agent_id=me.agent_id, lifetime=DAY)
    with pytest.raises(Unauthenticated) as err:
        await kefu.write(ws, partial(sign_in, otp=None))
    assert err.value.code == "otp_required"
    assert row is not None
    with pytest.raises(Unauthenticated) as err:  # the code that confirmed is spent
        await kefu.write(ws, partial(sign_in, otp=totp.generate_otp(row.last_step)))
    assert err.value.code == "bad_otp"
    await check(kefu, world, partial(sign_in, otp=codes[0]), expect=[])
    with pytest.raises(Unauthenticated):  # a recovery code works once
        await kefu.write(ws, partial(sign_in, otp=codes[0]))
    await check(
        kefu,
        world,
        partial(twofactor.verify_second_factor, agent_id=me.agent_id, code=codes[1]),
        expect=[],
    )
    with pytest.raises(Unauthenticated):
        await kefu.write(ws, partial(twofactor.disable_totp, actor=me, code="123456"))
    await check(kefu, world, partial(twofactor.disable_totp, actor=me, code=codes[2]), expect=[])
    await kefu.write(ws, partial(sign_in, otp=None))


async def test_admin_resets_a_lost_device(kefu: Kefu) -> None:
    world = await make_world(kefu)
    me = agent_actor(world, Role.agent)
    enrol = await kefu.write(world.workspace_id, partial(twofactor.begin_totp, actor=me))
    await kefu.write(
        world.workspace_id,
        partial(twofactor.confirm_totp, actor=me, code=pyotp.TOTP(enrol.secret).now()),
    )
    await kefu.write(
        world.workspace_id,
        partial(twofactor.disable_totp, actor=agent_actor(world), agent_id=me.agent_id),
    )
