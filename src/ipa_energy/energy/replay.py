"""ReplayMeter: an explicit test helper that replays recorded per-interval energy through the meter API.

It ships in the package so that users' tests (and ours) can drive meter-consuming code without
hardware. Its quality label is ``replayed`` (never ``measured``), so a replay cannot pass for a live
measurement.

Time is the injected clock's time since the meter was created; energy is linear inside each recorded
interval. Reading inside a recorded gap, or after the end of a non-looping recording, leaves the zone
out of the reading (a gap, never a zero).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from ipa_energy.energy.base import REPLAYED, Clock, EnergyMeter, Zone, zone_from_name
from ipa_energy.errors import ConfigError


class ReplayMeter(EnergyMeter):
    """Replays intervals ending at ``t_s`` (the first starts at 0) with ``zones_j[zone][i]`` joules.

    ``None`` or NaN in ``zones_j`` marks a gap. With ``loop=True`` the recording repeats forever.
    """

    source = "replay"
    quality = REPLAYED

    def __init__(
        self,
        t_s: Sequence[float],
        zones_j: Mapping[str, Sequence[float | None]],
        *,
        zones: Sequence[Zone] | None = None,
        clock: Clock | None = None,
        loop: bool = False,
        recorded_source: str | None = None,
    ) -> None:
        super().__init__(clock=clock)
        self._t = [float(x) for x in t_s]
        if not self._t:
            raise ConfigError("needs at least one interval", field="t_s")
        if any(b <= a for a, b in zip([0.0, *self._t], self._t, strict=False)):
            raise ConfigError("interval end times must be positive and increasing", field="t_s")
        self._zones = tuple(zones) if zones is not None else tuple(zone_from_name(n) for n in zones_j)
        names = {z.name for z in self._zones}
        if names != set(zones_j):
            raise ConfigError(f"zones {sorted(names)} do not match the data {sorted(zones_j)}", field="zones")
        self._data: dict[str, list[float | None]] = {}
        for name, values in zones_j.items():
            if len(values) != len(self._t):
                raise ConfigError(f"{len(values)} values for {len(self._t)} intervals", field=name)
            self._data[name] = [None if v is None or math.isnan(v) else float(v) for v in values]
        # cumulative energy at each interval end, gaps counted as 0 only inside this table; a read that
        # falls in a gap omits the zone
        self._cum: dict[str, list[float]] = {}
        for name, values in self._data.items():
            acc, cum = 0.0, []
            for v in values:
                acc += v or 0.0
                cum.append(acc)
            self._cum[name] = cum
        self._loop = loop
        self.recorded_source = recorded_source
        self._t0 = self._clock.now_s()

    @classmethod
    def constant(cls, power_w: Mapping[str, float], *, clock: Clock | None = None) -> ReplayMeter:
        """Constant power per zone, forever (1-second intervals, looping)."""
        return cls([1.0], {k: [v] for k, v in power_w.items()}, clock=clock, loop=True)

    @classmethod
    def from_log(cls, path: str | Path, *, clock: Clock | None = None, loop: bool = False) -> ReplayMeter:
        """Replay a saved log (any format :func:`ipa_energy.energy.formats.parse_log` reads)."""
        from ipa_energy.energy.formats import parse_log

        parsed = parse_log(path)
        t_s, zones_j = parsed.aligned()
        return cls(t_s, zones_j, clock=clock, loop=loop, recorded_source=parsed.format)

    def zones(self) -> tuple[Zone, ...]:
        return self._zones

    @property
    def duration_s(self) -> float:
        return self._t[-1]

    def _at(self, name: str, t: float) -> float | None:
        if t <= 0:
            return 0.0
        period = self._t[-1]
        laps = 0
        if t > period:
            if not self._loop:
                return None
            laps = int(t // period)
            t -= laps * period
            if t == 0:
                return laps * self._cum[name][-1]
        i = bisect.bisect_left(self._t, t)
        value = self._data[name][i]
        if value is None:
            return None
        start = self._t[i - 1] if i > 0 else 0.0
        before = self._cum[name][i - 1] if i > 0 else 0.0
        frac = (t - start) / (self._t[i] - start)
        return laps * self._cum[name][-1] + before + frac * value

    def _read_energy_j(self, t_s: float) -> dict[str, float]:
        t = t_s - self._t0
        out: dict[str, float] = {}
        for z in self._zones:
            v = self._at(z.name, t)
            if v is not None:
                out[z.name] = v
        return out
