"""PerfMeter: RAPL energy through ``perf stat`` run as a child process and parsed live.

    perf stat -a -x , -I <interval_ms> -e power/energy-pkg/,power/energy-ram/,...

perf prints one CSV line per event per interval on stderr; a reader thread adds each interval's joules
to a cumulative counter per domain (zones ``pkg``, ``ram``, ``cores``, ``gpu``, ``psys``). A reading
therefore includes energy up to the last interval perf reported (``interval_ms``, 100 ms by default).
A ``<not counted>`` interval is a gap: it is counted in :attr:`PerfMeter.gaps` and the zone is left out
of readings until a valid interval arrives again.

Availability is checked before starting: the ``perf`` binary, the kernel's ``power`` PMU and its
``energy-*`` events under ``pmu_root`` (``/sys/bus/event_source/devices``), and ``perf_event_paranoid``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from ipa_energy.energy.base import MEASURED, Clock, EnergyMeter, Zone, with_platform_counting, zone_from_name
from ipa_energy.energy.formats import parse_perf_sep_line
from ipa_energy.errors import ConfigError, MeterUnavailable

DEFAULT_PMU_ROOT = "/sys/bus/event_source/devices"
#: perf event suffix -> zone name
EVENT_ZONES = {"energy-pkg": "pkg", "energy-ram": "ram", "energy-cores": "cores", "energy-gpu": "gpu",
               "energy-psys": "psys"}


def available_events(pmu_root: str | Path = DEFAULT_PMU_ROOT) -> tuple[str, ...]:
    """The ``energy-*`` events of the ``power`` PMU (e.g. ('energy-pkg', 'energy-ram'))."""
    events_dir = Path(pmu_root) / "power" / "events"
    if not events_dir.is_dir():
        raise MeterUnavailable(
            f"perf: no 'power' PMU ({events_dir} missing): this kernel/CPU/VM exposes no RAPL events to perf"
        )
    names = sorted(p.name for p in events_dir.iterdir() if p.name in EVENT_ZONES)
    if not names:
        raise MeterUnavailable(f"perf: the 'power' PMU has no energy events in {events_dir}")
    return tuple(names)


def _check_paranoid(proc_root: str | Path = "/proc") -> None:
    if os.geteuid() == 0:
        return
    try:
        level = int((Path(proc_root) / "sys/kernel/perf_event_paranoid").read_text().strip())
    except (OSError, ValueError):
        return
    if level > 0:
        raise MeterUnavailable(
            f"perf: system-wide power events need kernel.perf_event_paranoid <= 0 (it is {level}); fix: "
            "`sudo sysctl kernel.perf_event_paranoid=0`, or run as root, or give perf CAP_PERFMON"
        )


class PerfMeter(EnergyMeter):
    """Energy from a live ``perf stat`` child (quality ``measured``). Close it to stop the child."""

    source = "perf"
    quality = MEASURED

    def __init__(
        self,
        *,
        perf_cmd: str = "perf",
        pmu_root: str | Path = DEFAULT_PMU_ROOT,
        events: Sequence[str] | None = None,
        interval_ms: int = 100,
        startup_timeout_s: float = 5.0,
        clock: Clock | None = None,
        proc_root: str | Path = "/proc",
    ) -> None:
        super().__init__(clock=clock)
        if interval_ms < 10:
            raise ConfigError(f"perf's minimum interval is 10 ms (got {interval_ms})", field="interval_ms")
        exe = shutil.which(perf_cmd)
        if exe is None:
            raise MeterUnavailable(f"perf: command {perf_cmd!r} not found (install linux-tools / linux-perf)")
        present = available_events(pmu_root)
        chosen = tuple(events) if events is not None else present
        unknown = [e for e in chosen if e not in present]
        if unknown:
            raise MeterUnavailable(f"perf: events {unknown} not offered by this PMU (it has {list(present)})")
        _check_paranoid(proc_root)
        self.events = chosen
        self.interval_ms = interval_ms
        self._zones = with_platform_counting(tuple(zone_from_name(EVENT_ZONES[e]) for e in chosen))
        self._acc: dict[str, float] = {}
        self._gap_now: set[str] = set()
        self.gaps: dict[str, int] = {z.name: 0 for z in self._zones}
        self.intervals = 0
        self.skipped: list[str] = []
        self._stderr_tail: list[str] = []
        self._first = threading.Event()
        cmd = [exe, "stat", "-a", "-x", ",", "-I", str(interval_ms),
               "-e", ",".join(f"power/{e}/" for e in chosen)]
        self.command = tuple(cmd)
        self._proc = subprocess.Popen(  # noqa: S603 - fixed argument list
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, bufsize=1
        )
        self._reader = threading.Thread(target=self._read_loop, name="ipa-energy-perf", daemon=True)
        self._reader.start()
        deadline = time.monotonic() + startup_timeout_s + interval_ms / 1e3
        while not self._first.wait(0.05):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self._stop_child()
                why = " | ".join(ln.strip() for ln in self._stderr_tail if ln.strip())[-400:]
                raise MeterUnavailable(f"perf: `{' '.join(cmd)}` gave no reading: {why or 'no output'}")

    def zones(self) -> tuple[Zone, ...]:
        return self._zones

    def _read_loop(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            r = parse_perf_sep_line(line, ",")
            if r is None:
                continue
            if isinstance(r, str):
                self._stderr_tail = (self._stderr_tail + [line])[-8:]
                continue
            _t, domain, value, _note = r
            with self._lock:
                if domain not in self.gaps:
                    continue
                if value is None:
                    self.gaps[domain] += 1
                    self._gap_now.add(domain)
                else:
                    self._acc[domain] = self._acc.get(domain, 0.0) + value
                    self._gap_now.discard(domain)
                self.intervals += 1
            self._first.set()

    def _read_energy_j(self, t_s: float) -> dict[str, float]:
        return {z: v for z, v in self._acc.items() if z not in self._gap_now}

    def _stop_child(self) -> None:
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._reader.join(timeout=2.0)  # the pipe reaches EOF once perf has exited
        if self._proc.stderr is not None and not self._reader.is_alive():
            with contextlib.suppress(Exception):
                self._proc.stderr.close()

    def close(self) -> None:
        if not self._closed:
            self._stop_child()
        super().close()
