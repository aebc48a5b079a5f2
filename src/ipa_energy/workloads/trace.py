"""Workloads as per-second request rates: the four bundled IPA traces and user CSV traces.

A user trace is a CSV of per-second rates, one row per second: either a single column (header
optional) or several columns of which one is named ``rps`` or ``rate_rps``. Rates must be finite and
non-negative; a bad row raises :class:`ConfigError` naming the file and line. A trace with a ``t_s``
column may start with rows of negative ``t_s``: the load observed *before* the run (its
:attr:`Workload.history_rps`, as the bundled workloads carry), so the first decision sees real history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ipa_energy.errors import ConfigError, UnknownNameError

#: bundled workload name -> the IPA trace windows it was cut from (see workloads/data/README.md)
BUNDLED_WORKLOADS: dict[str, str] = {
    "bursty": "twitter trace [1301160:1302360]",
    "steady_low": "twitter trace [1299600:1300800]",
    "steady_high": "twitter trace [1768800:1769400] played twice",
    "fluctuating": "twitter trace [1301400:1302000] + [1308600:1309200]",
}

#: column names recognised as the rate column of a multi-column trace, in order of preference
RATE_COLUMNS = ("rate_rps", "rps")


@dataclass(frozen=True, eq=False)
class Workload:
    """Per-second arrival rates of one run.

    ``rates_rps[k]`` is the mean number of requests arriving in second ``[k, k+1)`` (already multiplied
    by ``load_scale``). The array is read-only.
    """

    name: str
    rates_rps: NDArray[np.float64]
    source: str
    load_scale: float = 1.0
    #: per-second rates observed *before* the run starts (oldest first; empty when unknown): what a real
    #: system's monitoring had seen at t = 0. Bundled workloads carry the 120 s of the Twitter trace
    #: before their window; a user trace has none (the run then starts from a stated initial rate).
    history_rps: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        for name in ("rates_rps", "history_rps"):
            rates = np.array(getattr(self, name), dtype=np.float64)  # a private copy
            rates.setflags(write=False)
            object.__setattr__(self, name, rates)

    @property
    def duration_s(self) -> int:
        return int(self.rates_rps.size)

    @property
    def total_requests(self) -> float:
        """Sum of the per-second rates: the exact count for integer rates, the Poisson mean otherwise."""
        return float(self.rates_rps.sum())

    def scaled(self, load_scale: float) -> Workload:
        """The same trace with every rate multiplied by ``load_scale`` (> 0)."""
        k = _check_scale(load_scale)
        return Workload(self.name, self.rates_rps * k, self.source, self.load_scale * k, self.history_rps * k)


def workload_names() -> tuple[str, ...]:
    """Names of the bundled workloads (the entries of :data:`ipa_energy.workloads.WORKLOADS`)."""
    return tuple(BUNDLED_WORKLOADS)


def load_workload(name_or_path: str | Path, *, load_scale: float = 1.0) -> Workload:
    """A registered workload by name (:data:`ipa_energy.workloads.WORKLOADS`), or a user trace from a CSV
    path; rates multiplied by ``load_scale``.

    Unknown names that are not existing files raise :class:`UnknownNameError` listing the registered names.
    """
    from ipa_energy.workloads.registry import WORKLOADS

    k = _check_scale(load_scale)
    key = str(name_or_path)
    if not isinstance(name_or_path, Path) and key in WORKLOADS:
        workload: Workload = WORKLOADS.create(key, field="workload", load_scale=k)
        return workload
    path = Path(name_or_path)
    if path.is_file():
        return load_csv_trace(path, load_scale=k)
    if isinstance(name_or_path, Path) or path.suffix or "/" in key or "\\" in key:
        raise ConfigError("trace file not found", source=str(path))
    raise UnknownNameError("workload (or a path to a CSV trace)", key, WORKLOADS.names(), field="workload")


def load_bundled(name: str, *, load_scale: float = 1.0) -> Workload:
    """One of the four bundled IPA workloads (``workloads/data/<name>.csv``, with its recorded history)."""
    k = _check_scale(load_scale)
    text = resources.files("ipa_energy.workloads").joinpath("data", f"{name}.csv").read_text()
    rates = parse_rates_csv(text, source=f"bundled workload {name}")
    source = f"bundled: {BUNDLED_WORKLOADS[name]}, rps = int(count/8)"
    return Workload(name, rates * k, source, k, _bundled_history(name) * k)


def load_csv_trace(path: str | Path, *, load_scale: float = 1.0) -> Workload:
    """A user trace: a CSV of per-second rates (see the module doc); named after the file's stem."""
    k = _check_scale(load_scale)
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read trace: {e}", source=str(path)) from None
    rates = parse_rates_csv(text, source=str(path))
    n_history = _history_rows(text, source=str(path))
    if n_history == rates.size:
        raise ConfigError("the trace has history rows (t_s < 0) but no run rows", field="t_s", source=str(path))
    return Workload(path.stem, rates[n_history:] * k, str(path), k, rates[:n_history] * k)


