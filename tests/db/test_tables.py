"""The table package: ``kefu.db.tables`` names every mapped table, whichever module defines it."""

from __future__ import annotations

import importlib
import pkgutil

import kefu.db.tables as tables
from kefu.db.tables import Base


def test_every_table_module_is_reexported() -> None:
    for info in pkgutil.iter_modules(tables.__path__):
        importlib.import_module(f"{tables.__name__}.{info.name}")
    mapped = {m.class_ for m in Base.registry.mappers}
    exported = {getattr(tables, name) for name in tables.__all__ if name != "NAMING"}
    assert mapped <= exported
    assert {c.__table__.name for c in mapped} == set(Base.metadata.tables)
