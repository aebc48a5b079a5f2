"""Per-second accounting of a real run: the same :class:`SecondRecord` the simulator reports.

Events are filed under the whole second of pipeline time they happen in (arrivals by their scheduled
arrival time, completions/drops/failures by when they happen). A second is closed once the clock has
passed its end; closing reads the energy meter, so each second's energy is the meter's difference over
that window, attributed to stages in proportion to the CPU time their workers spent in it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ipa_energy.backends.base import PipelineConfig, RunSummary, SecondRecord
from ipa_energy.energy.attribution import attribute
from ipa_energy.energy.base import Measurement
from ipa_energy.energy.cputime import CpuTimeSource, MachineCpuTime, ProcessCpuTime
from ipa_energy.energy.scope import energy_source_label
from ipa_energy.profiles.online import Observation


@dataclass(frozen=True)
class EnergySplit:
    """One second's energy in the meter's scope: idle + dynamic = total; stages + unattributed = total."""

    energy_j: float
    idle_energy_j: float
    dynamic_energy_j: float
    stage_energy_j: tuple[float, ...]
    unattributed_energy_j: float
    energy_source: str

    @staticmethod
    def none(n_stages: int) -> EnergySplit:
        return EnergySplit(0.0, 0.0, 0.0, (0.0,) * n_stages, 0.0, "none")

    @staticmethod
    def of(
        m: Measurement, stage_names: Sequence[str], stage_cpu_s: Sequence[float], scope_cpu_s: float, *,
        gpu_util: Mapping[str, Mapping[int, float]] | None = None, stage_pids: Sequence[Sequence[int]] = (),
    ) -> EnergySplit:
        """Split one window's measurement (Kepler's method, :func:`ipa_energy.energy.attribution.attribute`):
        idle apart, active CPU energy shared by the stages' CPU seconds against ``scope_cpu_s`` (the busy
        CPU seconds of the meter's scope), each GPU's energy by its processes' SM utilisation
        (``gpu_util``, with ``stage_pids[i]`` the processes of stage i); idle, the rest of the scope and
        GPU energy without utilisation samples stay unattributed."""
        stage_of_pid = {p: stage_names[i] for i, pids in enumerate(stage_pids) for p in pids}
        att = attribute(m, dict(zip(stage_names, stage_cpu_s, strict=True)), max(0.0, scope_cpu_s),
                        gpu_util=gpu_util, stage_of_pid=stage_of_pid)
        return EnergySplit(
            energy_j=float(m.energy_j), idle_energy_j=att.idle_j, dynamic_energy_j=att.active_j,
            stage_energy_j=tuple(att.by_stage_j.get(n, 0.0) for n in stage_names),
            unattributed_energy_j=att.idle_j + att.unattributed_j,
            energy_source=energy_source_label(m.source, m.quality),
        )

    @staticmethod
    def total(parts: Sequence[EnergySplit], n_stages: int) -> EnergySplit:
        """The sum of several meters' splits (one per node); sources joined with " + "."""
        if not parts:
            return EnergySplit.none(n_stages)
        return EnergySplit(
            energy_j=math.fsum(p.energy_j for p in parts),
            idle_energy_j=math.fsum(p.idle_energy_j for p in parts),
            dynamic_energy_j=math.fsum(p.dynamic_energy_j for p in parts),
            stage_energy_j=tuple(math.fsum(p.stage_energy_j[i] for p in parts) for i in range(n_stages)),
            unattributed_energy_j=math.fsum(p.unattributed_energy_j for p in parts),
            energy_source=" + ".join(sorted({p.energy_source for p in parts})),
        )


@dataclass(frozen=True)
class ServedBatch:
    """One batch a replica served, as the router saw it answered (``t_s``: pipeline time)."""

    t_s: float
    variant: str
    batch: int
    cores: int
    latency_s: float
    #: what the stage's attributed energy of the second is shared by (the batch's CPU seconds, or where a
    #: backend has no per-batch CPU time, its model seconds)
    share_s: float


def batch_observations(split: EnergySplit, stage_names: Sequence[str],
                       served: Sequence[Sequence[ServedBatch]], *, metered: bool) -> list[Observation]:
    """The batches answered in one closing second as observations for the online profile: latency is one
    sample of what a profile row's ``latency_p50_s`` holds; a batch's energy is its stage's attributed
    energy of the second x the batch's share of the stage's ``share_s`` (None without a meter)."""
    out = []
    for i, batches in enumerate(served):
        total = math.fsum(b.share_s for b in batches)
        stage_j = split.stage_energy_j[i] if i < len(split.stage_energy_j) else 0.0
        for b in batches:
            energy = stage_j * b.share_s / total if metered and total > 0 else None
            out.append(Observation(stage_names[i], b.variant, b.batch, b.cores, b.latency_s, energy,
                                   split.energy_source if energy is not None else "", "latency_p50_s", b.t_s))
    return out


def scope_cpu_time(meter: Any, pids: Sequence[int]) -> CpuTimeSource:
    """The CPU time of a meter's scope, the denominator of each stage's share of active energy: the
    processes ``pids`` (and descendants) for a process-mode estimate, the whole machine otherwise."""
    return ProcessCpuTime(pids) if getattr(meter, "process_mode", False) else MachineCpuTime()


