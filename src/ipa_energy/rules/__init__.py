"""The serving rules, written once: every backend (simulator, local executor, Ray Serve) and the optimizer
call these pure functions, so the same arrivals and configuration changes are served the same way.

* :mod:`.batching`: when a batch leaves a stage's queue (full, or its oldest request waited long enough);
* :mod:`.dropping`: when a queued request is dropped (older than the drop limit);
* :mod:`.replicas`: which replicas start, are cancelled or retire when a configuration change lands
  (make-before-break: old replicas serve until the new variant's replicas are all ready);
* :mod:`.scoring`: the pipeline accuracy score (PAS) and a stage's power.

This package is a leaf: it imports nothing from the rest of ``ipa_energy``. ``docs/serving_rules.md``
states every rule in words.
"""

from ipa_energy.rules.batching import batch_to_take, batch_wake_s
from ipa_energy.rules.dropping import drop_before_s, is_expired
from ipa_energy.rules.replicas import ChangePlan, ReplicaView, plan_change, switch_landed
from ipa_energy.rules.scoring import pas, stage_power_w

__all__ = [
    "ChangePlan",
    "ReplicaView",
    "batch_to_take",
    "batch_wake_s",
    "drop_before_s",
    "is_expired",
    "pas",
    "plan_change",
    "stage_power_w",
    "switch_landed",
]
