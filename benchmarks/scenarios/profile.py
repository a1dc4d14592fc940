"""The two sizes of run: quick (under a minute) and full (several minutes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Profile:
    name: str
    customers: int
    agents: int
    warmup_s: float
    probe_s: float
    probe_window: int
    step_s: float
    fractions: list[float]
    drain_s: float
    slo_p99_ms: float
    idle_sockets: int
    idle_within_s: float
    storm_clients: int
    storm_missed_fraction: float
    listing_conversations: int
    listing_repeat: int
    listing_messages: int
    multinode: bool
    db_seconds: float
    bisect: int
    b2: bool = True  # the Starlette relay baseline
    bot_customers: int = 0  # 0: no bot scenario
    bot_slo_p99_ms: float = 250.0  # the bot's answer back on the customer's socket
    relay_step_s: float = 0.0  # 0: the same as step_s
    at_step_s: float = 0.0  # the fixed-rate points (half of the maximum); 0: the same as step_s
    relay_fractions: list[float] = field(default_factory=list)  # empty: the same as fractions
    content_chars: int = 120
    batch: bool = True  # clients ask for batch frames, as the product's clients do
    extra: dict[str, Any] = field(default_factory=dict)

    def relay_phase(self, **over: Any) -> dict[str, Any]:
        return self.throughput_phase(
            step_s=self.relay_step_s or self.step_s,
            fractions=self.relay_fractions or self.fractions,
            **over,
        )

    def throughput_phase(self, **over: Any) -> dict[str, Any]:
        spec = {
            "kind": "throughput",
            "customers": self.customers,
            "agents": self.agents,
            "warmup_s": self.warmup_s,
            "warmup_rate": 100.0,
            "probe_s": self.probe_s,
            "probe_window": self.probe_window,
            "step_s": self.step_s,
            "fractions": self.fractions,
            "drain_s": self.drain_s,
            "slo_p99_ms": self.slo_p99_ms,
            "bisect": self.bisect,
            "at_step_s": self.at_step_s,
        }
        return spec | over


# The quick run keeps the stable keys of latest.json within a minute on a loaded machine: the
# Starlette relay (B2) and the bot are measured by the full run only.
QUICK = Profile(
    name="quick",
    customers=100,
    agents=2,
    warmup_s=0.5,
    probe_s=1.0,
    probe_window=4,
    step_s=1.0,
    fractions=[0.3, 0.6, 0.9],
    drain_s=1.5,
    slo_p99_ms=250.0,
    idle_sockets=500,
    idle_within_s=8.0,
    storm_clients=0,
    storm_missed_fraction=1.0,
    listing_conversations=0,
    listing_repeat=0,
    listing_messages=0,
    multinode=False,
    db_seconds=0.6,
    bisect=1,
    b2=False,
    relay_step_s=0.6,
    relay_fractions=[0.6, 0.9, 1.2],
    at_step_s=3.0,  # one second at ~90 % CPU gave a p99 anywhere from 26 to 101 ms
)

FULL = Profile(
    name="full",
    customers=400,
    agents=4,
    warmup_s=2.0,
    probe_s=4.0,
    probe_window=4,
    step_s=5.0,
    fractions=[0.2, 0.35, 0.5, 0.65, 0.8, 1.0, 1.2],
    drain_s=5.0,
    slo_p99_ms=250.0,
    idle_sockets=10_000,
    idle_within_s=240.0,
    storm_clients=10_000,
    storm_missed_fraction=0.2,
    listing_conversations=100_000,
    listing_repeat=30,
    listing_messages=10,
    multinode=True,
    db_seconds=4.0,
    bisect=2,
    bot_customers=400,
    relay_fractions=[0.3, 0.5, 0.7, 0.85, 1.0, 1.15, 1.3],
)
