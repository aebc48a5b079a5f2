"""Work before checks (issue 14): every argument and output location is checked before any work starts.

Each case is refused with exit 2, one line naming the flag, no traceback, and the output location is left
as it was; the cases that would do real work (a run, a profile, a training) are refused in milliseconds
because the checks run while the command line is parsed (``cli/params.py`` -> ``config/validation.py``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from rel_helpers import Runner, assert_nothing_written, assert_refused


@pytest.fixture
def blocker(tmp_path: Path) -> Path:
    """A plain file: every output path below it is impossible."""
    f = tmp_path / "a-file"
    f.write_text("not a folder\n")
    return f


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    p = tmp_path / "trace.txt"
    p.write_text("\n".join(str(int(c)) for c in 50 + rng.poisson(10, size=2 * 3600)) + "\n")
    return p


OUT_UNDER_FILE = [
    (["simulate", "--duration-s", "30", "--out", "{B}/sub"], "--out"),
    (["bench", "--out", "{B}/sub"], "--out"),
    (["bench", "--out", "{B}"], "--out"),
    (["serve", "--duration-s", "5", "--out", "{B}/sub"], "--out"),
    (["profile", "--pipeline", "digits", "--out", "{B}/sub/p.csv"], "--out"),
    (["predictor", "train", "--out", "{B}/sub/w.npz"], "--out"),
    (["energy", "measure", "--meter", "model", "--log", "{B}/sub/l.csv", "--", "true"], "--log"),
    (["energy", "monitor", "--meter", "model", "--duration-s", "1", "--log", "{B}/l.csv"], "--log"),
    (["energy", "calibrate", "--out", "{B}/pm.json"], "--out"),
    (["solve", "--pipeline", "video", "--rate", "10", "--save-problem", "{B}/p.json"], "--save-problem"),
]


@pytest.mark.parametrize(("args", "field"), OUT_UNDER_FILE, ids=lambda a: " ".join(a) if isinstance(a, list) else a)
def test_output_under_a_file_is_refused_before_work(cli: Runner, blocker: Path, args: list[str], field: str) -> None:
    t0 = time.perf_counter()
    r = cli(*[a.replace("{B}", str(blocker)) for a in args])
    assert_refused(r, field)
    assert "is a file" in r.err
    assert time.perf_counter() - t0 < 5.0  # no run, profile or training happened
    assert blocker.read_text() == "not a folder\n"


def test_profile_out_that_is_a_folder_is_refused(cli: Runner, tmp_path: Path) -> None:
    assert_refused(cli("profile", "--pipeline", "digits", "--out", str(tmp_path)), "--out")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_output_folder_is_refused(cli: Runner, tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        r = cli("simulate", "--duration-s", "30", "--out", str(ro / "sub"))
        assert_refused(r, "--out")
        assert "not writable" in r.err
    finally:
        ro.chmod(0o755)


def test_unwritable_check_names_the_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The same rule as the skipped test above, for root: ``os.access`` says no -> refused."""
    from ipa_energy.config.validation import check_output_dir, check_output_file
    from ipa_energy.errors import ConfigError

    monkeypatch.setattr(os, "access", lambda *_a, **_k: False)
    with pytest.raises(ConfigError, match="--out: .* is not writable"):
        check_output_dir(tmp_path / "x", "--out")
    with pytest.raises(ConfigError, match="--log: .* is not writable"):
        check_output_file(tmp_path / "x.csv", "--log")


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["profile", "--pipeline", "digits", "--batches", "1,2,1"], "--batches"),
        (["profile", "--pipeline", "digits", "--cores", "2,2"], "--cores"),
        (["profile", "--pipeline", "digits", "--batches", ""], "--batches"),
        (["predictor", "train", "--trace", "{T}", "--train-days", "1000", "--out", "{D}/w.npz"], "--train-days"),
        (["predictor", "evaluate", "--trace", "{T}", "--first-day", "100"], "--first-day"),
        (["predictor", "evaluate", "--trace", "{T}", "--first-day", "0.01", "--last-day", "50"], "--last-day"),
        (["predictor", "evaluate", "--trace", "{T}", "--first-day", "0.05", "--last-day", "0.02"], "--last-day"),
        (["predictor", "evaluate", "--trace", "{T}", "--stride-s", "15"], "--stride-s"),
    ],
)
def test_bad_arguments_are_found_before_work(
    cli: Runner, trace: Path, tmp_path: Path, args: list[str], field: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    r = cli(*[a.replace("{T}", str(trace)).replace("{D}", str(out)) for a in args])
    assert_refused(r, field)
    assert "training on days" not in r.out  # nothing was trained
    assert_nothing_written(out)


def test_evaluate_inside_the_training_days_is_not_called_held_out(cli: Runner, trace: Path) -> None:
    import json

    r = cli("predictor", "evaluate", "--trace", str(trace), "--first-day", "0.02", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["held_out"] is False
    text = cli("predictor", "evaluate", "--trace", str(trace), "--first-day", "0.02")
    assert "NOT held-out" in text.out


def test_experiment_values_are_checked_before_the_first_run(cli: Runner, tmp_path: Path) -> None:
    exp = tmp_path / "exp.yaml"
    exp.write_text("systems: [ipa, fa2-low, ipa]\n")
    out = tmp_path / "out"
    assert_refused(cli("bench", "--config", str(exp), "--out", str(out)), "systems")
    assert_nothing_written(out)
