"""An in-memory backend: an explicit test helper (never a fallback) that serves nothing.

It replays given per-second arrival counts, records every configuration applied, and reports per-second
records with no completions. Use it to test adaptation logic without a simulator or real models.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ipa_energy.backends.base import Backend, PipelineConfig, RunSummary, SecondRecord


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, t_s: float = 0.0) -> None:
        self.t_s = t_s

    def now_s(self) -> float:
        return self.t_s


class InMemoryBackend(Backend):
    def __init__(self, arrivals_per_s: NDArray[np.float64] | list[float], clock: ManualClock | None = None) -> None:
        self._arrivals = np.asarray(arrivals_per_s, dtype=np.float64)
        self.clock = clock or ManualClock()
        self.applied: list[tuple[float, PipelineConfig]] = []
        self._config: PipelineConfig | None = None

    def apply(self, config: PipelineConfig) -> None:
        self.applied.append((self.clock.now_s(), config))
        self._config = config

    def run_until(self, t_s: float) -> None:
        self.clock.t_s = max(self.clock.t_s, t_s)

    def arrivals_per_second(self) -> NDArray[np.float64]:
        return self._arrivals[: int(self.clock.now_s())]

    def seconds(self) -> list[SecondRecord]:
        cfg = self._config or PipelineConfig(())
        return [
            SecondRecord(t, int(a), 0, 0, 0, 0, None, None, 0, 0.0, 0.0, 0.0, "none", (), cfg)
            for t, a in enumerate(self.arrivals_per_second())
        ]

    def summary(self) -> RunSummary:
        sent = int(self.arrivals_per_second().sum())
        return RunSummary(sent, 0, 0, 0, sent, 0, 0.0, self.clock.now_s(), np.zeros(0))
