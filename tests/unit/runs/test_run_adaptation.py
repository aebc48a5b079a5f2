"""The run path reads each system's adaptation: predictor, horizon, guard; RunSpec.predictor overrides."""

from __future__ import annotations

import csv

import pytest

from ipa_energy.backends import BACKENDS, BackendContext
from ipa_energy.pipelines import load_pipeline
from ipa_energy.runs import RunSpec, execute
from ipa_energy.runs.adaptation import build_adaptation, run_predictor
from ipa_energy.runs.run import problem_factory


def _adaptation(spec: RunSpec):  # type: ignore[no-untyped-def]
    import numpy as np

    pipeline = load_pipeline(spec.pipeline)
    backend = BACKENDS.create("sim", field="backend", ctx=BackendContext(pipeline, np.zeros(0), spec.system, 0))
    return build_adaptation(spec, pipeline, backend, problem_factory(spec, pipeline))


def test_ipa_gets_the_new_default_and_ipa_paper_the_original() -> None:
    new = _adaptation(RunSpec("video", system="ipa"))
    assert new.predictor == "gbm-q90" and new.guard is not None and new.policy.horizon is not None
    # the simulator states its delays; the horizon plans over the larger (a switch is possible)
    assert new.policy.horizon.delay_s() == 10.0
    old = _adaptation(RunSpec("video", system="ipa-paper"))
    assert old.predictor == "lstm" and old.guard is None and old.policy.horizon is None


def test_an_explicit_predictor_overrides_only_the_predictor() -> None:
    spec = RunSpec("video", system="ipa", predictor="reactive")
    assert run_predictor(spec, load_pipeline("video")) == "reactive"
    a = _adaptation(spec)
    assert a.predictor == "reactive" and a.guard is not None and a.policy.horizon is not None
    assert type(a.policy.predictor).__name__ != type(_adaptation(RunSpec("video")).policy.predictor).__name__


@pytest.mark.parametrize("system", ["ipa", "ipa-paper"])
def test_guard_actions_are_counted_and_logged(system: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = execute(RunSpec("video", "bursty", system), out_dir=tmp_path, prefix="r")
    m = result.metrics
    guard_rows = [s for s in result.steps if s["source"].startswith("guard")]
    assert m["guard_actions"] == len(guard_rows)
    with (tmp_path / "r_decisions.csv").open() as f:
        assert sum(r["source"].startswith("guard") for r in csv.DictReader(f)) == len(guard_rows)
    if system == "ipa":
        assert m["predictor"] == "gbm-q90" and m["guard_actions"] > 0
        # verified like any decision: a guard answer is never a rejected one
        assert all(r["source"] == "guard" and not r["rejected"] for r in guard_rows)
        assert all(float(r["t_s"]) % 10 != 0 for r in guard_rows)  # between the interval decisions
    else:
        assert m["predictor"] == "lstm" and m["guard_actions"] == 0
