"""Build the shipped pipelines (YAML) and their reference profiles (CSV) from the IPA reference data.

    python scripts/build_reference_profiles.py [--data-dir DIR] [--out DIR] [--check]

Reads (under DIR, the ``data/ipa`` folder described by its README):
  models/variants.csv                              variants, accuracies, params, base cores, FA2 sets
  profiles/profile_fragments_from_notebooks.csv    surviving profiling measurements (p99/avg latency)
  profiles/paper_fig2_resnet_b1_1core.csv, paper_table2_resnet_vs_cores.csv, paper_table3_video_options.csv
  results/paper_table6_slas_seconds.csv            end-to-end SLAs
  configs/paper_runs_from_revision_notebooks.csv   weights, drop limits, batching caps, margins, RIM replicas

Writes ``<name>.yaml`` and ``<name>.profile.csv`` for the five pipelines, and README.md, into OUT (default: the package
data folder). ``--check`` writes nothing and exits 1 if the files on disk differ from a fresh build.

The method (also in docs/profiles.md and the data README):
 1. Observations: every fragment row with a latency, deduplicated; p99 where printed, else the average
    x the median p99/avg ratio of the rows that print both. A batch-b row counts only if b == 1 or
    b <= load * BATCH_FILL_S (so the batch could fill within half of IPA's 1 s batching window).
    Paper rows (Fig. 2, Tables 2 and 3) are added unless a fragment already holds the same number.
 2. Cores: latency ~ min(cores, 8)^-k; k is fitted (log-log, one intercept per measurement group) on
    groups measured at several core counts <= 8. Beyond 8 cores the fragments show no further gain.
 3. Batch: per variant, l(b) = a + s*b at the variant's cores (cores per replica = the paper's base
    allocation), non-negative least squares on the core-normalised observations; per batch size only
    the observations at the core count nearest the target are used.
    Variants observed at batch 1 only take the slope share rho = s / (a + s) of their stage's fitted
    variants, else of their model family (CNN / transformer).
 4. Variants never observed: interpolated in log(latency) vs log(params) between the nearest observed
    variants of the stage (at the target's cores), or, for text encoders whose parameter counts are
    dominated by embeddings, scaled from a named reference by encoder FLOPs (layers x hidden^2).
 5. Energy per batch from the stated power model in ipa_energy.profiles.power_model.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.optimize import nnls

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ipa_energy.profiles.power_model import (  # noqa: E402
    DYNAMIC_POWER_W_PER_CORE,
    P99_OVER_MEAN_LATENCY,
    batch_energy_j,
)
from ipa_energy.profiles.table import ProfileRow, ProfileTable, profile_to_csv  # noqa: E402

BATCHES = (1, 2, 4, 8, 16, 32, 64)
PIPELINES = ("video", "audio-qa", "audio-sent", "sum-qa", "nlp")
#: above this many cores the fragments show no further speed-up (series 98, 99, 100)
CORE_SATURATION = 8
#: a batch-b fragment row counts only when b <= load * BATCH_FILL_S (or b == 1)
BATCH_FILL_S = 0.5
CNN_PREFIXES = ("yolov5", "resnet")

DESCRIPTIONS = {
    "video": "Object detection (YOLOv5) then image classification of the crops (ResNet); IPA's video pipeline.",
    "audio-qa": "Speech to text (Speech2Text) then extractive question answering (RoBERTa); IPA's audio-qa.",
    "audio-sent": "Speech to text (Speech2Text) then sentiment analysis (DistilBERT/BERT/RoBERTa); IPA's audio-sent.",
    "sum-qa": "Summarisation (DistilBART) then extractive question answering (RoBERTa); IPA's sum-qa.",
    "nlp": "Language identification, French-to-English translation, then summarisation; IPA's nlp.",
}

#: Variants without any measurement whose parameter counts mislead (embedding tables): scale a
#: reference variant's fitted latency by encoder FLOPs per token, layers x hidden^2, same input.
ARCH_RATIO = {
    "deepset-roberta-base-squad2": (
        "deepset-xlm-roberta-base-squad2", 1.0,
        "RoBERTa-base encoder (12 x 768) = XLM-R base encoder; XLM-R's extra parameters are embeddings",
    ),
    "Souvikcmsa-SentimentAnalysisDistillBERT": (
        "deepset-xlm-roberta-base-squad2", 0.5, "DistilBERT (6 x 768) vs a 12 x 768 encoder",
    ),
    "distilbert-base-uncased-finetuned-sst-2-english": (
        "deepset-xlm-roberta-base-squad2", 0.5, "DistilBERT (6 x 768) vs a 12 x 768 encoder",
    ),
    "Souvikcmsa-BERT_sentiment_analysis": (
        "deepset-xlm-roberta-base-squad2", 1.0, "BERT-base (12 x 768) vs a 12 x 768 encoder",
    ),
    "Souvikcmsa-Roberta_Sentiment_Analysis": (
        "deepset-xlm-roberta-base-squad2", round(24 * 1024**2 / (12 * 768**2), 3),
        "RoBERTa-large (24 x 1024) vs a 12 x 768 encoder",
    ),
}


README_HEAD = """# Shipped pipelines and reference profiles: provenance

