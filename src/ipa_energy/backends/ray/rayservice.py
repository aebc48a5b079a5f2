"""A KubeRay ``RayService`` manifest for a pipeline: the same Serve applications on Kubernetes.

``serveConfigV2`` is the declarative Serve config the Ray backend submits (built by the same
:func:`.serve_config.application`), for one configuration of the pipeline (e.g. the system's decision
at a planning rate). KubeRay deploys it on a Ray cluster it creates (``rayClusterConfig``: a head and a
CPU worker group). The image must carry ``ipa-energy[ray]`` (``FROM rayproject/ray:2.60.0-py311`` plus
``pip install ipa-energy[ray]``); the operator keeps this static configuration: adaptive serving on
Kubernetes runs ``ipa-energy serve --backend ray --ray-address auto`` as a Ray job (docs/serving.md).
"""

from __future__ import annotations

import re
from typing import Any

from ipa_energy.backends.base import PipelineConfig
from ipa_energy.backends.ray.serve_config import (
    VariantApp,
    application,
    deploy_config,
    max_ongoing_requests,
    stage_max_ongoing,
)

API_VERSION = "ray.io/v1"
KIND = "RayService"
RAY_VERSION = "2.60.0"
DEFAULT_IMAGE = "rayproject/ray:2.60.0-py311"


def _container(name: str, image: str, cpus: int, memory: str) -> dict[str, Any]:
    return {
        "name": name, "image": image,
        "resources": {"limits": {"cpu": str(cpus), "memory": memory}, "requests": {"cpu": str(cpus), "memory": memory}},
    }


def rayservice_manifest(
    pipeline: Any,
    config: PipelineConfig,
    *,
    name: str | None = None,
    image: str = DEFAULT_IMAGE,
    max_batch_wait_s: float = 1.0,
    workers: int = 1,
    worker_cpus: int = 4,
    cache_dir: str | None = None,
) -> dict[str, Any]:
    """The manifest (a dict ready for YAML) serving ``pipeline`` in ``config`` (stages in order)."""
    if len(config.stages) != len(pipeline.stages):
        raise ValueError(f"config has {len(config.stages)} stages, the pipeline {len(pipeline.stages)}")
    from ipa_energy.models import spec_for

    kube_name = name or re.sub(r"[^a-z0-9-]", "-", f"ipa-{pipeline.name}".lower())
    batches = [sc.batch for sc in config.stages]
    apps = []
    for i, (st, sc) in enumerate(zip(pipeline.stages, config.stages, strict=True)):
        variant = next(v for v in st.variants if v.name == sc.variant)
        spec = spec_for(sc.variant, cache_dir=cache_dir)
        apps.append(application(
            kube_name, VariantApp(st.name, sc.variant, spec.family, int(variant.cores), sc.replicas, sc.batch,
                                  max_batch_wait_s, pipeline.drop_limit_s, cache_dir),
            cpus_per_core=1.0, max_ongoing=stage_max_ongoing(max_ongoing_requests(batches), i, len(config.stages)),
            graceful_shutdown_timeout_s=2.0 * pipeline.drop_limit_s + 5.0,
        ))
    import yaml

    serve_config = deploy_config(apps, proxy_location="HeadOnly")
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": kube_name, "labels": {"app.kubernetes.io/part-of": "ipa-energy"}},
        "spec": {
            "serveConfigV2": yaml.safe_dump(serve_config, sort_keys=False),
            "rayClusterConfig": {
                "rayVersion": RAY_VERSION,
                "headGroupSpec": {
                    "rayStartParams": {"dashboard-host": "0.0.0.0", "num-cpus": "0"},
                    "template": {"spec": {"containers": [_container("ray-head", image, 2, "4Gi")]}},
                },
                "workerGroupSpecs": [{
                    "groupName": "cpu", "replicas": workers, "minReplicas": 1, "maxReplicas": max(workers, 1) * 4,
                    "rayStartParams": {},
                    "template": {"spec": {"containers": [_container("ray-worker", image, worker_cpus, "8Gi")]}},
                }],
            },
        },
    }


def check_manifest(doc: Any) -> list[str]:
    """Structural check of a RayService manifest against the fields KubeRay's CRD (ray.io/v1) requires:
    the problems found (empty when it is well formed). ``serveConfigV2`` must parse as Serve's schema."""
    problems: list[str] = []

    def need(obj: Any, path: str, kind: type) -> Any:
        cur = obj
        for part in path.split("."):
            if not isinstance(cur, dict) or part not in cur:
                problems.append(f"{path}: missing")
                return None
            cur = cur[part]
        if not isinstance(cur, kind):
            problems.append(f"{path}: must be a {kind.__name__} (got {type(cur).__name__})")
            return None
        return cur

    if not isinstance(doc, dict):
        return ["manifest: must be a mapping"]
    if doc.get("apiVersion") != API_VERSION or doc.get("kind") != KIND:
        problems.append(f"apiVersion/kind: must be {API_VERSION} {KIND}")
    meta_name = need(doc, "metadata.name", str)
    if meta_name is not None and not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", meta_name):
        problems.append("metadata.name: must be a DNS-1123 label")
    need(doc, "spec.rayClusterConfig.rayVersion", str)
    containers = need(doc, "spec.rayClusterConfig.headGroupSpec.template.spec.containers", list)
    need(doc, "spec.rayClusterConfig.headGroupSpec.rayStartParams", dict)
    for c in containers or []:
        if not (isinstance(c, dict) and c.get("name") and c.get("image")):
            problems.append("headGroupSpec containers: each needs name and image")
    for i, g in enumerate(need(doc, "spec.rayClusterConfig.workerGroupSpecs", list) or []):
        for key, kind in (("groupName", str), ("replicas", int), ("rayStartParams", dict), ("template", dict)):
            if not isinstance(g.get(key), kind):
                problems.append(f"workerGroupSpecs[{i}].{key}: missing or not a {kind.__name__}")
    text = need(doc, "spec.serveConfigV2", str)
    if text is not None:
        import yaml

        schema: Any = None
        try:
            from ray.serve.schema import ServeDeploySchema

            schema = ServeDeploySchema
        except ImportError:  # structure only without Ray
            pass
        cfg = yaml.safe_load(text)
        if not isinstance(cfg, dict) or not isinstance(cfg.get("applications"), list) or not cfg["applications"]:
            problems.append("spec.serveConfigV2: needs a non-empty applications list")
        elif schema is not None:
            try:
                schema.model_validate(cfg)
            except Exception as e:
                problems.append(f"spec.serveConfigV2: not a Serve config: {str(e).splitlines()[0]}")
    return problems


__all__ = ["API_VERSION", "DEFAULT_IMAGE", "KIND", "RAY_VERSION", "check_manifest", "rayservice_manifest"]
