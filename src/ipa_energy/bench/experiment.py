"""Experiment YAML: a sweep over pipelines, workloads, systems, predictors, weights and seeds."""

from __future__ import annotations

import itertools
from pathlib import Path

from pydantic import Field

from ipa_energy.config.validation import StrictModel, load_mapping, parse_model
from ipa_energy.runs.spec import RunSpec

DEFAULT_SYSTEMS = ("ipa", "ipa-energy", "fa2-low", "fa2-high", "rim-high", "rim-low")
DEFAULT_WORKLOADS = ("bursty", "steady_low", "steady_high", "fluctuating")


class SimSpec(StrictModel):
    """Simulator overrides; unset fields keep the simulator's documented defaults."""

    max_batch_wait_s: float | None = Field(default=None, ge=0)
    drop_limit_s: float | None = Field(default=None, gt=0)
    replica_startup_s: float | None = Field(default=None, ge=0)
    variant_switch_s: float | None = Field(default=None, ge=0)
    latency_noise_cv: float | None = Field(default=None, ge=0)
    node_base_power_w: float | None = Field(default=None, ge=0)


class WeightsOverride(StrictModel):
    accuracy: float | None = Field(default=None, ge=0)
    cost: float | None = Field(default=None, ge=0)
    batch: float | None = Field(default=None, ge=0)
    energy: float | None = Field(default=None, ge=0)


class EnergySweepSpec(StrictModel):
    """The sweep that chooses ipa-energy's energy weight (shown in the report)."""

    enabled: bool = True
    system: str = "ipa-energy"
    energy_weights: list[float] = Field(default=[0.0, 0.001, 0.01, 0.03, 0.1, 0.3, 1.0], min_length=1)


class ExperimentSpec(StrictModel):
    name: str = "default"
    pipelines: list[str] = Field(default=["video"], min_length=1)
    workloads: list[str] = Field(default=list(DEFAULT_WORKLOADS), min_length=1)
    systems: list[str] = Field(default=list(DEFAULT_SYSTEMS), min_length=1)
    predictors: list[str] = Field(default=["lstm"], min_length=1)
    seeds: list[int] = Field(default=[0], min_length=1)
    #: each entry overrides some weights of every system's preset; null keeps the preset
    weights: list[WeightsOverride | None] = Field(default=[None], min_length=1)
    load_scale: float = Field(default=1.0, gt=0)
    interval_s: float = Field(default=10.0, gt=0)
    duration_s: float | None = Field(default=None, gt=0)
    sim: SimSpec = SimSpec()
    #: simulator variants to sweep: each entry overrides ``sim`` and is named in the run's label
    #: (e.g. start-up delays 0 s vs the defaults vs doubled); null runs ``sim`` as it is
    sim_sweep: list[SimSpec | None] = Field(default=[None], min_length=1)
    energy_sweep: EnergySweepSpec = EnergySweepSpec()
    workers: int | None = Field(default=None, ge=1)


def check_names(spec: ExperimentSpec) -> None:
    """Fail before any run starts when a pipeline, workload, system or predictor name is unknown."""
    from ipa_energy.config.validation import check_number, check_unique
    from ipa_energy.errors import UnknownNameError
    from ipa_energy.optimize.presets import SYSTEMS
    from ipa_energy.pipelines import load_pipeline
    from ipa_energy.predict import PREDICTORS
    from ipa_energy.workloads import load_workload

    # the value rules of config/validation.py, named by the YAML field (RunSpec applies them again)
    for i, seed in enumerate(spec.seeds):
        check_number(seed, "seed", f"seeds[{i}]")
    for field in ("load_scale", "interval_s", "duration_s"):
        if getattr(spec, field) is not None:
            check_number(getattr(spec, field), field, field)
    for i, ew in enumerate(spec.energy_sweep.energy_weights):
        check_number(ew, "weight", f"energy_sweep.energy_weights[{i}]")
    # a name listed twice would run twice into one file
    for field in ("pipelines", "workloads", "systems", "predictors", "seeds"):
        check_unique(getattr(spec, field), field)
    check_unique(spec.energy_sweep.energy_weights, "energy_sweep.energy_weights")
    for field in ("weights", "sim_sweep"):
        check_unique([None if m is None else m.model_dump_json() for m in getattr(spec, field)], field)
    for name in spec.pipelines:
        load_pipeline(name)
    for name in spec.workloads:
        load_workload(name)
    for i, name in enumerate([*spec.systems, spec.energy_sweep.system]):
        if name not in SYSTEMS:
            field = f"systems[{i}]" if i < len(spec.systems) else "energy_sweep.system"
            raise UnknownNameError("system", name, SYSTEMS, field=field)
    for i, name in enumerate(spec.predictors):
        if name not in PREDICTORS:
            raise UnknownNameError("predictor", name, PREDICTORS.names(), field=f"predictors[{i}]")


def load_experiment(path: str | Path | None) -> ExperimentSpec:
    if path is None:
        return ExperimentSpec()
    return parse_model(ExperimentSpec, load_mapping(path), source=str(path))


def expand(spec: ExperimentSpec) -> list[RunSpec]:
    """The cartesian product of the sweep, plus the energy-weight sweep runs (group "energy-sweep")."""
    def set_fields(model: StrictModel | None) -> dict[str, float]:
        return {} if model is None else {k: v for k, v in model.model_dump().items() if v is not None}

    base_sim = set_fields(spec.sim)
    sim = tuple(sorted(base_sim.items()))
    runs = []
    for pipe, wl, system, pred, seed, w, variant in itertools.product(
        spec.pipelines, spec.workloads, spec.systems, spec.predictors, spec.seeds, spec.weights, spec.sim_sweep
    ):
        weights = tuple(sorted(set_fields(w).items()))
        sim_label = tuple(sorted(set_fields(variant).items()))
        runs.append(
            RunSpec(pipe, wl, system, pred, seed, spec.load_scale, spec.interval_s, spec.duration_s,
                    weights, tuple(sorted({**base_sim, **dict(sim_label)}.items())), sim_label=sim_label)
        )
    if spec.energy_sweep.enabled:
        for pipe, wl, ew in itertools.product(spec.pipelines, spec.workloads, spec.energy_sweep.energy_weights):
            runs.append(
                RunSpec(pipe, wl, spec.energy_sweep.system, spec.predictors[0], spec.seeds[0],
                        spec.load_scale, spec.interval_s, spec.duration_s, (("energy", ew),), sim,
                        group="energy-sweep")
            )
    return runs
