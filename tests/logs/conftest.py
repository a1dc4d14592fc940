"""Real ``kefu serve`` processes (see tests/multinode/nodes.py), their logs in files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kefu.config import Settings
from tests.multinode.nodes import Cluster


@pytest.fixture
def cluster(settings: Settings, tmp_path: Path) -> Iterator[Cluster]:
    workdir = tmp_path / "nodes"
    workdir.mkdir()
    c = Cluster(settings, workdir)
    try:
        yield c
    finally:
        c.stop_all()
