"""WXBizMsgCrypt on ``cryptography``: checked against wechatpy and the published vectors."""

from __future__ import annotations

import re

import pytest
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from kefu.channels.wechat_crypto import CryptoError, MessageCrypt, check_signature, signature

TOKEN = "123456"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
APP_ID = "wx49f0ab532d5d035a"


def test_official_url_verification_vector() -> None:
    assert (
        signature("AAAAA", "1714036504", "1514711492") == "f464b24fc39322e44b38aa78f5edd27bd1441696"
    )
    check_signature("f464b24fc39322e44b38aa78f5edd27bd1441696", "AAAAA", "1714036504", "1514711492")
    with pytest.raises(CryptoError):
        check_signature(
            "f464b24fc39322e44b38aa78f5edd27bd1441697", "AAAAA", "1714036504", "1514711492"
        )
    signer = WeChatSigner()
    signer.add_data("AAAAA", "1714036504", "1514711492")
    assert signer.signature == signature("AAAAA", "1714036504", "1514711492")


def test_wechatpy_encrypts_we_decrypt_and_back() -> None:
    xml = "<xml><Content><![CDATA[测试 test]]></Content></xml>"
    theirs = WeChatCrypto(TOKEN, AES_KEY, APP_ID).encrypt_message(xml, "461056294", "1411525903")
    encrypted = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]></Encrypt>", theirs)
    sig = re.search(r"<MsgSignature><!\[CDATA\[(.*?)\]\]></MsgSignature>", theirs)
    assert encrypted and sig
    check_signature(sig.group(1), TOKEN, "1411525903", "461056294", encrypted.group(1))
    ours = MessageCrypt(AES_KEY, APP_ID)
    assert ours.decrypt(encrypted.group(1)).decode() == xml

    mine = ours.encrypt(xml.encode())
    body = f"<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[{mine}]]></Encrypt></xml>"
    msig = signature(TOKEN, "1411525903", "461056294", mine)
    assert (
        WeChatCrypto(TOKEN, AES_KEY, APP_ID).decrypt_message(body, msig, "1411525903", "461056294")
        == xml
    )


def test_tampered_or_foreign_messages_are_refused() -> None:
    ours = MessageCrypt(AES_KEY, APP_ID)
    good = ours.encrypt(b"<xml/>")
    with pytest.raises(CryptoError):
        MessageCrypt(AES_KEY, "wx_other_app").decrypt(good)
    for bad in ("", "not base64!", good[:-8] + "AAAAAAA=", "QUJD"):
        with pytest.raises(CryptoError):
            ours.decrypt(bad)
    with pytest.raises(CryptoError):
        MessageCrypt("short", APP_ID)
