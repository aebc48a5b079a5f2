"""Report verdicts keyed on (pipeline, workload, predictor, system) and aggregated over seeds.

A verdict compares two systems *of the same case*: the same pipeline, workload and predictor (and every
other setting of the experiment). Summary rows are first grouped by :class:`RowKey` (the system is the
run's label, so a weights or simulator override is a system of its own) and each metric is reduced over
the group's seeds to mean, sample sd, min and max (:func:`seed_groups`). Verdicts compare means and quote
the spread; no verdict ever reads "the first matching row".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: the metrics reduced over seeds (every other column is not aggregated)
AGG_METRICS = ("sla_violation_pct", "drop_pct", "pas", "cost_cores", "energy_j", "mean_power_w")


@dataclass(frozen=True, order=True)
class RowKey:
    pipeline: str
    workload: str
    predictor: str
    system: str  # the run's label: the system plus any override

    @property
    def case(self) -> tuple[str, str, str]:
        return self.pipeline, self.workload, self.predictor


@dataclass(frozen=True)
class Spread:
    """One metric over the seeds of one :class:`RowKey`."""

    mean: float
    sd: float
    min: float
    max: float
    n: int

    def text(self, fmt: str = ".4g") -> str:
        """``mean`` for one seed; ``mean ± sd (min–max, n seeds)`` for several."""
        if self.n == 1:
            return format(self.mean, fmt)
        return (f"{self.mean:{fmt}} ± {self.sd:{fmt}} ({self.min:{fmt}}–{self.max:{fmt}}, {self.n} seeds)")


def spread(values: Iterable[float]) -> Spread:
    a = np.asarray(list(values), dtype=float)
    if a.size == 0:
        raise ValueError("no values to aggregate")
    return Spread(float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0, float(a.min()), float(a.max()),
                  int(a.size))


def row_key(row: Mapping[str, Any]) -> RowKey:
    return RowKey(str(row["pipeline"]), str(row["workload"]), str(row["predictor"]), str(row["label"]))


def seed_groups(
    rows: Sequence[Mapping[str, Any]], metrics: Sequence[str] = AGG_METRICS
) -> dict[RowKey, dict[str, Spread]]:
    """Rows grouped by :class:`RowKey`, each metric reduced over the group's seeds (in first-seen order).

    Two rows of one key with the same seed are an error: they would be averaged as if independent.
    """
    grouped: dict[RowKey, list[Mapping[str, Any]]] = {}
    for r in rows:
        grouped.setdefault(row_key(r), []).append(r)
    out = {}
    for key, sel in grouped.items():
        seeds = [r.get("seed") for r in sel]
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"{key}: several rows with the same seed {seeds}")
        out[key] = {m: spread(float(r[m]) for r in sel) for m in metrics if all(m in r for r in sel)}
    return out


def cases(groups: Mapping[RowKey, Any]) -> list[tuple[str, str, str]]:
    """The (pipeline, workload, predictor) cases, in first-seen order."""
    return list(dict.fromkeys(k.case for k in groups))


def lookup(groups: Mapping[RowKey, dict[str, Spread]], case: tuple[str, str, str], system: str
           ) -> dict[str, Spread] | None:
    return groups.get(RowKey(*case, system))


_PAIR_CLAIMS = (
    ("FA2-high draws more power than IPA", "fa2-high", "ipa", "mean_power_w", ">"),
    ("FA2-high costs more cores than FA2-low", "fa2-high", "fa2-low", "cost_cores", ">"),
    ("ipa-energy uses no more energy than ipa", "ipa-energy", "ipa", "energy_j", "<="),
)
EXTENSION_SYSTEMS = ("ipa", "fa2-low", "fa2-high", "rim-high")
IPA_SLA_LIMIT_PCT = 2.0


def claims(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The originals' claims per (pipeline, workload, predictor), on seed means, with mean ± sd evidence."""
    groups = seed_groups(rows)
    out: list[dict[str, Any]] = []
    for case in cases(groups):
        where = {"pipeline": case[0], "workload": case[1], "predictor": case[2]}
        for text, a, b, col, op in _PAIR_CLAIMS:
            ga, gb = lookup(groups, case, a), lookup(groups, case, b)
            if ga is None or gb is None:
                continue  # the experiment does not run both systems
            va, vb = ga[col].mean, gb[col].mean
            ok = va > vb if op == ">" else va <= vb * (1 + 1e-9)
            out.append({**where, "claim": text, "verdict": "holds" if ok else "DISAGREES",
                        "evidence": f"{col}: {a} {ga[col].text()} vs {b} {gb[col].text()}"})
        ext = [(s, g) for s in EXTENSION_SYSTEMS if (g := lookup(groups, case, s)) is not None]
        if len(ext) > 1 and ext[0][0] == "ipa":
            lowest = min(ext, key=lambda sg: sg[1]["energy_j"].mean)[0]
            out.append({**where, "claim": "IPA has the lowest energy of IPA, FA2-low, FA2-high, RIM-high (extension)",
                        "verdict": "holds" if lowest == "ipa" else "DISAGREES",
                        "evidence": ", ".join(f"{s} {g['energy_j'].text()} J" for s, g in ext)})
        ipa = lookup(groups, case, "ipa")
        if ipa is not None:
            v = ipa["sla_violation_pct"]
            out.append({**where, "claim": f"IPA's SLA violations <= {IPA_SLA_LIMIT_PCT:g} %",
                        "verdict": "holds" if v.mean <= IPA_SLA_LIMIT_PCT else "DISAGREES",
                        "evidence": f"violations {v.text('.3g')} % (dropped/unanswered only: "
                                    f"{ipa['drop_pct'].text('.3g')} %)"})
    return out


def energy_weight_held_out(
    rows: Sequence[Mapping[str, Any]], *, max_pas_loss: float, max_extra_violations_pp: float
) -> list[dict[str, Any]]:
    """``ipa-energy`` against ``ipa`` per case, on seed means: what the held-out weight does on load it
    was not chosen on, and whether it stays within the selection rule's bounds there."""
    groups = seed_groups(rows)
    out = []
    for case in cases(groups):
        e, i = lookup(groups, case, "ipa-energy"), lookup(groups, case, "ipa")
        if e is None or i is None:
            continue
        d_energy = 100.0 * (e["energy_j"].mean / i["energy_j"].mean - 1.0)
        d_pas = 100.0 * (e["pas"].mean / i["pas"].mean - 1.0)
        d_viol = e["sla_violation_pct"].mean - i["sla_violation_pct"].mean
        within = d_pas >= -100.0 * max_pas_loss - 1e-9 and d_viol <= max_extra_violations_pp + 1e-9
        out.append({
            "pipeline": case[0], "workload": case[1], "predictor": case[2], "seeds": e["energy_j"].n,
            # rounded for the table (a -7e-06 core change is a time-average artefact, not a saving)
            "energy_change_pct": _r(d_energy), "pas_change_pct": _r(d_pas), "violations_change_pp": _r(d_viol),
            "cost_change_cores": _r(e["cost_cores"].mean - i["cost_cores"].mean),
            "within_selection_bounds": "yes" if within else "NO",
        })
    return out


def _r(x: float) -> float:
    return round(x, 3) + 0.0  # + 0.0: no "-0"


__all__ = ["AGG_METRICS", "RowKey", "Spread", "cases", "claims", "energy_weight_held_out", "lookup", "row_key",
           "seed_groups", "spread"]
