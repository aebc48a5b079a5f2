"""The segmentation data, the unet family (shipped weights re-scored), SAM's checkpoint rules, and the
segment bench's outputs (IoU only for real weights, never invented)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from ipa_energy.errors import BackendError, ConfigError
from ipa_energy.models.segment import data as sd
from ipa_energy.models.segment import unet
from ipa_energy.models.segment.iou import instance_iou


def test_nuclei_split_is_disjoint_and_covers_the_image() -> None:
    img, lab = sd.nuclei()
    assert img.shape == lab.shape == (512, 512)
    assert len(np.unique(lab)) - 1 == 125
    parts = [sd.TRAIN_ROWS, sd.VAL_ROWS, sd.TEST_ROWS]
    assert parts[0][0] == 0 and parts[-1][1] == 512
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:], strict=False))
    test = sd.nuclei_part("test")
    assert test.image.shape == sd.SCENE_SHAPE
    assert test.labels.max() == len(np.unique(test.labels)) - 1  # relabelled 1..n
    with pytest.raises(ConfigError, match="part"):
        sd.nuclei_part("holdout")


def test_synthetic_scene_is_deterministic_with_exact_separate_masks() -> None:
    from scipy.ndimage import label

    a, b = sd.synthetic_scene(5, shape=(96, 96)), sd.synthetic_scene(5, shape=(96, 96))
    assert np.array_equal(a.labels, b.labels) and np.array_equal(a.image, b.image)
    assert not np.array_equal(a.labels, sd.synthetic_scene(6, shape=(96, 96)).labels)
    # instances never touch: connected components of the foreground are exactly the instances
    assert label(a.labels > 0)[1] == a.labels.max() > 0


def test_seed_points_lie_inside_their_instances() -> None:
    s = sd.nuclei_part("val")
    pts = sd.seed_points(s.labels)
    ids = [i for i in np.unique(s.labels) if i > 0]
    assert len(pts) == len(ids)
    assert [int(s.labels[r, c]) for r, c in pts] == ids
    req = sd.as_request(s)
    assert req.shape == (2, *s.image.shape) and int(req[1].sum()) == len(ids)


def test_instances_from_maps_splits_touching_blobs() -> None:
    yy, xx = np.mgrid[:40, :60]
    fg = (((yy - 20) ** 2 + (xx - 18) ** 2) < 100) | (((yy - 20) ** 2 + (xx - 36) ** 2) < 100)
    lab = unet.instances_from_maps(fg.astype(np.float32), np.zeros_like(fg, dtype=np.float32))
    assert lab.max() == 2


@pytest.mark.parametrize("name", list(unet.VARIANTS))
def test_shipped_weights_reproduce_their_held_out_iou(name: str) -> None:
    meta = unet.metadata(name)
    net = unet.load_net(name)
    assert meta["params"] == sum(p.numel() for p in net.parameters())
    s = sd.nuclei_part("test")
    r = instance_iou(unet.segment(net, s.image[None])[0], s.labels)
    assert r.mean_iou == pytest.approx(meta["held_out"]["nuclei_test"]["mean_iou"], abs=1e-6)
    assert r.instances == meta["held_out"]["nuclei_test"]["instances"] == 67


def test_family_reaches_the_target_and_trades_iou_for_size() -> None:
    metas = [unet.metadata(n) for n in unet.VARIANTS]
    ious = [m["held_out"]["nuclei_test"]["mean_iou"] for m in metas]
    params = [m["params"] for m in metas]
    assert params == sorted(params) and len(set(params)) == 3
    assert max(ious) >= 0.6
    assert ious[-1] == max(ious)  # the largest is the most accurate, so the family is a real trade-off


def test_training_runs_and_is_seeded() -> None:
    v = unet.UNetVariant("tiny", width=2, steps=2, crop_px=32)
    a, meta = unet.train(v)
    b, _ = unet.train(v)
    assert meta["steps"] == 2 and meta["params"] > 0
    for pa, pb in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        assert np.array_equal(pa.numpy(), pb.numpy())


def test_unknown_variant_and_missing_weights(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="unet variant"):
        unet.variant("unet-xl")
    with pytest.raises(BackendError, match="no weights"):
        unet.load_net("unet-s", tmp_path / "none.npz")


def test_sam_checkpoint_resolution(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ipa_energy.models.segment import sam

    monkeypatch.delenv(sam.CHECKPOINT_ENV, raising=False)
    assert sam.find_checkpoint("sam-vit-b", cache=str(tmp_path)) is None  # -> random-init
    (tmp_path / "sam").mkdir()
    ck = tmp_path / "sam" / sam.CHECKPOINT_FILES["sam-vit-b"]
    ck.write_bytes(b"")
    assert sam.find_checkpoint("sam-vit-b", cache=str(tmp_path)) == ck
    assert sam.find_checkpoint("sam-vit-l", cache=str(tmp_path)) is None
    assert sam.find_checkpoint("sam-vit-b", checkpoint=str(tmp_path / "sam")) == ck
    with pytest.raises(ConfigError, match="no such file"):
        sam.find_checkpoint("sam-vit-b", checkpoint=str(tmp_path / "missing.pth"))
    with pytest.raises(ConfigError, match="no sam-vit-h checkpoint"):
        sam.find_checkpoint("sam-vit-h", checkpoint=str(tmp_path / "sam"))
    with pytest.raises(ConfigError, match="unknown SAM variant"):
        sam.find_checkpoint("sam-vit-xl")
    with pytest.raises(ConfigError, match="mode"):
        sam.build(sam.SamConfig("sam-vit-b", mode="grid"))


def test_sam_masks_to_labels_gives_pixels_to_the_best_mask() -> None:
    from ipa_energy.models.segment.sam import masks_to_labels

    m = np.zeros((3, 4, 4), dtype=bool)
    m[0, :2], m[1, 1:3], m[2] = True, True, False
    lab = masks_to_labels(m, np.array([0.2, 0.9, 0.5]))
    assert lab[1, 0] == 1 and lab[0, 0] == 2 and lab.max() == 2  # mask 1 first; the empty one is dropped


def _rows(path) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    with open(path) as f:
        return list(csv.DictReader(f))


def test_segment_bench_measures_trained_models_and_leaves_random_init_iou_empty(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ipa_energy.bench import segment as bench

    real_runner = bench._runner

    def runner(name, sam_mode, checkpoint, cache_dir):  # type: ignore[no-untyped-def]
        if name == "sam-vit-b":  # a test stand-in for a random-init SAM (the real one takes a minute here)
            class Noise:
                weights = "random-init"

                def run(self, x):  # type: ignore[no-untyped-def]
                    return np.ones((len(x), *x.shape[-2:]), dtype=np.int32)
            return Noise(), "random-init", 1
        return real_runner(name, sam_mode, checkpoint, cache_dir)

    monkeypatch.setattr(bench, "_runner", runner)
    rows = bench.run_segment_bench(
        tmp_path, models=("unet-s", "unet-l", "sam-vit-b"), images=1, min_time_s=0.5, meter="model"
    )
    by = {r.model: r for r in rows}
    assert by["unet-l"].mean_iou == pytest.approx(unet.metadata("unet-l")["held_out"]["nuclei_test"]["mean_iou"])
    assert by["unet-s"].mean_iou != by["unet-l"].mean_iou  # each model's own masks are scored
    assert by["sam-vit-b"].mean_iou is None
    assert all(r.runs >= r.images == 1 for r in rows)
    csv_rows = {r["model"]: r for r in _rows(tmp_path / "summary.csv")}
    assert list(_rows(tmp_path / "summary.csv")[0])[:8] == [
        "model", "images", "weights", "latency_s_per_image", "energy_j_per_image", "energy_source",
        "energy_scope", "mean_iou",
    ]
    assert csv_rows["sam-vit-b"]["mean_iou"] == "" and csv_rows["sam-vit-b"]["weights"] == "random-init"
    assert float(csv_rows["unet-l"]["mean_iou"]) >= 0.6
    assert csv_rows["unet-l"]["weights"] == "trained"
    assert all(float(r["energy_j_per_image"]) >= 0 and r["energy_source"] for r in csv_rows.values())
    for name in by:
        assert (tmp_path / "energy" / f"{name}.csv").read_text().startswith("t_s,")
    report = (tmp_path / "report.md").read_text()
    assert "n/a (random-init)" in report
    with pytest.raises(ConfigError, match="--models"):
        bench.parse_models("unet-s,sam-vit-xl")


def test_segment_inputs_score_is_iou() -> None:
    from ipa_energy.loadgen import SegmentInputs

    src = SegmentInputs(seed=0, scenes=1)
    x, label = src.get(0)
    assert x.shape == (2, *sd.SCENE_SHAPE)
    assert src.score(label, label) == 1.0
    assert src.score(np.zeros_like(label), label) == 0.0
    assert json.dumps(float(src.score(label, label)))
