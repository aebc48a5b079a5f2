"""RaplMeter: CPU package / core / uncore / DRAM / psys energy from the Linux powercap sysfs tree.

Layout read (``root`` defaults to ``/sys/class/powercap`` and is configurable, so tests use fake trees)::

    intel-rapl:0/        name=package-0  energy_uj  max_energy_range_uj  [constraint_0_max_power_uw]
    intel-rapl:0:0/      name=core       (subzone of intel-rapl:0)
    intel-rapl:0:1/      name=uncore
    intel-rapl:0:2/      name=dram
    intel-rapl:1/        name=psys       (platform: contains the packages, never added to the total)
    intel-rapl-mmio:0/   name=package-0  (the same package through MMIO: a duplicate, dropped)

AMD processors use the same ``intel-rapl`` naming (package and core zones, no DRAM). Zone names are
``package-0``, ``package-0/core``, ``package-0/dram``, ``psys``.

Counters are in microjoules and wrap at ``max_energy_range_uj``; every read adds the (unwrapped)
difference to a cumulative total. A counter must be read at least once per wrap: :attr:`poll_period_s`
is derived from the smallest range and the zone's maximum power, and a guard thread reads at that
period while windows are open (the sampler also never samples slower than that).
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ipa_energy.energy.base import MEASURED, Clock, EnergyMeter, Zone, with_platform_counting, zone_from_name
from ipa_energy.errors import ConfigError, MeterUnavailable

DEFAULT_ROOT = "/sys/class/powercap"
#: assumed power ceiling when a zone publishes none (W): generous, so the derived period is safe
ASSUMED_MAX_POWER_W = 1000.0
#: reads per wrap period (2 = poll at half the shortest time in which a counter can wrap)
SAFETY_FACTOR = 2.0

_DIR_RE = re.compile(r"^(?P<prefix>[a-z0-9-]*rapl[a-z0-9-]*):(?P<id>\d+(?::\d+)*)$")

PERMISSION_FIX = (
    "RAPL energy counters are readable by root only (since Linux 5.10). Fix one of: run as root; "
    "`sudo chmod a+r {root}/intel-rapl:*/energy_uj {root}/intel-rapl:*/*/energy_uj` (until reboot); "
    'or a udev rule, e.g. /etc/udev/rules.d/90-rapl.rules: ACTION=="add", SUBSYSTEM=="powercap", '
    'RUN+="/bin/chmod a+r /sys%p/energy_uj"'
)


def _read_text(path: Path) -> str:
    """Read one sysfs attribute (a module function so tests can make one fail)."""
    with open(path) as f:
        return f.read()


@dataclass(frozen=True)
class RaplZone:
    zone: Zone
    path: Path
    max_range_uj: int
    max_power_w: float | None

    @property
    def wrap_s(self) -> float:
        """Shortest time in which this counter can wrap (at its maximum power)."""
        return self.max_range_uj / 1e6 / (self.max_power_w or ASSUMED_MAX_POWER_W)


def _int_attr(path: Path, root: Path) -> int:
    try:
        text = _read_text(path)
    except PermissionError:
        fix = PERMISSION_FIX.format(root=root)
        raise MeterUnavailable(f"rapl: cannot read {path}: permission denied. {fix}") from None
    try:
        return int(text.strip())
    except ValueError:
        raise ConfigError(f"expected an integer, got {text.strip()!r}", source=str(path)) from None


def _max_power_w(zone_dir: Path) -> float | None:
    best = None
    for f in sorted(zone_dir.glob("constraint_*_max_power_uw")):
        try:
            v = int(_read_text(f).strip()) / 1e6
        except (OSError, ValueError):
            continue
        if v > 0:
            best = max(best or 0.0, v)
    return best


def discover(root: str | Path = DEFAULT_ROOT) -> tuple[tuple[RaplZone, ...], tuple[str, ...]]:
    """Find the RAPL zones under ``root``; returns (zones, notes on what was dropped and why)."""
    root = Path(root)
    if not root.is_dir():
        raise MeterUnavailable(
            f"rapl: {root} does not exist (no powercap: not Linux, intel_rapl modules not loaded, "
            "or a virtual machine that does not expose RAPL)"
        )
    entries = []
    for d in sorted(root.iterdir(), key=lambda p: p.name):
        m = _DIR_RE.match(d.name)
        if m and (d / "energy_uj").exists():
            entries.append((m["prefix"], tuple(int(x) for x in m["id"].split(":")), d))
    if not entries:
        raise MeterUnavailable(f"rapl: no RAPL zones under {root} (this CPU or VM exposes no energy counters)")
    notes: list[str] = []
    # names of top-level zones per prefix, to drop MMIO duplicates of MSR zones
    names: dict[tuple[str, tuple[int, ...]], str] = {}
    for prefix, ident, d in entries:
        try:
            names[(prefix, ident)] = _read_text(d / "name").strip()
        except OSError as e:
            notes.append(f"{d.name}: skipped, cannot read its name ({e.strerror})")
    msr_top = {n for (p, i), n in names.items() if len(i) == 1 and "mmio" not in p}
    zones: list[RaplZone] = []
    seen: set[str] = set()
    for prefix, ident, d in entries:
        if (prefix, ident) not in names:
            continue
        top = (prefix, ident[:1])
        if top not in names:
            notes.append(f"{d.name}: skipped, its parent zone is unreadable")
            continue
        if "mmio" in prefix and names[top] in msr_top:
            notes.append(f"{d.name}: skipped, duplicate of the MSR zone {names[top]}")
            continue
        name = names[top] if len(ident) == 1 else f"{names[top]}/{names[(prefix, ident)]}"
        if name in seen:  # e.g. two dies both called package-0
            name = f"{name}@{d.name}"
        seen.add(name)
        try:
            zone = zone_from_name(name)
        except ConfigError:
            notes.append(f"{d.name}: skipped, unknown zone name {name!r}")
            continue
        max_range = _int_attr(d / "max_energy_range_uj", root)
        if max_range <= 0:
            notes.append(f"{d.name}: skipped, max_energy_range_uj is {max_range}")
            continue
        zones.append(RaplZone(zone, d / "energy_uj", max_range, _max_power_w(d)))
    if not zones:
        raise MeterUnavailable(f"rapl: no usable zones under {root}: " + "; ".join(notes))
    return tuple(zones), tuple(notes)


class RaplMeter(EnergyMeter):
    """Energy from powercap RAPL counters (quality ``measured``). See the module doc."""

    source = "rapl"
    quality = MEASURED

    def __init__(self, root: str | Path = DEFAULT_ROOT, *, clock: Clock | None = None, guard: bool = True) -> None:
        super().__init__(clock=clock)
        self.root = Path(root)
        self._rapl, self.notes = discover(self.root)
        self._zones = with_platform_counting(tuple(z.zone for z in self._rapl))
        self._last: dict[str, int] = {}
        self._acc: dict[str, float] = {}
        self._fds: dict[str, int] = {}
        self.wraps = {z.zone.name: 0 for z in self._rapl}
        for rz in self._rapl:  # first read: fails now (permission) rather than mid-run
            self._last[rz.zone.name] = _int_attr(rz.path, self.root)
            self._acc[rz.zone.name] = 0.0
        self._guard_enabled = guard

    def zones(self) -> tuple[Zone, ...]:
        return self._zones

    @property
    def poll_period_s(self) -> float:
        return min(z.wrap_s for z in self._rapl) / SAFETY_FACTOR

    def _read_counter(self, rz: RaplZone) -> int:
        """Read energy_uj through a file descriptor kept open (pread at offset 0 re-reads sysfs)."""
        fd = self._fds.get(rz.zone.name)
        if fd is None:
            fd = self._fds[rz.zone.name] = os.open(rz.path, os.O_RDONLY)
        try:
            return int(os.pread(fd, 32, 0))
        except (OSError, ValueError):
            os.close(self._fds.pop(rz.zone.name))
            raise

    def _read_energy_j(self, t_s: float) -> dict[str, float]:
        out: dict[str, float] = {}
        for rz in self._rapl:
            name = rz.zone.name
            try:
                cur = self._read_counter(rz)
            except (OSError, ValueError):
                continue  # a gap for this zone
            prev = self._last.get(name)
            if prev is not None:
                delta = cur - prev
                if delta < 0:
                    delta += rz.max_range_uj
                    self.wraps[name] += 1
                self._acc[name] += delta / 1e6
            self._last[name] = cur
            out[name] = self._acc[name]
        return out

    def _needs_guard(self) -> bool:
        return self._guard_enabled

    def close(self) -> None:
        for fd in self._fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()
        super().close()