def _bundled_history(name: str) -> NDArray[np.float64]:
    """The 120 s before a bundled workload's window (``data/history.csv``, see data/README.md)."""
    text = resources.files("ipa_energy.workloads").joinpath("data", "history.csv").read_text()
    rows = [line.split(",") for line in text.splitlines()[1:] if line.startswith(f"{name},")]
    return np.array([float(r[2]) for r in sorted(rows, key=lambda r: int(r[1]))], dtype=np.float64)


def _history_rows(text: str, *, source: str) -> int:
    """How many leading rows of a trace with a ``t_s`` column are history (``t_s < 0``); 0 without one.

    History rows must come first: a negative ``t_s`` after a non-negative one is an error naming the line.
    """
    lines = text.lstrip("\ufeff").splitlines()
    header = [f.strip() for f in lines[0].split(",")] if lines else []
    if "t_s" not in header or len(header) < 2:
        return 0
    col = header.index("t_s")
    n_history, seen_run = 0, False
    for i, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue  # parse_rates_csv has already rejected blank lines inside the trace
        try:
            t = float(line.split(",")[col])
        except ValueError:
            raise ConfigError(f"non-numeric time {line.split(',')[col].strip()!r}", field="t_s",
                              source=f"{source}:{i}") from None
        if t < 0:
            if seen_run:
                raise ConfigError("history rows (t_s < 0) must come before the run", field="t_s",
                                  source=f"{source}:{i}")
            n_history += 1
        else:
            seen_run = True
    return n_history


def parse_rates_csv(text: str, *, source: str = "<trace>") -> NDArray[np.float64]:
    """Per-second rates from CSV text; errors name ``source`` and the 1-based line."""
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if lines:
        lines[0] = lines[0].lstrip("\ufeff")
    if not lines:
        raise ConfigError("empty trace: expected one rate per second", source=source)
    first = [f.strip() for f in lines[0].split(",")]
    has_header = not any(_is_number(f) for f in first)
    ncols = len(first)
    col, col_name, start = 0, "rate", 0
    if has_header:
        start = 1
        if ncols > 1:
            found = [c for c in RATE_COLUMNS if c in first]
            if not found:
                raise ConfigError(
                    f"a trace with several columns needs one named {' or '.join(RATE_COLUMNS)}; "
                    f"got {', '.join(first)}", source=f"{source}:1",
                )
            col_name = found[0]
            col = first.index(col_name)
        else:
            col_name = first[0] or col_name
    elif ncols > 1:
        raise ConfigError(
            f"a trace without a header must have one column, got {ncols}; "
            f"add a header naming the {' or '.join(RATE_COLUMNS)} column", source=f"{source}:1",
        )
    rates = np.empty(len(lines) - start, dtype=np.float64)
    for i in range(start, len(lines)):
        where = f"{source}:{i + 1}"
        fields = lines[i].split(",")
        if len(fields) != ncols:
            if not lines[i].strip():
                raise ConfigError("missing rate (empty line)", field=col_name, source=where)
            raise ConfigError(f"expected {ncols} fields, got {len(fields)}", source=where)
        raw = fields[col].strip()
        if not raw:
            raise ConfigError("missing rate", field=col_name, source=where)
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"non-numeric rate {raw!r}", field=col_name, source=where) from None
        if not math.isfinite(value):
            raise ConfigError(f"non-finite rate {raw!r}", field=col_name, source=where)
        if value < 0:
            raise ConfigError(f"negative rate {raw}", field=col_name, source=where)
        rates[i - start] = value
    if rates.size == 0:
        raise ConfigError("trace has a header but no rates", source=source)
    return rates


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _check_scale(load_scale: float) -> float:
    k = float(load_scale)
    if not math.isfinite(k) or k <= 0:
        raise ConfigError(f"must be a finite number > 0, got {load_scale!r}", field="load_scale")
    return k
