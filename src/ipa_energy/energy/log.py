"""The per-second energy log: a CSV written one sample at a time and flushed, so a killed run leaves a
valid log up to its last complete sample.

Columns (one row per zone per sample)::

    t_s,interval_s,zone,domain,counted,energy_j,power_w,source,quality,model

``t_s`` is the end of the interval in seconds since the log started; ``energy_j``/``power_w`` are empty
for a gap (never 0). ``counted`` is 1 when the zone is part of the meter's total. ``model`` names the
power model for estimates. :func:`ipa_energy.energy.formats.parse_log` reads it back
(format ``ipa-energy-log``); a truncated last line is skipped with a note.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ipa_energy.energy.base import EnergyMeter
from ipa_energy.energy.sampler import Sample
from ipa_energy.errors import ConfigError

COLUMNS = ("t_s", "interval_s", "zone", "domain", "counted", "energy_j", "power_w", "source", "quality", "model")


class EnergyLog:
    """Appends samples of ``meter`` to ``path``; use ``log.write`` as a Sampler's ``on_sample``."""

    def __init__(self, path: str | Path, meter: EnergyMeter, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self._zones = meter.zones()
        self._fsync = fsync
        self._t0: float | None = None
        try:
            self._f: TextIO | None = open(self.path, "w", newline="")  # noqa: SIM115 - closed in close()
        except OSError as e:
            raise ConfigError(f"cannot write the energy log: {e.strerror}", source=str(self.path)) from None
        self._write_rows([COLUMNS])
        self.rows = 0

    def _write_rows(self, rows: Sequence[Sequence[object]]) -> None:
        if self._f is None:
            raise ConfigError("energy log is closed", source=str(self.path))
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        self._f.write(buf.getvalue())  # one write per sample: a kill leaves whole samples
        self._f.flush()
        if self._fsync:
            os.fsync(self._f.fileno())

    def write(self, sample: Sample) -> None:
        if self._t0 is None:
            self._t0 = sample.t_s - sample.interval_s
        t = sample.t_s - self._t0
        rows: list[list[object]] = []
        for z in self._zones:
            e = sample.zones_j.get(z.name)
            p = e / sample.interval_s if e is not None and sample.interval_s > 0 else None
            rows.append([
                f"{t:.6f}", f"{sample.interval_s:.6f}", z.name, z.domain, int(z.counted),
                "" if e is None else f"{e:.6f}", "" if p is None else f"{p:.6f}",
                sample.source, sample.quality, sample.model or "",
            ])
        self._write_rows(rows)
        self.rows += len(rows)

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None

    def __enter__(self) -> EnergyLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
