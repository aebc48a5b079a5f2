"""The profile table: per-batch latency and energy of every (stage, variant, batch[, cores]).

One row per measured or estimated point. CSV columns (header required, order free)::

    stage, variant, batch, latency_s, energy_j, latency_p50_s, latency_p99_s, cores, source

``latency_s`` is the latency the optimizer plans with (IPA used the p99 of a single-replica run);
``energy_j`` is the dynamic energy of one whole batch (idle power is charged per allocated core
elsewhere). ``latency_p50_s``, ``latency_p99_s`` and ``cores`` may be empty. ``source`` says where the
number came from (``fragment:series-71``, ``paper:table3``, ``fit:...``, ``measured:...``).

The reference profiles shipped with the pipelines and the CSV that ``ipa-energy profile`` writes use
this same format, so a measured profile replaces a reference one without code changes.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ipa_energy.errors import ConfigError
from ipa_energy.optimize.problem import ProfilePoint, Stage, Variant

REQUIRED_COLUMNS = ("stage", "variant", "batch", "latency_s", "energy_j")
#: columns whose value may be empty: an energy_j that was not measured (``profile --meter none``) is a gap
GAP_COLUMNS = ("energy_j",)
OPTIONAL_COLUMNS = ("latency_p50_s", "latency_p99_s", "cores", "source")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


@dataclass(frozen=True)
class ProfileRow:
    """One profile point. Units: seconds per batch, joules per batch, cores per replica."""

    stage: str
    variant: str
    batch: int
    latency_s: float
    energy_j: float
    latency_p50_s: float | None = None
    latency_p99_s: float | None = None
    cores: int | None = None
    source: str = ""

    @property
    def key(self) -> tuple[str, str, int, int | None]:
        return (self.stage, self.variant, self.batch, self.cores)


@dataclass(frozen=True)
class VariantSpec:
    """What :meth:`ProfileTable.to_problem_stages` needs to know about a variant besides its profile."""

    name: str
    accuracy: float
    cores: int


@dataclass(frozen=True)
class ProfileTable:
    """An immutable set of profile rows, at most one per (stage, variant, batch, cores)."""

    rows: tuple[ProfileRow, ...]
    #: where the table came from (a file path or a description), used in error messages
    source: str = "<memory>"

    def __post_init__(self) -> None:
        seen: set[tuple[str, str, int, int | None]] = set()
        for i, r in enumerate(self.rows):
            _check_row(r, f"row {i + 1}", self.source)
            if r.key in seen:
                raise ConfigError(
                    f"duplicate profile row for stage {r.stage!r} variant {r.variant!r} batch {r.batch}"
                    f" cores {r.cores}", field=f"row {i + 1}", source=self.source,
                )
            seen.add(r.key)

    # ------------------------------------------------------------------ queries
    def stages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.stage for r in self.rows))

    def variants(self, stage: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.variant for r in self.rows if r.stage == stage))

    def rows_for(self, stage: str, variant: str, cores: int | None = None) -> tuple[ProfileRow, ...]:
        """Rows of one variant sorted by batch. With ``cores``, rows at that core count, else rows
        without a core count; without ``cores``, all rows (which must then be one per batch)."""
        rows = [r for r in self.rows if r.stage == stage and r.variant == variant]
        if cores is not None:
            exact = [r for r in rows if r.cores == cores]
            rows = exact if exact else [r for r in rows if r.cores is None]
        return tuple(sorted(rows, key=lambda r: (r.batch, r.cores or 0)))

    def batches(self, stage: str, variant: str, cores: int | None = None) -> tuple[int, ...]:
        return tuple(r.batch for r in self.rows_for(stage, variant, cores))

    def lookup(self, stage: str, variant: str, batch: int, cores: int | None = None) -> ProfileRow:
        """The row of (stage, variant, batch[, cores]); a clear ConfigError when absent or ambiguous."""
        rows = [r for r in self.rows_for(stage, variant, cores) if r.batch == batch]
        if not rows:
            have = self.batches(stage, variant, cores)
            where = f" at {cores} cores" if cores is not None else ""
            raise ConfigError(
                f"no profile row for stage {stage!r} variant {variant!r} batch {batch}{where}"
                f" (batches present: {list(have) or 'none'})", source=self.source,
            )
        if len(rows) > 1:
            raise ConfigError(
                f"stage {stage!r} variant {variant!r} batch {batch} is profiled at several core counts "
                f"{sorted(r.cores or 0 for r in rows)}; say which cores", source=self.source,
            )
        return rows[0]

    def latency_s(self, stage: str, variant: str, batch: int, cores: int | None = None) -> float:
        return self.lookup(stage, variant, batch, cores).latency_s

    def energy_j(self, stage: str, variant: str, batch: int, cores: int | None = None) -> float:
        return self.lookup(stage, variant, batch, cores).energy_j

    # ------------------------------------------------------------------ to the optimizer
    def to_problem_stages(
        self,
        stages: Mapping[str, Sequence[VariantSpec]],
        *,
        batches: Iterable[int] | None = None,
        max_batch: int | None = None,
        latency_factor: float = 1.0,
    ) -> tuple[Stage, ...]:
        """Build the optimizer's stages (in the mapping's order) from this table.

        Each variant gets the rows at its own core count (or rows without cores). ``batches`` keeps
        only those batch sizes, ``max_batch`` drops larger ones, ``latency_factor`` multiplies every
        latency (a planning margin such as IPA's ``latency_margin``; energy is not scaled). A variant
        left with no rows is a ConfigError naming it and this table's source.
        """
        if not (latency_factor > 0 and math.isfinite(latency_factor)):
            raise ConfigError(f"must be a positive number (got {latency_factor!r})", field="latency_factor")
        keep = None if batches is None else set(batches)
        out: list[Stage] = []
        for stage_name, specs in stages.items():
            variants: list[Variant] = []
            for spec in specs:
                rows = self.rows_for(stage_name, spec.name, spec.cores)
                if spec.cores is not None and not rows:
                    other = sorted({r.cores for r in self.rows_for(stage_name, spec.name) if r.cores})
                    if other:
                        raise ConfigError(
                            f"stage {stage_name!r} variant {spec.name!r} is profiled at cores {other} "
                            f"but the pipeline runs it on {spec.cores} cores per replica",
                            source=self.source,
                        )
                n_before = len(rows)
                rows = tuple(
                    r for r in rows
                    if (keep is None or r.batch in keep) and (max_batch is None or r.batch <= max_batch)
                )
                if not rows:
                    why = "no rows" if n_before == 0 else "no rows within the batch limits"
                    raise ConfigError(
                        f"profile has {why} for stage {stage_name!r} variant {spec.name!r}",
                        source=self.source,
                    )
                gap = next((r for r in rows if math.isnan(r.energy_j)), None)
                if gap is not None:
                    raise ConfigError(
                        f"stage {stage_name!r} variant {spec.name!r} batch {gap.batch}: energy_j is a gap (profiled "
                        "without a meter); profile again with --meter auto|model|rapl|perf to plan with it",
                        field="energy_j", source=self.source,
                    )
                points = tuple(ProfilePoint(r.batch, r.latency_s * latency_factor, r.energy_j) for r in rows)
                variants.append(Variant(spec.name, spec.accuracy, spec.cores, points))
            out.append(Stage(stage_name, tuple(variants)))
        return tuple(out)


# ---------------------------------------------------------------------- validation
def _check_row(r: ProfileRow, where: str, source: str, *, energy_gap: bool = False) -> None:
    def bad(field: str, msg: str) -> ConfigError:
        return ConfigError(msg, field=f"{where}: {field}", source=source)

    if not r.stage:
        raise bad("stage", "must not be empty")
    if not r.variant:
        raise bad("variant", "must not be empty")
    if r.batch < 1:
        raise bad("batch", f"must be a positive integer (got {r.batch})")
    if not (math.isfinite(r.latency_s) and r.latency_s > 0):
        raise bad("latency_s", f"must be a positive number of seconds (got {r.latency_s})")
    if not energy_gap and not (math.isfinite(r.energy_j) and r.energy_j >= 0):
        raise bad("energy_j", f"must be a non-negative number of joules (got {r.energy_j})")
    for name in ("latency_p50_s", "latency_p99_s"):
        v = getattr(r, name)
        if v is not None and not (math.isfinite(v) and v > 0):
            raise bad(name, f"must be empty or a positive number of seconds (got {v})")
    if r.cores is not None and r.cores < 1:
        raise bad("cores", f"must be empty or a positive integer (got {r.cores})")


def _parse_int(text: str, field: str, where: str, source: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"not a number: {text!r}", field=f"{where}: {field}", source=source) from None
    if not value.is_integer():
        raise ConfigError(f"must be an integer (got {text!r})", field=f"{where}: {field}", source=source)
    return int(value)


def _parse_float(text: str, field: str, where: str, source: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"not a number: {text!r}", field=f"{where}: {field}", source=source) from None


def parse_profile_csv(text: str, source: str = "<string>") -> ProfileTable:
    """Parse profile CSV text; every error names the source, the line and the column."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames
    if not header:
        raise ConfigError("empty profile (no header line)", source=source)
    header = [h.strip() for h in header]
    reader.fieldnames = header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ConfigError(f"missing column(s) {missing}; header is {header}", field="line 1", source=source)
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise ConfigError(f"unknown column(s) {unknown}; valid: {list(COLUMNS)}", field="line 1", source=source)
    rows: list[ProfileRow] = []
    seen: dict[tuple[str, str, int, int | None], int] = {}
    for rec in reader:
        line = reader.line_num
        where = f"line {line}"
        if None in rec:
            raise ConfigError("more fields than header columns", field=where, source=source)
        vals = {k: (v or "").strip() for k, v in rec.items()}
        for c in REQUIRED_COLUMNS:
            if vals.get(c, "") == "" and c not in GAP_COLUMNS:
                raise ConfigError("empty value", field=f"{where}: {c}", source=source)

        def opt_float(c: str, vals: dict[str, str] = vals, where: str = where) -> float | None:
            return _parse_float(vals[c], c, where, source) if vals.get(c, "") else None

        cores_text = vals.get("cores", "")
        row = ProfileRow(
            stage=vals["stage"],
            variant=vals["variant"],
            batch=_parse_int(vals["batch"], "batch", where, source),
            latency_s=_parse_float(vals["latency_s"], "latency_s", where, source),
            energy_j=_parse_float(vals["energy_j"], "energy_j", where, source) if vals["energy_j"] else math.nan,
            latency_p50_s=opt_float("latency_p50_s"),
            latency_p99_s=opt_float("latency_p99_s"),
            cores=_parse_int(cores_text, "cores", where, source) if cores_text else None,
            source=vals.get("source", ""),
        )
        _check_row(row, where, source, energy_gap=vals["energy_j"] == "")
        if row.key in seen:
            raise ConfigError(
                f"duplicate of line {seen[row.key]} (same stage, variant, batch and cores)",
                field=where, source=source,
            )
        seen[row.key] = line
        rows.append(row)
    if not rows:
        raise ConfigError("profile has a header but no rows", source=source)
    return ProfileTable(tuple(rows), source=source)


def load_profile(path: str | Path) -> ProfileTable:
    """Read a profile CSV file (see the module docstring for the columns)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")  # tolerate the byte-order mark spreadsheets write
    except FileNotFoundError:
        raise ConfigError("profile file not found", source=str(p)) from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"not UTF-8 text: {e.reason} at byte {e.start}", source=str(p)) from None
    except OSError as e:
        raise ConfigError(f"cannot read profile: {e.strerror}", source=str(p)) from None
    return parse_profile_csv(text, source=str(p))


def _fmt(x: float | int | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):  # a gap is written empty, never as 0
        return ""
    if isinstance(x, int):
        return str(x)
    return repr(float(x))


def profile_to_csv(table: ProfileTable) -> str:
    """Serialise a table; ``parse_profile_csv(profile_to_csv(t))`` gives back equal rows."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in table.rows:
        w.writerow([
            r.stage, r.variant, r.batch, _fmt(r.latency_s), _fmt(r.energy_j), _fmt(r.latency_p50_s),
            _fmt(r.latency_p99_s), _fmt(r.cores), r.source,
        ])
    return buf.getvalue()


def save_profile(table: ProfileTable, path: str | Path) -> None:
    """Write a table as CSV (the format :func:`load_profile` reads)."""
    Path(path).write_text(profile_to_csv(table))
