"""A step function of time read from a two-column CSV: the shape of carbon traces and power-cap schedules.

The value of row i holds from its ``t_s`` until the next row's; before the first row the first value
holds, after the last row the last value holds. Rows may come at any step (hourly, per minute, irregular).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ipa_energy.errors import ConfigError


@dataclass(frozen=True, eq=False)
class StepSeries:
    """Times (s, strictly increasing) and the value that starts at each."""

    t_s: NDArray[np.float64]
    values: NDArray[np.float64]

    def __post_init__(self) -> None:
        if len(self.t_s) == 0 or len(self.t_s) != len(self.values):
            raise ConfigError("a step series needs one value per time and at least one row")
        if np.any(np.diff(self.t_s) <= 0):
            raise ConfigError("times must be strictly increasing")

    def at(self, t_s: float) -> float:
        i = int(np.searchsorted(self.t_s, t_s, side="right")) - 1
        return float(self.values[max(0, i)])

    def at_many(self, t_s: ArrayLike) -> NDArray[np.float64]:
        idx = np.searchsorted(self.t_s, np.asarray(t_s, dtype=np.float64), side="right") - 1
        out: NDArray[np.float64] = self.values[np.clip(idx, 0, None)]
        return out

    def min_over(self, t0_s: float, t1_s: float) -> float:
        """The smallest value in force at any moment of ``[t0_s, t1_s)`` (the value at t0_s if empty)."""
        start = self.at(t0_s)
        inside = self.values[(self.t_s > t0_s) & (self.t_s < t1_s)]
        return float(min(start, float(inside.min()))) if len(inside) else start


def read_step_csv(path: str | Path, value_column: str, *, unit: str, positive: bool = False) -> StepSeries:
    """Read ``t_s,<value_column>`` rows, validated with line numbers.

    Errors (one line, naming file, line and column): a missing file or header, a broken line (wrong
    number of fields, not a number), a NaN or infinite value, a negative value (or a non-positive one with
    ``positive``), times that do not strictly increase, no data rows. Blank lines and ``#`` comments are
    skipped.
    """
    p = Path(path)
    name = str(p)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("no such file", source=name) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read: {e}", source=name) from None
    rows = [(n, r) for n, r in enumerate(csv.reader(text.splitlines()), start=1) if r and not r[0].startswith("#")]
    rows = [(n, r) for n, r in rows if any(c.strip() for c in r)]
    if not rows:
        raise ConfigError(f"empty: expected a header 't_s,{value_column}' and rows", source=name)
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    if header != ["t_s", value_column]:
        raise ConfigError(
            f"line {header_line}: header must be 't_s,{value_column}' (got {','.join(header)!r})", source=name
        )
    times: list[float] = []
    values: list[float] = []
    for line, row in rows[1:]:
        if len(row) != 2:
            raise ConfigError(f"line {line}: expected 2 fields t_s,{value_column} (got {len(row)})", source=name)
        parsed = []
        for col, cell in zip(header, row, strict=True):
            try:
                x = float(cell)
            except ValueError:
                raise ConfigError(f"line {line}: {col}: not a number: {cell.strip()!r}", source=name) from None
            if not math.isfinite(x):
                raise ConfigError(f"line {line}: {col}: must be finite (got {cell.strip()})", source=name)
            parsed.append(x)
        t, v = parsed
        if t < 0:
            raise ConfigError(f"line {line}: t_s: must be >= 0 (got {t:g})", source=name)
        if v < 0 or (positive and v == 0):
            need = "> 0" if positive else ">= 0"
            raise ConfigError(f"line {line}: {value_column}: must be {need} {unit} (got {v:g})", source=name)
        if times and t <= times[-1]:
            raise ConfigError(
                f"line {line}: t_s: must increase strictly (got {t:g} after {times[-1]:g})", source=name
            )
        times.append(t)
        values.append(v)
    if not times:
        raise ConfigError(f"no data rows after the header 't_s,{value_column}'", source=name)
    return StepSeries(np.asarray(times, dtype=np.float64), np.asarray(values, dtype=np.float64))
