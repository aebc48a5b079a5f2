"""How a run's metrics are printed: one JSON object (NaN/inf as null), or aligned ``key: value`` lines
with the same keys, so the text and JSON outputs never drift apart."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import click


def clean(v: Any) -> Any:
    """JSON-safe: non-finite floats become None, containers are cleaned recursively."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, Mapping):
        return {k: clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [clean(x) for x in v]
    return v


def print_metrics(metrics: Mapping[str, Any]) -> None:
    width = max(len(k) for k in metrics)
    for k, v in metrics.items():
        if k == "stages":
            for s in v:
                carbon = f", {s['carbon_g']:.6g} g CO2" if "carbon_g" in s else ""
                click.echo(f"{'stage ' + s['stage']:>{width}}: {s['energy_j']:.6g} J{carbon}")
            continue
        text = f"{v:.6g}" if isinstance(v, float) else ("" if v is None else str(v))
        if isinstance(v, list):
            text = ", ".join(map(str, v))
        click.echo(f"{k:>{width}}: {text}")


__all__ = ["clean", "print_metrics"]
