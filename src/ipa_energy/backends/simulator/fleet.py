"""Replicas of one stage and how a new target (variant, replicas) changes them.

A replica *exists* from the moment it is started until it retires; while it exists it holds its cores
(the cost and the idle power count it). Its life::

    starting --(start-up delay)--> ready (idle <-> busy) --(retire)--> draining (busy) --> gone
        \\--(cancelled before it is ready)--> gone

:func:`plan_change` is the whole reconfiguration policy, a pure function of the replicas and the target:

* replicas of the target variant that are starting or ready are kept, up to the target count; extras go,
  latest-starting first, then idle ready ones, then busy ones (which drain: they finish their batch);
* replicas of other variants that are still starting are cancelled (they never served);
* missing replicas are started. A variant the stage already has ready takes ``replica_startup_s``; a
  variant that is only starting (a switch in progress) takes ``replica_startup_s`` but never lands before
  that switch; a variant the stage does not run takes ``variant_switch_s`` (a new deployment);
* ready replicas of other variants keep serving until the first replica of the target variant is ready
  (the switch *lands*), then retire. If the target variant already has a ready replica they retire now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ipa_energy.backends.simulator.batch_table import BatchTable


class Replica:
    """One replica of a stage. Mutable simulator state, owned by one :class:`SimulatorBackend`."""

    __slots__ = (
        "batch_energy_j", "batch_end_s", "batch_start_s", "busy", "cores", "draining", "gone", "ready",
        "ready_at_s", "rid", "table", "variant",
    )

    def __init__(self, rid: int, variant: int, cores: int, table: BatchTable, ready_at_s: float) -> None:
        self.rid = rid
        #: index of the variant in its stage
        self.variant = variant
        self.cores = cores
        self.table = table
        self.ready_at_s = ready_at_s
        self.ready = False
        self.busy = False
        self.draining = False
        self.gone = False
        # the batch in progress (for exact partial-second energy at a fractional summary time)
        self.batch_start_s = 0.0
        self.batch_end_s = 0.0
        self.batch_energy_j = 0.0

    def __repr__(self) -> str:
        state = (
            "gone" if self.gone else "draining" if self.draining else
            ("busy" if self.busy else "idle") if self.ready else f"starting until {self.ready_at_s:g}"
        )
        return f"Replica({self.rid}, variant={self.variant}, {state})"


@dataclass(frozen=True)
class ChangePlan:
    #: starting replicas to remove (they never served)
    cancel: tuple[Replica, ...]
    #: ready replicas to retire now (idle ones go at once, busy ones drain)
    retire: tuple[Replica, ...]
    #: ready-at times of the replicas to start
    start_ready_at_s: tuple[float, ...]


def plan_change(
    replicas: Sequence[Replica],
    variant: int,
    count: int,
    now_s: float,
    *,
    replica_startup_s: float,
    variant_switch_s: float,
) -> ChangePlan:
    """What to cancel, retire and start so that the stage moves to ``count`` replicas of ``variant``."""
    if count < 1:
        raise ValueError(f"a stage needs at least one replica (got {count})")
    live = [r for r in replicas if not r.gone and not r.draining]
    cancel = [r for r in live if r.variant != variant and not r.ready]
    ready_same = [r for r in live if r.variant == variant and r.ready]
    starting_same = [r for r in live if r.variant == variant and not r.ready]
    retire: list[Replica] = []
    excess = len(ready_same) + len(starting_same) - count
    if excess > 0:
        for r in sorted(starting_same, key=lambda r: (r.ready_at_s, r.rid), reverse=True):
            if excess == 0:
                break
            cancel.append(r)
            excess -= 1
        # idle first, then busy; among equals the newest goes first
        for r in sorted(ready_same, key=lambda r: (r.busy, -r.rid)):
            if excess == 0:
                break
            retire.append(r)
            excess -= 1
    start: tuple[float, ...] = ()
    if excess < 0:
        if ready_same:
            at = now_s + replica_startup_s
        elif starting_same:
            at = max(now_s + replica_startup_s, min(r.ready_at_s for r in starting_same))
        else:
            at = now_s + variant_switch_s
        start = (at,) * (-excess)
    if any(r not in retire for r in ready_same):
        retire.extend(r for r in live if r.variant != variant and r.ready)
    return ChangePlan(tuple(cancel), tuple(retire), start)


__all__ = ["ChangePlan", "Replica", "plan_change"]
