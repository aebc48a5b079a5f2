"""The problem JSON of ``ipa-energy solve``: validated parsing and serialisation.

The adapter builds the same structure every interval, so any decision can be saved and replayed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PositiveInt, model_validator

from ipa_energy.config.validation import StrictModel, load_mapping, parse_model
from ipa_energy.errors import ConfigError
from ipa_energy.optimize.problem import Problem, ProfilePoint, Stage, Variant, Weights, validate_problem


class ProfilePointSpec(StrictModel):
    batch: PositiveInt
    latency_s: float = Field(gt=0)
    energy_j: float = Field(ge=0)


class VariantSpec(StrictModel):
    name: str = Field(min_length=1)
    accuracy: float = Field(gt=0)
    cores: PositiveInt
    profile: list[ProfilePointSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_batches(self) -> VariantSpec:
        batches = [p.batch for p in self.profile]
        if len(set(batches)) != len(batches):
            raise ValueError(f"variant {self.name!r}: duplicate batch sizes in profile {batches}")
        return self


class StageSpec(StrictModel):
    name: str = Field(min_length=1)
    variants: list[VariantSpec] = Field(min_length=1)
    fixed_variant: str | None = None
    fixed_batch: PositiveInt | None = None
    fixed_replicas: PositiveInt | None = None

    @model_validator(mode="after")
    def _fixed_exist(self) -> StageSpec:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"stage {self.name!r}: duplicate variant names {names}")
        if self.fixed_variant is not None and self.fixed_variant not in names:
            raise ValueError(f"stage {self.name!r}: fixed_variant {self.fixed_variant!r} not in {names}")
        return self


class WeightsSpec(StrictModel):
    accuracy: float = Field(default=1.0, ge=0)
    cost: float = Field(default=0.0, ge=0)
    batch: float = Field(default=0.0, ge=0)
    energy: float = Field(default=0.0, ge=0)


class ProblemSpec(StrictModel):
    arrival_rate: float = Field(gt=0)
    sla_s: float = Field(gt=0)
    max_replicas: PositiveInt = 100
    accuracy_method: Literal["sum", "product"] = "sum"
    idle_power_w_per_core: float = Field(default=0.0, ge=0)
    weights: WeightsSpec = WeightsSpec()
    max_cores: PositiveInt | None = None
    max_power_w: float | None = Field(default=None, gt=0)
    stages: list[StageSpec] = Field(min_length=1)


def problem_from_dict(data: Any, source: str | None = None) -> Problem:
    spec = parse_model(ProblemSpec, data, source)
    problem = Problem(
        arrival_rate=spec.arrival_rate,
        sla_s=spec.sla_s,
        max_replicas=spec.max_replicas,
        accuracy_method=spec.accuracy_method,
        idle_power_w_per_core=spec.idle_power_w_per_core,
        weights=Weights(**spec.weights.model_dump()),
        max_cores=spec.max_cores,
        max_power_w=spec.max_power_w,
        stages=tuple(
            Stage(
                name=s.name,
                fixed_variant=s.fixed_variant,
                fixed_batch=s.fixed_batch,
                fixed_replicas=s.fixed_replicas,
                variants=tuple(
                    Variant(
                        v.name, v.accuracy, v.cores,
                        tuple(ProfilePoint(p.batch, p.latency_s, p.energy_j) for p in v.profile),
                    )
                    for v in s.variants
                ),
            )
            for s in spec.stages
        ),
    )
    try:
        return validate_problem(problem)
    except ConfigError as e:
        raise ConfigError(str(e), source=source) from None


def load_problem(path: str | Path) -> Problem:
    return problem_from_dict(load_mapping(path), source=str(path))


def problem_to_dict(problem: Problem) -> dict[str, Any]:
    def stage(s: Stage) -> dict[str, Any]:
        d: dict[str, Any] = {"name": s.name}
        for k in ("fixed_variant", "fixed_batch", "fixed_replicas"):
            if getattr(s, k) is not None:
                d[k] = getattr(s, k)
        d["variants"] = [
            {
                "name": v.name,
                "accuracy": v.accuracy,
                "cores": v.cores,
                "profile": [
                    {"batch": p.batch, "latency_s": p.latency_s, "energy_j": p.energy_j} for p in v.profile
                ],
            }
            for v in s.variants
        ]
        return d

    out: dict[str, Any] = {
        "arrival_rate": problem.arrival_rate,
        "sla_s": problem.sla_s,
        "max_replicas": problem.max_replicas,
        "accuracy_method": problem.accuracy_method,
        "idle_power_w_per_core": problem.idle_power_w_per_core,
        "weights": {
            "accuracy": problem.weights.accuracy,
            "cost": problem.weights.cost,
            "batch": problem.weights.batch,
            "energy": problem.weights.energy,
        },
    }
    if problem.max_cores is not None:
        out["max_cores"] = problem.max_cores
    if problem.max_power_w is not None:
        out["max_power_w"] = problem.max_power_w
    out["stages"] = [stage(s) for s in problem.stages]
    return out
