"""The Ray backend's declarative Serve config and KubeRay manifest, as data (no Ray cluster started)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from ipa_energy.backends.base import PipelineConfig, StageConfig
from ipa_energy.backends.ray.rayservice import check_manifest, rayservice_manifest
from ipa_energy.backends.ray.serve_config import (
    DEPLOYMENT,
    VariantApp,
    app_name,
    application,
    deploy_config,
    max_ongoing_requests,
    stage_max_ongoing,
)
from ipa_energy.errors import ConfigError


def _app(**kw: object) -> VariantApp:
    base = dict(stage="locate", variant="digits-loc-s", family="digits", cores=2, replicas=3, batch=4,
                max_batch_wait_s=0.5, drop_limit_s=5.0)
    base.update(kw)
    return VariantApp(**base)  # type: ignore[arg-type]


def test_application_carries_replicas_user_config_and_drain() -> None:
    a = application("run1", _app(), cpus_per_core=0.5, max_ongoing=16, graceful_shutdown_timeout_s=15.0)
    assert a["name"] == "run1-locate-digits-loc-s"
    (d,) = a["deployments"]
    assert d["name"] == DEPLOYMENT and d["num_replicas"] == 3 and d["max_ongoing_requests"] == 16
    assert d["user_config"]["variant"] == "digits-loc-s" and d["user_config"]["batch"] == 4
    assert d["user_config"]["max_batch_wait_s"] == 0.5 and d["user_config"]["threads"] == 2
    assert d["graceful_shutdown_timeout_s"] == 15.0
    assert d["ray_actor_options"] == {"num_cpus": 1.0}


def test_a_batch_change_only_touches_user_config() -> None:
    a = application("r", _app(batch=1), cpus_per_core=0, max_ongoing=8, graceful_shutdown_timeout_s=1)
    b = application("r", _app(batch=8), cpus_per_core=0, max_ongoing=8, graceful_shutdown_timeout_s=1)
    assert {k: v for k, v in a.items() if k != "deployments"} == {k: v for k, v in b.items() if k != "deployments"}
    da, db = a["deployments"][0], b["deployments"][0]
    assert [k for k in da if da[k] != db[k]] == ["user_config"]


def test_names_are_safe_and_unique_per_variant() -> None:
    assert app_name("p", "detect", "yolo v5/n") == "p-detect-yolo-v5-n"
    assert app_name("p", "s", "a") != app_name("p", "s", "b")


def test_deploy_config_and_ongoing_limit() -> None:
    cfg = deploy_config([{"name": "x"}], proxy_location=None)
    assert cfg == {"applications": [{"name": "x"}]}
    assert deploy_config([])["proxy_location"] == "Disabled"
    assert max_ongoing_requests([1, 2, 16]) == 32
    assert max_ongoing_requests([]) == 8
    # composed replica to replica: the first of three stages holds requests for itself and the two after it
    assert [stage_max_ongoing(8, i, 3) for i in range(3)] == [24, 16, 8]


def test_serve_schema_accepts_the_config() -> None:
    schema = pytest.importorskip("ray.serve.schema", reason="Ray Serve not installed (the ray extra)")
    apps = [application("r", _app(), cpus_per_core=1, max_ongoing=8, graceful_shutdown_timeout_s=15)]
    parsed = schema.ServeDeploySchema.model_validate(deploy_config(apps))
    assert parsed.applications[0].deployments[0].num_replicas == 3


def test_rayservice_manifest_is_well_formed() -> None:
    from ipa_energy.pipelines import load_pipeline

    p = load_pipeline("digits")
    cfg = PipelineConfig((StageConfig("digits-loc-m", 2, 2), StageConfig("digits-cls-l", 4, 1)))
    doc = rayservice_manifest(p, cfg, workers=2)
    assert check_manifest(doc) == []
    doc = yaml.safe_load(yaml.safe_dump(doc))  # survives a YAML round trip
    serve = yaml.safe_load(doc["spec"]["serveConfigV2"])
    reps = {a["name"]: a["deployments"][0]["num_replicas"] for a in serve["applications"]}
    assert reps == {"ipa-digits-locate-digits-loc-m": 2, "ipa-digits-classify-digits-cls-l": 1}
    assert doc["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["replicas"] == 2


def test_check_manifest_finds_structural_faults() -> None:
    from ipa_energy.pipelines import load_pipeline

    p = load_pipeline("digits")
    doc = rayservice_manifest(p, PipelineConfig((StageConfig("digits-loc-s", 1, 1), StageConfig("digits-cls-s", 1, 1))))
    bad = yaml.safe_load(yaml.safe_dump(doc))
    bad["metadata"]["name"] = "Not_DNS"
    del bad["spec"]["rayClusterConfig"]["headGroupSpec"]["rayStartParams"]
    bad["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["replicas"] = "two"
    bad["spec"]["serveConfigV2"] = "applications: []\n"
    problems = check_manifest(bad)
    assert any(s.startswith("metadata.name") for s in problems)
    assert any("rayStartParams" in s for s in problems)
    assert any("replicas" in s for s in problems)
    assert any("serveConfigV2" in s for s in problems)
    assert check_manifest([]) == ["manifest: must be a mapping"]


def test_build_rejects_unknown_options() -> None:
    from ipa_energy.backends import BACKENDS, BackendContext
    from ipa_energy.pipelines import load_pipeline

    ctx = BackendContext(load_pipeline("digits"), np.zeros(0), "ipa", 0, options={"replicas_per_gpu": 1})
    with pytest.raises(ConfigError, match="replicas_per_gpu"):
        BACKENDS.create("ray", ctx=ctx)


def test_cli_writes_a_manifest(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from ipa_energy.cli.main import cli

    out = tmp_path / "rs.yaml"
    r = CliRunner().invoke(cli, ["pipelines", "rayservice", "digits", "--rate", "20", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert check_manifest(yaml.safe_load(out.read_text())) == []
    r = CliRunner().invoke(cli, ["pipelines", "rayservice", "digits", "--rate", "0", "--out", str(out)])
    assert isinstance(r.exception, ConfigError) and "--rate" in str(r.exception)  # main() prints it, exit 2
