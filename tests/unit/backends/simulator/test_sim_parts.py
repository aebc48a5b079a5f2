"""The simulator's parts (batch table, reconfiguration plan, per-second spreading, queue) and its input checks."""

from __future__ import annotations

import numpy as np
import pytest
from simtest_helpers import config, make_sim, one_stage, variant

from ipa_energy.backends import BACKENDS
from ipa_energy.backends.simulator.backend import SimParams, SimulatorBackend
from ipa_energy.backends.simulator.batch_table import BatchTable, validate_profile
from ipa_energy.backends.simulator.fleet import Replica
from ipa_energy.backends.simulator.ledger import spread
from ipa_energy.backends.simulator.queue import StageQueue
from ipa_energy.errors import ConfigError, UnknownNameError
from ipa_energy.optimize.problem import ProfilePoint, Stage
from ipa_energy.rules import plan_change


def table(*points: tuple[int, float, float], up_to: int) -> BatchTable:
    t = BatchTable(validate_profile([ProfilePoint(*p) for p in points], "p"))
    t.ensure(up_to)
    return t


def test_batch_table_interpolates_and_extrapolates() -> None:
    t = table((2, 0.2, 2.0), (4, 0.3, 3.0), (8, 0.7, 5.0), up_to=10)
    assert t.latency_s[1:] == pytest.approx([0.2, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    assert t.energy_j[1:] == pytest.approx([2.0, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0])
    single = table((4, 0.4, 2.0), up_to=8)
    assert single.latency_s[8] == pytest.approx(0.8) and single.latency_s[2] == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([], "no profile points"),
        ([ProfilePoint(0, 0.1, 1.0)], "batch must be an integer >= 1"),
        ([ProfilePoint(1, 0.0, 1.0)], "latency_s must be > 0"),
        ([ProfilePoint(1, 0.1, -1.0)], "energy_j must be >= 0"),
        ([ProfilePoint(1, 0.1, 1.0), ProfilePoint(1, 0.2, 1.0)], "profiled twice"),
    ],
)
def test_bad_profiles_are_rejected_naming_the_variant(points: list[ProfilePoint], message: str) -> None:
    stage = Stage("only", (variant("a", [(1, 0.1, 1.0)]), variant("b", [(1, 0.1, 1.0)])))
    bad = Stage("only", (stage.variants[0], stage.variants[1].__class__("b", 0.5, 1, tuple(points))))
    with pytest.raises(ConfigError, match=rf"stages\[0\]\.variants\[1\]\.profile: .*{message}"):
        make_sim([bad], [], None)


def _rep(rid: int, v: int, *, ready: bool = True, busy: bool = False, at: float = 0.0) -> Replica:
    r = Replica(rid, v, 1, table((1, 1.0, 0.0), up_to=1), at)
    r.ready, r.busy = ready, busy
    return r


def test_plan_scale_down_cancels_starting_then_idle_then_busy() -> None:
    reps = [_rep(0, 0, busy=True), _rep(1, 0), _rep(2, 0, ready=False, at=5.0), _rep(3, 0, busy=True)]
    plan = plan_change(reps, 0, 1, 1.0, replica_startup_s=2.0, variant_switch_s=9.0)
    assert [r.rid for r in plan.cancel] == [2]
    assert [r.rid for r in plan.retire] == [1, 3]  # idle first, then the newest busy one
    assert plan.start_ready_at_s == ()


def test_plan_delays_depend_on_what_the_stage_already_runs() -> None:
    kw = {"replica_startup_s": 2.0, "variant_switch_s": 9.0}
    assert plan_change([_rep(0, 0)], 0, 3, 1.0, **kw).start_ready_at_s == (3.0, 3.0)  # scale up
    switch = plan_change([_rep(0, 0)], 1, 2, 1.0, **kw)
    assert switch.start_ready_at_s == (10.0, 10.0) and switch.retire == ()  # old keeps serving
    during = [_rep(0, 0), _rep(1, 1, ready=False, at=10.0)]
    assert plan_change(during, 1, 2, 4.0, **kw).start_ready_at_s == (10.0,)  # lands with the switch
    back = plan_change(during, 0, 1, 4.0, **kw)
    assert [r.rid for r in back.cancel] == [1] and back.start_ready_at_s == ()


