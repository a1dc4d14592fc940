"""An inbox's channel settings are checked when they are saved: a value its adapter can't work
with is a 422 naming the field, and nothing of the refused save is stored."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.domain.enums import ChannelKind
from tests.channels.fakes import channel_inbox
from tests.support import LiveServer

pytestmark = pytest.mark.storage

AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
OA = ({"app_id": "wx49f0ab532d5d035a"}, {"token": "123456", "app_secret": "app-secret"})
KF = (
    {"corp_id": "ww0123456789", "open_kfid": "wkAbCdEf"},
    {"token": "kf-token", "encoding_aes_key": AES_KEY, "corp_secret": "corp-secret"},
)
TG = (
    {"api_base": "http://127.0.0.1:9"},
    {"bot_token": "123456:ABC-test-token", "secret_token": "webhook-secret_1"},
)
MAIL = ({"address": "help@example.test", "smtp_host": "127.0.0.1"}, {})

GOOD = {
    ChannelKind.wechat_oa: OA,
    ChannelKind.wechat_kf: KF,
    ChannelKind.telegram: TG,
    ChannelKind.email: MAIL,
}

# (channel, settings changed, secrets changed, the field the answer must name)
BAD: list[tuple[ChannelKind, dict[str, Any], dict[str, Any], str]] = [
    (ChannelKind.wechat_oa, {"mode": "SAFE"}, {"encoding_aes_key": AES_KEY}, "settings.mode"),
    (ChannelKind.wechat_oa, {"mode": "safe"}, {}, "secrets.encoding_aes_key"),
    (ChannelKind.wechat_oa, {"mode": "compatible"}, {}, "secrets.encoding_aes_key"),
    (ChannelKind.wechat_oa, {}, {"encoding_aes_key": AES_KEY[:42]}, "secrets.encoding_aes_key"),
    (ChannelKind.wechat_oa, {}, {"encoding_aes_key": "!" * 43}, "secrets.encoding_aes_key"),
    (ChannelKind.wechat_oa, {"api_base": "ftp://x"}, {}, "settings.api_base"),
    (ChannelKind.wechat_oa, {"app_id": 12}, {}, "settings.app_id"),
    (ChannelKind.wechat_oa, {"apibase": "https://x.test"}, {}, "settings.apibase"),
    (ChannelKind.wechat_kf, {}, {"encoding_aes_key": "short"}, "secrets.encoding_aes_key"),
    (ChannelKind.wechat_kf, {"api_base": "javascript:alert(1)"}, {}, "settings.api_base"),
    (ChannelKind.wechat_kf, {"open_kfid": "wk with space"}, {}, "settings.open_kfid"),
    (ChannelKind.telegram, {}, {"secret_token": "has spaces"}, "secrets.secret_token"),
    (ChannelKind.telegram, {}, {"secret_token": "密钥"}, "secrets.secret_token"),
    (ChannelKind.telegram, {}, {"bot_token": "not-a-token"}, "secrets.bot_token"),
    (ChannelKind.telegram, {"api_base": "https://user:pw@api.test"}, {}, "settings.api_base"),
    (ChannelKind.email, {"address": "not-an-address"}, {}, "settings.address"),
    (ChannelKind.email, {"smtp_security": "bogus"}, {}, "settings.smtp_security"),
    (ChannelKind.email, {"smtp_port": 70000}, {}, "settings.smtp_port"),
    (ChannelKind.email, {"smtp_port": "587"}, {}, "settings.smtp_port"),
]


@pytest.mark.parametrize(("channel", "changed", "secrets", "field"), BAD)
async def test_a_bad_setting_is_refused_and_nothing_is_stored(
    server: LiveServer,
    channel: ChannelKind,
    changed: dict[str, Any],
    secrets: dict[str, Any],
    field: str,
) -> None:
    good_settings, good_secrets = GOOD[channel]
    _, inbox, token = await channel_inbox(
        server, channel, settings=good_settings, secrets=good_secrets
    )
    path = f"/api/v1/inboxes/{inbox.id}/channel"
    async with server.http(token) as c:
        before = (await c.get(path)).json()
        r = await c.put(path, json={"settings": good_settings | changed, "secrets": secrets})
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["code"] == "validation_error"
        named = [".".join(d["loc"][1:]) for d in error["details"]]
        assert field in named, error
        assert field in error["message"]
        for value in secrets.values():
            assert str(value) not in r.text  # a refused secret is not echoed either
        assert (await c.get(path)).json() == before


async def test_good_settings_are_stored_with_their_optional_fields(server: LiveServer) -> None:
    settings = OA[0] | {"mode": "safe", "api_base": "http://127.0.0.1:9/wechat"}
    _, inbox, token = await channel_inbox(
        server,
        ChannelKind.wechat_oa,
        settings=settings,
        secrets=OA[1] | {"encoding_aes_key": AES_KEY},
    )
    async with server.http(token) as c:
        got = (await c.get(f"/api/v1/inboxes/{inbox.id}/channel")).json()
        assert got["settings"] == settings
        assert got["secrets_set"] == ["app_secret", "encoding_aes_key", "token"]
        # The key stays set when a later save names no secrets: safe mode still has it.
        r = await c.put(f"/api/v1/inboxes/{inbox.id}/channel", json={"settings": settings})
        assert r.status_code == 200, r.text
        # Removing the key while in safe mode is refused.
        r = await c.put(
            f"/api/v1/inboxes/{inbox.id}/channel",
            json={"settings": settings, "secrets": {"encoding_aes_key": None}},
        )
        assert r.status_code == 422
        assert r.json()["error"]["details"][0]["loc"] == ["body", "secrets", "encoding_aes_key"]
