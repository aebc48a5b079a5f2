"""The Ray Serve backend on a real local Ray instance (one per module): reconfiguration under load.

A closed-loop client keeps requests in flight while the stage ``locate`` switches variant, scales up and
down, and ``classify`` changes its batch size, then its variant (stages are composed replica to replica,
so the old later-stage variant must outlive requests already routed to it). Nothing may fail, every
request is accounted for, and each new setting is seen in effect (the variant that answered, the batch
sizes replicas formed, the replica that kept serving after an in-place change).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ray.serve", reason='the ray backend needs Ray Serve: pip install "ipa-energy[ray]"')

from ipa_energy.backends.base import PipelineConfig, StageConfig  # noqa: E402
from ipa_energy.backends.local.stage import LocalVariant  # noqa: E402
from ipa_energy.backends.ray.backend import RayBackend  # noqa: E402
from ipa_energy.backends.ray.cluster import RayRuntime  # noqa: E402

pytestmark = pytest.mark.slow

LOC_S, LOC_M, CLS_S, CLS_M = "digits-loc-s", "digits-loc-m", "digits-cls-s", "digits-cls-m"


@pytest.fixture(scope="module")
def runtime() -> RayRuntime:
    rt = RayRuntime(num_cpus=2)
    rt.start()
    yield rt
    rt.stop()


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, dict[str, LocalVariant]]]:
    from ipa_energy.models import prepare, spec_for

    cache = str(tmp_path_factory.mktemp("digits-cache"))

    def variant(name: str, acc: float) -> LocalVariant:
        spec = spec_for(name, cache_dir=cache)
        prepare(spec)
        return LocalVariant(name, spec, 1, acc)

    return [("locate", {LOC_S: variant(LOC_S, 0.94), LOC_M: variant(LOC_M, 0.99)}),
            ("classify", {CLS_S: variant(CLS_S, 0.64), CLS_M: variant(CLS_M, 0.8)})]


def _config(loc: str, loc_replicas: int, cls_batch: int, cls: str = CLS_S, cls_replicas: int = 1) -> PipelineConfig:
    return PipelineConfig((StageConfig(loc, 1, loc_replicas), StageConfig(cls, cls_batch, cls_replicas)))


def _run_until(b: RayBackend, done, limit_s: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    end = b.clock.now_s() + limit_s
    while not done():
        assert b.clock.now_s() < end, "the change did not land in time"
        b.run_closed_loop(b.clock.now_s() + 1.0, concurrency=6)


def test_reconfiguration_under_a_closed_loop_client(runtime: RayRuntime, stages) -> None:  # type: ignore[no-untyped-def]
    from ipa_energy.loadgen import inputs_for

    b = RayBackend(stages, np.zeros(0), inputs_for("digits", 0), runtime=runtime, own_runtime=False, meter="model",
                   sla_s=2.0, drop_limit_s=5.0, max_batch_wait_s=0.1, max_ongoing=16, prefix="ipatest")
    loc, cls = b._stages
    try:
        b.start(_config(LOC_S, 1, 1))
        b.run_closed_loop(3.0, concurrency=6)
        assert b.variants_answered[0] == {LOC_S}

        # variant switch, make-before-break: loc-s keeps answering until loc-m is ready, then only loc-m
        b.variants_answered[0].clear()
        b.apply(_config(LOC_M, 1, 1))
        assert loc.route == LOC_S  # the route switches only once loc-m is ready
        _run_until(b, lambda: loc.route == LOC_M)
        assert LOC_S in b.variants_answered[0]  # the old variant served while the new one started
        b.variants_answered[0].clear()
        b.run_closed_loop(b.clock.now_s() + 2.0, concurrency=6)
        assert b.variants_answered[0] == {LOC_M}

        # scale up, then down (the surplus replica drains)
        b.apply(_config(LOC_M, 2, 1))
        _run_until(b, lambda: loc.ready.get(LOC_M, 0) == 2)
        b.run_closed_loop(b.clock.now_s() + 2.0, concurrency=6)
        b.apply(_config(LOC_M, 1, 1))
        _run_until(b, lambda: loc.existing.get(LOC_M, 0) == 1)

        # batch size in user_config -> reconfigure() in place: the same replica forms batches of up to 4
        pids_before = sorted(p for ps in cls.pids.values() for p in ps)
        b.batches_seen[1].clear()
        b.apply(_config(LOC_M, 1, 4))
        b.run_closed_loop(b.clock.now_s() + 4.0, concurrency=6)
        b._reconcile(b.clock.now_s())
        assert sorted(p for ps in cls.pids.values() for p in ps) == pids_before
        assert max(b.batches_seen[1]) > 1 and max(b.batches_seen[1]) <= 4, b.batches_seen[1]

        # a later stage's switch: requests already routed to cls-s (replica to replica) still find it, so
        # it stays deployed for the drop limit (+ margin) after the route switched, then goes
        b.apply(_config(LOC_M, 1, 4, CLS_M))
        _run_until(b, lambda: cls.route == CLS_M)
        assert CLS_S in cls.retiring and cls.existing.get(CLS_S, 0) >= 1
        b.variants_answered[1].clear()
        _run_until(b, lambda: not cls.retiring, limit_s=30.0)
        _run_until(b, lambda: cls.existing.get(CLS_S, 0) == 0, limit_s=30.0)
        assert b.variants_answered[1] == {CLS_M}

        # a later stage scales up and down under traffic: replicas of locate send on to it through their
        # handles, which must stop routing to the replica that drains
        b.apply(_config(LOC_M, 1, 4, CLS_M, cls_replicas=2))
        _run_until(b, lambda: cls.ready.get(CLS_M, 0) == 2)
        b.run_closed_loop(b.clock.now_s() + 2.0, concurrency=6)
        b.apply(_config(LOC_M, 1, 4, CLS_M))
        _run_until(b, lambda: cls.existing.get(CLS_M, 0) == 1)
        b.run_closed_loop(b.clock.now_s() + 2.0, concurrency=6)

        # a node without a meter (as one that joined after the start): the next look at Serve starts one
        import ray

        nid = next(iter(b._meters))
        ray.kill(b._meters.pop(nid))
        b._reconcile(b.clock.now_s())
        assert nid in b._meters and b.meters_started_late == 1
        assert "Ray node(s) x1:" in b.energy_scope
        b.run_closed_loop(b.clock.now_s() + 2.0, concurrency=6)

        b.finish(drain_s=10.0)
        s = b.summary()
        recs = b.seconds()
        obs = b.observations()
    finally:
        b.close()
    assert s.failed == 0, b.errors
    assert s.in_flight == 0
    assert s.sent > 100
    assert s.sent == s.completed + s.dropped + s.failed
    assert s.dropped == 0
    assert sum(r.arrivals for r in recs) == s.sent
    assert sum(r.completed for r in recs) == s.completed
    assert len(b.deploy_log) >= 5
    assert any(r.config.stages[0].variant == LOC_S for r in recs)
    assert recs[-1].config.stages[0] == StageConfig(LOC_M, 1, 1)
    assert recs[-1].config.stages[1] == StageConfig(CLS_M, 4, 1)
    assert sum(r.energy_j for r in recs) > 0 and all(r.energy_source == "model (estimated)" for r in recs)
    assert "Ray node(s)" in b.energy_scope
    # one observation per served batch, for the online profile: every completed request was in exactly one
    # classify batch; locate saw both variants; energy is the stages' attributed model estimate
    by_stage = {n: [o for o in obs if o.stage == n] for n in ("locate", "classify")}
    assert sum(o.batch for o in by_stage["classify"]) == s.completed
    assert {o.variant for o in by_stage["locate"]} == {LOC_S, LOC_M}
    assert max(o.batch for o in by_stage["classify"]) > 1
    assert all(o.latency_s > 0 and o.latency_stat == "latency_p50_s" and o.cores == 1 for o in obs)
    assert all(o.energy_j is not None and o.energy_j >= 0 for o in obs)
    assert sum(o.energy_j or 0.0 for o in obs) > 0
    assert b.observations() == []  # drained


def test_apps_of_the_run_are_removed_and_ray_keeps_running(runtime: RayRuntime) -> None:
    details = runtime.client().get_serve_details()
    assert not [n for n in details.get("applications", {}) if n.startswith("ipatest-")]
    import ray

    assert ray.is_initialized()
