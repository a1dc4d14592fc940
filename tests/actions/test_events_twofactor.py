"""TOTP two-factor: enrol, confirm (recovery codes), the sign-in step, disable."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import time
from datetime import timedelta
from functools import partial
from subprocess import CompletedProcess, run
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from kefu.actions import twofactor
from kefu.actions.webhooks import create_webhook, webhook_context
from kefu.config import Settings
from kefu.db.tables import InboxChannel, SecondFactor, Webhook
from kefu.domain.enums import Role
from kefu.domain.errors import Conflict, Unauthenticated
from kefu.domain.webhooks import WebhookIn
from kefu.queries.channels import channel_config
from kefu.runtime import Kefu
from kefu.security.sealing import SecretBox, SecretKeyMismatch
from tests.actions.eventcheck import agent_actor, check
from tests.support import make_world, telegram_inbox

pytestmark = pytest.mark.storage
DAY = timedelta(days=1)


async def test_enrol_sign_in_and_disable(kefu: Kefu) -> None:
    world = await make_world(kefu)
    me = agent_actor(world, Role.agent)
    ws = world.workspace_id
    enrol = await check(
        kefu, world, partial(twofactor.begin_totp, actor=me, box=kefu.secrets), expect=[]
    )
    assert enrol.uri.startswith("otpauth://totp/")
    totp = pyotp.TOTP(enrol.secret)
    with pytest.raises(Unauthenticated) as wrong:  # a wrong first code: as at sign-in
        await kefu.write(
            ws, partial(twofactor.confirm_totp, actor=me, box=kefu.secrets, code="000000x")
        )
    assert wrong.value.code == "bad_otp"
    codes = await check(
        kefu,
        world,
        partial(twofactor.confirm_totp, actor=me, box=kefu.secrets, code=totp.now()),
        expect=[],
    )
    assert len(codes) == 10 and len(set(codes)) == 10
    async with kefu.db.read() as s:
        row = await s.get(SecondFactor, (ws, me.agent_id))
        assert row is not None and codes[0] not in str(row.recovery_hashes)
    with pytest.raises(Conflict):
        await kefu.write(ws, partial(twofactor.begin_totp, actor=me, box=kefu.secrets))

    sign_in = partial(
        twofactor.open_agent_session, agent_id=me.agent_id, lifetime=DAY, box=kefu.secrets
    )
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
        partial(
            twofactor.verify_second_factor, agent_id=me.agent_id, code=codes[1], box=kefu.secrets
        ),
        expect=[],
    )
    with pytest.raises(Unauthenticated):
        await kefu.write(
            ws, partial(twofactor.disable_totp, actor=me, box=kefu.secrets, code="123456")
        )
    await check(
        kefu,
        world,
        partial(twofactor.disable_totp, actor=me, box=kefu.secrets, code=codes[2]),
        expect=[],
    )
    await kefu.write(ws, partial(sign_in, otp=None))


async def test_admin_resets_a_lost_device(kefu: Kefu) -> None:
    world = await make_world(kefu)
    me = agent_actor(world, Role.agent)
    enrol = await kefu.write(
        world.workspace_id, partial(twofactor.begin_totp, actor=me, box=kefu.secrets)
    )
    await kefu.write(
        world.workspace_id,
        partial(
            twofactor.confirm_totp, actor=me, box=kefu.secrets, code=pyotp.TOTP(enrol.secret).now()
        ),
    )
    await kefu.write(
        world.workspace_id,
        partial(
            twofactor.disable_totp,
            actor=agent_actor(world),
            agent_id=me.agent_id,
            box=kefu.secrets,
        ),
    )


async def _enrolled(kefu: Kefu) -> tuple[Any, Any, pyotp.TOTP]:
    world = await make_world(kefu)
    me = agent_actor(world, Role.agent)
    ws = world.workspace_id
    enrol = await kefu.write(ws, partial(twofactor.begin_totp, actor=me, box=kefu.secrets))
    totp = pyotp.TOTP(enrol.secret)
    await kefu.write(
        ws, partial(twofactor.confirm_totp, actor=me, code=totp.now(), box=kefu.secrets)
    )
    return world, me, totp


async def test_the_secret_is_sealed_at_rest(kefu: Kefu) -> None:
    _, me, totp = await _enrolled(kefu)
    async with kefu.db.read() as s:
        stored = await s.scalar(  # the column as stored: a plain string
            select(SecondFactor.secret).where(SecondFactor.agent_id == me.agent_id)
        )
    assert stored is not None and stored.startswith(f"s1.{kefu.secrets.key_id}.")
    assert totp.secret not in stored
    assert totp.secret.encode() not in base64.urlsafe_b64decode(stored.split(".")[2] + "==")


async def test_sign_in_with_a_code(kefu: Kefu) -> None:
    world, me, totp = await _enrolled(kefu)
    sign_in = partial(
        twofactor.open_agent_session, agent_id=me.agent_id, lifetime=DAY, box=kefu.secrets
    )
    next_code = totp.generate_otp(int(time.time() // 30) + 1)  # the current one confirmed
    issued = await kefu.write(world.workspace_id, partial(sign_in, otp=next_code))
    assert issued.token


async def test_a_rotated_key_opens_and_seals_again(kefu: Kefu) -> None:
    world, me, totp = await _enrolled(kefu)
    ws = world.workspace_id
    # the server's key changes and the old one is listed as previous: the code still works,
    # and the row is sealed again with the new key
    rotated = SecretBox("another-secret-" + "y" * 40, [kefu.settings.secret_key])
    assert rotated.key_id != kefu.secrets.key_id
    sign_in = partial(twofactor.open_agent_session, agent_id=me.agent_id, lifetime=DAY)
    next_code = totp.generate_otp(int(time.time() // 30) + 1)
    await kefu.write(ws, partial(sign_in, otp=next_code, box=rotated))
    async with kefu.db.read() as s:
        row = await s.get(SecondFactor, (ws, me.agent_id))
        assert row is not None and rotated.is_current(row.secret)
    with pytest.raises(SecretKeyMismatch):  # the old key alone no longer opens it
        await kefu.write(ws, partial(sign_in, otp=totp.now(), box=kefu.secrets))


async def test_reseal_records_nothing_and_seals_with_the_new_key(kefu: Kefu) -> None:
    world, me, _ = await _enrolled(kefu)
    rotated = SecretBox("another-secret-" + "r" * 40, [kefu.settings.secret_key])
    reseal = partial(twofactor.reseal_second_factors, box=rotated)
    assert await check(kefu, world, reseal, expect=[]) == 1
    assert await check(kefu, world, reseal, expect=[]) == 0  # nothing left to do
    async with kefu.db.read() as s:
        row = await s.get(SecondFactor, (world.workspace_id, me.agent_id))
        assert row is not None and rotated.is_current(row.secret)


async def test_a_wrong_key_fails_clearly(kefu: Kefu) -> None:
    world, me, totp = await _enrolled(kefu)
    wrong = SecretBox("not-the-server-key-" + "z" * 40)
    sign_in = partial(
        twofactor.open_agent_session, agent_id=me.agent_id, lifetime=DAY, otp=totp.now()
    )
    with pytest.raises(SecretKeyMismatch) as err:
        await kefu.write(world.workspace_id, partial(sign_in, box=wrong))
    assert err.value.code == "secret_key_mismatch"
    assert kefu.secrets.key_id in err.value.message and wrong.key_id in err.value.message
    assert "KEFU_PREVIOUS_SECRET_KEYS" in err.value.message


def _cli(settings: Settings, *args: str, key: str, previous: list[str]) -> CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env |= {
        "KEFU_MODE": "test",
        "KEFU_DATABASE_URL": settings.effective_database_url,
        "KEFU_SECRET_KEY": key,
        "KEFU_PREVIOUS_SECRET_KEYS": json.dumps(previous),
    }
    cmd = [sys.executable, "-m", "kefu.cli", *args]
    return run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)


async def test_reseal_after_a_rotation(scratch_database_url: str, settings: Settings) -> None:
    # a database of its own: every secret in it must open with the keys given
    kefu = Kefu(settings.model_copy(update={"database_url": scratch_database_url}))
    await kefu.start()
    try:
        await _reseal_after_a_rotation(kefu)
    finally:
        await kefu.close()


async def _reseal_after_a_rotation(kefu: Kefu) -> None:
    world, me, totp = await _enrolled(kefu)
    inbox_id = await telegram_inbox(kefu, world, {"bot_token": "1:abc", "secret_token": "s"})
    spec = WebhookIn(url="https://crm.example.test/kefu")
    make_hook = partial(create_webhook, actor=agent_actor(world, Role.admin), spec=spec)
    hook, hook_secret = await kefu.write(world.workspace_id, partial(make_hook, box=kefu.secrets))
    old, new = kefu.settings.secret_key, "the-new-secret-key-" + "n" * 40
    done = await asyncio.to_thread(
        _cli, kefu.settings, "secrets", "reseal", key=new, previous=[old]
    )
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert (
        "1 two-factor secret(s), 2 channel secret(s), 2 identity secret(s) and 1 webhook "
        "secret(s) sealed" in said
    )
    assert "sealed again with key " + SecretBox(new).key_id in said
    async with kefu.db.read() as s:
        channel = await s.get(InboxChannel, (world.workspace_id, inbox_id))
        assert channel is not None
        opened = channel_config(channel, SecretBox(new)).secrets
        assert opened == {"bot_token": "1:abc", "secret_token": "s"}
        stored = await s.get(Webhook, (world.workspace_id, hook.id))
        assert stored is not None
        context = f"{webhook_context(world.workspace_id, hook.id)}/secret"
        assert SecretBox(new).open(stored.secret, context=context) == hook_secret
    async with kefu.db.read() as s:
        row = await s.get(SecondFactor, (world.workspace_id, me.agent_id))
        assert row is not None and SecretBox(new).is_current(row.secret)
    # the new key alone now opens it: a code is accepted without the old key listed
    sign_in = partial(
        twofactor.open_agent_session, agent_id=me.agent_id, lifetime=DAY, box=SecretBox(new)
    )
    next_code = totp.generate_otp(int(time.time() // 30) + 1)
    await kefu.write(world.workspace_id, partial(sign_in, otp=next_code))
    # a server started with yet another key says so and changes nothing
    wrong = await asyncio.to_thread(
        _cli, kefu.settings, "secrets", "reseal", key="w" * 40, previous=[]
    )
    assert wrong.returncode == 1 and "secret_key_mismatch" in wrong.stdout
