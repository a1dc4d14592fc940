"""Seeding a benchmark database, in its own process, before the server under test starts.

The workspace, its team, agents and inbox and the customers who will send messages are made
through kefu's own actions (the same code the HTTP API runs). The large populations (idle and
reconnecting sockets, the 100,000 conversations behind the list queries) are inserted in bulk
with SQL into the real tables, because making them one action at a time would take longer than
the benchmark itself. Bulk rows emit no events; nothing in the scenarios needs them to.

    python -m benchmarks.seed --db-url URL --out world.json [--agents 2] [--customers 100]
        [--bulk-customers 1500] [--bulk-conversations] [--listing 100000]
        [--listing-messages 10] [--bot-customers 100] [--migrate]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from benchmarks import bot_kb
from sqlalchemy import insert
from sqlalchemy.engine import Connection

from kefu.actions.bot import update_bot_settings
from kefu.actions.contacts import resolve_contact
from kefu.actions.inboxes import create_inbox
from kefu.actions.kb import import_articles
from kefu.actions.sessions import VISITOR, open_session, token_digest
from kefu.actions.tx import Tx
from kefu.actions.workspaces import create_workspace
from kefu.bootstrap import Person, create_staff
from kefu.bot.matching import ANSWER_THRESHOLD
from kefu.bot.models import examples_of
from kefu.config import Settings
from kefu.db import search
from kefu.db.tables import (
    AuthSession,
    Contact,
    ContactIdentity,
    Conversation,
    ConversationTag,
    Message,
)
from kefu.domain.bot import BotSettingsInput
from kefu.domain.enums import IdentityKind
from kefu.domain.ids import new_id
from kefu.domain.kb import ArticleInput
from kefu.queries.kb import list_articles
from kefu.runtime import Kefu
from kefu.security.passwords import hash_password
from kefu.security.sealing import SecretBox

PASSWORD = "bench-password-1234"
CHUNK = 2_000
WORDS = [
    "refund",
    "order",
    "delivery",
    "invoice",
    "password",
    "login",
    "account",
    "shipping",
    "return",
    "broken",
    "size",
    "colour",
    "payment",
    "card",
    "wallet",
    "coupon",
    "discount",
    "upgrade",
    "cancel",
    "subscription",
    "warranty",
    "address",
    "parcel",
    "tracking",
    "damaged",
    "missing",
    "exchange",
    "receipt",
    "voucher",
    "points",
    "membership",
    "app",
    "crash",
    "update",
]
FIRST = [
    "Ana",
    "Ben",
    "Chen",
    "Dana",
    "Eli",
    "Fatima",
    "Goro",
    "Hana",
    "Ivan",
    "Jun",
    "Kai",
    "Lena",
    "Mei",
    "Nora",
    "Omar",
    "Priya",
    "Quinn",
]
LAST = [
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Sato",
    "Suzuki",
    "Kim",
    "Park",
    "Smith",
    "Garcia",
    "Muller",
    "Rossi",
    "Silva",
    "Khan",
    "Ito",
]


def _visitor_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _people(tx: Tx, *, agents: int, slug: str, hashed: str, box: SecretBox) -> dict[str, Any]:
    staff = await create_staff(
        tx,
        admin=Person(f"admin@{slug}.bench", "Admin"),
        agents=[Person(f"agent{i}@{slug}.bench", f"Agent {i}") for i in range(agents)],
        password_hash=hashed,
        capacity=100_000,
        inbox_name="Web",
        box=box,
    )
    team, admin, people, inbox = staff.team, staff.admin, staff.agents, staff.inbox
    return {
        "team_id": str(team.id),
        "admin": {"id": str(admin.id), "email": admin.email},
        "agents": [{"id": str(a.id), "email": a.email} for a in people],
        "inbox_id": str(inbox.id),
        "inbox_key": inbox.key,
    }


async def _visitor(tx: Tx, *, inbox_id: uuid.UUID, n: int) -> dict[str, str]:
    """What POST /api/client/v1/sessions does for a new visitor, minus HTTP."""
    visitor_token = secrets.token_urlsafe(24)
    contact = await resolve_contact(
        tx, [(IdentityKind.visitor, _visitor_digest(visitor_token))], name=f"Customer {n}"
    )
    issued = await open_session(
        tx, kind=VISITOR, contact_id=contact.id, inbox_id=inbox_id, lifetime=timedelta(days=1)
    )
    return {"token": issued.token, "contact_id": str(contact.id)}


def _shaped(table: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with only the columns the table has today (the schema moves; the seed follows)."""
    cols = set(table.__table__.c.keys())
    if not rows or set(rows[0]) <= cols:
        return rows
    return [{k: v for k, v in r.items() if k in cols} for r in rows]


