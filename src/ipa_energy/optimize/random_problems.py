"""Seeded random problems for property tests and the solver benchmark (an explicit test helper)."""

from __future__ import annotations

import random

from ipa_energy.optimize.problem import Problem, ProfilePoint, Stage, Variant, Weights

BATCHES = (1, 2, 4, 8, 16, 32, 64)


def random_problem(
    seed: int,
    n_stages: int = 3,
    n_variants: int = 3,
    batches: tuple[int, ...] = BATCHES[:4],
    *,
    accuracy_method: str = "sum",
    budgets: bool = False,
    fixed: bool = False,
    energy_weight: bool = True,
) -> Problem:
    """A problem shaped like a real pipeline: bigger variants are more accurate, slower, use more cores.

    Latencies are on a 1 ms grid and rates on a 0.5 rps grid, so SLA-equality and exact-replica cases
    occur often.
    """
    rng = random.Random(seed)
    lam = rng.choice([0.5, 1, 2.5, 5, 7, 10, 14.5, 20, 35, 50, 100])
    stages = []
    for s in range(n_stages):
        variants = []
        base_ms = rng.randint(5, 60)
        for v in range(n_variants):
            size = 1 + v + rng.random()
            acc = round(min(0.99, 0.4 + 0.1 * v + rng.uniform(0, 0.08)), 4)
            cores = rng.choice([1, 1, 2, 4]) if v else 1
            profile = []
            for b in batches:
                lat_ms = round(base_ms * size * (0.6 + 0.4 * b) * rng.uniform(0.9, 1.1))
                energy = round(lat_ms / 1000 * cores * rng.uniform(5, 15), 4)
                profile.append(ProfilePoint(b, lat_ms / 1000, energy))
            variants.append(Variant(f"s{s}v{v}", acc, cores, tuple(profile)))
        fixed_variant = fixed_batch = fixed_replicas = None
        if fixed:
            r = rng.random()
            if r < 0.25:
                fixed_variant = rng.choice(variants).name
            elif r < 0.45:
                fixed_batch = rng.choice(batches)
            elif r < 0.65:
                fixed_replicas = rng.randint(1, 6)
        stages.append(Stage(f"stage{s}", tuple(variants), fixed_variant, fixed_batch, fixed_replicas))
    fastest = sum(min(p.latency_s for v in st.variants for p in v.profile) for st in stages)
    sla_s = round(fastest * rng.uniform(0.9, 4.0), 3)
    weights = Weights(
        accuracy=rng.choice([1.0, 5.0, 20.0]),
        cost=rng.choice([0.0, 0.01, 0.1, 1.0]),
        batch=rng.choice([0.0, 1e-3, 1e-2]),
        energy=rng.choice([0.0, 0.01, 0.1]) if energy_weight else 0.0,
    )
    max_cores = max_power_w = None
    if budgets:
        if rng.random() < 0.7:
            max_cores = rng.randint(n_stages, 12 * n_stages)
        if rng.random() < 0.7:
            max_power_w = round(rng.uniform(5, 80) * n_stages, 2)
    return Problem(
        arrival_rate=float(lam),
        sla_s=sla_s,
        stages=tuple(stages),
        max_replicas=rng.choice([3, 8, 20, 100]),
        accuracy_method="product" if accuracy_method == "product" else "sum",
        idle_power_w_per_core=rng.choice([0.0, 2.5, 5.0]),
        weights=weights,
        max_cores=max_cores,
        max_power_w=max_power_w,
    )
