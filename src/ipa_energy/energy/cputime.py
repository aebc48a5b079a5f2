"""CPU-time sources (busy core-seconds) for the power-model meter and for attribution.

* :class:`MachineCpuTime`: the whole machine, from ``/proc/stat`` (user + nice + system + irq + softirq;
  idle, iowait and steal are not busy time of this machine's work).
* :class:`ProcessCpuTime`: a set of processes (optionally with their descendants), from
  ``/proc/<pid>/stat`` (utime + stime, plus cutime + cstime of waited-for children). A process that
  exits keeps its last value, so the cumulative total never goes back.

Both read a configurable proc root, so tests point them at a fake tree.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from ipa_energy.errors import MeterUnavailable


class CpuTimeSource(Protocol):
    """Cumulative busy CPU time in core-seconds (any origin; only differences are used)."""

    def busy_core_s(self) -> float: ...


def clock_ticks_per_s() -> int:
    try:
        return int(os.sysconf("SC_CLK_TCK"))
    except (ValueError, OSError, AttributeError):
        return 100


class MachineCpuTime:
    """Busy core-seconds of the whole machine from ``<proc_root>/stat``."""

    def __init__(self, proc_root: str | Path = "/proc", *, ticks_per_s: int | None = None) -> None:
        self.path = Path(proc_root) / "stat"
        self.ticks_per_s = ticks_per_s or clock_ticks_per_s()
        self._fd: int | None = None
        self.busy_core_s()  # fail now, not in the middle of a run

    def _first_line(self) -> str:
        # pread at offset 0 on a descriptor kept open re-generates the proc file; reading only the first
        # 256 bytes costs a quarter of open + readline (see benchmarks/meter_overhead.py)
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        try:
            return os.pread(self._fd, 256, 0).decode(errors="replace").split("\n", 1)[0]
        except OSError:
            self.close()
            raise

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.close()

    def busy_core_s(self) -> float:
        try:
            line = self._first_line()
        except OSError as e:
            raise MeterUnavailable(f"model: cannot read {self.path}: {e.strerror}") from e
        parts = line.split()
        if not parts or parts[0] != "cpu" or len(parts) < 8:
            raise MeterUnavailable(f"model: {self.path} line 1 is not the aggregate 'cpu' line: {line!r}")
        user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in parts[1:8])
        return (user + nice + system + irq + softirq) / self.ticks_per_s


def read_process_cpu_s(
    pid: int, proc_root: str | Path = "/proc", *, ticks_per_s: int | None = None, children: bool = True
) -> float | None:
    """utime + stime (+ cutime + cstime) of ``pid`` in seconds; None if the process is gone."""
    tps = ticks_per_s or clock_ticks_per_s()
    try:
        text = (Path(proc_root) / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()
    # after the command name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    if len(fields) < 15:
        return None
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / tps


def children_of(pids: Iterable[int], proc_root: str | Path = "/proc") -> set[int]:
    """All live descendants of ``pids`` (by scanning ``<proc_root>/*/stat``)."""
    parent: dict[int, int] = {}
    root = Path(proc_root)
    for entry in root.iterdir() if root.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
            parent[int(entry.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    found: set[int] = set()
    frontier = set(pids)
    while frontier:
        nxt = {c for c, p in parent.items() if p in frontier and c not in found}
        found |= nxt
        frontier = nxt
    return found


class ProcessCpuTime:
    """Busy core-seconds of a set of processes (and their live descendants if ``descendants``)."""

    def __init__(
        self,
        pids: Iterable[int],
        proc_root: str | Path = "/proc",
        *,
        descendants: bool = True,
        ticks_per_s: int | None = None,
    ) -> None:
        self.pids = tuple(int(p) for p in pids)
        if not self.pids:
            raise MeterUnavailable("model: no process ids given")
        self.proc_root = Path(proc_root)
        self.descendants = descendants
        self.ticks_per_s = ticks_per_s or clock_ticks_per_s()
        self._last: dict[int, float] = {}
        if all(read_process_cpu_s(p, self.proc_root, ticks_per_s=self.ticks_per_s) is None for p in self.pids):
            raise MeterUnavailable(f"model: none of the processes {list(self.pids)} exists")
        self.busy_core_s()

    def per_pid_s(self) -> dict[int, float]:
        """Cumulative CPU seconds of every process seen so far (exited ones keep their last value)."""
        tracked = set(self.pids)
        if self.descendants:
            tracked |= children_of(self.pids, self.proc_root)
        for pid in tracked:
            # descendants' own time only: their waited children are already in their parent's cutime
            v = read_process_cpu_s(pid, self.proc_root, ticks_per_s=self.ticks_per_s, children=pid in self.pids)
            if v is not None:
                self._last[pid] = max(v, self._last.get(pid, 0.0))
        return dict(self._last)

    def busy_core_s(self) -> float:
        return sum(self.per_pid_s().values())
