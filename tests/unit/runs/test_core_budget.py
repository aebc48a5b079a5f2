"""The core budget (``max_cores``): every decision of a run stays within it, the fallback too, and the
flags that set it reject bad values with one line naming the flag."""

from __future__ import annotations

import itertools

import pytest
from click.testing import CliRunner

from ipa_energy.adapt.fallback import fallback_config
from ipa_energy.cli.serve import machine_cores
from ipa_energy.cli.simulate import simulate
from ipa_energy.errors import ConfigError
from ipa_energy.optimize.problem import Problem, ProfilePoint, Stage, Variant, Weights
from ipa_energy.pipelines import load_pipeline
from ipa_energy.runs import RunSpec, execute


def _problem(rate_rps: float, max_cores: int | None) -> Problem:
    fast = Variant("fast", 0.5, 1, (ProfilePoint(1, 0.1, 1.0), ProfilePoint(4, 0.2, 3.0)))
    wide = Variant("wide", 0.9, 2, (ProfilePoint(1, 0.05, 2.0),))
    slow = Variant("slow", 0.7, 1, (ProfilePoint(1, 0.4, 1.0), ProfilePoint(2, 0.5, 1.5)))
    return Problem(
        arrival_rate=rate_rps, sla_s=0.05, stages=(Stage("a", (fast, wide)), Stage("b", (slow,))),
        max_replicas=10, weights=Weights(accuracy=1.0, cost=0.1), max_cores=max_cores,
    )


def _cores(problem: Problem, config) -> int:  # type: ignore[no-untyped-def]
    return sum(next(v.cores for v in st.variants if v.name == c.variant) * c.replicas
               for st, c in zip(problem.stages, config.stages, strict=True))


def _capacity_rps(problem: Problem, config) -> float:  # type: ignore[no-untyped-def]
    out = []
    for st, c in zip(problem.stages, config.stages, strict=True):
        p = next(p for v in st.variants if v.name == c.variant for p in v.profile if p.batch == c.batch)
        out.append(c.replicas * p.batch / p.latency_s)
    return min(out)


@pytest.mark.parametrize("max_cores", [2, 3, 5, 8])
def test_an_unreachable_rate_falls_back_within_the_budget_to_the_most_it_holds(max_cores: int) -> None:
    problem = _problem(1000.0, max_cores)  # nothing meets a 50 ms SLA with stage b; the rate is unreachable
    unbounded = fallback_config(_problem(1000.0, None))
    assert _cores(problem, unbounded) > max_cores  # the case the budget changes
    cfg = fallback_config(problem)
    assert _cores(problem, cfg) <= max_cores
    assert all(c.replicas >= 1 for c in cfg.stages)
    # no split of the budget over the same per-stage options serves more (brute force over replicas)
    best = 0.0
    for ra, rb in itertools.product(range(1, max_cores + 1), repeat=2):
        trial = type(cfg)((type(cfg.stages[0])(cfg.stages[0].variant, cfg.stages[0].batch, ra),
                           type(cfg.stages[1])(cfg.stages[1].variant, cfg.stages[1].batch, rb)))
        if _cores(problem, trial) <= max_cores:
            best = max(best, _capacity_rps(problem, trial))
    assert _capacity_rps(problem, cfg) == pytest.approx(best)


def test_a_fallback_that_fits_is_kept() -> None:
    assert fallback_config(_problem(5.0, 100)) == fallback_config(_problem(5.0, None))


def test_every_decision_of_a_run_stays_within_the_budget() -> None:
    pipeline = load_pipeline("video")
    cores = {v.name: v.cores for st in pipeline.stages for v in st.variants}
    free = execute(RunSpec(pipeline="video", workload="bursty", duration_s=600))
    peak = max(sum(cores[x.split()[0]] * int(x.split(" x")[1]) for x in s["config"].split(" | "))
               for s in free.steps)
    budget = peak - 2
    capped = execute(RunSpec(pipeline="video", workload="bursty", duration_s=600, max_cores=budget))
    used = [sum(cores[x.split()[0]] * int(x.split(" x")[1]) for x in s["config"].split(" | "))
            for s in capped.steps]
    assert max(used) <= budget
    assert capped.metrics["sent"] == free.metrics["sent"]  # same arrivals; only the decisions differ


def test_bad_budgets_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from ipa_energy.cli.main import main

    with pytest.raises(ConfigError, match="max_cores"):
        RunSpec(max_cores=0)
    for value in ("0", "-1", "2.5", "many", "auto"):
        with pytest.raises(SystemExit) as e:
            main(["simulate", "--max-cores", value, "--duration-s", "10"])
        err = capsys.readouterr().err
        assert e.value.code == 2, (value, err)
        assert "--max-cores" in err and len(err.strip().splitlines()) == 1
    res = CliRunner().invoke(simulate, ["--max-cores", "none", "--duration-s", "10", "--json"])
    assert res.exit_code == 0, res.output
    assert machine_cores(None) is not None and machine_cores(None) >= 1
    assert machine_cores("auto") is None  # a Ray cluster: its size is not this machine's


def test_an_experiment_sets_the_budget_of_every_run() -> None:
    from ipa_energy.bench.experiment import ExperimentSpec, expand
    from ipa_energy.config.validation import parse_model

    spec = parse_model(ExperimentSpec, {"systems": ["ipa"], "workloads": ["bursty"], "max_cores": 5,
                                        "energy_sweep": {"enabled": True}}, source="x.yaml")
    runs = expand(spec)
    assert len(runs) > 1 and {r.max_cores for r in runs} == {5}
    with pytest.raises(ConfigError, match="max_cores"):
        parse_model(ExperimentSpec, {"max_cores": 0}, source="x.yaml")
