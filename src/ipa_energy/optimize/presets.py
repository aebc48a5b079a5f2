"""Named systems as constraints on one optimizer: IPA, IPA + energy, and IPA's baselines.

Every system is the same decision problem (:mod:`ipa_energy.optimize.problem`) with different weights
and per-stage ``fixed_variant`` / ``fixed_replicas``, exactly as IPA ran its baselines (its own
optimizer with extra constraints):

=============  ===================================================================================
``ipa``        the pipeline's IPA weights (alpha, beta, gamma of the paper runs); energy weight 0
``ipa-energy`` the same plus an energy weight per W (default :data:`DEFAULT_ENERGY_WEIGHT`)
``fa2-low``    variants fixed to the pipeline's FA2-low set (the lightest); replicas, batch free
``fa2-high``   variants fixed to the FA2-high set (heavier); replicas, batch free
``rim-high``   replicas fixed to the RIM-high counts of the paper runs; variant, batch free
``rim-low``    one replica per stage; variant, batch free
``ipa-ql``     ``ipa``'s problem, decided by the Q-learning solver instead of the exact one
``ipa-paper``  IPA's original behaviour: ``ipa``'s problem, the faithful LSTM, no planning horizon, no
               reactive guard, no headroom (the comparison point for the new default adaptation)
``ipa-carbon`` ``ipa-energy``'s problem whose energy weight the run scales by the grid's carbon
               intensity (:func:`ipa_energy.carbon.aware.carbon_aware`); without a source, ``ipa-energy``
=============  ===================================================================================

Every system also carries the adaptation it runs with (:class:`AdaptationSpec`: predictor, start-up-aware
horizon, reactive guard) and a **headroom**: the problem is built for ``rate x (1 + headroom)``, a margin
of capacity paid in cores on every interval (:data:`DEFAULT_HEADROOM`; 0 for ``ipa-paper``). Both show
in ``ipa-energy pipelines show`` and in every run's resolved config.

A system names its solver too (:func:`system_solver`): the exact default ``dp`` for all but ``ipa-ql``.

The baselines use the IPA weights (energy weight 0) unless ``weights`` / ``energy_weight`` are given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ipa_energy.errors import ConfigError
from ipa_energy.optimize.problem import AccuracyMethod, Problem, Weights, validate_problem
from ipa_energy.registry import Registry

if TYPE_CHECKING:
    from ipa_energy.pipelines.model import AccuracyScore, Pipeline

#: Energy weight of ``ipa-energy``, in objective units per W of pipeline power (idle + dynamic).
#: Chosen on held-out load by ``python scripts/choose_energy_weight.py`` (``ipa_energy.bench.energy_weight``):
#: eight 1200 s Twitter-trace windows on days 14-21 that hold no evaluation workload, seeds 10-12, the
#: video pipeline; the rule keeps PAS within 1 % and SLA violations within 0.5 pp of weight 0 on every
#: window and takes the lowest energy. Every weight from 0.0001 to 0.01 gives the same decisions there
#: (6.8 % less energy than weight 0, PAS within 0.02 %, with the default adaptation); 0.001 is the middle
#: of that tie; from 0.03 on the term trades accuracy away. The four evaluation workloads were not used (docs/bench.md).
DEFAULT_ENERGY_WEIGHT = 0.001
#: IPA's scaling_cap: at most this many replicas per stage.
DEFAULT_MAX_REPLICAS = 100
#: Headroom of every system but ``ipa-paper``, a fraction: the problem is built for rate x (1 + headroom).
#: 0: the default predictor (``gbm-q90``) already plans for a high quantile of the peak and the guard
#: covers what it misses; a positive value buys fewer SLA violations for more cores on every interval.
DEFAULT_HEADROOM = 0.0


@dataclass(frozen=True)
class AdaptationSpec:
    """How a system adapts between and around decisions (read by the adaptation policy)."""

    #: registered load predictor (``ipa_energy.predict``)
    predictor: str = "gbm-q90"
    #: plan for the peak over [t, t + start-up delay + interval] (``ipa_energy.adapt.horizon``)
    horizon: bool = True
    #: scale up between decisions when the load crosses capacity (``ipa_energy.adapt.guard``)
    guard: bool = True


#: IPA's original adaptation: its LSTM, sized for the predicted rate, nothing between decisions
PAPER_ADAPTATION = AdaptationSpec(predictor="lstm", horizon=False, guard=False)


@dataclass(frozen=True)
class SystemSpec:
    """What a system adds to the plain problem: weights, per-stage fixed choices, headroom, adaptation."""

    weights: Weights
    fixed_variant: Mapping[str, str] = field(default_factory=dict)
    fixed_replicas: Mapping[str, int] = field(default_factory=dict)
    #: fraction of extra rate the problem is built for: rate x (1 + headroom)
    headroom: float = DEFAULT_HEADROOM
    adaptation: AdaptationSpec = field(default_factory=AdaptationSpec)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.headroom) and 0 <= self.headroom <= 10):
            raise ConfigError(f"must be a fraction in [0, 10] (got {self.headroom!r})", field="headroom")

    def describe(self) -> str:
        """One line: headroom and adaptation (for ``pipelines show`` and reports)."""
        a = self.adaptation
        return (f"headroom {self.headroom:g}, predictor {a.predictor}, horizon {'on' if a.horizon else 'off'}, "
                f"guard {'on' if a.guard else 'off'}")


def _ipa(pipeline: Pipeline) -> SystemSpec:
    return SystemSpec(replace(pipeline.presets.weights, energy=0.0))


def _ipa_paper(pipeline: Pipeline) -> SystemSpec:
    return SystemSpec(_ipa(pipeline).weights, headroom=0.0, adaptation=PAPER_ADAPTATION)


def _ipa_energy(pipeline: Pipeline) -> SystemSpec:
    return SystemSpec(replace(pipeline.presets.weights, energy=DEFAULT_ENERGY_WEIGHT))


def _ipa_carbon(pipeline: Pipeline) -> SystemSpec:
    # the carbon weight itself comes from the carbon_aware wrapper; this is the problem it scales
    return _ipa_energy(pipeline)


def _fa2_low(pipeline: Pipeline) -> SystemSpec:
    return SystemSpec(_ipa(pipeline).weights, fixed_variant=pipeline.presets.fa2_low)


def _fa2_high(pipeline: Pipeline) -> SystemSpec:
    return SystemSpec(_ipa(pipeline).weights, fixed_variant=pipeline.presets.fa2_high)


def _rim_high(pipeline: Pipeline) -> SystemSpec:
    return SystemSpec(_ipa(pipeline).weights, fixed_replicas=pipeline.presets.rim_high_replicas)


def _rim_low(pipeline: Pipeline) -> SystemSpec:
    return SystemSpec(_ipa(pipeline).weights, fixed_replicas=pipeline.presets.rim_low_replicas)


#: system name -> function(pipeline) -> SystemSpec
SYSTEM_REGISTRY: Registry[Callable[[Pipeline], SystemSpec]] = Registry(
    "system",
    {
        "ipa": "ipa_energy.optimize.presets:_ipa",
        "ipa-energy": "ipa_energy.optimize.presets:_ipa_energy",
        "fa2-low": "ipa_energy.optimize.presets:_fa2_low",
        "fa2-high": "ipa_energy.optimize.presets:_fa2_high",
        "rim-high": "ipa_energy.optimize.presets:_rim_high",
        "rim-low": "ipa_energy.optimize.presets:_rim_low",
        "ipa-ql": "ipa_energy.optimize.presets:_ipa",
        "ipa-paper": "ipa_energy.optimize.presets:_ipa_paper",
        "ipa-carbon": "ipa_energy.optimize.presets:_ipa_carbon",
    },
)
#: systems whose run wraps the problem with a carbon-intensity source
CARBON_AWARE_SYSTEMS = frozenset({"ipa-carbon"})
#: systems decided by a solver other than the exact default
_SYSTEM_SOLVERS = {"ipa-ql": "q-learning"}
#: The system names, in a stable order.
SYSTEMS: tuple[str, ...] = SYSTEM_REGISTRY.names()


def system_solver(system: str) -> str:
    """The registered solver that decides for ``system`` (``dp`` unless the system says otherwise)."""
    SYSTEM_REGISTRY.get(system, field="system")  # unknown names list the valid ones
    return _SYSTEM_SOLVERS.get(system, "dp")


def system_spec(pipeline: Pipeline, system: str) -> SystemSpec:
    """The weights and fixed choices of ``system`` for ``pipeline`` (UnknownNameError lists valid names)."""
    return SYSTEM_REGISTRY.get(system, field="system")(pipeline)


def build_problem(
    pipeline: Pipeline,
    system: str,
    rate_rps: float,
    *,
    max_replicas: int = DEFAULT_MAX_REPLICAS,
    accuracy_method: AccuracyMethod | None = None,
    accuracy_score: AccuracyScore | None = None,
    weights: Weights | None = None,
    energy_weight: float | None = None,
    idle_power_w_per_core: float | None = None,
    max_cores: int | None = None,
    max_power_w: float | None = None,
    max_batch: int | None = None,
    latency_factor: float | None = None,
    headroom: float | None = None,
) -> Problem:
    """The decision problem of ``system`` on ``pipeline`` at arrival rate ``rate_rps``.

    ``accuracy_method`` defaults to the pipeline's; ``accuracy_score`` defaults to "raw" accuracies
    for "product" (IPA's revision) and "rank" scores for "sum" (IPA's first version).
    ``weights`` replaces the system's weights; ``energy_weight`` then replaces just their energy part.
    ``idle_power_w_per_core`` defaults to :data:`ipa_energy.profiles.power_model.IDLE_POWER_W_PER_CORE`;
    ``max_batch`` and ``latency_factor`` default to the pipeline's settings. The problem's arrival rate is
    ``rate_rps x (1 + headroom)``, ``headroom`` defaulting to the system's (:attr:`SystemSpec.headroom`).
    """
    from ipa_energy.profiles.power_model import IDLE_POWER_W_PER_CORE

    if not (isinstance(rate_rps, int | float) and math.isfinite(rate_rps) and rate_rps > 0):
        raise ConfigError(f"must be a positive number of requests/s (got {rate_rps!r})", field="rate_rps")
    if max_replicas < 1:
        raise ConfigError(f"must be >= 1 (got {max_replicas})", field="max_replicas")
    if energy_weight is not None and not (math.isfinite(energy_weight) and energy_weight >= 0):
        raise ConfigError(f"must be a non-negative number (got {energy_weight!r})", field="energy_weight")
    if max_batch is not None and max_batch < 1:
        raise ConfigError(f"must be >= 1 (got {max_batch})", field="max_batch")
    spec = system_spec(pipeline, system)
    if headroom is not None:
        spec = replace(spec, headroom=headroom)  # validated by SystemSpec
    method: AccuracyMethod = accuracy_method or pipeline.accuracy_method
    if method not in ("sum", "product"):
        raise ConfigError(f"must be 'sum' or 'product' (got {method!r})", field="accuracy_method")
    score: AccuracyScore = accuracy_score or ("raw" if method == "product" else "rank")
    if score not in ("raw", "rank"):
        raise ConfigError(f"must be 'raw' or 'rank' (got {score!r})", field="accuracy_score")
    w = weights if weights is not None else spec.weights
    if energy_weight is not None:
        w = replace(w, energy=energy_weight)
    stages = pipeline.problem_stages(accuracy_score=score, max_batch=max_batch, latency_factor=latency_factor)
    stages = tuple(
        replace(
            s,
            fixed_variant=spec.fixed_variant.get(s.name),
            fixed_replicas=spec.fixed_replicas.get(s.name),
        )
        for s in stages
    )
    return validate_problem(Problem(
        arrival_rate=float(rate_rps) * (1.0 + spec.headroom),
        sla_s=pipeline.sla_s,
        stages=stages,
        max_replicas=max_replicas,
        accuracy_method=method,
        idle_power_w_per_core=IDLE_POWER_W_PER_CORE if idle_power_w_per_core is None else idle_power_w_per_core,
        weights=w,
        max_cores=max_cores,
        max_power_w=max_power_w,
    ))