Every file here for the five IPA pipelines is **generated** by `scripts/build_reference_profiles.py` from
the IPA reference data (the `data/ipa/` folder of the shared data; its README lists the upstream
repositories and licences). Regenerate with `python scripts/build_reference_profiles.py --data-dir DATA/ipa`;
check with `--check`. Do not edit by hand.

Three pipelines are not built from that data: `digits`, `segment` and `video-tv` run real models on the
local executor; their accuracies come from held-out measurement (digits; segment's U-Nets: nuclei IoU),
published figures (segment's SAM variants: the SAM paper) or torchvision's model cards (video-tv), and their
profiles were measured with `ipa-energy profile` (see the header of each YAML and the CSVs' source column;
segment's SAM ViT-L/H rows are scaled from ViT-B by `scripts/build_segment_profile.py`, labelled `scaled:`).

Licence caveat: the IPA repositories have no licence file covering their data (see the shared data
README). These tables are derived (fitted estimates, settings and model-card accuracies), not copies of
the upstream files; check with the lead before redistributing the package outside the project.

Files:

* `<name>.yaml` (video, audio-qa, audio-sent, sum-qa, nlp): stages, variants (accuracy, rank score,
  cores, params), SLA, drop limit, batching cap, planning margin, baseline presets. Built from
  `models/variants.csv` (active variants only), `results/paper_table6_slas_seconds.csv` and
  `configs/paper_runs_from_revision_notebooks.csv`.
* `<name>.profile.csv`: latency (p99 estimate) and dynamic energy per batch, batches 1-64, at each
  variant's cores per replica. Built from `profiles/profile_fragments_from_notebooks.csv`,
  `profiles/paper_fig2_resnet_b1_1core.csv`, `profiles/paper_table2_resnet_vs_cores.csv`,
  `profiles/paper_table3_video_options.csv`, and the power model in `ipa_energy/profiles/power_model.py`.

Each profile row's `source` column says how that row was made:

* `fit:a+s*b[...]`: a linear latency model in batch size fitted to the listed fragments/paper tables;
* `fit:b1[...]+slope[rho=...]`: level from batch-1 observations, slope share borrowed from the stage or
  model family;
* `interp:log-params[a,b]`: interpolated between two observed variants of the stage by parameter count;
* `scaled:REF xF (why)`: a reference variant's latency times an encoder-FLOPs ratio.

All latencies are estimates of the p99 latency measured inside the model container on IPA's profiling
nodes; all energies are estimates from a stated power model, not measurements. Full method, fitted
constants (p99/avg 1.374, core exponent 0.617) and checks: `docs/profiles.md`; pipeline settings:
`docs/pipelines.md`.

"""


def default_data_dir() -> Path | None:
    env = os.environ.get("IPA_DATA_DIR")
    if env:
        return Path(env)
    guess = REPO.parent / "shared" / "data" / "ipa"
    return guess if guess.is_dir() else None


# ---------------------------------------------------------------------------------------- observations
@dataclass(frozen=True)
class Obs:
    variant: str
    batch: int
    cores: int
    latency_s: float  # p99 (or p99-equivalent)
    group: str  # one measurement group: same variant, batch, series/table and load
    source: str


def p99_over_avg(frag: pd.DataFrame) -> float:
    both = frag[frag.model_latencies_p99.notna() & frag.model_latencies_avg.notna()]
    both = both[_batch_fills(both)]
    return float((both.model_latencies_p99 / both.model_latencies_avg).median())


def _batch_fills(df: pd.DataFrame) -> pd.Series:
    return (df.max_batch_size == 1) | (df.max_batch_size <= df["load"] * BATCH_FILL_S)


def _canonical_name(name: str, known: list[str]) -> str:
    """Fragment tables truncated long names with '...'; map them back to the variant name."""
    if name.endswith("..."):
        stem = name[:-3]
        hits = [k for k in known if k.startswith(stem)]
        if len(hits) == 1:
            return hits[0]
    return name


def load_observations(data: Path, known: list[str]) -> tuple[list[Obs], float]:
    frag = pd.read_csv(data / "profiles/profile_fragments_from_notebooks.csv")
    frag["model_variant"] = [_canonical_name(n, known) for n in frag.model_variant]
    frag = frag.drop_duplicates(
        subset=["model_variant", "max_batch_size", "cpu_request", "load", "model_latencies_avg",
                "model_latencies_p99"]
    )
    ratio = p99_over_avg(frag)
    frag = frag[_batch_fills(frag)]
    obs: list[Obs] = []
    for r in frag.itertuples():
        if not math.isnan(r.model_latencies_p99):
            lat, stat = float(r.model_latencies_p99), "p99"
        elif not math.isnan(r.model_latencies_avg):
            lat, stat = float(r.model_latencies_avg) * ratio, "avg"
        else:
            continue
        series = r.source_notebook.removesuffix(".ipynb")
        if not math.isnan(r.profiling_series) and not series.startswith("series-"):
            series = f"{series}(series-{int(r.profiling_series)})"
        obs.append(Obs(
            r.model_variant, int(r.max_batch_size), int(r.cpu_request), lat,
            f"{r.model_variant}|{r.max_batch_size}|{series}|{r.load}", f"fragment:{series}:{stat}",
        ))

    def dup(v: str, b: int, c: int, lat: float) -> bool:
        return any(o.variant == v and o.batch == b and o.cores == c and abs(o.latency_s - lat) < 1.5e-3
                   for o in obs if o.source.startswith("fragment"))

    fig2 = pd.read_csv(data / "profiles/paper_fig2_resnet_b1_1core.csv")
    t2 = pd.read_csv(data / "profiles/paper_table2_resnet_vs_cores.csv")
    t3 = pd.read_csv(data / "profiles/paper_table3_video_options.csv")
    paper: list[Obs] = []
    for r in fig2.itertuples():
        paper.append(Obs(r.variant, int(r.batch), int(r.cpu_cores), r.latency_ms / 1e3,
                         f"{r.variant}|{r.batch}|fig2", "paper:fig2"))
    for r in t2.itertuples():
        paper.append(Obs(r.variant, int(r.batch), int(r.cpu_cores), r.latency_ms / 1e3,
                         f"{r.variant}|{r.batch}|table2", "paper:table2"))
    for r in t3.itertuples():
        # Table 3's latencies equal 1-core fragments (e.g. yolov5m 347 ms = series-71 at 1 core), even
        # where it lists 2 cores per replica, so they are read as 1-core measurements.
        paper.append(Obs(r.variant, int(r.batch), 1, r.latency_ms / 1e3,
                         f"{r.variant}|{r.batch}|table3", "paper:table3"))
    obs += [o for o in paper if not dup(o.variant, o.batch, o.cores, o.latency_s)]
    return obs, ratio


def fit_core_exponent(obs: list[Obs]) -> float:
    """k in latency ~ cores^-k, least squares in logs with one intercept per group (cores <= 8)."""
    df = pd.DataFrame([(o.group, o.cores, o.latency_s) for o in obs if o.cores <= CORE_SATURATION],
                      columns=["g", "c", "l"])
    df = df[df.groupby("g").c.transform("nunique") > 1]
    x = np.log(df.c.to_numpy(float))
    y = np.log(df.l.to_numpy(float))
    xd = x - df.assign(x=x).groupby("g").x.transform("mean").to_numpy()
    yd = y - df.assign(y=y).groupby("g").y.transform("mean").to_numpy()
    return float(-(xd @ yd) / (xd @ xd))


def core_scale(from_cores: int, to_cores: int, k: float) -> float:
    """Multiply a latency measured on ``from_cores`` by this to get it on ``to_cores``."""
    return (min(from_cores, CORE_SATURATION) / min(to_cores, CORE_SATURATION)) ** k


# ---------------------------------------------------------------------------------------- batch model
@dataclass(frozen=True)
class LatencyModel:
    """l(b) = a + s*b seconds at ``cores`` cores."""

    a: float
    s: float
    cores: int
    source: str

    def at(self, batch: int, cores: int, k: float) -> float:
        return (self.a + self.s * batch) * core_scale(self.cores, cores, k)

    @property
    def rho(self) -> float:
        return self.s / (self.a + self.s)


def fit_observed(variant: str, cores: int, obs: list[Obs], k: float) -> tuple[LatencyModel, bool] | None:
    mine = [o for o in obs if o.variant == variant]
    if not mine:
        return None
    # per batch, only the observations at the core count nearest the target (in log distance): the
    # core law is a rough average and should bridge as short a gap as the data allows
    near: list[Obs] = []
    for b in sorted({o.batch for o in mine}):
        at_b = [o for o in mine if o.batch == b]
        best = min(abs(math.log(min(o.cores, CORE_SATURATION) / min(cores, CORE_SATURATION))) for o in at_b)
        near += [o for o in at_b
                 if abs(math.log(min(o.cores, CORE_SATURATION) / min(cores, CORE_SATURATION))) == best]
    mine = near
    b = np.array([o.batch for o in mine], float)
    lat = np.array([o.latency_s * core_scale(o.cores, cores, k) for o in mine])
    sources = sorted({o.source.rsplit(":", 1)[0] if o.source.startswith("fragment") else o.source for o in mine})
    tag = "+".join(sources)
    if len(set(b)) >= 2:
        (a, s), _ = nnls(np.column_stack([np.ones_like(b), b]), lat)
        return LatencyModel(float(a), float(s), cores, f"fit:a+s*b[{tag}]"), True
    # batch 1 only: keep the level, the slope share comes later
    return LatencyModel(float(np.mean(lat)), 0.0, cores, f"fit:b1[{tag}]"), False


def family(variant: str) -> str:
    return "cnn" if variant.startswith(CNN_PREFIXES) else "transformer"


# ---------------------------------------------------------------------------------------- the build
def active_variants(data: Path) -> pd.DataFrame:
    v = pd.read_csv(data / "models/variants.csv")
    v = v[v.active_in_repo.astype(str) == "True"].copy()
    return v


def build_models(data: Path, log: io.StringIO) -> tuple[dict[tuple[str, int], LatencyModel], float]:
    """One latency model per (variant, cores per replica)."""
    var = active_variants(data)
    known = sorted(var.variant.unique())
    obs, ratio = load_observations(data, known)
    k = fit_core_exponent(obs)
    log.write(f"p99/avg latency ratio (median of fragment rows with both): {ratio:.3f} "
              f"(power model uses {P99_OVER_MEAN_LATENCY})\n")
    log.write(f"core exponent k (latency ~ min(cores, {CORE_SATURATION})^-k): {k:.3f}\n")
    if abs(ratio - P99_OVER_MEAN_LATENCY) > 0.01:
        raise SystemExit("P99_OVER_MEAN_LATENCY in power_model.py no longer matches the data")
    targets = sorted({(r.variant, int(r.paper_base_alloc_cores) if not math.isnan(r.paper_base_alloc_cores)
                       else -1) for r in var.itertuples()})
    models: dict[tuple[str, int], LatencyModel] = {}
    b1_only: list[tuple[str, int]] = []
    for name, cores in targets:
        if cores < 1:
            continue  # no paper base allocation: handled by ARCH_RATIO below
        res = fit_observed(name, cores, obs, k)
        if res is None:
            continue
        model, has_slope = res
        models[(name, cores)] = model
        if not has_slope:
            b1_only.append((name, cores))
    fitted = {key: m for key, m in models.items() if key not in b1_only}
    # slope share for batch-1-only variants: same stage, else same family
    stage_of = {r.variant: (r.pipeline, r.stage) for r in var.itertuples()}
    for name, cores in b1_only:
        same_stage = [m.rho for (n, _), m in fitted.items() if stage_of.get(n) == stage_of[name]]
        same_family = [m.rho for (n, _), m in fitted.items() if family(n) == family(name)]
        pool, what = (same_stage, "stage") if same_stage else (same_family, family(name))
        rho = float(np.median(pool))
        m = models[(name, cores)]
        level = m.a  # l(1)
        models[(name, cores)] = LatencyModel(
            level * (1 - rho), level * rho, cores, f"{m.source}+slope[rho={rho:.2f} {what} median]"
        )
    # never observed: params interpolation within the stage, or an architecture ratio
    for r in var.itertuples():
        name = r.variant
        if any(n == name for n, _ in models):
            continue
        if name in ARCH_RATIO:
            ref, factor, why = ARCH_RATIO[name]
            ref_model = next(m for (n, _), m in models.items() if n == ref)
            cores = 1 if math.isnan(r.paper_base_alloc_cores) else int(r.paper_base_alloc_cores)
            scale = factor * core_scale(ref_model.cores, cores, k)
            models[(name, cores)] = LatencyModel(
                ref_model.a * scale, ref_model.s * scale, cores, f"scaled:{ref} x{factor} ({why})"
            )
            continue
        cores = int(r.paper_base_alloc_cores)
        peers = var[(var.pipeline == r.pipeline) & (var.stage == r.stage) & var.paper_params_M.notna()]
        observed = [(float(p.paper_params_M), p.variant) for p in peers.itertuples()
                    if any(n == p.variant for n, _ in models)]
        lo = max(((pm, n) for pm, n in observed if pm < r.paper_params_M), default=None)
        hi = min(((pm, n) for pm, n in observed if pm > r.paper_params_M), default=None)
        if lo is None or hi is None:
            raise SystemExit(f"{name}: no observed neighbours on both sides by parameters")
        mlo = next(m for (n, _), m in models.items() if n == lo[1])
        mhi = next(m for (n, _), m in models.items() if n == hi[1])
        t = (math.log(r.paper_params_M) - math.log(lo[0])) / (math.log(hi[0]) - math.log(lo[0]))
        l1 = math.exp((1 - t) * math.log(mlo.at(1, cores, k)) + t * math.log(mhi.at(1, cores, k)))
        l64 = math.exp((1 - t) * math.log(mlo.at(64, cores, k)) + t * math.log(mhi.at(64, cores, k)))
        s = (l64 - l1) / 63
        models[(name, cores)] = LatencyModel(
            l1 - s, s, cores, f"interp:log-params[{lo[1]},{hi[1]}]"
        )
    return models, k


def build(data: Path) -> tuple[dict[str, str], str]:
    """Return {file name: text} for every YAML and profile CSV, and a log of checks."""
    log = io.StringIO()
    models, k = build_models(data, log)
    var = active_variants(data)
    slas = pd.read_csv(data / "results/paper_table6_slas_seconds.csv").set_index("pipeline")
    runs = pd.read_csv(data / "configs/paper_runs_from_revision_notebooks.csv")
    files: dict[str, str] = {}
    for pipe in PIPELINES:
        pv = var[var.pipeline == pipe].sort_values(["stage_index"], kind="stable")
        pr = runs[runs.pipeline == pipe]
        stages = list(dict.fromkeys(pv.stage))
        rows: list[ProfileRow] = []
        stage_specs = []
        for stage in stages:
            sv = pv[pv.stage == stage]
            variants = []
            for r in sv.itertuples():
                cores = 1 if math.isnan(r.paper_base_alloc_cores) else int(r.paper_base_alloc_cores)
                m = models[(r.variant, cores)]
                for b in BATCHES:
                    lat = round(m.at(b, cores, k), 6)
                    rows.append(ProfileRow(stage, r.variant, b, lat, round(batch_energy_j(lat, cores), 6),
                                           cores=cores, source=m.source))
                note = f"; note: {r.note}" if isinstance(r.note, str) and r.note else ""
                cores_src = ("paper base allocation" if not math.isnan(r.paper_base_alloc_cores)
                             else "no paper base allocation: 1 core assumed")
                v = {
                    "name": r.variant,
                    "accuracy": float(r.revision_accuracy),
                    "rank_score": float(r.normalized_rank_score),
                    "cores": cores,
                }
                if not math.isnan(r.paper_params_M):
                    v["params_m"] = float(r.paper_params_M)
                v["source"] = f"{r.metric} {r.repo_value} (IPA accuracies.yaml); cores: {cores_src}{note}"
                variants.append(v)
            stage_specs.append({"name": stage, "task": str(sv.task.iloc[0]), "variants": variants})
        table = ProfileTable(tuple(rows), source=f"{pipe}.profile.csv")
        files[f"{pipe}.profile.csv"] = profile_to_csv(table)
        files[f"{pipe}.yaml"] = _pipeline_yaml(pipe, pv, pr, slas, stage_specs, stages)
        _checks(pipe, pv, models, k, log)
    _energy_check(data, models, k, log)
    fence = "```"
    files["README.md"] = (
        f"{README_HEAD}## Build log (the checks this script prints)\n\n{fence}\n{log.getvalue().strip()}\n{fence}\n"
    )
    return files, log.getvalue()


def _mode(s: pd.Series) -> object:
    return s.value_counts().index[0]


def _pipeline_yaml(pipe: str, pv: pd.DataFrame, pr: pd.DataFrame, slas: pd.DataFrame,
                   stage_specs: list[dict[str, object]], stages: list[str]) -> str:
    lat_margin = float(_mode(pr.latency_margin))
    thr_margin = float(_mode(pr.throughput_margin))
    factor = max(1 + lat_margin / 100, 1 / (1 + thr_margin / 100))
    rim = pr[pr.system == "rim-high"]
    rim_high = [int(x) for x in str(_mode(rim.initial_replicas)).split("|")]
    doc = {
        "name": pipe,
        "description": DESCRIPTIONS[pipe],
        "sla_s": float(slas.loc[pipe, "e2e_sla_s"]),
        "drop_limit_s": float(_mode(pr.drop_limit)),
        "accuracy_method": "product" if _mode(pr.accuracy_method) == "multiply" else "sum",
        "max_batch": int(_mode(pr.batching_cap)),
        "latency_factor": round(factor, 6),
        "profile": f"{pipe}.profile.csv",
        "stages": stage_specs,
        "presets": {
            "weights": {
                "accuracy": float(_mode(pr.alpha)),
                "cost": float(_mode(pr.beta)),
                "batch": float(_mode(pr.gamma)),
            },
            "fa2_low": {s: str(pv[(pv.stage == s) & (pv.fa2_low_variant.astype(str) == "True")].variant.iloc[0])
                        for s in stages},
            "fa2_high": {s: str(pv[(pv.stage == s) & (pv.fa2_high_variant.astype(str) == "True")].variant.iloc[0])
                         for s in stages},
            "rim_high_replicas": dict(zip(stages, rim_high, strict=True)),
            "rim_low_replicas": {s: 1 for s in stages},
            "source": (
                "weights: most common alpha/beta/gamma of the paper's revision runs of this pipeline; "
                "fa2_*: variants.csv fa2_low_variant/fa2_high_variant; rim_high_replicas: most common "
                "initial replicas of its rim-high runs; rim_low_replicas: 1 per stage (IPA's RIM-low)"
            ),
        },
    }
    header = (
        f"# The {pipe} pipeline. GENERATED by scripts/build_reference_profiles.py from the IPA reference data\n"
        "# (data/ipa: models/variants.csv, results/paper_table6_slas_seconds.csv,\n"
        "#  configs/paper_runs_from_revision_notebooks.csv); edit the script, not this file.\n"
        f"# sla_s: paper Table 6 end-to-end. drop_limit_s, max_batch (batching_cap), weights: the revision runs.\n"
        f"# latency_factor: IPA's margins (latency {lat_margin:+.0f}%, throughput {thr_margin:+.0f}%) as one\n"
        "#   latency multiplier, the larger of (1 + latency margin) and 1 / (1 + throughput margin).\n"
        "# accuracy: revision_accuracy (raw, 0..1); rank_score: normalized_rank_score; cores: cores per replica.\n"
    )
    return header + yaml.safe_dump(doc, sort_keys=False, width=120, allow_unicode=True)


def _checks(pipe: str, pv: pd.DataFrame, models: dict[tuple[str, int], LatencyModel], k: float,
            log: io.StringIO) -> None:
    """Paper base allocation: a replica at batch 1 should reach the threshold rps (estimate vs paper)."""
    log.write(f"\n{pipe}: variant, cores, l(1) s, l(8) s, l(64) s, 1/l(1) rps vs paper threshold, source\n")
    for r in pv.itertuples():
        cores = 1 if math.isnan(r.paper_base_alloc_cores) else int(r.paper_base_alloc_cores)
        m = models[(r.variant, cores)]
        l1 = m.at(1, cores, k)
        ok = "ok" if 1 / l1 >= r.paper_base_alloc_threshold_rps else "BELOW"
        log.write(f"  {r.variant[:44]:<44} {cores:>2} {l1:7.3f} {m.at(8, cores, k):7.3f} "
                  f"{m.at(64, cores, k):7.3f} {1 / l1:6.2f} vs {r.paper_base_alloc_threshold_rps:g} {ok:<5} "
                  f"{m.source[:70]}\n")


def _energy_check(data: Path, models: dict[tuple[str, int], LatencyModel], k: float, log: io.StringIO) -> None:
    """Dynamic W per busy core implied by the energy extension's steady_low -> steady_high runs."""
    summ = pd.read_csv(data / "energy/ipa_ext/ipa_ext_energy_summary.csv")
    summ = summ[summ.file.str.startswith("energy_logs/")].set_index(["workload", "system"])
    rates = {"steady_low": 5.1, "steady_high": 28.8}  # mean rps, workloads/workload_windows.json
    log.write("\nenergy cross-check (video, RAPL package, energy extension):\n")
    for b in (1, 8):
        core_s = sum(models[(v, 1)].at(b, 1, k) / P99_OVER_MEAN_LATENCY / b for v in ("yolov5n", "resnet18"))
        log.write(f"  yolov5n + resnet18 busy core-seconds per request at batch {b}: {core_s:.3f}\n")
    core_s_range = [
        sum(models[(v, 1)].at(b, 1, k) / P99_OVER_MEAN_LATENCY / b for v in ("yolov5n", "resnet18")) for b in (1, 8)
    ]
    implied = []
    for system in ("IPA", "FA2-low"):
        dw = summ.loc[("steady_high", system), "pkg_mean_W"] - summ.loc[("steady_low", system), "pkg_mean_W"]
        j_per_req = dw / (rates["steady_high"] - rates["steady_low"])
        log.write(f"  {system}: +{dw:.1f} W for +{rates['steady_high'] - rates['steady_low']:.1f} rps "
                  f"= {j_per_req:.2f} J/request (measured)\n")
        implied += [j_per_req / c for c in core_s_range]
    log.write(f"  implied dynamic power per busy core: {min(implied):.1f} to {max(implied):.1f} W\n")
    log.write(f"  model: DYNAMIC_POWER_W_PER_CORE = {DYNAMIC_POWER_W_PER_CORE} W; implied J/request = "
              f"{DYNAMIC_POWER_W_PER_CORE} x busy core-seconds above\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=default_data_dir(),
                    help="the data/ipa folder (default: $IPA_DATA_DIR, else ../shared/data/ipa)")
    ap.add_argument("--out", type=Path, default=REPO / "src/ipa_energy/pipelines/data",
                    help="where to write the YAMLs and CSVs (default: the package data folder)")
    ap.add_argument("--check", action="store_true", help="compare with the files in --out; write nothing")
    args = ap.parse_args(argv)
    if args.data_dir is None or not args.data_dir.is_dir():
        ap.error("give --data-dir (the data/ipa folder) or set IPA_DATA_DIR")
    files, log = build(args.data_dir)
    print(log, end="")
    if args.check:
        stale = [n for n, text in files.items()
                 if not (args.out / n).is_file() or (args.out / n).read_text() != text]
        print(f"\n{'stale: ' + ', '.join(stale) if stale else 'all files up to date'}")
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text)
    print(f"\nwrote {len(files)} files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