@dataclass
class _Second:
    arrivals: int = 0
    completed: int = 0
    dropped: int = 0
    failed: int = 0
    late: int = 0
    latencies_s: list[float] = field(default_factory=list)


class Ledger:
    """Counts per second and in total; the backend owns one and feeds it events."""

    def __init__(self, sla_s: float, n_stages: int) -> None:
        self.sla_s = sla_s
        self.n_stages = n_stages
        self._open: dict[int, _Second] = {}
        #: seconds below this are closed (their records emitted)
        self._first_open = 0
        self.records: list[SecondRecord] = []
        self.energy_rows: list[dict[str, Any]] = []
        self.sent = 0
        self.completed = 0
        self.dropped = 0
        self.failed = 0
        self.late = 0
        self.retried = 0
        self.labelled = 0
        #: summed request scores (1/0 for a correct/wrong label, IoU in [0, 1] for segmentation)
        self.correct = 0.0
        self.latencies_s: list[float] = []
        self._stage_cpu_s = [0.0] * n_stages

    def _sec(self, t_s: float) -> _Second:
        # an event stamped in a second already closed (a completion whose time was taken before the
        # second closed but reported after it) is booked in the first open second: never lost
        k = max(self._first_open, int(math.floor(t_s)))
        s = self._open.get(k)
        if s is None:
            s = self._open[k] = _Second()
        return s

    # ---- events ------------------------------------------------------------------------------
    def arrival(self, t_s: float) -> None:
        self.sent += 1
        self._sec(t_s).arrivals += 1

    def complete(self, t_s: float, latency_s: float, correct: bool | float | None) -> None:
        s = self._sec(t_s)
        s.completed += 1
        s.latencies_s.append(latency_s)
        self.completed += 1
        self.latencies_s.append(latency_s)
        if latency_s > self.sla_s:
            s.late += 1
            self.late += 1
        if correct is not None:
            self.labelled += 1
            self.correct += float(correct)

    def drop(self, t_s: float) -> None:
        self._sec(t_s).dropped += 1
        self.dropped += 1

    def fail(self, t_s: float) -> None:
        self._sec(t_s).failed += 1
        self.failed += 1

    def cpu(self, stage: int, cpu_s: float) -> None:
        self._stage_cpu_s[stage] += cpu_s

    def take_stage_cpu_s(self) -> tuple[float, ...]:
        """CPU seconds each stage's workers reported since the last call (then reset)."""
        out = tuple(self._stage_cpu_s)
        self._stage_cpu_s = [0.0] * self.n_stages
        return out

    # ---- seconds -----------------------------------------------------------------------------
    def close_second(
        self,
        k: int,
        *,
        energy: EnergySplit,
        window_s: float,
        stage_cpu_s: tuple[float, ...],
        cost_cores: int,
        pas: float,
        queue_lengths: tuple[int, ...],
        config: PipelineConfig,
        stage_names: tuple[str, ...],
    ) -> SecondRecord:
        s = self._open.pop(k, _Second())
        self._first_open = max(self._first_open, k + 1)
        lat = np.asarray(s.latencies_s)
        rec = SecondRecord(
            t_s=k, arrivals=s.arrivals, completed=s.completed, dropped=s.dropped, failed=s.failed,
            late=s.late,
            latency_p50_s=float(np.percentile(lat, 50)) if len(lat) else None,
            latency_p99_s=float(np.percentile(lat, 99)) if len(lat) else None,
            cost_cores=cost_cores, pas=pas, power_w=energy.energy_j / window_s if window_s > 0 else 0.0,
            energy_j=energy.energy_j, energy_source=energy.energy_source, queue_lengths=queue_lengths,
            config=config, idle_energy_j=energy.idle_energy_j, dynamic_energy_j=energy.dynamic_energy_j,
            stage_energy_j=energy.stage_energy_j, unattributed_energy_j=energy.unattributed_energy_j,
        )
        self.records.append(rec)
        row: dict[str, Any] = {
            "t_s": k, "window_s": window_s, "energy_j": energy.energy_j, "power_w": rec.power_w,
            "idle_energy_j": energy.idle_energy_j, "dynamic_energy_j": energy.dynamic_energy_j,
            "unattributed_energy_j": energy.unattributed_energy_j, "energy_source": energy.energy_source,
            "worker_cpu_s": math.fsum(stage_cpu_s),
        }
        for i, name in enumerate(stage_names):
            row[f"{name}_cpu_s"] = stage_cpu_s[i]
            row[f"{name}_energy_j"] = energy.stage_energy_j[i]
        self.energy_rows.append(row)
        return rec

    def arrivals_per_second(self, n_closed: int) -> NDArray[np.float64]:
        return np.array([r.arrivals for r in self.records[:n_closed]], dtype=np.float64)

    def accuracy(self) -> float | None:
        """End-to-end accuracy over completed requests that carry a label (None when none do)."""
        return self.correct / self.labelled if self.labelled else None

    def summary(self, in_flight: int, duration_s: float) -> RunSummary:
        return RunSummary(
            sent=self.sent, completed=self.completed, dropped=self.dropped, failed=self.failed,
            in_flight=in_flight, late=self.late,
            energy_j=float(math.fsum(r.energy_j for r in self.records)), duration_s=duration_s,
            latencies_s=np.asarray(self.latencies_s, dtype=np.float64),
        )
