"""``ipa-energy predictor list|evaluate|train`` on a small synthetic trace file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ipa_energy.cli.predictor import predictor
from ipa_energy.predict.lstm import LSTMWeights


@pytest.fixture
def trace_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 3 * 3600
    counts = 80 + 40 * np.sin(np.arange(n) * 2 * np.pi / 1800) + rng.poisson(10, size=n)
    counts[100:130] = 0  # a gap
    p = tmp_path / "trace.txt"
    p.write_text("\n".join(str(int(c)) for c in counts) + "\n")
    return p


def test_list() -> None:
    out = CliRunner().invoke(predictor, ["list"]).output
    for name in ("lstm", "reactive", "moving-max"):
        assert name in out


def test_evaluate_json(trace_file: Path) -> None:
    res = CliRunner().invoke(
        predictor, ["evaluate", "--trace", str(trace_file), "--first-day", "0.0417", "--json"]
    )
    assert res.exit_code == 0, res.output
    obj = json.loads(res.output)
    assert obj["weights"] == "shipped" and obj["windows"] > 500
    assert obj["split"]["test"] == [15.0, None]
    assert {"lstm", "reactive", "moving-max"} <= set(obj["scores"])
    assert all(0 <= s["smape_pct"] <= 200 for s in obj["scores"].values())


def test_evaluate_defaults_to_the_test_days(trace_file: Path) -> None:
    res = CliRunner().invoke(predictor, ["evaluate", "--trace", str(trace_file)])
    assert res.exit_code != 0  # a 3-hour trace has no day 15
    assert "no gap-free evaluation window" in str(res.exception)


def test_evaluate_rejects_empty_range(trace_file: Path) -> None:
    res = CliRunner().invoke(predictor, ["evaluate", "--trace", str(trace_file), "--first-day", "5"])
    assert res.exit_code != 0
    assert "beyond the trace" in str(res.exception)  # found before any scoring


def test_train_writes_weights(trace_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    out = tmp_path / "w.npz"
    res = CliRunner().invoke(predictor, [
        "train", "--trace", str(trace_file), "--out", str(out), "--epochs", "1", "--max-windows", "64",
        "--train-days", "0.0833",
    ])
    assert res.exit_code == 0, res.output
    assert "trained on 64 windows" in res.output
    assert "lstm" in res.output and "reactive" in res.output
    assert "differ" in res.output  # not the shipped weights
    w = LSTMWeights.load(out)
    assert w.meta["max_windows"] == 64 and w.meta["trace"] == "trace.txt"


def test_train_without_held_out_days(trace_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    res = CliRunner().invoke(predictor, [
        "train", "--trace", str(trace_file), "--out", str(tmp_path / "w.npz"), "--epochs", "1",
        "--max-windows", "16",
    ])
    assert res.exit_code != 0
    assert "14 days leave nothing to score" in str(res.exception)
    assert not (tmp_path / "w.npz").exists()  # refused before training