def test_spread_splits_amounts_over_seconds() -> None:
    bins: list[float] = []
    spread(bins, 0.5, 2.5, 4.0)
    spread(bins, 3.0, 4.0, 1.0)  # ends on a boundary: second 4 gets nothing
    assert bins[:5] == pytest.approx([1.0, 2.0, 1.0, 1.0, 0.0])


def test_queue_keeps_order_and_expires_by_arrival_time() -> None:
    arrivals = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    q = StageQueue(capacity=2)
    q.push(np.array([3, 1]), 2, 5.0, 1.0)
    q.push(np.array([4, 0, 2]), 3, 6.0, 0.0)
    assert len(q) == 5 and q.min_arrival_lb_s == 0.0
    assert q.expire(arrivals, 1.5) == 2  # ids 1 and 0 arrived before 1.5
    assert q.ids[q.head : q.tail].tolist() == [3, 4, 2]
    assert q.ready_s[q.head : q.tail].tolist() == [5.0, 6.0, 6.0]
    assert q.min_arrival_lb_s == 2.0
    assert q.take(2).tolist() == [3, 4] and len(q) == 1


def test_apply_rejects_unknown_variants_listing_valid_names() -> None:
    sim = make_sim([one_stage()], [], None)
    with pytest.raises(UnknownNameError, match=r"config\.stages\[0\]\.variant: .*'zzz'; valid: a"):
        sim.apply(config(("zzz", 1, 1)))
    with pytest.raises(ConfigError, match=r"config\.stages: has 2 stages, the pipeline has 1"):
        sim.apply(config(("a", 1, 1), ("a", 1, 1)))
    with pytest.raises(ConfigError, match=r"config\.stages\[0\]\.replicas: must be an integer >= 1"):
        sim.apply(config(("a", 1, 0)))
    with pytest.raises(ConfigError, match=r"config\.stages\[0\]\.batch"):
        sim.apply(config(("a", 0, 1)))


@pytest.mark.parametrize(
    ("arrivals", "message"),
    [
        ([0.0, 2.0, 1.0], r"arrival_times_s: index 2: not sorted"),
        ([0.0, -1.0], r"arrival_times_s: index 1: must be a finite time >= 0"),
        ([0.0, float("nan")], r"arrival_times_s: index 1"),
        ([[0.0]], r"arrival_times_s: must be one-dimensional"),
    ],
)
def test_bad_arrivals_are_rejected_with_the_index(arrivals: list[float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SimulatorBackend([one_stage()], np.array(arrivals), sla_s=1.0, accuracy_method="sum")


def test_bad_settings_name_the_field() -> None:
    with pytest.raises(ConfigError, match="drop_limit_s: must be > 0"):
        SimParams(drop_limit_s=0.0)
    with pytest.raises(ConfigError, match="max_batch_wait_s: must be a finite number"):
        SimParams(max_batch_wait_s=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="seed"):
        SimParams(seed=-1)
    with pytest.raises(UnknownNameError, match="accuracy_method: .*'avg'; valid: product, sum"):
        SimulatorBackend([one_stage()], np.zeros(0), sla_s=1.0, accuracy_method="avg")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="sla_s"):
        SimulatorBackend([one_stage()], np.zeros(0), sla_s=0.0, accuracy_method="sum")


def test_registry_entry_and_product_pas() -> None:
    assert BACKENDS.get("sim") is SimulatorBackend
    a = Stage("a", (variant("x", [(1, 0.1, 0.0)], accuracy=0.5),))
    b = Stage("b", (variant("y", [(1, 0.1, 0.0)], accuracy=0.8),))
    sim = make_sim([a, b], [], config(("x", 1, 1), ("y", 1, 1)), method="product")
    sim.run_until(1.0)
    assert sim.seconds()[0].pas == pytest.approx(0.4)