async def _bulk(kefu: Kefu, table: Any, rows: list[dict[str, Any]]) -> None:
    rows = _shaped(table, rows)
    for i in range(0, len(rows), CHUNK):
        async with kefu.db.write_session() as session, session.begin():
            await session.execute(insert(table), rows[i : i + CHUNK])


async def _bulk_customers(
    kefu: Kefu,
    world: dict[str, Any],
    count: int,
    *,
    conversations: bool,
) -> list[dict[str, Any]]:
    """Visitors with live sessions (and, for the reconnect storm, an open conversation each,
    assigned round-robin to the agents)."""
    ws_id = uuid.UUID(world["workspace_id"])
    inbox_id = uuid.UUID(world["inbox_id"])
    team_id = uuid.UUID(world["team_id"])
    agents = [uuid.UUID(a["id"]) for a in world["agents"]]
    now = datetime.now(UTC)
    contacts, identities, sessions, convs, out = [], [], [], [], []
    for i in range(count):
        contact_id, token = new_id(), "kfv_" + secrets.token_urlsafe(32)
        contacts.append(
            {
                "workspace_id": ws_id,
                "id": contact_id,
                "name": f"Visitor {i}",
                "email": None,
                "phone": None,
                "attributes": {},
                "created_at": now,
                "updated_at": now,
            }
        )
        identities.append(
            {
                "workspace_id": ws_id,
                "kind": IdentityKind.visitor.value,
                "value": _visitor_digest(secrets.token_urlsafe(24)),
                "contact_id": contact_id,
                "created_at": now,
            }
        )
        sessions.append(
            {
                "workspace_id": ws_id,
                "id": new_id(),
                "token_hash": token_digest(token),
                "kind": VISITOR,
                "name": None,
                "agent_id": None,
                "contact_id": contact_id,
                "inbox_id": inbox_id,
                "created_at": now,
                "expires_at": now + timedelta(days=1),
                "revoked_at": None,
            }
        )
        item: dict[str, Any] = {"token": token, "contact_id": str(contact_id)}
        if conversations:
            conv_id, agent = new_id(), i % len(agents)
            convs.append(
                _conversation_row(ws_id, conv_id, inbox_id, contact_id, team_id, now)
                | {"status": "open", "assignee_id": agents[agent]}
            )
            item |= {"conversation_id": str(conv_id), "agent": agent}
        out.append(item)
    await _bulk(kefu, Contact, contacts)
    await _bulk(kefu, ContactIdentity, identities)
    await _bulk(kefu, AuthSession, sessions)
    await _bulk(kefu, Conversation, convs)
    return out


def _conversation_row(
    ws_id: uuid.UUID,
    conv_id: uuid.UUID,
    inbox_id: uuid.UUID,
    contact_id: uuid.UUID,
    team_id: uuid.UUID,
    at: datetime,
) -> dict[str, Any]:
    return {
        "workspace_id": ws_id,
        "id": conv_id,
        "inbox_id": inbox_id,
        "contact_id": contact_id,
        "status": "queued",
        "assignee_id": None,
        "team_id": team_id,
        "priority": "normal",
        "source": None,
        "last_seq": 0,
        "customer_read_seq": 0,
        "agent_read_seq": 0,
        "created_at": at,
        "updated_at": at,
        "last_activity_at": at,
        "last_message_at": None,
        "first_response_at": None,
        "resolved_at": None,
        "snoozed_until": None,
    }


# Chinese and Japanese customers write in their language (a tenth of the conversations).
CJK_WORDS = [
    "退款",
    "订单",
    "发货",
    "地址",
    "密码",
    "登录",
    "快递",
    "退货",
    "发票",
    "优惠券",
    "会员",
    "支付",
    "注文",
    "返品",
    "配送",
    "キャンセル",
    "ポイント",
]
# Words in a handful of conversations only: what an agent looks for when they remember one.
RARE_WORDS = ("quokka", "保温杯")
LISTING_BATCH = 5_000


