"""Real ``kefu serve`` processes (see tests/multinode/nodes.py), their logs in files: the
multi-node suite's ``cluster`` fixture."""

from tests.multinode.conftest import cluster

__all__ = ["cluster"]
