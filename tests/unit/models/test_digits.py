from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from ipa_energy.errors import BackendError, ConfigError
from ipa_energy.models import ModelSpec, load_runner, spec_for
from ipa_energy.models import digits_data as dd
from ipa_energy.models.cache import cache_dir

CHEAP = ("digits-loc-s", "digits-cls-s")


@pytest.fixture
def cache(digits_cache: Path) -> Path:
    return digits_cache


def test_split_is_disjoint_and_stratified() -> None:
    s = dd.load_split()
    train = {x.tobytes() for x in s.train_images}
    assert not any(x.tobytes() in train for x in s.test_images[:200])
    assert len(s.test_labels) == 540 and set(s.test_labels) == set(range(10))


def test_canvas_places_digit_where_box_says() -> None:
    s = dd.load_split()
    c = dd.place_on_canvas(s.test_images[:5], s.test_labels[:5], np.random.default_rng(0))
    noise_free = c.canvases - dd.place_on_canvas(
        np.zeros_like(s.test_images[:5]), s.test_labels[:5], np.random.default_rng(0)
    ).canvases
    np.testing.assert_allclose(dd.crop(noise_free, c.boxes), s.test_images[:5], atol=1e-6)


def test_box_iou() -> None:
    a = np.array([[0, 0], [0, 0], [0, 0]])
    b = np.array([[0, 0], [0, 8], [1, 1]])
    np.testing.assert_allclose(dd.box_iou(a, b), [1.0, 0.0, 49 / (128 - 49)])


def test_cache_dir_resolution(tmp_path: Path) -> None:
    assert cache_dir(tmp_path) == tmp_path
    assert cache_dir(env={"IPA_ENERGY_CACHE_DIR": "/x/y"}) == Path("/x/y")
    assert cache_dir(env={"XDG_CACHE_HOME": "/c"}) == Path("/c/ipa-energy")
    import ipa_energy

    assert Path(ipa_energy.__file__).parent not in cache_dir().parents


def test_trained_models_are_cached_with_measured_accuracy(cache: Path) -> None:
    from ipa_energy.models.digits import ensure_trained

    meta_path = cache / "digits" / "v1" / "digits-loc-s.json"
    before = os.stat(meta_path).st_mtime_ns
    meta = ensure_trained(ModelSpec("digits", "digits-loc-s", str(cache)))
    assert os.stat(meta_path).st_mtime_ns == before  # second call loads, never retrains
    assert meta["n_held_out"] == 1080 and 0.5 < meta["held_out_accuracy"] <= 1.0


@pytest.mark.parametrize("name", CHEAP)
def test_shipped_yaml_accuracy_matches_a_fresh_training(cache: Path, name: str) -> None:
    from ipa_energy.pipelines import load_pipeline

    p = load_pipeline("digits")
    shipped = {v.name: v.accuracy for s in p.stages for v in s.variants}
    meta = json.loads((cache / "digits" / "v1" / f"{name}.json").read_text())
    assert abs(meta["held_out_accuracy"] - shipped[name]) < 0.03


def test_runners_chain_locate_then_classify(cache: Path) -> None:
    loc = load_runner(spec_for("digits-loc-s", cache_dir=str(cache)))
    cls = load_runner(spec_for("digits-cls-s", cache_dir=str(cache)))
    assert loc.weights.startswith("trained:")
    c = dd.held_out_canvases()
    crops = np.asarray(loc.run(c.canvases[:300]), dtype=np.float32)
    assert crops.shape == (300, 8, 8)
    acc = float(np.mean(cls.run(crops) == c.labels[:300]))
    at_true_box = float(np.mean(cls.run(dd.crop(c.canvases[:300], c.boxes[:300])) == c.labels[:300]))
    # real accuracy of the smallest pair: far above chance (0.1), never better than with perfect boxes
    assert 0.25 < acc <= at_true_box + 0.02


def test_untrained_variant_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="not trained"):
        load_runner(ModelSpec("digits", "digits-cls-m", str(tmp_path)))


def test_unknown_variant_names_valid_ones() -> None:
    with pytest.raises(ConfigError, match="runnable: digits-loc-s"):
        spec_for("yolov5n")
