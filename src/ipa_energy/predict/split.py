"""The train / validation / test split of the Twitter trace by days, and where the evaluation workloads lie.

=============  ===============  ===================================================================
part           days             used for
=============  ===============  ===================================================================
train          [0, 14)          fitting every trained predictor (IPA's LSTM: its first 14 days)
validation     [14, 15)         choosing hyper-parameters and margins; nothing is fitted on it
test           [15, end)        the reported figures only; it holds the four evaluation workloads
=============  ===============  ===================================================================

The four 1200 s workloads of the paper (``workloads/data``) are slices of the trace (IPA's
``workload_config``): bursty, steady_low and fluctuating come from seconds 1,299,600-1,309,200
(day 15.04-15.15), steady_high from 1,768,800-1,769,400 (day 20.47). Both lie in the test days, so no
predictor is trained or selected on the load it is later simulated with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ipa_energy.errors import ConfigError
from ipa_energy.workloads.twitter import SECONDS_PER_DAY, TwitterTrace

Part = Literal["train", "validation", "test"]
PARTS: tuple[Part, ...] = ("train", "validation", "test")

#: trace seconds ``[start, end)`` of each evaluation workload (``workloads/data/README.md``)
EVALUATION_WINDOWS: Mapping[str, tuple[tuple[int, int], ...]] = {
    "bursty": ((1_301_160, 1_302_360),),
    "steady_low": ((1_299_600, 1_300_800),),
    "steady_high": ((1_768_800, 1_769_400), (1_768_800, 1_769_400)),
    "fluctuating": ((1_301_400, 1_302_000), (1_308_600, 1_309_200)),
}


@dataclass(frozen=True)
class TraceSplit:
    """Day boundaries: train ``[0, validation_day)``, validation ``[validation_day, test_day)``,
    test ``[test_day, end)``."""

    validation_day: float = 14.0
    test_day: float = 15.0

    def __post_init__(self) -> None:
        if not 0 < self.validation_day < self.test_day:
            raise ConfigError(f"need 0 < validation_day < test_day, got {self.validation_day} and "
                              f"{self.test_day}", field="split")

    def days(self, part: Part) -> tuple[float, float | None]:
        """``(first_day, last_day)`` of ``part``; ``last_day`` None means the end of the trace."""
        bounds: dict[str, tuple[float, float | None]] = {
            "train": (0.0, self.validation_day),
            "validation": (self.validation_day, self.test_day),
            "test": (self.test_day, None),
        }
        if part not in bounds:
            raise ConfigError(f"unknown part {part!r}; valid: {', '.join(PARTS)}", field="part")
        return bounds[part]

    def part_of_second(self, second: int) -> Part:
        day = second / SECONDS_PER_DAY
        if day < self.validation_day:
            return "train"
        return "validation" if day < self.test_day else "test"

    def workload_parts(self) -> dict[str, set[Part]]:
        """The parts each evaluation workload's trace windows fall in (all must be ``{"test"}``)."""
        return {
            name: {self.part_of_second(s) for start, end in wins for s in (start, end - 1)}
            for name, wins in EVALUATION_WINDOWS.items()
        }

    def describe(self, trace: TwitterTrace) -> str:
        """One line naming the three parts with their days (for the CLI and reports)."""
        end = trace.duration_s / SECONDS_PER_DAY
        days = {p: self.days(p) for p in PARTS}
        parts = ", ".join(f"{p} days {a:g}-{(b if b is not None else end):.4g}" for p, (a, b) in days.items())
        in_test = sorted(n for n, ps in self.workload_parts().items() if ps == {"test"})
        return f"split: {parts}; evaluation workloads in the test days: {', '.join(in_test) or 'none'}"


DEFAULT_SPLIT = TraceSplit()
