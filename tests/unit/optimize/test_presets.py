"""System presets: every shipped pipeline solves with every system, and the presets really constrain."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import pytest

from ipa_energy.errors import ConfigError, UnknownNameError
from ipa_energy.optimize.presets import DEFAULT_ENERGY_WEIGHT, SYSTEMS, build_problem, system_spec
from ipa_energy.optimize.problem import Decision, Weights
from ipa_energy.optimize.solvers import get_solver
from ipa_energy.pipelines import load_pipeline, pipeline_names
from ipa_energy.profiles.power_model import IDLE_POWER_W_PER_CORE

PIPELINES = pipeline_names()


load = cache(load_pipeline)  # pipelines are immutable; read each file once per test session


def solve(pipeline: str, system: str, rate: float, **kw: object) -> Decision:
    return get_solver("dp").solve(build_problem(load(pipeline), system, rate, **kw))  # type: ignore[arg-type]


def test_system_names() -> None:
    assert SYSTEMS == (
        "ipa", "ipa-energy", "fa2-low", "fa2-high", "rim-high", "rim-low", "ipa-ql", "ipa-paper", "ipa-carbon"
    )


def test_system_solver() -> None:
    from ipa_energy.errors import UnknownNameError
    from ipa_energy.optimize.presets import system_solver

    assert system_solver("ipa") == "dp" and system_solver("ipa-ql") == "q-learning"
    with pytest.raises(UnknownNameError, match="valid: fa2-high"):
        system_solver("ipa-rl")


@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("system", SYSTEMS)
def test_every_system_feasible_at_1_rps(pipeline: str, system: str) -> None:
    d = solve(pipeline, system, 1.0)
    assert d.feasible, d.reason
    assert d.latency_s is not None and d.latency_s <= load_pipeline(pipeline).sla_s


@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("system", [s for s in SYSTEMS if s != "rim-low"])
def test_moderate_rate_feasible(pipeline: str, system: str) -> None:
    # 5 rps: a third of the bursty workload's mean; RIM-low (1 replica, batch 1 outside video) cannot
    d = solve(pipeline, system, 5.0)
    assert d.feasible, d.reason


@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("rate", [1.0, 3.0, 10.0])
def test_fa2_uses_the_fixed_variants(pipeline: str, rate: float) -> None:
    p = load_pipeline(pipeline)
    for system, fixed in (("fa2-low", p.presets.fa2_low), ("fa2-high", p.presets.fa2_high)):
        d = solve(pipeline, system, rate)
        assert d.feasible
        assert {s.name: s.variant for s in d.stages} == dict(fixed)


def test_fa2_high_changes_the_video_answer() -> None:
    # without the constraint IPA picks lighter models at 20 rps; FA2-high must not
    free = solve("video", "ipa", 20.0)
    fixed = solve("video", "fa2-high", 20.0)
    assert [s.variant for s in free.stages] != [s.variant for s in fixed.stages]
    assert [s.variant for s in fixed.stages] == ["yolov5s", "resnet101"]


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_rim_uses_the_fixed_replicas(pipeline: str) -> None:
    p = load_pipeline(pipeline)
    d = solve(pipeline, "rim-high", 1.0)
    assert {s.name: s.replicas for s in d.stages} == dict(p.presets.rim_high_replicas)
    d = solve(pipeline, "rim-low", 1.0)
    assert all(s.replicas == 1 for s in d.stages)
    # at 1 rps IPA needs 1 replica per stage, so rim-high's fixed counts cost more cores
    assert d.cost_cores is not None
    assert solve(pipeline, "rim-high", 1.0).cost_cores > solve(pipeline, "ipa", 1.0).cost_cores  # type: ignore[operator]


def test_rim_low_infeasible_past_one_replica() -> None:
    d = solve("audio-qa", "rim-low", 30.0)
    assert not d.feasible and "fixed_replicas=1" in (d.reason or "")


@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("rate", [1.0, 5.0, 10.0, 25.0])
def test_energy_weight_never_raises_power(pipeline: str, rate: float) -> None:
    ipa = solve(pipeline, "ipa", rate)
    energy = solve(pipeline, "ipa-energy", rate)
    if ipa.feasible:
        assert energy.feasible and energy.power_w is not None and ipa.power_w is not None
        assert energy.power_w <= ipa.power_w + 1e-9


def test_energy_weight_changes_a_video_decision() -> None:
    ipa = solve("video", "ipa", 10.0)
    energy = solve("video", "ipa-energy", 10.0)
    assert ipa.power_w is not None and energy.power_w is not None
    assert energy.power_w < ipa.power_w


def test_weights_and_defaults() -> None:
    p = load_pipeline("video")
    prob = build_problem(p, "ipa", 20)
    assert prob.weights == Weights(accuracy=2.0, cost=1.0, batch=1e-6, energy=0.0)
    assert prob.idle_power_w_per_core == IDLE_POWER_W_PER_CORE
    assert prob.sla_s == p.sla_s and prob.accuracy_method == "product"
    assert build_problem(p, "ipa-energy", 20).weights.energy == DEFAULT_ENERGY_WEIGHT
    assert build_problem(p, "ipa", 20, energy_weight=0.3).weights.energy == 0.3
    w = Weights(1, 0, 0, 0)
    assert build_problem(p, "fa2-low", 20, weights=w).weights == w
    assert build_problem(p, "ipa", 20, idle_power_w_per_core=0.0).idle_power_w_per_core == 0.0
    prob = build_problem(p, "ipa", 20, max_cores=7, max_power_w=30.0, max_replicas=5)
    assert (prob.max_cores, prob.max_power_w, prob.max_replicas) == (7, 30.0, 5)


def test_accuracy_score_follows_method() -> None:
    p = load_pipeline("video")
    raw = build_problem(p, "ipa", 10)
    rank = build_problem(p, "ipa", 10, accuracy_method="sum")
    v_raw = raw.stages[0].variants[1]
    v_rank = rank.stages[0].variants[1]
    assert v_raw.accuracy == p.stage("crop").variant("yolov5s").accuracy == 0.568
    assert v_rank.accuracy == p.stage("crop").variant("yolov5s").rank_score == 0.25
    # the lightest variants have rank score 0, which is only meaningful summed
    summed_raw = build_problem(p, "ipa", 10, accuracy_method="sum", accuracy_score="raw")
    assert summed_raw.stages[0].variants[0].accuracy == 0.457


def test_batch_cap_and_latency_factor() -> None:
    video = load_pipeline("video")
    batches = [pt.batch for pt in build_problem(video, "ipa", 10).stages[0].variants[0].profile]
    assert batches == [1, 2, 4, 8]  # the paper's batching_cap 8
    lifted = build_problem(video, "ipa", 10, max_batch=64).stages[0].variants[0].profile
    assert [pt.batch for pt in lifted] == [1, 2, 4, 8, 16, 32, 64]
    audio = load_pipeline("audio-qa")
    assert audio.max_batch == 1 and audio.latency_factor == 2.0
    prob = build_problem(audio, "ipa", 10)
    v = audio.stages[0].variants[0]
    assert prob.stages[0].variants[0].profile[0].latency_s == pytest.approx(
        2.0 * audio.profile.latency_s(audio.stages[0].name, v.name, 1, v.cores)
    )
    plain = build_problem(audio, "ipa", 10, latency_factor=1.0)
    assert plain.stages[0].variants[0].profile[0].latency_s == audio.profile.latency_s(
        audio.stages[0].name, v.name, 1, v.cores
    )


def test_bad_input() -> None:
    p = load_pipeline("video")
    valid = "valid: fa2-high, fa2-low, ipa, ipa-carbon, ipa-energy, ipa-paper, ipa-ql, rim-high, rim-low"
    with pytest.raises(UnknownNameError, match=valid):
        build_problem(p, "rim-medium", 10)
    for bad in (0, -3, float("nan"), float("inf")):
        with pytest.raises(ConfigError, match="rate_rps"):
            build_problem(p, "ipa", bad)
    with pytest.raises(ConfigError, match="energy_weight"):
        build_problem(p, "ipa", 10, energy_weight=-1)
    with pytest.raises(ConfigError, match="max_replicas"):
        build_problem(p, "ipa", 10, max_replicas=0)


def test_system_spec_is_data_only() -> None:
    p = load_pipeline("sum-qa")
    spec = system_spec(p, "fa2-high")
    assert dict(spec.fixed_variant) == dict(p.presets.fa2_high) and not spec.fixed_replicas
    spec = system_spec(p, "rim-high")
    assert dict(spec.fixed_replicas) == {"nlp-sum": 12, "nlp-qa": 8} and not spec.fixed_variant
    assert system_spec(p, "ipa").weights == replace(p.presets.weights, energy=0.0)


def test_headroom_multiplies_the_rate_the_problem_is_built_for() -> None:
    from ipa_energy.optimize.presets import DEFAULT_HEADROOM

    p = load("video")
    assert build_problem(p, "ipa", 10.0).arrival_rate == pytest.approx(10.0 * (1 + DEFAULT_HEADROOM))
    assert build_problem(p, "ipa", 10.0, headroom=0.25).arrival_rate == pytest.approx(12.5)
    assert build_problem(p, "ipa-paper", 10.0).arrival_rate == 10.0
    more = solve("video", "ipa", 20.0, headroom=0.5)
    less = solve("video", "ipa", 20.0, headroom=0.0)
    assert more.cost_cores is not None and less.cost_cores is not None and more.cost_cores >= less.cost_cores
    with pytest.raises(ConfigError, match="headroom"):
        build_problem(p, "ipa", 10.0, headroom=-0.1)


def test_ipa_paper_is_ipas_original_behaviour() -> None:
    p = load("video")
    paper, ipa = system_spec(p, "ipa-paper"), system_spec(p, "ipa")
    assert paper.weights == ipa.weights and paper.headroom == 0.0
    a = paper.adaptation
    assert (a.predictor, a.horizon, a.guard) == ("lstm", False, False)
    assert ipa.adaptation.horizon and ipa.adaptation.guard and ipa.adaptation.predictor == "gbm-q90"
    a, b = solve("video", "ipa-paper", 12.0), solve("video", "ipa", 12.0, headroom=0.0)
    assert a.stages == b.stages and a.objective == b.objective
