"""The profile table: per-batch latency and energy of each (stage, variant, batch), CSV in and out.

See :mod:`ipa_energy.profiles.table` for the format and :mod:`ipa_energy.profiles.power_model` for the
power model behind the reference profiles' energy column; :mod:`ipa_energy.profiles.online` keeps a
run's online profile (the offline one corrected by observed batches).
"""

from ipa_energy.profiles.online import LearnParams, Observation, OnlineProfile
from ipa_energy.profiles.scale import scale_profile
from ipa_energy.profiles.table import (
    COLUMNS,
    ProfileRow,
    ProfileTable,
    VariantSpec,
    load_profile,
    parse_profile_csv,
    profile_to_csv,
    save_profile,
)

__all__ = [
    "COLUMNS",
    "LearnParams",
    "Observation",
    "OnlineProfile",
    "ProfileRow",
    "ProfileTable",
    "VariantSpec",
    "load_profile",
    "parse_profile_csv",
    "profile_to_csv",
    "save_profile",
    "scale_profile",
]
