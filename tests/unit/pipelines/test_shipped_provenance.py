"""The shipped YAMLs and profiles against the IPA reference data they were built from.

Needs the data/ipa folder ($IPA_DATA_DIR, else ../shared/data/ipa beside the repository); skipped
where it is absent.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ipa_energy.pipelines import data_dir, load_pipeline

#: the pipelines built from the IPA data by scripts/build_reference_profiles.py (digits is trained, not built)
IPA_PIPELINES = ("audio-qa", "audio-sent", "nlp", "sum-qa", "video")

REPO = Path(__file__).resolve().parents[3]


def _data() -> Path:
    env = os.environ.get("IPA_DATA_DIR")
    d = Path(env) if env else REPO.parent / "shared" / "data" / "ipa"
    if not (d / "models" / "variants.csv").is_file():
        pytest.skip("IPA reference data not available")
    return d


def _builder() -> ModuleType:
    script = REPO / "scripts" / "build_reference_profiles.py"
    spec = importlib.util.spec_from_file_location("build_reference_profiles", script)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_variants_match_variants_csv() -> None:
    data = _data()
    with (data / "models/variants.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["active_in_repo"] == "True"]
    for name in IPA_PIPELINES:
        p = load_pipeline(name)
        expect = [r for r in rows if r["pipeline"] == name]
        got = [(s.name, v) for s in p.stages for v in s.variants]
        assert [(r["stage"], r["variant"]) for r in expect] == [(s, v.name) for s, v in got]
        for r, (_, v) in zip(expect, got, strict=True):
            assert v.accuracy == float(r["revision_accuracy"])
            assert v.rank_score == float(r["normalized_rank_score"])
            if r["paper_base_alloc_cores"]:
                assert v.cores == int(r["paper_base_alloc_cores"])
            fa2 = {"True": True, "False": False}
            s = next(s for s in p.stages if s.name == r["stage"])
            assert (p.presets.fa2_low[s.name] == v.name) == fa2[r["fa2_low_variant"]]
            assert (p.presets.fa2_high[s.name] == v.name) == fa2[r["fa2_high_variant"]]


def test_slas_match_table6() -> None:
    with (_data() / "results/paper_table6_slas_seconds.csv").open() as f:
        slas = {r["pipeline"]: float(r["e2e_sla_s"]) for r in csv.DictReader(f)}
    assert {n: load_pipeline(n).sla_s for n in IPA_PIPELINES} == slas


def test_fragments_close_to_profile_where_measured_at_base_cores() -> None:
    """Where a p99 fragment exists at a variant's own cores and a batch that could fill, the fitted
    reference latency lies within 25 % of it (the fit smooths over several series)."""
    with (_data() / "profiles/profile_fragments_from_notebooks.csv").open() as f:
        frags = list(csv.DictReader(f))
    checked = 0
    for name in IPA_PIPELINES:
        p = load_pipeline(name)
        for s in p.stages:
            for v in s.variants:
                for r in frags:
                    if r["model_variant"] != v.name or not r["model_latencies_p99"]:
                        continue
                    b, c, load = int(r["max_batch_size"]), int(r["cpu_request"]), float(r["load"])
                    if c != v.cores or b not in (1, 2, 4, 8) or (b > 1 and b > load / 2):
                        continue
                    ref = p.profile.latency_s(s.name, v.name, b, v.cores)
                    assert ref == pytest.approx(float(r["model_latencies_p99"]), rel=0.25), (v.name, b, r)
                    checked += 1
    assert checked >= 10


def test_build_is_reproducible() -> None:
    """Rebuilding from the data gives byte-identical package files."""
    files, log = _builder().build(_data())
    names = IPA_PIPELINES
    assert set(files) == {f"{n}.yaml" for n in names} | {f"{n}.profile.csv" for n in names} | {"README.md"}
    for fname, text in files.items():
        assert (data_dir() / fname).read_text() == text, f"{fname} is stale: run scripts/build_reference_profiles.py"
    assert "implied dynamic power per busy core" in log
