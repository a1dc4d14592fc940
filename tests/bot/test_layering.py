"""The bot reads through ``kefu.queries`` and changes state only through ``kefu.actions``: no
module under ``kefu/bot/`` imports the tables, the engine or SQLAlchemy (DESIGN.md, Layout).

The one exception: ``kefu bot simulate`` builds its own temporary SQLite database, so it runs
the migrations (``kefu.db.migrate``), as ``kefu migrate`` does; it still reads and writes only
through queries and actions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kefu.bot

BOT = Path(kefu.bot.__file__).parent
FORBIDDEN = ("sqlalchemy", "kefu.db")
ALLOWED = {("simulate.py", "kefu.db.migrate")}


def imported(source: str) -> list[str]:
    """Every module ``source`` imports, wherever the import stands (in a function, under
    ``TYPE_CHECKING``); ``from kefu import db`` counts as ``kefu.db``."""
    out: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
            out.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def offences(path: Path) -> list[str]:
    name = path.relative_to(BOT).as_posix()
    bad = []
    for module in imported(path.read_text(encoding="utf-8")):
        hit = any(module == f or module.startswith(f + ".") for f in FORBIDDEN)
        allowed = any(name == n and module.startswith(m) for n, m in ALLOWED)
        if hit and not allowed:
            bad.append(f"{name} imports {module}")
    return bad


def test_the_bot_imports_no_tables_engine_or_sqlalchemy() -> None:
    modules = sorted(BOT.rglob("*.py"))
    assert len(modules) > 10
    bad = [offence for path in modules for offence in offences(path)]
    assert bad == [], "read through kefu.queries, write through kefu.actions:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    "source",
    [
        "from kefu.db.tables import BotState",
        "import sqlalchemy",
        "from sqlalchemy.ext.asyncio import AsyncSession",
        "from kefu import db",
        "def f():\n    from kefu.db.engine import Database",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from kefu.db.tables import Job",
    ],
)
def test_the_check_sees_every_form_of_import(source: str, tmp_path: Path) -> None:
    found = imported(source)
    assert any(m == f or m.startswith(f + ".") for m in found for f in FORBIDDEN), found
