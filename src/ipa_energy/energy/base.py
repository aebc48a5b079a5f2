"""The energy-meter interface: cumulative counters per zone, windows that nest, labelled results.

Every meter (RAPL, perf, NVML, the CPU-time power model, the replay helper) exposes the same thing:
a set of :class:`Zone` objects and a cumulative energy counter per zone (joules since the meter was
created, wraparounds already undone). Everything else is built on that:

* ``begin_window(key)`` / ``end_window(key) -> Measurement``: windows keyed by name, any number open
  at once, nested or overlapping (a window is just the difference of two cumulative readings);
* :class:`ipa_energy.energy.sampler.Sampler`: a background thread that reads the counters at a fixed
  rate and yields per-interval :class:`ipa_energy.energy.sampler.Sample` records.

Every result carries ``source`` (which meter), ``quality`` (``measured`` / ``estimated`` /
``replayed``) and, for estimates, the power model's name, so an estimate is never mistaken for a
measurement.

The total ``energy_j`` counts each physical domain once: CPU packages and DRAM (and GPUs) are summed;
core/uncore subzones lie inside their package and psys contains the packages, so those are reported
per zone but never added to the total (``Zone.counted`` is False for them).
"""

from __future__ import annotations

import contextlib
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from ipa_energy.errors import ConfigError

#: quality labels
MEASURED = "measured"
ESTIMATED = "estimated"
REPLAYED = "replayed"
QUALITIES = (MEASURED, ESTIMATED, REPLAYED)

#: domain names (perf's ``power/energy-<domain>/`` naming, plus ``uncore`` and ``cpu`` for estimates)
DOMAINS = ("pkg", "cores", "uncore", "ram", "psys", "gpu", "cpu")


class Clock(Protocol):
    """Where meters, backends and the adaptation loop read the time (simulated or wall), in seconds."""

    def now_s(self) -> float: ...


class MonotonicClock:
    """Wall time from ``time.monotonic`` (the default clock of every meter)."""

    def now_s(self) -> float:
        return time.monotonic()


@dataclass(frozen=True)
class Zone:
    """One energy counter of a meter.

    ``name`` is unique within the meter ("package-0", "package-0/dram", "psys", "gpu-0", "cpu-active");
    ``domain`` is one of :data:`DOMAINS`; ``counted`` says whether the zone is added to the total.
    """

    name: str
    domain: str
    counted: bool

    def __post_init__(self) -> None:
        if self.domain not in DOMAINS:
            raise ConfigError(f"unknown domain {self.domain!r}; valid: {', '.join(DOMAINS)}", field="domain")


@dataclass(frozen=True)
class CounterReading:
    """Cumulative energy per zone (joules since the meter was created) at meter time ``t_s``.

    A zone missing from ``energy_j`` could not be read at this instant (a gap, never a zero).
    """

    t_s: float
    energy_j: Mapping[str, float]


def _frozen_map(d: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class Measurement:
    """Energy over one window.

    ``zones_j``: energy per zone (J). ``energy_j``: the total, each physical domain counted once (the
    zones whose ``Zone.counted`` is true). ``quality`` is ``measured``, ``estimated`` or ``replayed``;
    ``model`` names the power model when the value is an estimate.
    """

    energy_j: float
    zones_j: Mapping[str, float]
    duration_s: float
    source: str
    quality: str
    model: str | None = None
    start_s: float = 0.0
    end_s: float = 0.0
    #: zones that were added into ``energy_j``
    counted_zones: tuple[str, ...] = ()
    #: zones that could not be read at the start or end of the window (not in ``zones_j``)
    missing_zones: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "zones_j", _frozen_map(self.zones_j))

    @property
    def mean_power_w(self) -> float:
        return self.energy_j / self.duration_s if self.duration_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "quality": self.quality,
            "model": self.model,
            "energy_j": self.energy_j,
            "duration_s": self.duration_s,
            "mean_power_w": self.mean_power_w,
            "zones": dict(self.zones_j),
            "counted_zones": list(self.counted_zones),
            "missing_zones": list(self.missing_zones),
        }


@dataclass
class _Window:
    start: CounterReading
    extra: dict[str, Any] = field(default_factory=dict)


