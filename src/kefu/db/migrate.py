"""Run the Alembic migrations programmatically (``kefu migrate``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str, secret_keys: Sequence[str] = ()) -> Config:
    """``secret_keys``: the server's secret key, then the previous ones, for the migrations
    that seal or open stored secrets (:mod:`kefu.security.sealing`)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["secret_keys"] = list(secret_keys)
    return cfg


def upgrade(url: str, revision: str = "head", *, secret_keys: Sequence[str] = ()) -> None:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url, secret_keys), revision)
