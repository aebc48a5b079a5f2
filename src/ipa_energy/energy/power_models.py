"""CPU power models for the estimating meter: ``power_w = idle_w + active_w_per_core * busy_cores``.

Where they come from, best first:

1. a coefficients file written by ``ipa-energy energy calibrate`` on a machine with RAPL (measured);
2. coefficients the user gives (``idle_w`` / ``active_w_per_core`` or their own file);
3. the shipped table ``power_models.csv`` (per-vCPU min/max watts per CPU microarchitecture from Cloud
   Carbon Footprint, SPECpower-derived), picked by matching ``/proc/cpuinfo``'s model name, with its
   ``average`` row as the fallback. With ``n`` logical CPUs: ``idle_w = min * n`` and
   ``active_w_per_core = max - min``.

Every model has a ``name`` and a ``source``; estimates carry :attr:`PowerModel.label` in every output.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import Field

from ipa_energy.config.validation import StrictModel, check_number, load_mapping, parse_model
from ipa_energy.errors import ConfigError, UnknownNameError


@dataclass(frozen=True)
class PowerModel:
    """Machine CPU power as idle watts plus watts per busy core (logical CPU)."""

    name: str
    idle_w: float
    active_w_per_core: float
    #: logical CPUs the model was built for (None: not tied to a core count)
    cores: int | None
    #: provenance: "calibrated on <host> ...", "CCF table ...", "user"
    source: str

    def __post_init__(self) -> None:
        # finite and >= 0 on every path (file, table, CLI flags, code): a NaN would poison every estimate
        check_number(self.idle_w, "power_w", "idle_w")
        check_number(self.active_w_per_core, "power_w", "active_w_per_core")

    def power_w(self, busy_cores: float) -> float:
        return self.idle_w + self.active_w_per_core * busy_cores

    @property
    def label(self) -> str:
        """Named in every estimate: ``name (idle X W + Y W/busy core; source)``."""
        return f"{self.name} (idle {self.idle_w:.4g} W + {self.active_w_per_core:.4g} W/busy core; {self.source})"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "idle_w": self.idle_w,
            "active_w_per_core": self.active_w_per_core,
            "cores": self.cores,
            "source": self.source,
        }


class PowerModelFile(StrictModel):
    """The coefficients file (YAML or JSON) that ``energy calibrate`` writes and the model meter reads."""

    name: str = Field(min_length=1)
    idle_w: float = Field(ge=0)
    active_w_per_core: float = Field(ge=0)
    cores: int | None = Field(default=None, ge=1)
    source: str = "user"
    #: calibration details (free-form: host, cpu model, points, r2); kept, not interpreted
    calibration: dict[str, Any] | None = None


@dataclass(frozen=True)
class TableRow:
    name: str
    min_w_per_vcpu: float
    max_w_per_vcpu: float
    match: str
    source: str


def table() -> tuple[TableRow, ...]:
    """The shipped per-microarchitecture table."""
    text = resources.files("ipa_energy.energy").joinpath("power_models.csv").read_text()
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    rows = []
    for r in csv.DictReader(io.StringIO("\n".join(lines))):
        rows.append(
            TableRow(r["name"], float(r["min_w_per_vcpu"]), float(r["max_w_per_vcpu"]), r["match"], r["source"])
        )
    return tuple(rows)


def cpu_model_name(proc_root: str | Path = "/proc") -> str:
    """The first ``model name`` in cpuinfo ('' when unknown)."""
    try:
        text = (Path(proc_root) / "cpuinfo").read_text()
    except OSError:
        return ""
    for line in text.splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return ""


def from_table(name: str | None = None, *, cpu_model: str | None = None, cores: int | None = None) -> PowerModel:
    """A model from the table, by row ``name`` or by matching ``cpu_model``; ``average`` otherwise."""
    rows = table()
    by_name = {r.name: r for r in rows}
    n = cores if cores is not None else (os.cpu_count() or 1)
    if name is not None:
        if name not in by_name:
            raise UnknownNameError("power model", name, by_name, field="power_model")
        row = by_name[name]
        why = "by name"
    else:
        row = by_name["average"]
        why = "no table row matches this CPU"
        for r in rows:
            if r.match and cpu_model and re.search(r.match, cpu_model):
                row, why = r, f"matched {cpu_model!r}"
                break
        if row.name == "average" and cpu_model:
            why = f"no table row matches {cpu_model!r}"
    return PowerModel(
        name=f"table:{row.name} x{n} vCPU",
        idle_w=row.min_w_per_vcpu * n,
        active_w_per_core=row.max_w_per_vcpu - row.min_w_per_vcpu,
        cores=n,
        source=f"{row.source}; {why}",
    )


def load_power_model(path: str | Path) -> PowerModel:
    """Read a coefficients file (YAML or JSON); errors name the file and field."""
    data = load_mapping(path)
    f = parse_model(PowerModelFile, data, source=str(path))
    return PowerModel(f.name, f.idle_w, f.active_w_per_core, f.cores, f.source)


def save_power_model(model: PowerModel, path: str | Path, calibration: dict[str, Any] | None = None) -> None:
    import json

    data = model.to_json()
    if calibration is not None:
        data["calibration"] = calibration
    Path(path).write_text(json.dumps(data, indent=1) + "\n")


def resolve_power_model(
    spec: PowerModel | str | Path | None = None,
    *,
    idle_w: float | None = None,
    active_w_per_core: float | None = None,
    proc_root: str | Path = "/proc",
    cores: int | None = None,
) -> PowerModel:
    """Pick the model: explicit coefficients, a model object, a file path, a table row name, or auto.

    ``spec`` may be a :class:`PowerModel`, a path to a coefficients file, ``"table:<row>"`` or a bare row
    name; with nothing given the table row matching this machine's CPU (or ``average``) is used.
    """
    if idle_w is not None or active_w_per_core is not None:
        if idle_w is None or active_w_per_core is None:
            raise ConfigError("give both idle_w and active_w_per_core", field="power_model")
        return PowerModel("user", float(idle_w), float(active_w_per_core), cores, "given by the user")
    if isinstance(spec, PowerModel):
        return spec
    if spec is None:
        return from_table(cpu_model=cpu_model_name(proc_root), cores=cores)
    text = str(spec)
    if isinstance(spec, Path) or os.sep in text or text.endswith((".json", ".yaml", ".yml")):
        return load_power_model(text)
    return from_table(text.removeprefix("table:"), cores=cores)