def _listing_batch(
    rng: random.Random, world: dict[str, Any], lo: int, hi: int, per: int
) -> dict[Any, list[dict[str, Any]]]:
    ws_id = uuid.UUID(world["workspace_id"])
    inbox_id = uuid.UUID(world["inbox_id"])
    team_id = uuid.UUID(world["team_id"])
    agents = [uuid.UUID(a["id"]) for a in world["agents"]]
    statuses = ["resolved"] * 70 + ["open"] * 15 + ["queued"] * 5 + ["pending"] * 7 + ["bot"] * 3
    priorities = ["normal"] * 85 + ["high"] * 10 + ["urgent"] * 3 + ["low"] * 2
    start = datetime.now(UTC) - timedelta(days=90)
    rows: dict[Any, list[dict[str, Any]]] = {
        Contact: [],
        Conversation: [],
        Message: [],
        ConversationTag: [],
    }
    for i in range(lo, hi):
        contact_id, conv_id = new_id(), new_id()
        at = start + timedelta(seconds=rng.uniform(0, 90 * 86400))
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows[Contact].append(
            {
                "workspace_id": ws_id,
                "id": contact_id,
                "name": f"{first} {last} {i}",
                "email": f"{first.lower()}.{last.lower()}{i}@example.com",
                "phone": None,
                "attributes": {},
                "created_at": at,
                "updated_at": at,
            }
        )
        status = rng.choice(statuses)
        row = _conversation_row(ws_id, conv_id, inbox_id, contact_id, team_id, at)
        n_msgs = per if per else rng.randint(1, 3)
        end = at + timedelta(minutes=n_msgs)
        row |= {
            "status": status,
            "assignee_id": None if status in ("queued", "bot") else rng.choice(agents),
            "priority": rng.choice(priorities),
            "last_seq": n_msgs,
            "updated_at": end,
            "last_activity_at": end,
            "last_message_at": end,
            "resolved_at": end if status == "resolved" else None,
        }
        rows[Conversation].append(row)
        words = CJK_WORDS if i % 10 == 3 else WORDS
        sep = "" if words is CJK_WORDS else " "
        for seq in range(1, n_msgs + 1):
            text = sep.join(rng.choice(words) for _ in range(rng.randint(4, 14)))
            if i % 25_000 == 7 and seq == 2:
                text += " " + " ".join(RARE_WORDS)
            rows[Message].append(
                {
                    "workspace_id": ws_id,
                    "id": new_id(),
                    "conversation_id": conv_id,
                    "seq": seq,
                    "after_seq": None,
                    "sort_key": 2 * seq,
                    "sender_kind": "customer" if seq % 2 else "agent",
                    "sender_id": contact_id if seq % 2 else row["assignee_id"],
                    "sender_name": None,
                    "type": "text",
                    "content": f"{text} #{i}",
                    "payload": None,
                    "client_msg_id": None,
                    "delivery": "stored",
                    "created_at": at + timedelta(minutes=seq),
                }
            )
        if i % 10 == 0:
            rows[ConversationTag].append(
                {
                    "workspace_id": ws_id,
                    "conversation_id": conv_id,
                    "tag": rng.choice(["vip", "bug"]),
                }
            )
    return rows


async def _search_index(kefu: Kefu, fn: Callable[[Connection], None]) -> None:
    async with kefu.db.write_session() as session, session.begin():
        await session.run_sync(lambda s: fn(s.connection()))


def _analyze(conn: Connection) -> None:
    """Planner statistics for the bulk rows (autovacuum would take its time)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE")


async def _listing(kefu: Kefu, world: dict[str, Any], count: int, per: int) -> dict[str, Any]:
    """``count`` conversations spread over 90 days, each with a contact, ``per`` messages (one
    to three when 0), a status, an assignee for most, and a tag on some: shaped like a busy
    inbox. A tenth write Chinese or Japanese; a few contain a rare word."""
    rng = random.Random(7)
    messages, middle = 0, None
    await _search_index(kefu, search.drop)  # a bulk load indexes once, at the end
    for lo in range(0, count, LISTING_BATCH):
        rows = _listing_batch(rng, world, lo, min(count, lo + LISTING_BATCH), per)
        for table in (Contact, Conversation, Message, ConversationTag):
            await _bulk(kefu, table, rows[table])
        messages += len(rows[Message])
        if lo <= count // 2 < lo + LISTING_BATCH:
            middle = rows[Contact][count // 2 - lo]
        print(f"  seeded {min(count, lo + LISTING_BATCH):,} conversations", flush=True)
    assert middle is not None
    t0 = time.perf_counter()
    await _search_index(kefu, search.create)
    await _search_index(kefu, _analyze)
    return {
        "index_seconds": round(time.perf_counter() - t0, 1),
        "conversations": count,
        "messages": messages,
        # a contact that matches exactly one conversation, by name and by e-mail
        "rare_name": middle["name"],
        "rare_email": middle["email"].split("@")[0] + "@example",
        "common_word": "refund",
        "rare_word": RARE_WORDS[0],
        "cjk_word": "优惠券",
        "rare_cjk_word": RARE_WORDS[1],
        "absent_word": "zzqxj",
    }


async def _bot_inbox(tx: Tx, *, team_id: uuid.UUID, box: SecretBox) -> dict[str, Any]:
    """A second web inbox with the bot on, and the knowledge base it answers from."""
    inbox = await create_inbox(tx, None, name="Bot", team_id=team_id, box=box)
    articles = [
        ArticleInput(title=title, answer=bot_kb.answer(cat, title), questions=qs, category=cat)
        for cat, (title, qs) in bot_kb.ARTICLES.items()
    ]
    await import_articles(tx, None, articles)
    await update_bot_settings(tx, None, inbox.id, BotSettingsInput(enabled=True))
    return {"bot_inbox_id": str(inbox.id), "bot_articles": len(articles)}


async def _bot_questions(kefu: Kefu, ws_id: uuid.UUID) -> list[dict[str, str]]:
    """The customers' questions the bot answers with the right article: trained here on the
    same examples, the same way, as the server's matcher (``kefu.bot.models``)."""
    from kefu.bot.matching import train

    async with kefu.db.read() as session:
        articles = await list_articles(session, ws_id, enabled_only=True)
    model = train(examples_of(articles))
    by_id = {str(a.id): a.category for a in articles}
    kept = []
    for text, category in bot_kb.ASKS:
        m = model.match(text)
        if m.answer and m.confidence >= ANSWER_THRESHOLD and by_id.get(m.category) == category:
            kept.append({"text": text, "category": category})
    if len(kept) < 2:
        raise RuntimeError("the bot answers fewer than two of the benchmark's questions")
    return kept


