"""The Ray Serve deployment of one (stage, variant): a replica runs the local executor's model code.

Each replica loads its model with :func:`ipa_energy.models.load_runner` (digits, torchvision, ...), as a
local worker process does. Its ``user_config`` (see :func:`.serve_config.user_config`) names the variant
and the batching; ``reconfigure()`` applies it in place: ``@serve.batch``'s ``set_max_batch_size`` and
``set_batch_wait_timeout_s`` (Ray's batching is the shared batching rule: a batch leaves when it is full or
its oldest request has waited the maximum wait), and a new model is loaded before it replaces the old one.
Serve calls ``reconfigure()`` before the replica is ready, so a ready replica has its model loaded. At
batch size 1 a request is served as it comes (a batch of one, by the same function), without the
``@serve.batch`` queue, whose asyncio hand-off costs about 1 ms per request here and batches nothing.

Stages are composed replica to replica with DeploymentHandles: a request is a dict ``{"rid",
"arrival_epoch_s", "x", "route"}``, ``route`` naming the application of every later stage (the driver
fixes it when it sends the request, from the variants serving then). A replica serves the request in a
batch, then sends its output to the next application of the route and answers once the rest of the
pipeline has: ``{"rid", "y", "hops"}``, one hop per stage reached, ``{"dropped", "batch", "variant", "pid",
"node", "compute_s", "served"}``: ``compute_s`` is the served batch's wall time in the replica (stacking its
inputs and the model call), ``served`` the requests it served; the batch's first served request carries
``"reports_batch": True``, so the driver records one observation per batch (for the online profile)
however many answers share it. The drop rule (:func:`ipa_energy.rules.is_expired`, age from the arrival
in the pipeline) is applied when a batch is taken and again before a request is sent on: an expired
request is answered dropped and goes no further (so it never reaches an application that has retired).
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
from ray import serve

from ipa_energy.backends.ray.serve_config import DEPLOYMENT
from ipa_energy.rules import is_expired


@serve.deployment
class StageReplica:
    def __init__(self, stage: str) -> None:
        import ray

        self.stage = stage
        self.pid = os.getpid()
        self.node = ray.get_runtime_context().get_node_id()
        self.variant: str | None = None
        self.runner: Any = None
        self.drop_limit_s = float("inf")
        self.batch = 1
        self._handles: dict[str, Any] = {}

    def reconfigure(self, config: dict[str, Any]) -> None:
        if config["variant"] != self.variant:
            import torch

            from ipa_energy.models import ModelSpec, load_runner, prepare

            torch.set_num_threads(max(1, int(config["threads"])))
            spec = ModelSpec(config["family"], config["variant"], config.get("cache_dir"), config.get("image_size"))
            prepare(spec)  # a no-op where the model is cached; trains a digits model on a fresh node
            self.runner, self.variant = load_runner(spec), config["variant"]
        self.drop_limit_s = float(config["drop_limit_s"])
        self.batch = int(config["batch"])
        batcher: Any = self.serve_batch  # @serve.batch adds the setters
        batcher.set_max_batch_size(int(config["batch"]))
        batcher.set_batch_wait_timeout_s(float(config["max_batch_wait_s"]))

    @serve.batch(max_batch_size=1, batch_wait_timeout_s=0.0)
    async def serve_batch(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self._serve(requests)

    def _serve(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Serve one batch: the drop rule when it is taken, then the model on what is left."""
        now = time.time()
        keep = [i for i, r in enumerate(requests) if not is_expired(r["arrival_epoch_s"], now, self.drop_limit_s)]
        out = [{"rid": r["rid"], "dropped": True, "y": None, "batch": len(requests), "variant": self.variant,
                "pid": self.pid, "node": self.node, "compute_s": 0.0, "served": 0} for r in requests]
        if keep:
            t0 = time.perf_counter()
            y = self.runner.run(np.stack([np.asarray(requests[i]["x"]) for i in keep]))
            compute_s = time.perf_counter() - t0
            for j, i in enumerate(keep):
                out[i].update(dropped=False, y=y[j], compute_s=compute_s, served=len(keep))
            out[keep[0]]["reports_batch"] = True
        return out

    async def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        # at batch size 1 every request is a batch of its own: served at once, without Ray's batch queue
        hop: dict[str, Any] = self._serve([request])[0] if self.batch == 1 else await self.serve_batch(request)
        route = list(request.get("route") or ())
        if hop["dropped"] or not route:
            return {"rid": request["rid"], "y": hop.pop("y"), "hops": [hop]}
        y = hop.pop("y")
        if is_expired(request["arrival_epoch_s"], time.time(), self.drop_limit_s):
            return {"rid": request["rid"], "y": None, "hops": [hop, {"dropped": True, "batch": 0}]}
        rest: dict[str, Any] = await self._next(route[0]).remote({
            "rid": request["rid"], "arrival_epoch_s": request["arrival_epoch_s"], "x": y, "route": route[1:]})
        return {"rid": request["rid"], "y": rest["y"], "hops": [hop, *rest["hops"]]}

    def _next(self, app: str) -> Any:
        h = self._handles.get(app)
        if h is None:
            h = self._handles[app] = serve.get_deployment_handle(DEPLOYMENT, app_name=app)
        return h


def stage_app(args: dict[str, Any]) -> Any:
    """The application builder named by :data:`.serve_config.APP_IMPORT_PATH` (``args``: ``{"stage"}``)."""
    deployment: Any = StageReplica  # @serve.deployment made it a Deployment
    return deployment.bind(str(args["stage"]))


__all__ = ["StageReplica", "stage_app"]
