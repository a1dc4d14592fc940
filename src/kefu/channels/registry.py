"""The adapters this process serves, by channel kind."""

from __future__ import annotations

from functools import lru_cache

from kefu.channels.base import Registry
from kefu.channels.email.adapter import EmailAdapter
from kefu.channels.telegram import TelegramAdapter
from kefu.channels.wechat_kf import WeComKfAdapter
from kefu.channels.wechat_oa import WeChatOAAdapter


@lru_cache(maxsize=1)
def registry() -> Registry:
    reg = Registry()
    reg.add(EmailAdapter())
    reg.add(TelegramAdapter())
    reg.add(WeChatOAAdapter())
    reg.add(WeComKfAdapter())
    return reg
