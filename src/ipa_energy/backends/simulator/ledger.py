"""Per-second bins of what the simulator books: dynamic energy, core-seconds and drops.

Amounts that span several seconds (a batch's dynamic energy, the cores held between two changes) are
spread over the seconds in proportion to the time spent in each. Bins grow on demand.
"""

from __future__ import annotations


def ensure_len(bins: list[float], n: int) -> None:
    """Grow ``bins`` with zeros to at least ``n`` entries (in place)."""
    if len(bins) < n:
        bins.extend([0.0] * (n - len(bins) + 64))


def spread(bins: list[float], t0_s: float, t1_s: float, amount: float) -> None:
    """Add ``amount`` spread uniformly over ``[t0_s, t1_s)`` to the per-second ``bins``."""
    i0 = int(t0_s)
    i1 = int(t1_s)
    if i1 == t1_s and i1 > i0:  # ends exactly on a second boundary: that second gets nothing
        i1 -= 1
    ensure_len(bins, i1 + 1)
    if i0 == i1:
        bins[i0] += amount
        return
    rate = amount / (t1_s - t0_s)
    bins[i0] += (i0 + 1 - t0_s) * rate
    for i in range(i0 + 1, i1):
        bins[i] += rate
    bins[i1] += (t1_s - i1) * rate


class SecondLedger:
    """Per-second bins, per stage: ``dynamic_j[s]`` (profiled batch energy), ``core_s[s]`` (cores x seconds
    held by the stage's replicas); and ``dropped`` (requests dropped). Index = the second ``[i, i+1)``."""

    __slots__ = ("_cores", "_cores_since_s", "core_s", "dropped", "dynamic_j")

    def __init__(self, n_stages: int = 1) -> None:
        self.dynamic_j: list[list[float]] = [[] for _ in range(n_stages)]
        self.core_s: list[list[float]] = [[] for _ in range(n_stages)]
        self.dropped: list[float] = []
        self._cores = [0] * n_stages
        self._cores_since_s = 0.0

    @property
    def cores(self) -> int:
        """Cores held by existing replicas now (all stages)."""
        return sum(self._cores)

    def flush_cores(self, t_s: float) -> None:
        """Book the cores held since the last change up to ``t_s``."""
        t0 = self._cores_since_s
        if t_s > t0:
            for s, cores in enumerate(self._cores):
                if cores:
                    spread(self.core_s[s], t0, t_s, cores * (t_s - t0))
            self._cores_since_s = t_s

    def change_cores(self, t_s: float, delta: int, stage: int = 0) -> None:
        """Cores held by ``stage`` change by ``delta`` at ``t_s`` (a replica started, was cancelled, retired)."""
        self.flush_cores(t_s)
        self._cores[stage] += delta
        if self._cores[stage] < 0:
            raise AssertionError("cores held went negative")

    def add_dropped(self, t_s: float, count: int) -> None:
        i = int(t_s)
        ensure_len(self.dropped, i + 1)
        self.dropped[i] += count

    @staticmethod
    def at(bins: list[float], i: int) -> float:
        return bins[i] if i < len(bins) else 0.0


__all__ = ["SecondLedger", "ensure_len", "spread"]
