"""A background sampler: reads a meter at a fixed rate and yields per-interval samples.

    with Sampler(meter, interval_s=1.0, on_sample=log.write) as s:
        ...                       # the thread samples every second
    samples = s.samples()

The thread sleeps until absolute deadlines (start + k * interval), so the rate does not drift with the
time a read takes. ``step()`` takes one sample synchronously (tests drive it with a fake clock).
The meter is read at least once per its ``poll_period_s`` (so RAPL wraps are never missed and sampled NVML
power is integrated finely); samples still come every ``interval_s``.
"""

from __future__ import annotations

import math
import os
import queue
import select
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ipa_energy.energy.base import CounterReading, EnergyMeter
from ipa_energy.errors import ConfigError


@dataclass(frozen=True)
class Sample:
    """Energy in the interval (t_s - interval_s, t_s] per zone; a zone absent from zones_j is a gap."""

    t_s: float
    interval_s: float
    zones_j: Mapping[str, float]
    #: total over the counted zones that were read (see Measurement.energy_j)
    energy_j: float
    source: str
    quality: str
    model: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "zones_j", MappingProxyType(dict(self.zones_j)))

    @property
    def power_w(self) -> float:
        return self.energy_j / self.interval_s if self.interval_s > 0 else 0.0

    def zone_power_w(self) -> dict[str, float]:
        if self.interval_s <= 0:
            return {k: 0.0 for k in self.zones_j}
        return {k: v / self.interval_s for k, v in self.zones_j.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "t_s": self.t_s,
            "interval_s": self.interval_s,
            "energy_j": self.energy_j,
            "power_w": self.power_w,
            "zones": dict(self.zones_j),
            "source": self.source,
            "quality": self.quality,
            "model": self.model,
        }


def sample_between(meter: EnergyMeter, prev: CounterReading, cur: CounterReading) -> Sample:
    m = meter.difference(prev, cur)
    return Sample(
        t_s=cur.t_s,
        interval_s=m.duration_s,
        zones_j=m.zones_j,
        energy_j=m.energy_j,
        source=m.source,
        quality=m.quality,
        model=m.model,
    )


class Sampler:
    """Samples ``meter`` every ``interval_s`` seconds on a daemon thread.

    ``on_sample`` is called on the sampler thread for every sample (keep it quick: a log write, a gauge
    update). Samples are also kept (the last ``keep`` of them) for :meth:`samples` and :meth:`__iter__`.
    """

    def __init__(
        self,
        meter: EnergyMeter,
        interval_s: float = 1.0,
        *,
        on_sample: Callable[[Sample], None] | None = None,
        keep: int = 100_000,
    ) -> None:
        if not interval_s > 0:
            raise ConfigError(f"must be > 0 (got {interval_s})", field="interval_s")
        self.interval_s = float(interval_s)
        limit = meter.poll_period_s
        #: reads per sample: more than one when the meter must be read more often than we sample (a RAPL
        #: counter that could wrap within the interval, NVML power to integrate); the extra reads only
        #: keep the meter's running totals exact, samples still come every ``interval_s``
        self.reads_per_sample = max(1, math.ceil(self.interval_s / limit)) if limit else 1
        self.meter = meter
        self._on_sample = on_sample
        self._kept: deque[Sample] = deque(maxlen=keep)
        self._queue: queue.SimpleQueue[Sample | None] = queue.SimpleQueue()
        self._prev: CounterReading | None = None
        self._wake_r = self._wake_w = -1
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()

    # ---- synchronous ---------------------------------------------------------------------------
    def step(self) -> Sample | None:
        """Read the meter once; returns the sample since the previous read (None on the first read)."""
        cur = self.meter.read()
        with self._lock:
            prev, self._prev = self._prev, cur
        if prev is None:
            return None
        s = sample_between(self.meter, prev, cur)
        self._kept.append(s)
        self._queue.put(s)
        if self._on_sample is not None:
            self._on_sample(s)
        return s

    # ---- background ----------------------------------------------------------------------------
    def start(self) -> Sampler:
        if self._thread is not None:
            raise ConfigError("sampler already started", field="sampler")
        self.step()  # the reference reading
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="ipa-energy-sampler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        t0 = time.monotonic()
        k = 1
        # select() on a self-pipe: wakes at the deadline or at once on stop(); on small VMs it costs about
        # half the CPU of threading.Event.wait(timeout) per wake-up (see benchmarks/meter_overhead.py)
        wake = self._wake_r
        try:
            tick = self.interval_s / self.reads_per_sample
            while not select.select([wake], [], [], max(0.0, t0 + k * tick - time.monotonic()))[0]:
                if k % self.reads_per_sample == 0:
                    self.step()
                else:
                    self.meter.read()
                k += 1
                behind = int((time.monotonic() - t0) / tick)
                if behind >= k:  # we fell behind (suspended, overloaded): skip the missed deadlines
                    k = behind + 1
        except BaseException as e:  # surfaced by stop()
            self._error = e
            self._queue.put(None)

    def stop(self, *, final_sample: bool = True) -> None:
        """Stop the thread (after one last sample covering the tail, unless told not to)."""
        if self._thread is None:
            return
        os.write(self._wake_w, b"x")
        self._thread.join()
        self._thread = None
        os.close(self._wake_r)
        os.close(self._wake_w)
        if final_sample and self._error is None:
            self.step()
        self._queue.put(None)
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    @property
    def running(self) -> bool:
        return self._thread is not None

    def samples(self) -> list[Sample]:
        """The samples taken so far (the last ``keep``)."""
        return list(self._kept)

    def __iter__(self) -> Iterator[Sample]:
        """Yield samples as they are taken until the sampler stops."""
        while True:
            s = self._queue.get()
            if s is None:
                return
            yield s

    def __enter__(self) -> Sampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