class EnergyMeter(ABC):
    """Base of every meter. Subclasses implement :meth:`zones` and :meth:`_read_energy_j`.

    Thread-safe: the sampler thread and the caller's windows may read at the same time.
    """

    #: registry name of the source ("rapl", "perf", "nvml", "model", "replay"; "rapl+nvml" for auto)
    source: str = "?"
    #: quality of the numbers this meter produces
    quality: str = MEASURED

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._clock: Clock = clock if clock is not None else MonotonicClock()
        self._windows: dict[str, _Window] = {}
        self._lock = threading.RLock()
        self._closed = False
        #: background reader started by the first window when :meth:`_needs_guard` (see there)
        self._guard: threading.Thread | None = None
        self._guard_stop = threading.Event()

    # ---- to implement -------------------------------------------------------------------------
    @abstractmethod
    def zones(self) -> tuple[Zone, ...]:
        """The zones this meter reports, in a stable order."""

    @abstractmethod
    def _read_energy_j(self, t_s: float) -> dict[str, float]:
        """Cumulative joules per zone at meter time ``t_s`` (now); omit a zone that cannot be read."""

    # ---- optional hooks -----------------------------------------------------------------------
    @property
    def model(self) -> str | None:
        """The power model's name for estimates; None for measurements."""
        return None

    @property
    def poll_period_s(self) -> float | None:
        """Longest safe time between two reads (a counter could wrap twice otherwise); None: no limit."""
        return None

    def _needs_guard(self) -> bool:
        """Whether open windows need a background reader every :attr:`poll_period_s` (a counter that
        can wrap more than once between the caller's reads, or power that must be integrated)."""
        return False

    def _guard_loop(self) -> None:
        period = self.poll_period_s
        while period is not None and not self._guard_stop.wait(period):
            with contextlib.suppress(Exception):  # a failed read is a gap; the next read retries
                self.read()

    def describe(self) -> str:
        """One line: source, quality, zones (and model for estimates)."""
        zones = ", ".join(z.name for z in self.zones())
        model = f", model {self.model}" if self.model else ""
        return f"{self.source} ({self.quality}{model}): {zones}"

    def close(self) -> None:
        """Release resources (threads, child processes). Idempotent."""
        if self._guard is not None:
            self._guard_stop.set()
            self._guard.join()
            self._guard = None
        self._closed = True

    # ---- reading ------------------------------------------------------------------------------
    @property
    def clock(self) -> Clock:
        return self._clock

    def read(self) -> CounterReading:
        """The cumulative counters now."""
        with self._lock:
            t_s = self._clock.now_s()
            energy = self._read_energy_j(t_s)
        return CounterReading(t_s=t_s, energy_j=_frozen_map(energy))

    def read_energy_j(self, t_s: float) -> dict[str, float]:
        """``_read_energy_j`` under this meter's lock (for composites reading their parts)."""
        with self._lock:
            return self._read_energy_j(t_s)

    def counted_zone_names(self) -> tuple[str, ...]:
        return tuple(z.name for z in self.zones() if z.counted)

    def difference(self, start: CounterReading, end: CounterReading) -> Measurement:
        """The measurement between two readings of this meter."""
        zones_j: dict[str, float] = {}
        missing: list[str] = []
        for z in self.zones():
            a = start.energy_j.get(z.name)
            b = end.energy_j.get(z.name)
            if a is None or b is None:
                missing.append(z.name)
                continue
            zones_j[z.name] = max(0.0, b - a)
        counted = tuple(n for n in self.counted_zone_names() if n in zones_j)
        return Measurement(
            energy_j=sum(zones_j[n] for n in counted),
            zones_j=zones_j,
            duration_s=max(0.0, end.t_s - start.t_s),
            source=self.source,
            quality=self.quality,
            model=self.model,
            start_s=start.t_s,
            end_s=end.t_s,
            counted_zones=counted,
            missing_zones=tuple(missing),
        )

    # ---- windows ------------------------------------------------------------------------------
    def begin_window(self, key: str) -> None:
        """Open a window named ``key``; windows may nest or overlap, keys must be unique while open."""
        if self._closed:
            raise ConfigError("meter is closed", field="window")
        start = self.read()
        with self._lock:
            if key in self._windows:
                raise ConfigError(f"window {key!r} is already open", field="window")
            self._windows[key] = _Window(start=start)
            if self._guard is None and self._needs_guard() and self.poll_period_s is not None:
                self._guard_stop.clear()
                self._guard = threading.Thread(
                    target=self._guard_loop, name=f"ipa-energy-{self.source}-guard", daemon=True
                )
                self._guard.start()

    def end_window(self, key: str) -> Measurement:
        """Close the window ``key`` and return what it measured."""
        with self._lock:
            if key not in self._windows:
                raise ConfigError(f"no open window {key!r}", field="window")
        end = self.read()
        with self._lock:
            window = self._windows.pop(key)
        return self.difference(window.start, end)

    def cancel_window(self, key: str) -> None:
        """Forget an open window (no error if it is not open)."""
        with self._lock:
            self._windows.pop(key, None)

    def open_windows(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._windows)

    @contextmanager
    def window(self, key: str) -> Iterator[list[Measurement]]:
        """``with meter.window("k") as out: ...`` then ``out[0]`` is the measurement."""
        out: list[Measurement] = []
        self.begin_window(key)
        try:
            yield out
        except BaseException:
            self.cancel_window(key)
            raise
        out.append(self.end_window(key))

    def __enter__(self) -> EnergyMeter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: domains added into totals: packages, DRAM, GPUs and whole-CPU estimates. cores/uncore lie inside a
#: package and psys contains the packages, so counting them would count energy twice.
COUNTED_DOMAINS = frozenset({"pkg", "ram", "gpu", "cpu"})


def domain_of(zone_name: str) -> str:
    """The domain of a zone from its name ("package-0" -> pkg, "package-0/dram" -> ram, "gpu-1" -> gpu)."""
    leaf = zone_name.rsplit("/", 1)[-1].lower()
    if leaf.startswith(("package", "pkg")):
        return "pkg"
    if leaf in ("dram", "ram", "memory") or leaf.startswith("dram"):
        return "ram"
    if leaf in ("core", "cores", "pp0"):
        return "cores"
    if leaf in ("uncore", "pp1"):
        return "uncore"
    if leaf.startswith("psys"):
        return "psys"
    if leaf.startswith("gpu"):
        return "gpu"
    if leaf.startswith("cpu"):
        return "cpu"
    raise ConfigError(f"cannot tell the domain of zone {zone_name!r}", field="zone")


def with_platform_counting(zones: tuple[Zone, ...]) -> tuple[Zone, ...]:
    """psys is the whole platform: counted only when no package zone exists (then the packages' DRAM,
    core and uncore lie inside it and are not counted); otherwise the usual rule applies."""
    if any(z.domain == "pkg" for z in zones) or not any(z.domain == "psys" for z in zones):
        return zones
    return tuple(Zone(z.name, z.domain, z.domain in ("psys", "gpu")) for z in zones)


def zone_from_name(zone_name: str) -> Zone:
    """A zone whose domain and counting follow from its name."""
    d = domain_of(zone_name)
    return Zone(zone_name, d, d in COUNTED_DOMAINS)
