"""What a meter's energy covers, in words: the ``energy_scope`` every energy output carries.

A number of joules means nothing without its scope: the simulator models the pipeline's allocated cores,
a process-mode estimate covers the serving processes only, RAPL covers whole CPU packages (every process
on them and their idle power), NVML whole GPU devices.
"""

from __future__ import annotations

from typing import Any


def energy_scope(meter: Any | None) -> str:
    """The scope of ``meter``'s readings (``"none"`` when there is no meter)."""
    if meter is None:
        return "none (no meter)"
    source = str(getattr(meter, "source", "unknown"))
    if source == "model":
        if getattr(meter, "process_mode", False):
            return "serving processes (estimated from their CPU time)"
        return "whole-machine CPU (estimated from its CPU time)"
    if source == "rapl":
        return "CPU package(s) (RAPL)"
    if source == "perf":
        return "CPU package(s) (perf power events)"
    if source == "nvml":
        return "GPU device(s) (NVML)"
    if source == "replay":
        return "replayed readings"
    return source


def energy_source_label(source: str, quality: str) -> str:
    """``"rapl"`` for a measurement, ``"model (estimated)"`` for anything else (one spelling everywhere)."""
    return source if quality == "measured" else f"{source} ({quality})"


__all__ = ["energy_scope", "energy_source_label"]
