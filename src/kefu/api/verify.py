"""``/verify``: a public page where a customer checks an agent's ID. Plain HTML, no script."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from kefu.api.deps import KefuDep, client_ip
from kefu.domain.public_ids import parse_public_id
from kefu.queries.verify import PublicAgent, get_public_agent

router = APIRouter(tags=["verify"])

CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Check an agent",
        "intro": "Agents show their ID in the chat. Enter it to see whether it belongs to a "
        "real, active agent, and of which company.",
        "label": "Agent ID",
        "button": "Check",
        "yes": "{name} is an active agent of {company}.",
        "no": "No active agent has this ID. Do not share passwords, codes or payment details "
        "with whoever gave it to you.",
        "invalid": "This is not an agent ID. IDs look like ABCD-EFGH-JKMN.",
        "limited": "Too many checks from your network. Try again in a minute.",
    },
    "zh-CN": {
        "title": "核验客服身份",
        "intro": "客服会在聊天中显示工号。输入工号,即可查看其是否为真实在职的客服,以及所属公司。",
        "label": "客服工号",
        "button": "核验",
        "yes": "{name} 是 {company} 的在职客服。",
        "no": "没有在职客服使用此工号。请勿向提供此工号的人透露密码、验证码或支付信息。",
        "invalid": "这不是有效的客服工号。工号格式如 ABCD-EFGH-JKMN。",
        "limited": "您所在网络的核验次数过多,请一分钟后再试。",
    },
    "ja": {
        "title": "担当者の確認",
        "intro": "担当者はチャットに ID を表示しています。入力すると、実在する現役の担当者か、"
        "どの会社の担当者かを確認できます。",
        "label": "担当者 ID",
        "button": "確認",
        "yes": "{name} は {company} の現役の担当者です。",
        "no": "この ID の現役担当者はいません。この ID を伝えた相手にパスワード、確認コード、"
        "支払い情報を教えないでください。",
        "invalid": "担当者 ID ではありません。ID は ABCD-EFGH-JKMN の形式です。",
        "limited": "お使いのネットワークからの確認が多すぎます。1 分後にもう一度お試しください。",
    },
}


def pick_language(request: Request, lang: str | None) -> str:
    """``?lang=`` if we have it, else the first match in ``Accept-Language``, else English."""
    wanted = [lang] if lang else []
    for part in request.headers.get("accept-language", "")[:200].split(","):
        wanted.append(part.split(";")[0].strip())
    for tag in wanted:
        if tag in TEXT:
            return tag
        if tag.lower().startswith("zh"):
            return "zh-CN"
        if tag.lower().startswith("ja"):
            return "ja"
        if tag.lower().startswith("en"):
            return "en"
    return "en"


@router.get("/verify", response_class=HTMLResponse, include_in_schema=False)
async def verify_page(
    request: Request,
    kefu: KefuDep,
    id: Annotated[str | None, Query(max_length=200)] = None,
    lang: Annotated[str | None, Query(max_length=35)] = None,
) -> HTMLResponse:
    language = pick_language(request, lang)
    t = TEXT[language]
    status, result, retry = 200, "", {}
    if id is not None and id.strip():
        limit = kefu.settings.verify_per_minute
        verdict = await kefu.limiter.hit(f"verify:ip:{client_ip(request)}", limit, 60)
        if not verdict.allowed:
            status, result = 429, _note("bad", t["limited"])
            retry = {"retry-after": str(verdict.retry_after)}
        elif (public_id := parse_public_id(id)) is None:
            status, result = 200, _note("bad", t["invalid"])
        else:
            async with kefu.db.read() as session:
                agent = await get_public_agent(session, public_id)
            result = _found(t, agent) if agent else _note("bad", t["no"])
    return HTMLResponse(
        _page(language, id or "", result),
        status_code=status,
        headers={
            "content-security-policy": CSP,
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "cache-control": "no-store",
        }
        | retry,
    )


def _found(t: dict[str, str], agent: PublicAgent) -> str:
    text = t["yes"].format(
        name=f"<b>{escape(agent.name)}</b>", company=f"<b>{escape(agent.company)}</b>"
    )
    return f'<p class="ok" role="status">✔ {text}<br><code>{escape(agent.public_id)}</code></p>'


def _note(kind: str, text: str) -> str:
    return f'<p class="{kind}" role="status">{escape(text)}</p>'


def _page(lang: str, value: str, result: str) -> str:
    t = TEXT[lang]
    return f"""<!doctype html>
<html lang="{escape(lang)}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{escape(t["title"])}</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}}
input{{font:inherit;padding:.4rem;width:14rem;text-transform:uppercase}}
button{{font:inherit;padding:.4rem 1rem}}
.ok{{background:#e7f6ec;border:1px solid #2e8b57;padding:.8rem}}
.bad{{background:#fdecea;border:1px solid #c0392b;padding:.8rem}}
</style></head>
<body><main><h1>{escape(t["title"])}</h1><p>{escape(t["intro"])}</p>
<form method="get" action="/verify"><label for="id">{escape(t["label"])}</label><br>
<input id="id" name="id" value="{escape(value[:40])}" maxlength="40" autocomplete="off" required>
<input type="hidden" name="lang" value="{escape(lang)}">
<button type="submit">{escape(t["button"])}</button></form>
{result}</main></body></html>
"""
