"""The closed loop on the simulator: observations -> online profile -> decisions, against a known world."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from ipa_energy.errors import ConfigError
from ipa_energy.pipelines import load_pipeline
from ipa_energy.profiles import load_profile, save_profile, scale_profile
from ipa_energy.runs import RunSpec, execute

DURATION_S = 300.0
KEYS = ("sla_violation_pct", "energy_j", "pas", "cost_cores")


@pytest.fixture(scope="module")
def slow_world(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The video pipeline's world with its detection stage 1.6x slower than planned."""
    table = scale_profile(load_pipeline("video").profile, stage="crop", latency=1.6, energy=1.6)
    path = tmp_path_factory.mktemp("world") / "slow.csv"
    save_profile(table, path)
    return str(path)


def _spec(**kw: object) -> RunSpec:
    kw.setdefault("duration_s", DURATION_S)
    kw.setdefault("system", "ipa")
    return RunSpec(pipeline="video", workload="bursty", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("system", ["ipa", "ipa-paper"])
def test_learning_keeps_the_sla_where_static_planning_breaks_it(slow_world: str, system: str) -> None:
    static = execute(_spec(system=system, learn=False, world_profile=slow_world, duration_s=None)).metrics
    learned = execute(_spec(system=system, world_profile=slow_world, duration_s=None)).metrics
    assert static["learning"] is False and static["learned_observations"] == 0
    assert static["learned_profile_error"] is None
    assert learned["learned_observations"] > 100 and learned["learned_decision_changes"] > 0
    if system == "ipa-paper":  # nothing between decisions: the static plan breaks the SLA for most requests
        assert static["sla_violation_pct"] > 20.0
        assert learned["sla_violation_pct"] < static["sla_violation_pct"] / 5
    else:  # the default's reactive guard patches the static plan, at a cost; learning plans it right
        assert static["guard_actions"] > 2 * learned["guard_actions"]
        assert learned["sla_violation_pct"] <= 2.0 < static["sla_violation_pct"]
    assert learned["learned_profile_error"] < 0.01  # the simulator's world is deterministic here


def test_world_equal_to_plan_changes_nothing() -> None:
    static = execute(_spec(learn=False)).metrics
    learned = execute(_spec()).metrics
    assert {k: learned[k] for k in KEYS} == {k: static[k] for k in KEYS}
    assert learned["learned_decision_changes"] == 0 and learned["learned_profile_error"] == 0.0


def test_profile_error_shrinks_as_the_run_goes(slow_world: str, tmp_path: Path) -> None:
    # a noisy world (each batch x a lognormal factor, cv 0.3), decisions every 2 s so the first ones see
    # few batches: the learned latency's error against the world falls as observations accumulate
    # (IPA's original adaptation: the guard's extra replicas would change which options get observed)
    spec = _spec(system="ipa-paper", world_profile=slow_world, interval_s=2.0, sim=(("latency_noise_cv", 0.3),))
    result = execute(spec, out_dir=tmp_path, prefix="r")
    by_t: dict[float, list[float]] = defaultdict(list)
    with (tmp_path / "r_learned.csv").open() as f:
        for row in csv.DictReader(f):
            by_t[float(row["t_s"])].append(float(row["latency_error"]))
    mean = [sum(v) / len(v) for _, v in sorted(by_t.items())]
    assert len(mean) > 100
    late = sum(mean[-20:]) / 20
    assert mean[0] > 2 * late
    assert late < 0.1 and result.metrics["learned_profile_error"] < 0.1


def test_learned_profile_is_written_and_accepted_as_a_profile(slow_world: str, tmp_path: Path) -> None:
    result = execute(_spec(world_profile=slow_world), out_dir=tmp_path, prefix="r")
    path = tmp_path / "r_learned_profile.csv"
    assert str(path) in result.files
    table = load_profile(path)
    load_pipeline("video", profile=path)  # usable as --profile
    learned = [r for r in table.rows if r.source.startswith("learned[")]
    assert learned and all("energy=model (estimated" in r.source for r in learned)
    world = load_profile(slow_world)
    for r in learned:
        assert r.latency_s == pytest.approx(world.lookup(r.stage, r.variant, r.batch, r.cores).latency_s)


def test_world_profile_is_for_the_simulator_only(slow_world: str) -> None:
    with pytest.raises(ConfigError, match="world_profile"):
        execute(RunSpec(backend="local", world_profile=slow_world, duration_s=1.0))
