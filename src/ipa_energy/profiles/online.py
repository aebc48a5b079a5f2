"""Online profiles: the offline profile as a prior, corrected by what the backends observe as they serve.

Every served batch is one :class:`Observation` of one option (stage, variant, batch, cores): its latency
and, where the backend's meter attributes it, its dynamic energy (with the meter's source label).
:class:`OnlineProfile` keeps, per option, the most recent :attr:`LearnParams.window` observations and
estimates two multiplicative factors against the prior row, in log space:

    latency factor f_l = exp(median of {log(latency / prior reference)} over the window
                              together with ``prior_weight`` pseudo-observations at the anchor)
    energy factor  f_e = the same with log(energy_j / prior energy_j)

* **Robust.** A median, not a mean: one 10x spike among the window (or against the prior's
  pseudo-observations, when it is the very first observation) moves nothing; the window forgets old
  behaviour, so a drift is followed within ``window`` batches.
* **Prior = offline profile.** With no observation an option keeps its prior row, corrected by its
  *family* (the anchor): latency by the factor pooled over the same variant's other batch sizes, else
  over the whole stage (contention, a slower machine or a frequency cap slow every variant of a stage
  alike); energy only by the same variant's factor (one variant drawing more power says nothing about
  another's). A family's factor is itself a median with ``prior_weight`` pseudo-observations at 1.
* **Uncertainty** of a factor, in log units: ``scale / sqrt(prior_weight + n)``, where ``scale**2``
  pools ``prior_weight`` pseudo-observations of spread ``prior_sigma_log`` with the window's robust
  spread (1.4826 x MAD, at least ``min_scale_log``; none while n < 2) over its n observations. It
  shrinks with observations, down to what a full window gives. An option never observed keeps
  ``prior_sigma_log``.
* **Safe use (the planning rule).** A factor above 1 (slower, or more energy) is planned with at once:
  a learned latency that would break the SLA is a safety fact. A factor below 1 (faster, or an energy
  saving) is planned with only once it rests on ``confirm_n`` observations; until then the prior stands.

The latency an observation is compared with depends on what its backend reports (``latency_stat``):
the simulator serves a row's ``latency_s`` for every batch ("latency_s"); a real backend's batch latency
is one sample of a distribution whose typical value is the row's ``latency_p50_s`` ("latency_p50_s"; for
rows without one, ``latency_s / P99_OVER_MEAN_LATENCY`` of the power model). Either way the factor
multiplies the row's ``latency_s`` (and its percentiles), so a learned row keeps the prior's convention.
Batches of a size with no prior row (a batch that timed out while filling) are counted, not used.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from ipa_energy.errors import ConfigError
from ipa_energy.profiles.power_model import P99_OVER_MEAN_LATENCY
from ipa_energy.profiles.table import ProfileRow, ProfileTable

LatencyStat = Literal["latency_s", "latency_p50_s"]
OptionKey = tuple[str, str, int, int | None]
#: where an option's estimate comes from
Basis = Literal["observed", "variant", "stage", "prior"]


@dataclass(frozen=True)
class Observation:
    """One served batch. Units: seconds and joules for the whole batch; ``t_s`` is pipeline time."""

    stage: str
    variant: str
    batch: int
    cores: int | None
    latency_s: float
    #: dynamic energy of the batch; None where the backend's meter gives none for it
    energy_j: float | None = None
    #: the meter's source label ("model (estimated ...)", "rapl", ...)
    energy_source: str = ""
    #: which profile column one batch's latency is comparable with (see the module doc)
    latency_stat: LatencyStat = "latency_s"
    t_s: float = 0.0


@dataclass(frozen=True)
class LearnParams:
    """Settings of the estimator (defaults stated in ``docs/learning.md``)."""

    #: pseudo-observations of the prior (or family anchor) in every median
    prior_weight: int = 2
    #: most recent observations kept per option
    window: int = 64
    #: observations an optimistic move (faster, less energy) needs before it is planned with
    confirm_n: int = 20
    #: spread (log units) of the prior: an unobserved option's uncertainty, pooled into observed ones
    prior_sigma_log: float = 0.25
    #: floor of the window's robust spread (log units)
    min_scale_log: float = 0.01

    def __post_init__(self) -> None:
        for name in ("prior_weight", "window", "confirm_n"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < (0 if name != "window" else 1):
                raise ConfigError(f"must be a non-negative integer (got {v!r})", field=name)
        for name in ("prior_sigma_log", "min_scale_log"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise ConfigError(f"must be a non-negative number (got {v!r})", field=name)


@dataclass(frozen=True)
class Factor:
    """A learned multiplicative factor against the prior, with what it rests on."""

    value: float
    #: observations it rests on (of the option itself, else of its family)
    n: int
    #: standard error of log(value)
    se_log: float
    basis: Basis

    def planned(self, confirm_n: int) -> float:
        """The factor the optimizer plans with: pessimistic at once, optimistic once confirmed."""
        return self.value if self.value >= 1.0 or self.n >= confirm_n else 1.0


@dataclass(frozen=True)
class OptionEstimate:
    """The estimate of one option: learned and planned latency/energy per batch, and their factors."""

    key: OptionKey
    prior: ProfileRow
    latency: Factor
    energy: Factor
    #: observations of this option itself
    n: int
    latency_s: float
    energy_j: float
    planned_latency_s: float
    planned_energy_j: float
    energy_sources: tuple[str, ...] = ()


@dataclass
class _Option:
    lat_log: deque[float]
    en_log: deque[float]
    n: int = 0
    sources: Counter[str] = field(default_factory=Counter)


class OnlineProfile:
    """The current profile of a run: ``prior`` corrected by observations (see the module doc)."""

    def __init__(self, prior: ProfileTable, params: LearnParams = LearnParams()) -> None:
        self.prior = prior
        self.params = params
        self._rows: dict[OptionKey, ProfileRow] = {r.key: r for r in prior.rows}
        self._opts: dict[OptionKey, _Option] = {}
        self._resolve: dict[tuple[str, str, int, int | None], OptionKey | None] = {}
        #: observations used / of a batch size or option the prior has no row for
        self.observed = 0
        self.unmatched = 0
        self._cache: tuple[int, dict[OptionKey, OptionEstimate]] | None = None

    # ------------------------------------------------------------------ input
    def observe(self, obs: Observation) -> bool:
        """Take one observation; False (and counted in :attr:`unmatched`) when no prior row matches."""
        k = (obs.stage, obs.variant, obs.batch, obs.cores)
        if k in self._resolve:
            key = self._resolve[k]
        else:
            key = self._resolve[k] = self._match(k)
        if key is None or not (math.isfinite(obs.latency_s) and obs.latency_s > 0):
            self.unmatched += 1
            return False
        row = self._rows[key]
        opt = self._opts.get(key)
        if opt is None:
            w = self.params.window
            opt = self._opts[key] = _Option(deque(maxlen=w), deque(maxlen=w))
        opt.lat_log.append(math.log(obs.latency_s / _reference_latency_s(row, obs.latency_stat)))
        e = obs.energy_j
        if e is not None and math.isfinite(e) and e >= 0 and math.isfinite(row.energy_j) and row.energy_j > 0:
            # a batch metered at 0 J is read as 1/1000 of its prior (a log needs a positive number)
            opt.en_log.append(math.log(max(e, 1e-3 * row.energy_j) / row.energy_j))
            if obs.energy_source:
                opt.sources[obs.energy_source] += 1
        opt.n += 1
        self.observed += 1
        return True

    def observe_all(self, observations: Iterable[Observation]) -> int:
        """Take many observations; returns how many were used."""
        return sum(self.observe(o) for o in observations)

    def _match(self, k: tuple[str, str, int, int | None]) -> OptionKey | None:
        if k in self._rows:
            return k
        loose = (k[0], k[1], k[2], None)
        return loose if loose in self._rows else None

    # ------------------------------------------------------------------ estimates
    def options_observed(self) -> tuple[OptionKey, ...]:
        return tuple(self._opts)

    def estimate(self, key: OptionKey) -> OptionEstimate:
        """The estimate of the option with prior row ``key`` (``ProfileRow.key``)."""
        return self._estimates()[key]

    def estimates(self) -> dict[OptionKey, OptionEstimate]:
        """Every prior row's estimate, in the prior's row order."""
        return self._estimates()

    def _estimates(self) -> dict[OptionKey, OptionEstimate]:
        if self._cache is not None and self._cache[0] == self.observed:
            return self._cache[1]
        out = self._compute()
        self._cache = (self.observed, out)
        return out

    def _compute(self) -> dict[OptionKey, OptionEstimate]:
        p = self.params
        stage_lat: dict[str, Factor] = {}
        var_lat: dict[tuple[str, str, int | None], Factor] = {}
        var_en: dict[tuple[str, str, int | None], Factor] = {}
        by_stage: dict[str, list[float]] = {}
        by_var_lat: dict[tuple[str, str, int | None], list[float]] = {}
        by_var_en: dict[tuple[str, str, int | None], list[float]] = {}
        for key, opt in self._opts.items():
            fam = (key[0], key[1], key[3])
            by_stage.setdefault(key[0], []).extend(opt.lat_log)
            by_var_lat.setdefault(fam, []).extend(opt.lat_log)
            by_var_en.setdefault(fam, []).extend(opt.en_log)
        for s, vals in by_stage.items():
            stage_lat[s] = self._factor(vals, 0.0, "stage")
        for fam, vals in by_var_lat.items():
            var_lat[fam] = self._factor(vals, 0.0, "variant")
        for fam, vals in by_var_en.items():
            if vals:
                var_en[fam] = self._factor(vals, 0.0, "variant")
        none = Factor(1.0, 0, p.prior_sigma_log, "prior")
        out: dict[OptionKey, OptionEstimate] = {}
        for key, row in self._rows.items():
            fam = (key[0], key[1], key[3])
            lat_anchor = var_lat.get(fam) or stage_lat.get(key[0]) or none
            en_anchor = var_en.get(fam) or none
            found = self._opts.get(key)
            n = found.n if found is not None else 0
            lat = self._own(found.lat_log if found else (), lat_anchor)
            en = self._own(found.en_log if found else (), en_anchor)
            energy = row.energy_j * en.value if math.isfinite(row.energy_j) else row.energy_j
            planned_energy = row.energy_j * en.planned(p.confirm_n) if math.isfinite(row.energy_j) else energy
            out[key] = OptionEstimate(
                key=key, prior=row, latency=lat, energy=en, n=n,
                latency_s=row.latency_s * lat.value, energy_j=energy,
                planned_latency_s=row.latency_s * lat.planned(p.confirm_n), planned_energy_j=planned_energy,
                energy_sources=tuple(sorted(found.sources)) if found is not None else (),
            )
        return out

    def _own(self, window: Iterable[float], anchor: Factor) -> Factor:
        vals = list(window)
        if not vals:
            return anchor
        f = self._factor(vals, math.log(anchor.value), "observed")
        # an observed option's anchor is its variant's pooled factor, which includes its own observations
        return replace(f, n=max(len(vals), anchor.n))

    def _factor(self, vals: list[float], anchor_log: float, basis: Basis) -> Factor:
        p = self.params
        med = _median([*vals, *([anchor_log] * p.prior_weight)])
        if abs(med) < 1e-9:  # float noise of a re-measured time (end - start), not a learned change
            med = 0.0
        n = len(vals)
        spread = 0.0
        if n >= 2:
            centre = _median(vals)
            spread = max(p.min_scale_log, 1.4826 * _median([abs(v - centre) for v in vals]))
        # the prior's spread counts as prior_weight pseudo-observations (a few samples' MAD is luck)
        w0 = max(p.prior_weight, 1)
        scale = math.sqrt((w0 * p.prior_sigma_log**2 + n * spread**2) / (w0 + n))
        return Factor(math.exp(med), n, scale / math.sqrt(w0 + n), basis)

    # ------------------------------------------------------------------ tables
    def planning_table(self, label: str = "") -> ProfileTable:
        """The profile the optimizer plans with now: every prior row, with planned latency and energy.

        ``source`` of an observed row says ``learned[...]`` (its count, standard errors and the meters
        of its energy), of a row corrected by its family ``prior*<variant|stage>-factor``, then the
        prior's own source; rows the learning did not touch keep the prior's source.
        """
        rows = []
        for est in self._estimates().values():
            r = est.prior
            fl = est.planned_latency_s / r.latency_s
            if est.n == 0 and fl == 1.0 and _same(est.planned_energy_j, r.energy_j):
                rows.append(r)
                continue
            rows.append(replace(
                r, latency_s=est.planned_latency_s, energy_j=est.planned_energy_j,
                latency_p50_s=None if r.latency_p50_s is None else r.latency_p50_s * fl,
                latency_p99_s=None if r.latency_p99_s is None else r.latency_p99_s * fl,
                source=_source(est, label),
            ))
        return ProfileTable(tuple(rows), source=f"learned from {self.prior.source}")

    def profile_error(self, world: ProfileTable) -> ProfileError | None:
        """Mean relative error of the learned latency and energy against ``world``, over observed options."""
        lat: list[float] = []
        en: list[float] = []
        ests = self._estimates()
        for key in self._opts:
            est = ests[key]
            try:
                w = world.lookup(key[0], key[1], key[2], key[3])
            except ConfigError:
                continue
            lat.append(abs(est.latency_s - w.latency_s) / w.latency_s)
            if math.isfinite(w.energy_j) and w.energy_j > 0 and math.isfinite(est.energy_j):
                en.append(abs(est.energy_j - w.energy_j) / w.energy_j)
        if not lat:
            return None
        lat_err = float(np.mean(lat))
        en_err = float(np.mean(en)) if en else None
        both = lat + en
        return ProfileError(float(np.mean(both)), lat_err, en_err, len(lat))


@dataclass(frozen=True)
class ProfileError:
    """Mean relative errors (fractions) of learned rows against a known world profile."""

    mean: float
    latency: float
    energy: float | None
    options: int


def _median(vals: list[float]) -> float:
    """The median (mean of the middle two for an even count); plain Python: the lists are short."""
    xs = sorted(vals)
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else 0.5 * (xs[m - 1] + xs[m])


def _reference_latency_s(row: ProfileRow, stat: LatencyStat) -> float:
    if stat == "latency_s":
        return row.latency_s
    if row.latency_p50_s is not None:
        return row.latency_p50_s
    return row.latency_s / P99_OVER_MEAN_LATENCY


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _source(est: OptionEstimate, label: str) -> str:
    prior = est.prior.source
    if est.n:
        meters = "+".join(est.energy_sources) or "none"
        what = (f"learned[{label + ' ' if label else ''}n={est.n} se_log_latency={est.latency.se_log:.3g} "
                f"se_log_energy={est.energy.se_log:.3g} energy={meters}]")
    else:
        what = f"prior*{est.latency.basis}-factor"
    return f"{what} {prior}".strip()


__all__ = [
    "Factor", "LatencyStat", "LearnParams", "Observation", "OnlineProfile", "OptionEstimate", "ProfileError",
]
