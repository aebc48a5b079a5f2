"""The Serve config of a run, as data: what :meth:`RayBackend.apply` submits, and what KubeRay deploys.

Every change goes through Serve's declarative path (the schema of the REST ``PUT /api/serve/applications/``,
submitted with the Serve client's ``deploy_apps``): Serve diffs the config and updates in place:
``num_replicas`` scales, a new ``user_config`` reaches the running replicas' ``reconfigure()`` without a
restart. A Python ``serve.run`` would give the code a new version on every call and restart every replica.

One application per (stage, variant) in use, each one deployment (:class:`~.app.StageReplica`): a variant
switch starts the new variant's application while the old one serves, and the old one is removed (its
replicas drain: graceful shutdown) once the new one has all its replicas ready (make-before-break, the
shared rule :func:`ipa_energy.rules.switch_landed`). Everything here is a pure function (no Ray import).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: the import path Serve builds each application from (a builder taking the application's ``args``)
APP_IMPORT_PATH = "ipa_energy.backends.ray.app:stage_app"
#: the deployment's name inside each application
DEPLOYMENT = "StageReplica"
#: how often a stopping replica checks that its queue is empty (Serve's graceful_shutdown_wait_loop_s)
GRACEFUL_SHUTDOWN_WAIT_LOOP_S = 0.5


@dataclass(frozen=True)
class VariantApp:
    """One (stage, variant) application: ``replicas`` replicas of the variant, batching ``batch``."""

    stage: str
    variant: str
    family: str
    cores: int
    replicas: int
    batch: int
    max_batch_wait_s: float
    drop_limit_s: float
    cache_dir: str | None = None
    image_size: int | None = None


def app_name(prefix: str, stage: str, variant: str) -> str:
    """A Serve application name for (stage, variant), unique per run ``prefix``."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"{prefix}-{stage}-{variant}")


def user_config(app: VariantApp) -> dict[str, Any]:
    """What each replica's ``reconfigure()`` receives: the model to run and how to batch and drop."""
    return {
        "family": app.family, "variant": app.variant, "cache_dir": app.cache_dir, "image_size": app.image_size,
        "threads": app.cores, "batch": app.batch, "max_batch_wait_s": app.max_batch_wait_s,
        "drop_limit_s": app.drop_limit_s,
    }


def max_ongoing_requests(batch_choices: Sequence[int]) -> int:
    """Requests a replica accepts at once: enough to fill the largest batch twice (one forming while one
    runs); fixed for the run so a batch change never touches it."""
    return max(8, 2 * max(batch_choices, default=1))


def stage_max_ongoing(max_ongoing: int, index: int, n_stages: int) -> int:
    """Requests a replica of stage ``index`` (of ``n_stages``) accepts at once. Stages are composed replica
    to replica, so a replica holds each request until the later stages have answered it: it accepts
    ``max_ongoing`` (one stage's worth) for itself and for each stage after it."""
    return max_ongoing * (n_stages - index)


def application(
    prefix: str,
    app: VariantApp,
    *,
    cpus_per_core: float,
    max_ongoing: int,
    graceful_shutdown_timeout_s: float,
) -> dict[str, Any]:
    """One entry of ``applications`` in the Serve config (ServeApplicationSchema as a dict)."""
    return {
        "name": app_name(prefix, app.stage, app.variant),
        "route_prefix": None,
        "import_path": APP_IMPORT_PATH,
        "args": {"stage": app.stage},
        "deployments": [{
            "name": DEPLOYMENT,
            "num_replicas": app.replicas,
            "max_ongoing_requests": max_ongoing,
            "user_config": user_config(app),
            "graceful_shutdown_wait_loop_s": GRACEFUL_SHUTDOWN_WAIT_LOOP_S,
            "graceful_shutdown_timeout_s": graceful_shutdown_timeout_s,
            "ray_actor_options": {"num_cpus": app.cores * cpus_per_core},
        }],
    }


def deploy_config(
    applications: Iterable[Mapping[str, Any]], *, proxy_location: str | None = "Disabled"
) -> dict[str, Any]:
    """The whole declarative config (ServeDeploySchema as a dict). Serve removes the declaratively deployed
    applications it does not name, so a run on a shared cluster passes the others' applications too."""
    out: dict[str, Any] = {"applications": [dict(a) for a in applications]}
    if proxy_location is not None:
        out["proxy_location"] = proxy_location
    return out


__all__ = [
    "APP_IMPORT_PATH", "DEPLOYMENT", "GRACEFUL_SHUTDOWN_WAIT_LOOP_S", "VariantApp", "app_name", "application",
    "deploy_config", "max_ongoing_requests", "stage_max_ongoing", "user_config",
]
