"""The online profile estimator: prior-only behaviour, convergence to a known truth, robustness to
outliers, the safe-use rule and what untried options inherit from their family."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ipa_energy.optimize.presets import build_problem
from ipa_energy.optimize.solvers import get_solver
from ipa_energy.pipelines import load_pipeline
from ipa_energy.profiles import load_profile, parse_profile_csv, profile_to_csv
from ipa_energy.profiles.online import LearnParams, Observation, OnlineProfile
from ipa_energy.profiles.table import ProfileRow, ProfileTable


def _table() -> ProfileTable:
    rows = []
    for v, lat, en in (("a", 0.1, 1.0), ("b", 0.2, 3.0)):
        for b in (1, 2, 4):
            rows.append(ProfileRow("s", v, b, lat * b, en * b, cores=1, source="ref"))
    rows.append(ProfileRow("t", "c", 1, 0.05, 0.5, cores=1, source="ref"))
    return ProfileTable(tuple(rows), source="test")


def _obs(v: str, b: int, lat: float, en: float | None = None, stage: str = "s") -> Observation:
    return Observation(stage, v, b, 1, lat, en, "meter-x")


def test_prior_only_without_observations() -> None:
    t = _table()
    op = OnlineProfile(t)
    assert op.planning_table().rows == t.rows  # every row, untouched, source included
    est = op.estimate(("s", "a", 2, 1))
    assert est.latency.value == 1.0 and est.energy.value == 1.0 and est.latency.basis == "prior"
    assert est.latency.se_log == LearnParams().prior_sigma_log  # the prior alone
    assert op.profile_error(t) is None  # no option observed: nothing to measure


def test_converges_to_a_known_truth_and_uncertainty_shrinks() -> None:
    rng = np.random.default_rng(7)
    op = OnlineProfile(_table())
    key = ("s", "a", 2, 1)
    se = []
    for i in range(200):
        noise = float(rng.lognormal(0.0, 0.2))
        op.observe(_obs("a", 2, 0.2 * 1.6 * noise, 2.0 * 0.7 * noise))
        if i in (2, 63):  # 3 observations, then a full window
            se.append(op.estimate(key).latency.se_log)
    est = op.estimate(key)
    assert est.latency_s == pytest.approx(0.32, rel=0.05)
    assert est.energy_j == pytest.approx(1.4, rel=0.05)
    assert se[0] > 2 * se[1]
    world = dataclasses.replace(_table(), rows=tuple(
        dataclasses.replace(r, latency_s=r.latency_s * 1.6, energy_j=r.energy_j * 0.7) for r in _table().rows))
    err = op.profile_error(world)
    assert err is not None and err.options == 1 and err.mean < 0.05


def test_pessimistic_at_once_optimistic_after_confirmation() -> None:
    op = OnlineProfile(_table(), LearnParams(confirm_n=20))
    for _ in range(3):  # slower and 0.5x the energy
        op.observe(_obs("a", 1, 0.2, 0.5))
    est = op.estimate(("s", "a", 1, 1))
    assert est.planned_latency_s == pytest.approx(0.2)  # a latency that could break the SLA: at once
    assert est.energy_j == pytest.approx(0.5) and est.planned_energy_j == pytest.approx(1.0)  # waits
    for _ in range(17):
        op.observe(_obs("a", 1, 0.2, 0.5))
    assert op.estimate(("s", "a", 1, 1)).planned_energy_j == pytest.approx(0.5)  # 20 observations


def test_untried_options_inherit_stage_latency_and_variant_energy() -> None:
    op = OnlineProfile(_table())
    for _ in range(10):
        op.observe(_obs("a", 1, 0.1 * 1.5, 1.0 * 3.0))
    same_variant = op.estimate(("s", "a", 4, 1))
    other_variant = op.estimate(("s", "b", 1, 1))
    other_stage = op.estimate(("t", "c", 1, 1))
    assert same_variant.latency.basis == "variant" and same_variant.latency_s == pytest.approx(0.6)
    assert same_variant.energy_j == pytest.approx(12.0)  # the same variant's energy factor
    assert other_variant.latency.basis == "stage" and other_variant.latency_s == pytest.approx(0.3)
    assert other_variant.energy_j == pytest.approx(3.0)  # another variant's power says nothing
    assert other_stage.latency_s == pytest.approx(0.05) and other_stage.latency.basis == "prior"


def test_unmatched_batch_sizes_are_counted_not_used() -> None:
    op = OnlineProfile(_table())
    assert not op.observe(_obs("a", 3, 1.0))
    assert op.unmatched == 1 and op.observed == 0


def _decision(pipeline, table, rate_rps=20.0):  # type: ignore[no-untyped-def]
    p = dataclasses.replace(pipeline, profile=table)
    d = get_solver("dp").solve(build_problem(p, "ipa", rate_rps))
    return tuple((s.variant, s.batch, s.replicas) for s in d.stages)


def test_one_10x_latency_spike_does_not_flip_a_decision() -> None:
    pipeline = load_pipeline("video")
    op = OnlineProfile(pipeline.profile)
    before = _decision(pipeline, op.planning_table())
    chosen = [(st.name, v, b) for st, (v, b, _) in zip(pipeline.stages, before, strict=True)]

    def feed(factor: float, times: int) -> None:
        for stage, v, b in chosen:
            row = pipeline.profile.lookup(stage, v, b, pipeline.stage(stage).variant(v).cores)
            for _ in range(times):
                op.observe(Observation(stage, v, b, row.cores, row.latency_s * factor, row.energy_j))

    feed(10.0, 1)  # a spike as the very first observation: outvoted by the prior's pseudo-observations
    assert _decision(pipeline, op.planning_table()) == before
    feed(1.0, 30)
    feed(10.0, 1)  # a spike among observations of the truth
    assert _decision(pipeline, op.planning_table()) == before
    feed(10.0, 60)  # a lasting 10x slowdown does change it (the test can fail)
    assert _decision(pipeline, op.planning_table()) != before


def test_planning_table_is_a_profile_the_pipeline_accepts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pipeline = load_pipeline("video")
    op = OnlineProfile(pipeline.profile)
    for _ in range(5):
        op.observe(Observation("crop", "yolov5n", 1, 1, 0.2, 0.5, "model (estimated)"))
    table = op.planning_table("sim:ipa")
    path = tmp_path / "learned.csv"
    path.write_text(profile_to_csv(table))
    again = load_profile(path)
    assert parse_profile_csv(profile_to_csv(table)).rows == again.rows
    load_pipeline("video", profile=path)  # covers every variant: usable as --profile
    row = again.lookup("crop", "yolov5n", 1, 1)
    assert row.source.startswith("learned[sim:ipa n=5 ") and "energy=model (estimated)" in row.source
    assert row.latency_s == pytest.approx(0.2)
    untried = again.lookup("crop", "yolov5s", 1, 1)
    assert untried.source.startswith("prior*stage-factor") and untried.latency_s > 0.195981
    assert again.lookup("classification", "resnet18", 1, 1).source == \
        pipeline.profile.lookup("classification", "resnet18", 1, 1).source
