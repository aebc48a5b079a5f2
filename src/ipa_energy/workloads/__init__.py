"""Workloads: the bundled IPA traces, user CSV traces, the full Twitter trace, and arrival generation."""

from __future__ import annotations

from ipa_energy.workloads.arrivals import ARRIVAL_PROCESSES, arrival_times
from ipa_energy.workloads.registry import WORKLOADS
from ipa_energy.workloads.trace import (
    BUNDLED_WORKLOADS,
    Workload,
    load_csv_trace,
    load_workload,
    parse_rates_csv,
    workload_names,
)
from ipa_energy.workloads.twitter import (
    TWITTER_TRACE_ENV,
    TwitterTrace,
    default_twitter_trace_path,
    load_twitter_trace,
)

__all__ = [
    "ARRIVAL_PROCESSES",
    "BUNDLED_WORKLOADS",
    "TWITTER_TRACE_ENV",
    "TwitterTrace",
    "WORKLOADS",
    "Workload",
    "arrival_times",
    "default_twitter_trace_path",
    "load_twitter_trace",
    "load_csv_trace",
    "load_workload",
    "parse_rates_csv",
    "workload_names",
]
