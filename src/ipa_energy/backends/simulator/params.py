"""Tunable constants of the discrete-event simulator, each with its unit and where its default comes from.

Every default lives here and nowhere else; ``bench`` experiment YAMLs override them by field name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ipa_energy.errors import ConfigError
from ipa_energy.profiles.power_model import IDLE_POWER_W_PER_CORE


@dataclass(frozen=True)
class SimParams:
    """Simulator settings. Units are in the names; see ``docs/simulator.md`` for the semantics."""

    #: Adaptive batching: the longest a request waits at a stage for its batch to fill, counted from its
    #: arrival at that stage (IPA's MLServer adaptive batching waited up to 1 s).
    max_batch_wait_s: float = 1.0
    #: A request older than this (since it entered the pipeline) is dropped instead of being served
    #: (IPA's ``drop_limit``; 10 s for the video pipeline in the paper's configs).
    drop_limit_s: float = 10.0
    #: Start-up of a new replica of a variant the stage already runs (a new pod of an existing
    #: deployment: container start on a node with the image cached, plus loading a CPU-sized model).
    #: An estimate, not a measurement: typical of small model-server containers.
    replica_startup_s: float = 5.0
    #: Start-up of replicas of a variant the stage does not run yet (a new deployment: container start,
    #: model load and readiness probe). Old replicas keep serving until it lands. An estimate, chosen to
    #: equal IPA's 10 s adaptation interval: a switch lands by the next decision.
    variant_switch_s: float = 10.0
    #: Coefficient of variation of per-batch latency (0 = deterministic profile latencies). Otherwise each
    #: batch's latency and dynamic energy are multiplied by one lognormal factor with mean 1.
    latency_noise_cv: float = 0.0
    #: Seed of the latency noise (the only randomness inside the simulator).
    seed: int = 0
    #: Power drawn by each core allocated to an existing replica, busy or not. The default is the reference
    #: profiles' power model (:data:`ipa_energy.profiles.power_model.IDLE_POWER_W_PER_CORE`), the same value
    #: the optimizer charges, so planning and simulation use one power model.
    idle_power_w_per_core: float = IDLE_POWER_W_PER_CORE
    #: Constant power added every second (the rest of the node), so results can be set beside
    #: whole-node measurements (the energy extension's node idled at about 73 W). Off by default.
    node_base_power_w: float = 0.0

    def __post_init__(self) -> None:
        _number("max_batch_wait_s", self.max_batch_wait_s, minimum=0.0)
        _number("drop_limit_s", self.drop_limit_s, minimum=0.0, strict=True)
        _number("replica_startup_s", self.replica_startup_s, minimum=0.0)
        _number("variant_switch_s", self.variant_switch_s, minimum=0.0)
        _number("latency_noise_cv", self.latency_noise_cv, minimum=0.0)
        _number("idle_power_w_per_core", self.idle_power_w_per_core, minimum=0.0)
        _number("node_base_power_w", self.node_base_power_w, minimum=0.0)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"must be an integer >= 0 (got {self.seed!r})", field="seed")


def _number(field: str, value: object, *, minimum: float, strict: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"must be a finite number (got {value!r})", field=field)
    if value < minimum or (strict and value == minimum):
        op = ">" if strict else ">="
        raise ConfigError(f"must be {op} {minimum:g} (got {value!r})", field=field)


__all__ = ["SimParams"]
