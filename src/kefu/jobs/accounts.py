"""Mail kefu sends for itself (not for a channel): the password-reset link, through the system
SMTP server (``KEFU_SMTP_HOST`` …, ``KEFU_MAIL_FROM``), in the agent's language."""

from __future__ import annotations

import logging
import time
import uuid
from urllib.parse import quote

from kefu.channels.base import DeliveryFailed
from kefu.channels.email.compose import compose, our_message_id
from kefu.channels.email.transport import Server, smtp_send
from kefu.channels.http import parse_networks
from kefu.db.tables import Job
from kefu.db.types import utcnow
from kefu.domain.languages import LanguageTagError, pick
from kefu.queries.directory import MailAgent, agent_for_mail
from kefu.runtime import Kefu
from kefu.security import resets

log = logging.getLogger(__name__)

#: Subject and body of the reset mail: {name}, {link}, {minutes}.
TEXTS = {
    "en": (
        "Reset your kefu password",
        "Hello {name},\n\nSomeone (we hope you) asked to reset the password of your kefu "
        "account in {workspace}. Open this link within {minutes} minutes to choose a new one:\n\n"
        "{link}\n\nThe link works once. If you did not ask, ignore this mail: your password "
        "stays as it is.\n",
    ),
    "zh-CN": (
        "重置您的 kefu 密码",
        "{name}，您好：\n\n有人（希望是您本人）申请重置您在 {workspace} 的 kefu 账户密码。"
        "请在 {minutes} 分钟内打开以下链接设置新密码：\n\n{link}\n\n"
        "该链接只能使用一次。如果不是您本人操作，请忽略此邮件，您的密码不会改变。\n",
    ),
    "ja": (
        "kefu のパスワードの再設定",
        "{name} 様\n\n{workspace} の kefu アカウントのパスワード再設定が依頼されました。{minutes} "
        "分以内に次のリンクを開き、新しいパスワードを設定してください。\n\n{link}\n\n"
        "リンクは一度だけ使えます。心当たりがない場合はこのメールを無視してください。"
        "パスワードは変わりません。\n",
    ),
}


def system_server(kefu: Kefu) -> Server | None:
    s = kefu.settings
    if not s.smtp_host or not s.mail_from:
        return None
    return Server(s.smtp_host, s.smtp_port, s.smtp_security, s.smtp_username, s.smtp_password)


async def send_password_reset(kefu: Kefu, job: Job) -> None:
    """Sign a reset link over the agent's current password and mail it. A refusal that may
    pass is retried with the runner's back-off; a final one is logged."""
    server, sender = system_server(kefu), kefu.settings.mail_from
    if server is None or sender is None:
        log.warning("password reset not sent: no system mail server (KEFU_SMTP_HOST)")
        return
    agent = await _agent(kefu, job)
    if agent is None:
        return
    token = resets.issue(
        kefu.settings.secret_key, job.workspace_id, agent.id, agent.password_hash, time.time()
    )
    link = f"{str(job.payload['base_url']).rstrip('/')}/app/#/reset?token={quote(token)}"
    subject, body = _texts(agent.languages)
    text = body.format(
        name=agent.name,
        workspace=agent.workspace_name,
        link=link,
        minutes=resets.LIFETIME_SECONDS // 60,
    )
    data = compose(
        from_address=sender,
        from_name="kefu",
        to_address=agent.email,
        subject=subject,
        text=text,
        message_id=our_message_id(job.id, sender),
        date=utcnow(),
        auto_submitted=True,
    )
    allow = parse_networks(kefu.settings.fetch_allow_networks)
    try:
        await smtp_send(server, sender, [agent.email], data, allow)
    except DeliveryFailed as exc:
        if exc.retry and job.attempts < job.max_attempts:
            raise
        log.error("password reset for agent %s not sent: %s", agent.id, exc.reason)


def _texts(languages: list[str]) -> tuple[str, str]:
    """The texts of the agent's first language kefu writes mail in; English otherwise."""
    for tag in languages:
        try:
            found = pick(TEXTS, tag)
        except LanguageTagError:
            continue
        if found is not None:
            return found
    return TEXTS["en"]


async def _agent(kefu: Kefu, job: Job) -> MailAgent | None:
    async with kefu.db.read() as s:
        return await agent_for_mail(s, job.workspace_id, uuid.UUID(job.payload["agent_id"]))
