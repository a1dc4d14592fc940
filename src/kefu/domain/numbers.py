"""Integers that arrive from the internet, bounded to what the database can store.

SQLite's INTEGER and PostgreSQL's BIGINT (every ``seq`` and event position) are signed 64-bit,
and the JSON columns are written with orjson, which refuses integers beyond 64 bits: a larger
number failed the query or the write (``OverflowError`` on SQLite, ``DataError`` on PostgreSQL,
``JSONEncodeError``) with a 500 instead of a 422. Every integer a client sends goes through
:data:`BoundedInt` (or :data:`JsonInt` / :func:`check_json_int` inside JSON values), so it is
refused as invalid input first.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

DB_INT_MAX = 2**63 - 1
"""The largest value of a 64-bit column (SQLite INTEGER, PostgreSQL BIGINT)."""

INT_MAX = 2**53 - 1
"""The largest integer accepted: what a JSON number holds exactly in every client (and what
the OpenAPI document, whose bounds are floats, states exactly); far inside :data:`DB_INT_MAX`,
with room for ``2 * seq`` (a message's sort key)."""

BoundedInt = Annotated[int, Field(ge=0, le=INT_MAX)]
"""A ``seq``, an event position, a count: 0 to :data:`INT_MAX`."""

JsonInt = Annotated[int, Field(ge=-INT_MAX, le=INT_MAX)]
"""An integer kept inside a JSON value (settings, answers, attributes)."""


def check_json_int(value: int) -> int:
    if not -INT_MAX <= value <= INT_MAX:
        raise ValueError(f"integers are at most {INT_MAX} in size")
    return value
