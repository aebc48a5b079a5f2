"""The grid a run sees: its carbon-intensity source and power-cap schedule, built from a RunSpec.

:func:`grid_of` validates the spec's ``carbon``, ``carbon_options`` and ``power_cap`` (one line naming
the field, before any work) and builds the source and schedule; :func:`timed_factory` wraps the system's
problem so that ``ipa-carbon`` follows the intensity (:func:`ipa_energy.carbon.aware.carbon_aware`) and
every system under a cap plans within it (:func:`ipa_energy.carbon.capped.power_capped`, fallback
``lowest-power``: an interval whose cap no configuration meets plans the least power that meets the SLA,
and is counted in ``over_cap_intervals``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ipa_energy.carbon import CarbonIntensitySource, carbon_source
from ipa_energy.carbon.aware import CarbonAwareFactory, carbon_aware
from ipa_energy.carbon.capped import PowerCappedFactory, power_capped
from ipa_energy.carbon.factory import TimedProblemFactory, timed
from ipa_energy.carbon.power_cap import PowerCapSchedule
from ipa_energy.errors import ConfigError
from ipa_energy.optimize.problem import Problem
from ipa_energy.runs.spec import RunSpec

#: the keys of ``RunSpec.carbon_options`` (passed to ``carbon_aware``)
CARBON_OPTIONS = ("mode", "lam", "threshold", "lookahead_s", "energy_weight", "reference_g_per_kwh")


@dataclass(frozen=True, eq=False)
class Grid:
    """A run's carbon-intensity source and power-cap schedule (each None when the run has none)."""

    source: CarbonIntensitySource | None = None
    cap: PowerCapSchedule | None = None
    #: ``ipa-carbon`` with a source: the problem follows the intensity
    carbon_aware: bool = False


def grid_of(spec: RunSpec) -> Grid:
    """The spec's source and cap, validated (ConfigError naming ``carbon``, ``carbon_options.KEY`` or
    ``power_cap``, or the file and line of a bad CSV)."""
    from ipa_energy.optimize.presets import CARBON_AWARE_SYSTEMS

    source = None
    if spec.carbon is not None:
        if not isinstance(spec.carbon, str) or not spec.carbon.strip():
            raise ConfigError(f"must be a source spec such as constant:400 (got {spec.carbon!r})", field="carbon")
        source = carbon_source(spec.carbon)
    cap = None
    if spec.power_cap is not None:
        if not isinstance(spec.power_cap, str) or not spec.power_cap.strip():
            raise ConfigError(f"must be a number of W or a CSV path (got {spec.power_cap!r})", field="power_cap")
        cap = PowerCapSchedule.parse(spec.power_cap)
    aware = spec.system in CARBON_AWARE_SYSTEMS and source is not None
    for key, _ in spec.carbon_options:
        if key not in CARBON_OPTIONS:
            raise ConfigError(f"unknown key; valid: {', '.join(CARBON_OPTIONS)}", field=f"carbon_options.{key}")
    if spec.carbon_options and not aware:
        why = "a carbon source" if spec.system in CARBON_AWARE_SYSTEMS else "the carbon-aware system ipa-carbon"
        raise ConfigError(f"apply only to a run with {why} (system {spec.system!r})", field="carbon_options")
    if aware and any(k == "energy" for k, _ in spec.weights):
        raise ConfigError("ipa-carbon's energy weight follows the intensity; set it with carbon_options "
                          "energy_weight (the weight per W at the reference intensity)", field="weights.energy")
    grid = Grid(source, cap, aware)
    if aware:  # the objective's settings fail here, not at the first decision
        timed_factory(spec, lambda rate_rps: _never(), grid, duration_s=1.0)
    return grid


def _never() -> Problem:
    raise AssertionError("validation builds the factory only")


def timed_factory(
    spec: RunSpec, base: Callable[[float], Problem], grid: Grid, *, duration_s: float
) -> TimedProblemFactory:
    """``(rate_rps, t_s) -> Problem``: ``base`` as it is, carbon-aware for ``ipa-carbon`` with a source
    (reference intensity: the source's mean over the run), and within the cap when there is one."""
    factory: TimedProblemFactory = timed(base)
    if grid.carbon_aware and grid.source is not None:
        options: dict[str, Any] = dict(spec.carbon_options)
        factory = carbon_aware(factory, grid.source, horizon_s=max(1.0, duration_s), **options)
    if grid.cap is not None:
        factory = power_capped(factory, grid.cap, interval_s=spec.interval_s)
    return factory


def factory_counts(factory: TimedProblemFactory) -> dict[str, Any]:
    """What the wrappers counted: intensity updates (carbon-aware), intervals over the cap (capped)."""
    out: dict[str, Any] = {}
    f: Any = factory
    while f is not None:
        if isinstance(f, PowerCappedFactory):
            out["over_cap_intervals"] = f.state.over_cap_intervals
        elif isinstance(f, CarbonAwareFactory):
            out["carbon_intensity_updates"] = f.state.updates
        f = getattr(f, "base", None)
    return out


__all__ = ["CARBON_OPTIONS", "Grid", "factory_counts", "grid_of", "timed_factory"]
