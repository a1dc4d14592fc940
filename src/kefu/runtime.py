"""The running server's parts, built once per process and shared by routes and sockets."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from kefu.actions.tx import Tx
from kefu.actions.writer import Writer
from kefu.attachments.storage import LocalStorage, Storage
from kefu.bot.models import BotModels
from kefu.config import Settings
from kefu.db.engine import Database
from kefu.realtime.bus import make_bus
from kefu.realtime.hub import Hubs
from kefu.security.limitstore import FallbackStore
from kefu.security.ratelimit import Limiter, MemoryStore, RedisStore, Store
from kefu.security.sealing import SecretBox

T = TypeVar("T")


class Kefu:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.secrets = SecretBox(settings.secret_key, settings.previous_secret_keys)
        self.db = Database(
            settings.effective_database_url,
            idle_in_transaction_seconds=settings.db_idle_in_transaction_seconds,
            statement_timeout_seconds=settings.db_statement_timeout_seconds,
        )
        self.bus = make_bus(settings.redis_url)
        self.hubs = Hubs(self.db, self.bus)
        self.writer = Writer(
            self.db,
            self.bus.publish_events,
            batch_max=settings.commit_batch_max,
            ring=self.bus.ring_workers,
        )
        self.storage: Storage = LocalStorage(settings.data_dir / "attachments")
        self.bot_models = BotModels(self.db, settings.bot_backend, settings.bot_embeddings_model)
        store: Store = (
            FallbackStore(RedisStore(settings.redis_url)) if settings.redis_url else MemoryStore()
        )
        self.limiter = Limiter(store)

    async def start(self) -> None:
        await self.hubs.start()

    async def close(self) -> None:
        await self.bot_models.close()
        await self.writer.close()
        await self.hubs.close()
        await self.limiter.close()
        await self.db.dispose()

    async def write(
        self,
        workspace_id: uuid.UUID | None,
        fn: Callable[[Tx], Awaitable[T]],
        *,
        conversations: Sequence[uuid.UUID] = (),
    ) -> T:
        """Run an action in a (batched) write transaction; its events publish after commit.
        Naming the ``conversations`` it touches lets the batch load them together."""
        return await self.writer.run(workspace_id, fn, conversations=conversations)
