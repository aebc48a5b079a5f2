from __future__ import annotations

import numpy as np
import pytest

from ipa_energy.models import ModelSpec, load_runner
from ipa_energy.models.vision import RANDOM_INIT, VARIANTS

tv = pytest.importorskip(
    "torchvision", reason="torchvision is not importable in this venv (see docs/serving.md to install it)"
)


def test_published_accuracy_matches_torchvision_model_cards() -> None:
    from torchvision.models import get_model_weights

    for v in VARIANTS.values():
        weights = get_model_weights(v.builder)
        entry = next(w for w in weights if w.url.endswith(v.checkpoint))
        metrics = next(iter(entry.meta["_metrics"].values()))
        value = metrics["box_map"] if v.stage == "detect" else metrics["acc@1"]
        assert value == pytest.approx(v.accuracy)
        assert entry.meta["num_params"] / 1e6 == pytest.approx(v.params_m, abs=0.01)


def test_resnet18_random_init_small_input(tmp_path: object) -> None:
    r = load_runner(ModelSpec("torchvision", "resnet18", str(tmp_path), image_size=64))
    assert r.weights == RANDOM_INIT
    out = r.run(np.random.default_rng(0).random((2, 3, 64, 64), dtype=np.float32))
    assert out.shape == (2,) and out.dtype == np.int64


def test_detector_returns_one_crop_per_image(tmp_path: object) -> None:
    r = load_runner(ModelSpec("torchvision", "ssdlite320_mobilenet_v3_large", str(tmp_path), image_size=64))
    assert r.weights == RANDOM_INIT
    out = r.run(np.random.default_rng(0).random((2, 3, 96, 96), dtype=np.float32))
    assert out.shape == (2, 3, 64, 64)


def test_video_tv_pipeline_is_servable_with_torchvision_models() -> None:
    """Every variant of the shipped video-tv pipeline has a torchvision model, with the model card's accuracy."""
    from ipa_energy.models import spec_for
    from ipa_energy.pipelines import load_pipeline

    p = load_pipeline("video-tv")
    names = [v.name for s in p.stages for v in s.variants]
    assert len(p.stages[0].variants) >= 3 and len(p.stages[1].variants) == 5
    for s in p.stages:
        for v in s.variants:
            assert spec_for(v.name).family == "torchvision"
            assert v.accuracy == pytest.approx(VARIANTS[v.name].accuracy / 100)
    assert {r.source.split(" ")[0] for r in p.profile.rows} == {"measured:ipa-energy"}, names
