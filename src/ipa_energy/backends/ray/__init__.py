"""The Ray Serve backend: the pipeline served by Ray Serve (a laptop, a Ray cluster, or Kubernetes through
KubeRay), driven by the same run path, adaptation loop and serving rules as the other backends.

* :mod:`.app`: the deployment of one (stage, variant): each replica runs the local executor's model code;
  variant and batch arrive in ``user_config`` and are applied in ``reconfigure()``.
* :mod:`.serve_config`: the declarative Serve config (the REST ``PUT /api/serve/applications/`` schema)
  built from the wanted state, as pure functions; also the KubeRay ``RayService`` manifest.
* :mod:`.cluster`: start a local Ray instance (and shut it down) or join an existing cluster.
* :mod:`.meter`: the per-node meter actor (the project's meter, attributed by replica CPU time).
* :mod:`.backend`: :class:`RayBackend`, the router in the driver; :mod:`.build`: ``build_ray(ctx)``.

Ray itself is imported only when a Ray backend is built (``pip install "ipa-energy[ray]"``).
"""
