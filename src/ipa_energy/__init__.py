"""ipa-energy: adapt multi-stage ML inference pipelines for accuracy, cost and energy.

The public API is listed in ``__all__``; names are imported on first use (PEP 562) so that
``import ipa_energy`` and the CLI start fast. Everything else is internal.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    # the decision problem and its solvers
    "Problem": "ipa_energy.optimize.problem",
    "Stage": "ipa_energy.optimize.problem",
    "Variant": "ipa_energy.optimize.problem",
    "ProfilePoint": "ipa_energy.optimize.problem",
    "Weights": "ipa_energy.optimize.problem",
    "Decision": "ipa_energy.optimize.problem",
    "evaluate": "ipa_energy.optimize.problem",
    "same_optimum": "ipa_energy.optimize.problem",
    "load_problem": "ipa_energy.optimize.problem_io",
    "problem_from_dict": "ipa_energy.optimize.problem_io",
    "problem_to_dict": "ipa_energy.optimize.problem_io",
    "SOLVERS": "ipa_energy.optimize.solvers",
    "Solver": "ipa_energy.optimize.solvers",
    "get_solver": "ipa_energy.optimize.solvers",
    "build_problem": "ipa_energy.optimize.presets",
    "SYSTEMS": "ipa_energy.optimize.presets",
    # pipelines, workloads, prediction
    "load_pipeline": "ipa_energy.pipelines",
    "pipeline_names": "ipa_energy.pipelines",
    "Pipeline": "ipa_energy.pipelines",
    "ProfileTable": "ipa_energy.profiles",
    "load_profile": "ipa_energy.profiles",
    "save_profile": "ipa_energy.profiles",
    "load_workload": "ipa_energy.workloads",
    "arrival_times": "ipa_energy.workloads",
    "PREDICTORS": "ipa_energy.predict",
    "get_predictor": "ipa_energy.predict",
    # serving and adaptation
    "Backend": "ipa_energy.backends",
    "BACKENDS": "ipa_energy.backends",
    "PipelineConfig": "ipa_energy.backends",
    "StageConfig": "ipa_energy.backends",
    "SecondRecord": "ipa_energy.backends",
    "Policy": "ipa_energy.adapt",
    "run_adaptation": "ipa_energy.adapt",
    # energy
    "get_meter": "ipa_energy.energy",
    "METERS": "ipa_energy.energy",
    # carbon and power caps
    "CARBON_SOURCES": "ipa_energy.carbon",
    "carbon_source": "ipa_energy.carbon",
    "carbon_g": "ipa_energy.carbon.accounting",
    "carbon_aware": "ipa_energy.carbon.aware",
    "power_capped": "ipa_energy.carbon.capped",
    "PowerCapSchedule": "ipa_energy.carbon.power_cap",
    # errors
    "IpaEnergyError": "ipa_energy.errors",
    "ConfigError": "ipa_energy.errors",
    "UnknownNameError": "ipa_energy.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ipa_energy' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
