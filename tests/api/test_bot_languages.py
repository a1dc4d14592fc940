"""Bot settings keep one form of each language tag, and refuse tags the bot can never use."""

from __future__ import annotations

import pytest

from tests.support import LiveServer, login, make_world

pytestmark = pytest.mark.storage


async def test_bot_setting_language_tags(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    path = f"/api/v1/inboxes/{world.inbox.id}/bot"
    async with server.http() as anon:
        token = await login(anon, world.admin.email)
    async with server.http(token) as admin:
        body = {"enabled": True, "default_language": "zh-hans", "welcome": {"zh-cn": "您好"}}
        r = await admin.put(path, json=body)
        assert r.status_code == 200, r.text
        assert r.json()["default_language"] == "zh-CN" and r.json()["welcome"] == {"zh-CN": "您好"}
        before = (await admin.get(path)).json()
        for bad in (
            {"welcome": {"fr": "Bonjour"}},
            {"default_language": "de"},
            {"welcome": {"zh-CN": "您好", "zh-cn": "您好"}},
            {"menu": {"ko": []}},
            {"wait_seconds": 60},
        ):
            r = await admin.put(path, json={"enabled": True, **bad})
            assert r.status_code == 422, (bad, r.text)
        assert (await admin.get(path)).json() == before  # nothing stored
