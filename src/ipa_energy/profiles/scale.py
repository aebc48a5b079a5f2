"""Scaled copies of a profile: a world that differs from the plan in a known way (tests, benchmarks)."""

from __future__ import annotations

import math
from dataclasses import replace

from ipa_energy.errors import ConfigError
from ipa_energy.profiles.table import ProfileTable


def scale_profile(
    table: ProfileTable,
    *,
    stage: str,
    variant: str | None = None,
    latency: float = 1.0,
    energy: float = 1.0,
) -> ProfileTable:
    """``table`` with the rows of ``stage`` (only ``variant``'s, when given) scaled: latencies (and their
    percentiles) x ``latency``, energies x ``energy``; their ``source`` says so. Unknown names are errors."""
    for name, f in (("latency", latency), ("energy", energy)):
        if not (math.isfinite(f) and f > 0):
            raise ConfigError(f"must be a positive number (got {f!r})", field=name)
    if stage not in table.stages():
        raise ConfigError(f"no stage {stage!r}; stages: {', '.join(table.stages())}", field="stage")
    if variant is not None and variant not in table.variants(stage):
        raise ConfigError(f"stage {stage!r} has no variant {variant!r}; valid: {', '.join(table.variants(stage))}",
                          field="variant")
    tag = f"scaled[latency x{latency:g} energy x{energy:g}]"
    rows = tuple(
        replace(
            r, latency_s=r.latency_s * latency, energy_j=r.energy_j * energy,
            latency_p50_s=None if r.latency_p50_s is None else r.latency_p50_s * latency,
            latency_p99_s=None if r.latency_p99_s is None else r.latency_p99_s * latency,
            source=f"{tag} {r.source}".strip(),
        )
        if r.stage == stage and (variant is None or r.variant == variant) else r
        for r in table.rows
    )
    return ProfileTable(rows, source=f"{table.source} {tag} on {stage}{'/' + variant if variant else ''}")


__all__ = ["scale_profile"]
