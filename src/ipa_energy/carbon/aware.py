"""Carbon-aware problem factories: a system's problem for a rate whose energy term follows the grid.

The adaptation policy asks a factory ``problem_for(rate_rps, t_s) -> Problem`` every interval. The
wrappers here take a plain ``base(rate_rps) -> Problem`` (a system preset bound to a pipeline) or another
timed factory, and change only what their concern owns:

* :func:`carbon_aware`: the energy term follows the grid's carbon intensity.

  - ``mode="weight"``: energy weight (per W) = ``energy_weight`` x I / ``reference_g_per_kwh``; the
    pipeline runs heavier variants when the grid is clean and lighter, more batched ones when it is
    dirty. Accuracy, cost and batch weights stay the base system's.
  - ``mode="lambda"`` (Clover, SC'23): maximise ``(1 - lam) * PAS / PAS_max - lam * (I / I_ref) * P /
    P_max``, i.e. minimise ``lam * delta-carbon - (1 - lam) * delta-accuracy`` with both terms
    normalised: PAS by the best reachable PAS, the carbon rate by that of the most power-hungry option at
    this rate at the reference intensity. Cost has no weight of its own (cores are in P via idle W);
    the base's tiny batch weight stays as a tie-break.

  Threshold: the intensity used in the objective changes only when the current one (or its mean over
  ``lookahead_s``, a perfect forecast of the trace) moves more than ``threshold`` (relative) away from
  it, as Clover re-optimises only on moves > 5 %. The load still changes every interval, so the solver
  still runs every interval; the threshold keeps the carbon term from jittering.

  State: the returned :class:`CarbonAwareFactory` keeps the intensity in use explicitly in
  :attr:`CarbonAwareFactory.state` (a frozen :class:`CarbonState`, replaced on each update). Calls must
  come in time order, one factory per run; :meth:`~CarbonAwareFactory.reset` starts over.

Power caps are the other wrapper: :mod:`ipa_energy.carbon.capped`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from ipa_energy.carbon.base import CarbonIntensitySource
from ipa_energy.carbon.factory import BaseFactory, TimedProblemFactory, positive, timed
from ipa_energy.errors import ConfigError
from ipa_energy.optimize.problem import Problem, Weights, stage_options

Mode = Literal["weight", "lambda"]
MODES: tuple[str, ...] = ("weight", "lambda")
#: Clover re-optimises when carbon intensity moves more than 5 %
DEFAULT_THRESHOLD = 0.05
#: energy weight (objective units per W) of ``ipa-carbon`` at the reference intensity
DEFAULT_CARBON_ENERGY_WEIGHT = 0.05
#: Clover-style trade-off between carbon (lam) and accuracy (1 - lam)
DEFAULT_LAMBDA = 0.5


@dataclass(frozen=True)
class CarbonState:
    """What a carbon-aware factory remembers between intervals."""

    #: intensity in the objective now (g/kWh); None before the first call
    intensity_used_g_per_kwh: float | None = None
    #: run time of the last change of the intensity in use
    updated_at_t_s: float | None = None
    #: how many times the intensity in use changed (the first call counts)
    updates: int = 0
    #: intensity seen at the last call (g/kWh), used or not
    last_seen_g_per_kwh: float | None = None


class CarbonAwareFactory(TimedProblemFactory):
    def __init__(
        self, base: BaseFactory, source: CarbonIntensitySource, *, threshold: float, mode: Mode,
        lam: float, reference_g_per_kwh: float, energy_weight: float | None, lookahead_s: float,
    ) -> None:
        self.base = timed(base)
        self.source = source
        self.threshold = threshold
        self.mode = mode
        self.lam = lam
        self.reference_g_per_kwh = reference_g_per_kwh
        self.energy_weight = energy_weight
        self.lookahead_s = lookahead_s
        self.state = CarbonState()

    def reset(self) -> None:
        self.state = CarbonState()

    def observe(self, t_s: float) -> float:
        """Update the state with the intensity at ``t_s``; return the intensity to use."""
        now = self.source.mean_over(t_s, t_s + self.lookahead_s) if self.lookahead_s > 0 else (
            self.source.intensity_g_per_kwh(t_s)
        )
        used = self.state.intensity_used_g_per_kwh
        moved = used is None or (abs(now - used) > self.threshold * used if used > 0 else now != used)
        if moved:
            self.state = CarbonState(now, t_s, self.state.updates + 1, now)
            return now
        self.state = replace(self.state, last_seen_g_per_kwh=now)
        assert used is not None
        return used

    def __call__(self, rate_rps: float, t_s: float) -> Problem:
        problem = self.base(rate_rps, t_s)
        scale = self.observe(t_s) / self.reference_g_per_kwh
        w = problem.weights
        if self.mode == "weight":
            per_w = w.energy if self.energy_weight is None else self.energy_weight
            return replace(problem, weights=replace(w, energy=per_w * scale))
        pas_max, power_max_w = _normalisers(problem)
        weights = Weights(
            accuracy=(1.0 - self.lam) / pas_max, cost=0.0, batch=w.batch, energy=self.lam * scale / power_max_w
        )
        return replace(problem, weights=weights)


def _normalisers(problem: Problem) -> tuple[float, float]:
    """(best reachable PAS, power of the most power-hungry option per stage at this rate), each > 0."""
    accs: list[float] = []
    power_w = 0.0
    for i in range(len(problem.stages)):
        opts = stage_options(problem, i)
        if not opts:
            return 1.0, 1.0  # infeasible anyway; the solver says why
        accs.append(max(o.accuracy for o in opts))
        power_w += max(o.power_w for o in opts)
    pas = math.prod(accs) if problem.accuracy_method == "product" else math.fsum(accs)
    return (pas if pas > 0 else 1.0), (power_w if power_w > 0 else 1.0)


def carbon_aware(
    base: BaseFactory,
    source: CarbonIntensitySource,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    mode: Mode = "weight",
    lam: float = DEFAULT_LAMBDA,
    reference_g_per_kwh: float | None = None,
    energy_weight: float | None = DEFAULT_CARBON_ENERGY_WEIGHT,
    lookahead_s: float = 0.0,
    horizon_s: float = 86_400.0,
) -> CarbonAwareFactory:
    """A factory whose energy term follows ``source`` (see the module docstring for both modes).

    ``reference_g_per_kwh`` defaults to the source's mean over ``[0, horizon_s)`` (give the run's
    duration); ``energy_weight`` (weight mode) is the weight per W at the reference intensity
    (:data:`DEFAULT_CARBON_ENERGY_WEIGHT`; ``None`` keeps the base problem's energy weight as that value).
    """
    if mode not in MODES:
        raise ConfigError(f"must be one of {', '.join(MODES)} (got {mode!r})", field="carbon_mode")
    positive(threshold, "carbon_threshold", allow_zero=True)
    if not (isinstance(lam, int | float) and 0.0 <= lam <= 1.0):
        raise ConfigError(f"must be in [0, 1] (got {lam!r})", field="carbon_lambda")
    if energy_weight is not None:
        positive(energy_weight, "energy_weight", allow_zero=True)
    positive(lookahead_s, "lookahead_s", allow_zero=True)
    ref = source.mean_over(0.0, positive(horizon_s, "horizon_s")) if reference_g_per_kwh is None else (
        reference_g_per_kwh
    )
    ref = positive(ref, "reference_g_per_kwh")
    return CarbonAwareFactory(
        base, source, threshold=float(threshold), mode=mode, lam=float(lam), reference_g_per_kwh=ref,
        energy_weight=energy_weight, lookahead_s=float(lookahead_s),
    )


__all__ = [
    "DEFAULT_CARBON_ENERGY_WEIGHT", "DEFAULT_LAMBDA", "DEFAULT_THRESHOLD", "CarbonAwareFactory", "CarbonState",
    "carbon_aware",
]
