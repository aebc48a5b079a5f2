"""The stated power model behind the reference profiles' ``energy_j`` (an estimate, not a measurement).

    energy_j(batch) = DYNAMIC_POWER_W_PER_CORE * cores * busy_s(batch)
    busy_s(batch)   = latency_s(batch) / P99_OVER_MEAN_LATENCY      (latency_s is a p99 estimate)

and, charged by the optimizer for every allocated core whether busy or not,

    idle power      = IDLE_POWER_W_PER_CORE * allocated cores.

How the coefficients were chosen (figures from ``data/ipa/energy/ipa_ext/ipa_ext_energy_summary.csv``,
the energy extension's ``perf`` RAPL package readings of the node that ran IPA's video experiments):

* Idle: the node idles at about 73 W. IPA's run configs name Chameleon ``compute_cascadelake_r_ib``
  nodes (2 x Xeon Gold 6240R, 48 physical cores); assuming the energy extension used the same node
  type (its logs do not say), 73 W / 48 cores ~= 1.5 W per core.
* Dynamic: between the steady_low (5.1 rps mean) and steady_high (28.8 rps) workloads, mean package power
  rose by 11.8 W for IPA and 16.1 W for FA2-low, i.e. 0.50-0.68 J per extra request. Those systems run
  yolov5n + resnet18 (1 core each), whose reference busy time is 0.09 (batch 8) to 0.12 (batch 1)
  core-seconds per request; so one busy core draws 4.1-7.6 W above idle. We take 5 W, which is also
  about what a 165 W TDP, 24-core 6240R socket leaves per core above idle. ``scripts/
  build_reference_profiles.py`` prints this cross-check from the data each time it runs.
* p99 -> busy time: the reference latencies are p99 estimates; a batch's busy time is its mean latency,
  taken as p99 / P99_OVER_MEAN_LATENCY.

The constants live here only; the presets take ``IDLE_POWER_W_PER_CORE`` as their default.
"""

from __future__ import annotations

#: Idle package power charged per allocated core (W). 73 W node idle / 48 cores, rounded.
IDLE_POWER_W_PER_CORE = 1.5
#: Extra package power of one fully busy core above idle (W). See the module docstring.
DYNAMIC_POWER_W_PER_CORE = 5.0
#: p99 latency / mean latency of one batch, median over the profile fragments that report both
#: (1.374; rows whose batch could fill, see scripts/build_reference_profiles.py).
P99_OVER_MEAN_LATENCY = 1.37


def batch_energy_j(
    latency_s: float,
    cores: int,
    *,
    dynamic_power_w_per_core: float = DYNAMIC_POWER_W_PER_CORE,
    p99_over_mean: float = P99_OVER_MEAN_LATENCY,
) -> float:
    """Estimated dynamic energy (J) of one batch whose p99 latency is ``latency_s`` on ``cores`` cores."""
    if latency_s <= 0 or cores < 1:
        raise ValueError(f"need latency_s > 0 and cores >= 1 (got {latency_s}, {cores})")
    return dynamic_power_w_per_core * cores * latency_s / p99_over_mean