async def _visitors(
    kefu: Kefu, ws_id: uuid.UUID, inbox_id: uuid.UUID, count: int, first: int = 0
) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for i in range(0, count, 200):  # concurrent writes share group commits
        n = min(200, count - i)
        out += await asyncio.gather(
            *(
                kefu.write(ws_id, partial(_visitor, inbox_id=inbox_id, n=first + i + k))
                for k in range(n)
            )
        )
    return out


async def seed(args: argparse.Namespace) -> dict[str, Any]:
    # No Redis here: nobody is subscribed yet, and the seed's events need no doorbell.
    settings = Settings(
        mode="test", database_url=args.db_url, data_dir=Path(args.data_dir), redis_url=None
    )
    kefu = Kefu(settings)
    t0 = time.perf_counter()
    try:
        slug = "bench-" + uuid.uuid4().hex[:8]
        ws_id = await kefu.write(None, partial(create_workspace, name="Bench", slug=slug))
        hashed = hash_password(PASSWORD)
        world = await kefu.write(
            ws_id, partial(_people, agents=args.agents, slug=slug, hashed=hashed, box=kefu.secrets)
        )
        world |= {"workspace_id": str(ws_id), "slug": slug, "password": PASSWORD}
        world["customers"] = await _visitors(
            kefu, ws_id, uuid.UUID(world["inbox_id"]), args.customers
        )
        if args.bot_customers:
            world |= await kefu.write(
                ws_id, partial(_bot_inbox, team_id=uuid.UUID(world["team_id"]), box=kefu.secrets)
            )
            world["bot_customers"] = await _visitors(
                kefu, ws_id, uuid.UUID(world["bot_inbox_id"]), args.bot_customers, first=10**6
            )
            world["bot_questions"] = await _bot_questions(kefu, ws_id)
        world["bulk_customers"] = await _bulk_customers(
            kefu, world, args.bulk_customers, conversations=args.bulk_conversations
        )
        if args.listing:
            world["listing"] = await _listing(kefu, world, args.listing, args.listing_messages)
        world["seed_seconds"] = round(time.perf_counter() - t0, 2)
        return world
    finally:
        await kefu.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--db-url", required=True)
    p.add_argument("--data-dir", default=".")
    p.add_argument("--out", required=True)
    p.add_argument("--agents", type=int, default=2)
    p.add_argument("--customers", type=int, default=0)
    p.add_argument("--bulk-customers", type=int, default=0)
    p.add_argument("--bulk-conversations", action="store_true")
    p.add_argument("--listing", type=int, default=0)
    p.add_argument("--listing-messages", type=int, default=10, help="per conversation (0: 1-3)")
    p.add_argument(
        "--bot-customers", type=int, default=0, help="visitors of an inbox with the bot on"
    )
    p.add_argument("--migrate", action="store_true", help="bring the schema up to date first")
    args = p.parse_args()
    if args.migrate:
        from kefu.db.migrate import upgrade

        upgrade(args.db_url)
        Path(args.out + ".migrated").touch()  # the server under test may start now
    world = asyncio.run(seed(args))
    Path(args.out).write_bytes(orjson.dumps(world))


if __name__ == "__main__":
    main()
