"""``kefu bot simulate``: scripted customers played through the real conversation engine.

A temporary SQLite workspace with a web inbox whose bot is on and the knowledge base of
``KB.csv``; each scripted conversation is a customer who opens a conversation, and each turn
is the customer's message(s) sent through the real actions, then the bot's turn run by the
real job worker. What the bot did is read back from the conversation: the messages it sent
(an article is recognised by its answer) and the conversation's status (with the bot, or with
people).

``CONV.jsonl``: one conversation per line, ``{"language": "en", "turns": [{"say": "Hi",
"expect": "no_handoff"}, …]}``; ``say`` may also be a list of messages sent in a row (the bot
answers them as one turn). ``expect``: ``answer:<category>``, ``handoff``, ``no_handoff`` or
``any``. A turn may set ``"person": true`` to count as a request for a person (``trapped``);
a turn expected to hand off whose text asks for a person in the bot's own reading counts too.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from kefu.actions.bot import update_bot_settings
from kefu.actions.contacts import resolve_contact
from kefu.actions.conversations import start_conversation
from kefu.actions.kb import import_articles
from kefu.actions.messages import send_message
from kefu.actions.tx import Tx
from kefu.actions.workspaces import create_workspace
from kefu.bootstrap import Person, create_staff
from kefu.bot.dialogue import asks_for_person
from kefu.bot.kbcsv import parse_articles
from kefu.domain.actors import CustomerActor
from kefu.domain.bot import BotSettingsInput
from kefu.domain.enums import IdentityKind
from kefu.domain.kb import MAX_QUESTIONS
from kefu.queries.access import access_conversation
from kefu.queries.conversations import list_messages
from kefu.security.passwords import hash_new_password

EXPECTS = ("handoff", "no_handoff", "any")
WITH_BOT = frozenset({"bot", "resolved"})


class ScriptError(ValueError):
    """A conversations file that cannot be read."""


@dataclass(frozen=True, slots=True)
class Step:
    say: tuple[str, ...]
    expect: str
    person: bool


@dataclass(frozen=True, slots=True)
class Script:
    language: str
    turns: tuple[Step, ...]


@dataclass
class Tally:
    conversations: int = 0
    turns: int = 0
    turns_correct: int = 0
    wrong_answers: int = 0
    needless_handoffs: int = 0
    missed_handoffs: int = 0
    trapped: int = 0
    deflected: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self, backend: str, *, failures: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "backend": backend,
            "conversations": self.conversations,
            "turns": self.turns,
            "turns_correct": self.turns_correct,
            "turn_accuracy": round(self.turns_correct / self.turns, 4) if self.turns else 0.0,
            "wrong_answers": self.wrong_answers,
            "needless_handoffs": self.needless_handoffs,
            "missed_handoffs": self.missed_handoffs,
            "trapped": self.trapped,
            "deflection": (
                round(self.deflected / self.conversations, 4) if self.conversations else 0.0
            ),
        }
        if failures:
            out["failures"] = self.failures
        return out


def read_scripts(path: Path) -> list[Script]:
    scripts = []
    with path.open(encoding="utf-8-sig") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                scripts.append(_script(line, n))
    if not scripts:
        raise ScriptError(f"{path}: no conversations")
    return scripts


def _script(line: str, n: int) -> Script:
    try:
        data = json.loads(line)
        turns = tuple(_step(t) for t in data["turns"])
        language = str(data.get("language") or "en")
    except (ValueError, KeyError, TypeError) as exc:
        raise ScriptError(f"line {n}: {exc}") from None
    if not turns:
        raise ScriptError(f"line {n}: no turns")
    return Script(language, turns)


def _step(turn: dict[str, Any]) -> Step:
    say = turn["say"]
    said = (say,) if isinstance(say, str) else tuple(str(s) for s in say)
    expect = str(turn.get("expect", "any"))
    if expect not in EXPECTS and not (expect.startswith("answer:") and len(expect) > 7):
        raise ValueError(f"unknown expect {expect!r}")
    if not said or not all(s.strip() for s in said):
        raise ValueError("an empty message")
    return Step(said, expect, bool(turn.get("person", False)))


def _answer_html(category: str) -> str:
    return f"<p>[{category}]</p>"


def simulate(
    kb_csv: str,
    scripts: Sequence[Script],
    backend: str,
    *,
    model: str | None = None,
    progress: Callable[[], None] | None = None,
) -> Tally:
    """Play ``scripts`` against a knowledge base in a temporary workspace; the tally. Runs
    its own event loop (the migrations run before it)."""
    from kefu.config import Settings
    from kefu.db.migrate import upgrade

    articles = [
        a.model_copy(
            update={"answer": _answer_html(a.category), "questions": a.questions[:MAX_QUESTIONS]}
        )
        for a in parse_articles(kb_csv)
    ]
    with tempfile.TemporaryDirectory(prefix="kefu-simulate-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'kefu.db'}"
        upgrade(url)
        settings = Settings(
            mode="test",
            database_url=url,
            data_dir=Path(tmp),
            run_worker=False,
            secret_key=secrets.token_urlsafe(40),
            bot_backend=backend,
            bot_embeddings_model=model,
        )
        return asyncio.run(_run(settings, articles, scripts, progress))


async def _run(
    settings: Any, articles: list[Any], scripts: Sequence[Script], progress: Any
) -> Tally:
    from kefu.runtime import Kefu

    kefu = Kefu(settings)
    await kefu.start()
    try:
        return await _play(kefu, articles, scripts, progress)
    finally:
        await kefu.close()


async def _play(
    kefu: Any, articles: list[Any], scripts: Sequence[Script], progress: Callable[[], None] | None
) -> Tally:
    from kefu.jobs.runner import Worker

    ws = await kefu.write(None, partial(create_workspace, name="Simulation", slug="simulation"))

    async def _staff(tx: Tx) -> uuid.UUID:
        staff = await create_staff(
            tx,
            admin=Person("admin@simulation.test", "Admin"),
            password_hash=hash_new_password(secrets.token_urlsafe(24)),  # nobody signs in
            box=kefu.secrets,
        )
        return staff.inbox.id

    inbox_id = await kefu.write(ws, _staff)
    await kefu.write(ws, partial(import_articles, actor=None, articles=articles))
    on = BotSettingsInput(enabled=True, wait_seconds=0)
    await kefu.write(ws, partial(update_bot_settings, actor=None, inbox_id=inbox_id, settings=on))
    answers = {f"[{a.category}]": a.category for a in articles}
    worker = Worker(kefu, workspace_id=ws)
    tally = Tally()
    for n, script in enumerate(scripts):
        game = _Game(kefu, worker, ws, inbox_id, answers)
        await game.play(script, n, tally)
        if progress is not None:
            progress()
    return tally


@dataclass
class _Game:
    kefu: Any
    worker: Any
    ws: uuid.UUID
    inbox_id: uuid.UUID
    answers: dict[str, str]

    async def _bot_runs(self) -> None:
        for _ in range(10):
            if not await self.worker.run_due():
                return

    async def _state(
        self, who: CustomerActor, conv: uuid.UUID, after: int
    ) -> tuple[str, list[Any]]:
        async with self.kefu.db.read() as session:
            row = await access_conversation(session, who, conv)
            said = await list_messages(session, who, conv, after_seq=after, limit=200)
        return row.status, said

    async def play(self, script: Script, n: int, tally: Tally) -> None:
        async def _contact(tx: Tx) -> uuid.UUID:
            found = await resolve_contact(tx, [(IdentityKind.visitor, f"sim-{n}")], name="Sim")
            return found.id

        who = CustomerActor(self.ws, await self.kefu.write(self.ws, _contact), self.inbox_id, "Sim")
        view = await self.kefu.write(self.ws, partial(start_conversation, actor=who))
        await self._bot_runs()
        status, said = await self._state(who, view.id, 0)
        last = max((m.seq for m in said), default=0)
        handed_off = False
        tally.conversations += 1
        for i, step in enumerate(script.turns):
            for text in step.say:
                await self.kefu.write(
                    self.ws,
                    partial(send_message, actor=who, conversation_id=view.id, content=text),
                )
            await self._bot_runs()
            before = status
            status, said = await self._state(who, view.id, last)
            last = max((m.seq for m in said), default=last)
            sent = [
                self.answers[m.content]
                for m in said
                if m.sender_kind == "bot" and m.content in self.answers
            ]
            with_people = status not in WITH_BOT
            handed_off = handed_off or with_people
            got = _score(step, sent, with_people, before in WITH_BOT, tally)
            if got is not None:
                tally.failures.append(
                    {
                        "conversation": n,
                        "turn": i,
                        "say": list(step.say),
                        "expect": step.expect,
                        "got": got,
                    }
                )
        if not handed_off:
            tally.deflected += 1


def _score(
    step: Step, sent: list[str], with_people: bool, was_with_bot: bool, t: Tally
) -> str | None:
    """Count one turn; what happened when it was not what the script expected."""
    t.turns += 1
    got = f"answer:{sent[-1]}" if sent else ("handoff" if with_people else "no_handoff")
    person = step.person or (step.expect == "handoff" and any(asks_for_person(s) for s in step.say))
    if person and was_with_bot and not with_people:
        t.trapped += 1
    expect = step.expect
    if expect == "any":
        ok = True
    elif expect == "handoff":
        ok = with_people
        t.missed_handoffs += 0 if ok else 1
        t.wrong_answers += 1 if sent else 0
    elif expect == "no_handoff":
        ok = not with_people and not sent
        t.needless_handoffs += 1 if with_people and was_with_bot else 0
        t.wrong_answers += 1 if sent else 0
    else:
        want = expect.removeprefix("answer:")
        ok = want in sent
        t.wrong_answers += 1 if sent and not ok else 0
        t.needless_handoffs += 1 if with_people and was_with_bot and not sent else 0
    if ok:
        t.turns_correct += 1
        return None
    return got
