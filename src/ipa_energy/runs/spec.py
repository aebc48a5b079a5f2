"""What one run is: pipeline, workload, system, predictor, backend and their settings (typed, frozen)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class RunSpec:
    """One adaptive run. ``label`` names the row in tables (system, plus overrides if any).

    The first decision uses only what a real system could know at t = 0: the workload's recorded history
    before the run (bundled workloads carry 120 s of it), else ``initial_rate_rps`` (stated), else the
    predictor's minimum rate (1 rps): a cold start. The same rule holds on every backend.
    """

    pipeline: str = "video"
    workload: str = "bursty"
    system: str = "ipa"
    #: registered load predictor; None = the system's own (``SystemSpec.adaptation.predictor``)
    predictor: str | None = None
    seed: int = 0
    load_scale: float = 1.0
    interval_s: float = 10.0
    duration_s: float | None = None
    weights: tuple[tuple[str, float], ...] = ()
    sim: tuple[tuple[str, float], ...] = ()
    #: the simulator overrides that come from ``sim_sweep`` (shown in the label)
    sim_label: tuple[tuple[str, float], ...] = ()
    group: str = "main"
    #: backend registry name: "sim" (the embedded default), "local", ...
    backend: str = "sim"
    #: the rate the first decision plans for when the workload has no recorded history
    initial_rate_rps: float | None = None
    #: real backends: replay the trace this many times faster
    time_scale: float = 1.0
    #: a profile CSV replacing the pipeline's (planning profile)
    profile: str | None = None
    #: real backends: energy meter name (auto, model, rapl, perf, nvml, none)
    meter: str = "auto"
    cache_dir: str | None = None
    image_size: int | None = None
    #: adaptive batching wait; None keeps the backend's documented default
    max_batch_wait_s: float | None = None
    #: decide from the online profile (offline profile + observations); False: static planning (labelled
    #: "static", so a learned and a static run of one system are two rows)
    learn: bool = True
    #: simulator only: a profile CSV of what the simulated machines really do (default: the planning one)
    world_profile: str | None = None
    #: grid carbon-intensity source (docs/carbon.md): "csv:FILE[,time_scale=K]", "constant:G_PER_KWH",
    #: "codecarbon:country=FRA", "diurnal:mean_g_per_kwh=..,amplitude_g_per_kwh=..,period_s=.."; None: no carbon
    carbon: str | None = None
    #: ipa-carbon's objective (keys of :func:`ipa_energy.carbon.aware.carbon_aware`: mode, lam, threshold,
    #: lookahead_s, energy_weight, reference_g_per_kwh); shown in the label
    carbon_options: tuple[tuple[str, float | str], ...] = ()
    #: power cap: a number of W, or a CSV ``t_s,max_power_w`` schedule; None: no cap
    power_cap: str | None = None
    #: a short name for the carbon source / cap in the label (experiments sweeping several name them)
    grid_label: str = ""
    #: ray backend: join the Ray cluster at this address (None: start a local instance, shut it down after)
    ray_address: str | None = None
    #: core budget of every decision (the sum of replicas x cores over the stages); None: no budget
    max_cores: int | None = None

    def __post_init__(self) -> None:
        """The value rules of ``config.validation`` (the same for CLI flags, experiment YAML and code)."""
        from ipa_energy.config.validation import check_number

        for name, rule in _RULES.items():
            value = getattr(self, name)
            if value is not None:
                check_number(value, rule, name)
        for key, value in self.weights:
            check_number(value, "weight", f"weights.{key}")

    @property
    def label(self) -> str:
        parts = [self.system]
        parts += [f"{k}={v:g}" for k, v in self.weights]
        parts += [f"{k}={v:g}" for k, v in self.sim_label]
        parts += [f"{k}={v:g}" if isinstance(v, int | float) else f"{k}={v}" for k, v in self.carbon_options]
        if self.grid_label:
            parts.append(f"@{self.grid_label}")
        if not self.learn:
            parts.append("static")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["weights"], d["sim"], d["sim_label"] = dict(self.weights), dict(self.sim), dict(self.sim_label)
        d["carbon_options"] = dict(self.carbon_options)
        return d


#: RunSpec field -> its rule in ``config.validation.RULES``
_RULES = {
    "seed": "seed", "load_scale": "load_scale", "interval_s": "interval_s", "duration_s": "duration_s",
    "initial_rate_rps": "rate_rps", "time_scale": "time_scale", "max_batch_wait_s": "wait_s",
    "image_size": "image_px", "max_cores": "cores",
}

__all__ = ["RunSpec"]
