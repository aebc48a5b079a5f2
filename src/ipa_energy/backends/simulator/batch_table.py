"""Per-batch latency and dynamic energy of one variant for every batch size, from its profile points.

The profile gives (batch, latency_s, energy_j) at a few batch sizes. The simulator needs every batch size
from 1 to the configured one (a batch that times out while filling is served with fewer requests):

* between two profiled sizes: linear interpolation (latency and energy each);
* above the largest profiled size: linear extrapolation through the two largest points (with one point,
  proportional to the batch size: the per-request cost of that point);
* below the smallest profiled size: the smallest profiled point's latency and energy (a batch is never
  assumed cheaper than the smallest size measured).

Extrapolated latencies are never below the largest profiled latency, and energies never negative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ipa_energy.errors import ConfigError
from ipa_energy.optimize.problem import ProfilePoint


def validate_profile(points: Sequence[ProfilePoint], where: str) -> tuple[ProfilePoint, ...]:
    """Sorted by batch; raises ConfigError naming ``where`` for empty profiles and bad values."""
    if not points:
        raise ConfigError("has no profile points", field=where)
    seen: set[int] = set()
    for p in points:
        if isinstance(p.batch, bool) or not isinstance(p.batch, int) or p.batch < 1:
            raise ConfigError(f"batch must be an integer >= 1 (got {p.batch!r})", field=where)
        if p.batch in seen:
            raise ConfigError(f"batch {p.batch} is profiled twice", field=where)
        seen.add(p.batch)
        if not (math.isfinite(p.latency_s) and p.latency_s > 0):
            raise ConfigError(f"batch {p.batch}: latency_s must be > 0 (got {p.latency_s!r})", field=where)
        if not (math.isfinite(p.energy_j) and p.energy_j >= 0):
            raise ConfigError(f"batch {p.batch}: energy_j must be >= 0 (got {p.energy_j!r})", field=where)
    return tuple(sorted(points, key=lambda p: p.batch))


def _at(points: tuple[ProfilePoint, ...], k: int) -> tuple[float, float]:
    first, last = points[0], points[-1]
    if k <= first.batch:
        return first.latency_s, first.energy_j
    if k >= last.batch:
        if k == last.batch:
            return last.latency_s, last.energy_j
        if len(points) == 1:
            return last.latency_s * k / last.batch, last.energy_j * k / last.batch
        prev = points[-2]
        span = last.batch - prev.batch
        lat = last.latency_s + (last.latency_s - prev.latency_s) * (k - last.batch) / span
        en = last.energy_j + (last.energy_j - prev.energy_j) * (k - last.batch) / span
        return max(lat, last.latency_s), max(en, 0.0)
    for lo, hi in zip(points, points[1:], strict=False):
        if lo.batch <= k <= hi.batch:
            f = (k - lo.batch) / (hi.batch - lo.batch)
            return (
                lo.latency_s + f * (hi.latency_s - lo.latency_s),
                lo.energy_j + f * (hi.energy_j - lo.energy_j),
            )
    raise AssertionError("unreachable: k lies between the first and last profiled batch")


class BatchTable:
    """``latency_s[k]`` and ``energy_j[k]`` for k = 1..size (index 0 unused), grown on demand.

    The lists are plain Python lists on purpose: the event loop indexes them once per batch.
    """

    __slots__ = ("energy_j", "latency_s", "points")

    def __init__(self, points: tuple[ProfilePoint, ...]) -> None:
        self.points = points
        self.latency_s: list[float] = [0.0]
        self.energy_j: list[float] = [0.0]

    def ensure(self, max_batch: int) -> None:
        """Fill entries up to ``max_batch`` (in place: holders of the lists see the new entries)."""
        for k in range(len(self.latency_s), max_batch + 1):
            lat, en = _at(self.points, k)
            self.latency_s.append(lat)
            self.energy_j.append(en)


__all__ = ["BatchTable", "validate_profile"]
