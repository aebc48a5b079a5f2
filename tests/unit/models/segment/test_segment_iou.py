"""Instance IoU: hand-computed values, label ids that differ, several models scored apart, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ipa_energy.errors import ConfigError
from ipa_energy.models.segment.iou import (
    foreground_iou,
    instance_iou,
    match_instances,
    mean_result,
    read_label_image,
)


def _gt() -> np.ndarray:
    g = np.zeros((6, 6), dtype=np.int32)
    g[0:2, 0:2] = 1  # 4 px
    g[3:6, 3:6] = 2  # 9 px
    return g


def test_hand_computed_values() -> None:
    g = _gt()
    p = np.zeros_like(g)
    p[0:2, 0:3] = 7  # covers gt 1 (4 px) plus 2 px: IoU 4/6
    p[4:6, 4:6] = 9  # inside gt 2: IoU 4/9
    r = instance_iou(p, g)
    assert r.mean_iou == pytest.approx((4 / 6 + 4 / 9) / 2)
    # foreground: pred 10 px, gt 13 px, intersection 8 -> 8 / 15
    assert r.foreground_iou == pytest.approx(8 / 15)
    assert (r.instances, r.matched, r.predicted) == (2, 2, 2)


def test_label_ids_need_not_agree() -> None:
    g = _gt()
    relabelled = np.where(g == 1, 5, np.where(g == 2, 3, 0))
    r = instance_iou(relabelled, g)
    assert r.mean_iou == 1.0 and r.foreground_iou == 1.0 and r.matched == 2


def test_unmatched_ground_truth_scores_zero_and_matching_is_one_to_one() -> None:
    g = _gt()
    p = np.where(g > 0, 1, 0)  # one predicted instance covering both: may match only one of them
    r = instance_iou(p, g)
    assert r.matched == 1
    assert r.mean_iou == pytest.approx((9 / 13) / 2)  # matched to the larger one, the other scores 0
    assert r.foreground_iou == 1.0
    assert match_instances(p, g) == [(2, 1, pytest.approx(9 / 13))]


def test_assignment_on_overlapping_candidates() -> None:
    # gt A = cols 0-3, gt B = cols 4-5; pred Y = cols 0-2, pred X = cols 3-5 (overlaps both A and B).
    # IoU A-Y 3/4, A-X 1/6, B-X 2/3, B-Y 0: the best one-to-one assignment is A-Y, B-X.
    g = np.zeros((1, 6), dtype=int)
    g[0, 0:4], g[0, 4:6] = 1, 2
    p = np.zeros((1, 6), dtype=int)
    p[0, 0:3], p[0, 3:6] = 2, 1  # Y = cols 0-2 (id 2), X = cols 3-5 (id 1)
    r = instance_iou(p, g)
    assert r.mean_iou == pytest.approx((3 / 4 + 2 / 3) / 2)


def test_different_masks_give_different_scores() -> None:
    """The extension scored one model's masks three times: distinct predictions must score distinctly."""
    g = _gt()
    rng = np.random.default_rng(0)
    scores = set()
    for k in range(3):
        p = g.copy()
        flips = rng.random(g.shape) < 0.1 * (k + 1)
        p[flips] = 0
        scores.add(round(instance_iou(p, g).mean_iou, 12))
    assert len(scores) == 3


def test_iou_is_never_inverted() -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        g = rng.integers(0, 4, size=(8, 8))
        g[0, 0] = 1
        p = rng.integers(0, 5, size=(8, 8))
        r = instance_iou(p, g)
        assert 0.0 <= r.mean_iou <= 1.0 and 0.0 <= r.foreground_iou <= 1.0
    # a prediction strictly larger than the truth: |inter|/|union| < 1, never |union|/|inter| > 1
    big = np.ones((6, 6), dtype=int)
    assert instance_iou(big, _gt()).mean_iou < 1.0


def test_empty_prediction_and_pooling() -> None:
    g = _gt()
    r0 = instance_iou(np.zeros_like(g), g)
    assert (r0.mean_iou, r0.foreground_iou, r0.matched) == (0.0, 0.0, 0)
    r1 = instance_iou(g, g)
    pooled = mean_result([r0, r1])
    assert pooled.mean_iou == pytest.approx(0.5) and pooled.instances == 4
    assert foreground_iou(np.zeros_like(g), np.zeros_like(g)) == 1.0


@pytest.mark.parametrize(
    ("pred", "gt", "field"),
    [
        (np.zeros((3, 3), int), np.zeros((4, 4), int), "size mismatch"),
        (np.zeros((3, 3), int), np.zeros((3, 3), int), "no instances"),
        (np.full((3, 3), 0.5), np.ones((3, 3), int), "integers"),
        (np.zeros((0, 3), int), np.zeros((0, 3), int), "empty"),
        (np.zeros(9, int), np.ones(9, int), "2-D"),
        (-np.ones((3, 3), int), np.ones((3, 3), int), ">= 0"),
    ],
)
def test_bad_input_is_a_clear_error(pred: np.ndarray, gt: np.ndarray, field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        instance_iou(pred, gt)


def test_read_png_and_npy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    g = _gt().astype(np.uint16)
    Image.fromarray(g).save(tmp_path / "g.png")
    np.save(tmp_path / "g.npy", g)
    assert np.array_equal(read_label_image(str(tmp_path / "g.png")), g)
    assert np.array_equal(read_label_image(str(tmp_path / "g.npy")), g)
    with pytest.raises(ConfigError, match="npy or .png"):
        (tmp_path / "g.txt").write_text("x")
        read_label_image(str(tmp_path / "g.txt"))


def test_cli_iou(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from ipa_energy.cli.main import main

    g = _gt()
    p = np.where(g == 2, 4, 0)
    np.save(tmp_path / "p.npy", p)
    np.save(tmp_path / "g.npy", g)
    main(["segment", "iou", str(tmp_path / "p.npy"), str(tmp_path / "g.npy"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out == {"mean_iou": 0.5, "foreground_iou": 9 / 13, "instances": 2, "matched": 1, "predicted": 1}
    np.save(tmp_path / "small.npy", g[:3])
    with pytest.raises(SystemExit) as e:
        main(["segment", "iou", str(tmp_path / "small.npy"), str(tmp_path / "g.npy")])
    assert e.value.code == 2
    assert "size mismatch" in capsys.readouterr().err
