"""Experiment YAML: a sweep over pipelines, workloads, systems, predictors, weights and seeds."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from ipa_energy.bench.world import WorldSpec
from ipa_energy.config.validation import StrictModel, load_mapping, parse_model
from ipa_energy.errors import ConfigError
from ipa_energy.runs.spec import RunSpec

DEFAULT_SYSTEMS = ("ipa", "ipa-paper", "ipa-energy", "fa2-low", "fa2-high", "rim-high", "rim-low")
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
    """ipa-energy at several energy weights on the experiment's own workloads: a sensitivity table in the
    report, NOT how the shipped weight is chosen (that is ``bench.energy_weight``, on held-out load)."""

    enabled: bool = True
    system: str = "ipa-energy"
    energy_weights: list[float] = Field(default=[0.0, 0.001, 0.01, 0.03, 0.1, 0.3, 1.0], min_length=1)


class CarbonOptions(StrictModel):
    """ipa-carbon's objective (``ipa_energy.carbon.aware.carbon_aware``); unset keeps its defaults."""

    mode: Literal["weight", "lambda"] | None = None
    lam: float | None = Field(default=None, ge=0, le=1)
    threshold: float | None = Field(default=None, ge=0)
    lookahead_s: float | None = Field(default=None, ge=0)
    energy_weight: float | None = Field(default=None, ge=0)


class CarbonSweepSpec(StrictModel):
    """Clover's lambda swept for ipa-carbon (the carbon-vs-accuracy Pareto plot), on the first pipeline,
    workload and carbon source of the experiment (group "carbon-sweep")."""

    enabled: bool = False
    system: str = "ipa-carbon"
    lambdas: list[float] = Field(default=[0.0, 0.25, 0.5, 0.75, 0.9, 1.0], min_length=1)


class ExperimentSpec(StrictModel):
    name: str = "default"
    pipelines: list[str] = Field(default=["video"], min_length=1)
    workloads: list[str] = Field(default=list(DEFAULT_WORKLOADS), min_length=1)
    systems: list[str] = Field(default=list(DEFAULT_SYSTEMS), min_length=1)
    #: load predictors to sweep; null (the default) = each system's own (``SystemSpec.adaptation.predictor``)
    predictors: list[str | None] = Field(default=[None], min_length=1)
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
    #: rate the first decision plans for when a workload has no recorded history (user traces)
    initial_rate_rps: float | None = Field(default=None, gt=0)
    #: core budget of every decision of every run (replicas x cores summed over the stages); null: none
    max_cores: int | None = Field(default=None, ge=1, le=4096)
    #: carbon-intensity sources, name -> source spec (docs/carbon.md); every run is repeated under each
    #: and its label gets "@name"; empty: no carbon accounting
    carbon: dict[str, str] = Field(default_factory=dict)
    #: ipa-carbon's objective settings, for every carbon-aware run of the main group
    carbon_options: CarbonOptions = CarbonOptions()
    #: power caps, name -> W or a CSV ``t_s,max_power_w`` (null: uncapped); every run is repeated under
    #: each; the label gets "+name" for a cap
    power_caps: dict[str, str | None] = Field(default_factory=dict)
    carbon_sweep: CarbonSweepSpec = CarbonSweepSpec()
    #: the simulated world (``bench/world.py``): a profile CSV and/or one stage of the pipeline's profile
    #: scaled; null: the world is the planning profile (what is learned can only confirm it)
    world: WorldSpec | None = None
    #: decide from the online profile (learned from served batches) or the static offline profile; a list
    #: sweeps it (``[true, false]``: learned vs static side by side, static runs labelled "static"); the
    #: energy and carbon sweeps use the first value
    learn: list[bool] = Field(default=[True], min_length=1)

    @field_validator("learn", mode="before")
    @classmethod
    def _one_learn(cls, value: Any) -> Any:
        """A plain bool is a list of one."""
        return [value] if isinstance(value, bool) else value


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
    for field in ("pipelines", "workloads", "systems", "predictors", "seeds", "learn"):
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
    for i, pred in enumerate(spec.predictors):
        if pred is not None and pred not in PREDICTORS:
            raise UnknownNameError("predictor", pred, PREDICTORS.names(), field=f"predictors[{i}]")
    if spec.carbon_sweep.enabled and spec.carbon_sweep.system not in SYSTEMS:
        raise UnknownNameError("system", spec.carbon_sweep.system, SYSTEMS, field="carbon_sweep.system")
    if spec.carbon_sweep.enabled and not spec.carbon:
        raise ConfigError("needs a carbon source in `carbon`", field="carbon_sweep")
    if spec.world is not None:
        from ipa_energy.bench.world import world_table

        for name in spec.pipelines:
            world_table(spec.world, name)
    from ipa_energy.runs.grid import grid_of

    for key, source in spec.carbon.items():
        _checked(lambda: grid_of(RunSpec(carbon=source)), f"carbon.{key}")  # noqa: B023
    for key, cap in spec.power_caps.items():
        if cap is not None:
            _checked(lambda: grid_of(RunSpec(power_cap=cap)), f"power_caps.{key}")  # noqa: B023


def _checked(check: Callable[[], object], field: str) -> None:
    """Run ``check``; a ConfigError without a file names the experiment's field instead."""
    try:
        check()
    except ConfigError as e:
        if e.source is not None:
            raise
        raise ConfigError(str(e), field=field) from None


def load_experiment(path: str | Path | None) -> ExperimentSpec:
    if path is None:
        return ExperimentSpec()
    return parse_model(ExperimentSpec, load_mapping(path), source=str(path))


