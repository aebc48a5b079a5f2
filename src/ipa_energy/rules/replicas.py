"""Which replicas of a stage start, are cancelled or retire when the stage moves to a new target.

A replica *exists* from the moment it is started until it retires; while it exists it holds its cores.
Its life::

    starting --(start-up delay)--> ready (idle <-> busy) --(retire)--> draining (busy) --> gone
        \\--(cancelled before it is ready)--> gone

:func:`plan_change` is the whole reconfiguration policy, a pure function of the replicas and the target
(``count`` replicas of ``variant``); every backend calls it, on each change and again whenever a replica
becomes ready (it is idempotent):

* replicas of the target variant that are starting or ready are kept, up to the target count; extras go,
  latest-starting first, then idle ready ones, then busy ones (which drain: they finish their batch);
* replicas of other variants that are still starting are cancelled (they never served);
* missing replicas are started. A variant the stage already has ready takes ``replica_startup_s``; a
  variant that is only starting (a switch in progress) takes ``replica_startup_s`` but never lands before
  that switch; a variant the stage does not run takes ``variant_switch_s`` (a new deployment);
* **make-before-break**: ready replicas of other variants keep serving until the target variant has
  ``count`` ready replicas (:func:`switch_landed`), then retire (idle ones at once, busy ones drain).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar


class ReplicaView(Protocol):
    """What the rule reads of a replica (a backend's own replica object provides these attributes)."""

    @property
    def rid(self) -> int: ...
    @property
    def variant(self) -> Hashable: ...
    @property
    def ready(self) -> bool: ...
    @property
    def busy(self) -> bool: ...
    @property
    def draining(self) -> bool: ...
    @property
    def gone(self) -> bool: ...
    @property
    def ready_at_s(self) -> float: ...


R = TypeVar("R", bound=ReplicaView)


@dataclass(frozen=True)
class ChangePlan(Generic[R]):
    #: starting replicas to remove (they never served)
    cancel: tuple[R, ...]
    #: ready replicas to retire now (idle ones go at once, busy ones drain)
    retire: tuple[R, ...]
    #: ready-at times of the replicas to start (a backend without known start-up times uses the count)
    start_ready_at_s: tuple[float, ...]


def switch_landed(ready_of_target: int, count: int) -> bool:
    """Make-before-break: the old variant may retire once the target has ``count`` ready replicas."""
    return ready_of_target >= count


def plan_change(
    replicas: Sequence[R],
    variant: Hashable,
    count: int,
    now_s: float,
    *,
    replica_startup_s: float = 0.0,
    variant_switch_s: float = 0.0,
) -> ChangePlan[R]:
    """What to cancel, retire and start so that the stage moves to ``count`` replicas of ``variant``."""
    if count < 1:
        raise ValueError(f"a stage needs at least one replica (got {count})")
    live = [r for r in replicas if not r.gone and not r.draining]
    cancel = [r for r in live if r.variant != variant and not r.ready]
    ready_same = [r for r in live if r.variant == variant and r.ready]
    starting_same = [r for r in live if r.variant == variant and not r.ready]
    retire: list[R] = []
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
    kept_ready = sum(1 for r in ready_same if r not in retire)
    if switch_landed(kept_ready, count):
        retire.extend(r for r in live if r.variant != variant and r.ready)
    return ChangePlan(tuple(cancel), tuple(retire), start)


__all__ = ["ChangePlan", "ReplicaView", "plan_change", "switch_landed"]