def expand(spec: ExperimentSpec, worlds: Mapping[str, str] | None = None) -> list[RunSpec]:
    """The cartesian product of the sweep, plus the energy-weight sweep runs (group "energy-sweep").

    A null predictor becomes the system's own, so every run's spec (and table row) names its predictor.
    ``worlds``: pipeline -> its world CSV (``bench.world.write_worlds``), needed when ``spec.world`` is set;
    every run of the pipeline, in every group, is simulated in it."""
    if spec.world is not None and (worlds is None or set(spec.pipelines) - set(worlds)):
        raise ValueError("spec.world is set: pass each pipeline's world CSV (bench.world.write_worlds)")
    world = dict(worlds or {}) if spec.world is not None else {}
    from ipa_energy.pipelines import load_pipeline
    from ipa_energy.runs.adaptation import run_predictor

    own: dict[tuple[str, str], str] = {}
    loaded: dict[str, Any] = {}

    def predictor(pipe: str, system: str, pred: str | None) -> str:
        if pred is not None:
            return pred
        if (pipe, system) not in own:
            if pipe not in loaded:
                loaded[pipe] = load_pipeline(pipe)
            own[pipe, system] = run_predictor(RunSpec(pipe, system=system), loaded[pipe])
        return own[pipe, system]

    def set_fields(model: StrictModel | None) -> dict[str, float]:
        return {} if model is None else {k: v for k, v in model.model_dump().items() if v is not None}

    from ipa_energy.optimize.presets import CARBON_AWARE_SYSTEMS

    base_sim = set_fields(spec.sim)
    sim = tuple(sorted(base_sim.items()))
    carbon_opts = tuple(sorted(set_fields(spec.carbon_options).items()))
    carbons: list[str | None] = [*spec.carbon] or [None]
    caps: list[str | None] = [*spec.power_caps] or [None]
    grids = [_grid_fields(spec, c, p) for c in carbons for p in caps]
    runs = []
    for pipe, wl, system, pred, seed, w, variant, grid, learn in itertools.product(
        spec.pipelines, spec.workloads, spec.systems, spec.predictors, spec.seeds, spec.weights, spec.sim_sweep,
        grids, spec.learn,
    ):
        weights = tuple(sorted(set_fields(w).items()))
        sim_label = tuple(sorted(set_fields(variant).items()))
        aware = system in CARBON_AWARE_SYSTEMS and grid["carbon"] is not None
        runs.append(
            RunSpec(pipe, wl, system, predictor(pipe, system, pred), seed, spec.load_scale, spec.interval_s,
                    spec.duration_s, weights, tuple(sorted({**base_sim, **dict(sim_label)}.items())),
                    sim_label=sim_label, initial_rate_rps=spec.initial_rate_rps, max_cores=spec.max_cores,
                    carbon_options=carbon_opts if aware else (), learn=learn,
                    world_profile=world.get(pipe), **grid)
        )
    if spec.carbon_sweep.enabled:
        grid = _grid_fields(spec, next(iter(spec.carbon)), None)
        for lam in spec.carbon_sweep.lambdas:
            runs.append(
                RunSpec(spec.pipelines[0], spec.workloads[0], spec.carbon_sweep.system,
                        predictor(spec.pipelines[0], spec.carbon_sweep.system, spec.predictors[0]),
                        spec.seeds[0], spec.load_scale, spec.interval_s, spec.duration_s, (), sim,
                        group="carbon-sweep", initial_rate_rps=spec.initial_rate_rps, max_cores=spec.max_cores,
                        carbon_options=(("lam", lam), ("mode", "lambda")), learn=spec.learn[0],
                        world_profile=world.get(spec.pipelines[0]), **grid)
            )
    if spec.energy_sweep.enabled:
        for pipe, wl, ew in itertools.product(spec.pipelines, spec.workloads, spec.energy_sweep.energy_weights):
            runs.append(
                RunSpec(pipe, wl, spec.energy_sweep.system,
                        predictor(pipe, spec.energy_sweep.system, spec.predictors[0]), spec.seeds[0],
                        spec.load_scale, spec.interval_s, spec.duration_s, (("energy", ew),), sim,
                        group="energy-sweep", initial_rate_rps=spec.initial_rate_rps, max_cores=spec.max_cores,
                        learn=spec.learn[0], world_profile=world.get(pipe))
            )
    return runs


def with_grid(
    spec: ExperimentSpec, *, carbon: str | None, carbon_options: tuple[tuple[str, Any], ...], power_cap: str | None
) -> ExperimentSpec:
    """``spec`` with its carbon source, ipa-carbon options and power cap replaced where given (the bench
    CLI's options; named by the source's registry name and "cap" in the labels)."""
    update: dict[str, Any] = {}
    if carbon is not None:
        update["carbon"] = {carbon.partition(":")[0].strip() or "carbon": carbon}
    if carbon_options:
        update["carbon_options"] = parse_model(CarbonOptions, dict(carbon_options), source="--carbon-*")
    if power_cap is not None:
        update["power_caps"] = {"cap": power_cap}
    return spec.model_copy(update=update) if update else spec


def _grid_fields(spec: ExperimentSpec, carbon: str | None, cap: str | None) -> dict[str, Any]:
    """RunSpec fields of one (carbon source, power cap) pair of the experiment, named in the label."""
    cap_value = None if cap is None else spec.power_caps[cap]
    names = [n for n in (carbon, None if cap_value is None else f"+{cap}") if n is not None]
    return {"carbon": None if carbon is None else spec.carbon[carbon], "power_cap": cap_value,
            "grid_label": "".join(names)}
