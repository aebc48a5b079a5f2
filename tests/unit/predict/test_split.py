"""The train / validation / test split of the Twitter trace and where the evaluation workloads lie."""

from __future__ import annotations

import numpy as np
import pytest

from ipa_energy.errors import ConfigError
from ipa_energy.predict.split import DEFAULT_SPLIT, EVALUATION_WINDOWS, TraceSplit
from ipa_energy.workloads import default_twitter_trace_path, load_twitter_trace, load_workload


def test_parts_tile_the_trace_without_overlap() -> None:
    s = DEFAULT_SPLIT
    assert s.days("train") == (0.0, 14.0)  # IPA's LSTM training days
    assert s.days("train")[1] == s.days("validation")[0]
    assert s.days("validation")[1] == s.days("test")[0]
    assert s.days("test")[1] is None


def test_every_evaluation_workload_is_in_the_test_days() -> None:
    parts = DEFAULT_SPLIT.workload_parts()
    assert set(parts) == {"bursty", "steady_low", "steady_high", "fluctuating"}
    assert all(p == {"test"} for p in parts.values()), parts


def test_a_split_ending_training_later_would_train_on_the_workloads() -> None:
    parts = TraceSplit(validation_day=15.5, test_day=16.0).workload_parts()
    assert parts["bursty"] == {"train"} and parts["steady_high"] == {"test"}


def test_invalid_split_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        TraceSplit(validation_day=15.0, test_day=14.0)
    with pytest.raises(ConfigError):
        DEFAULT_SPLIT.days("holdout")  # type: ignore[arg-type]


@pytest.mark.skipif(default_twitter_trace_path() is None, reason="the Twitter trace is not on this machine")
def test_windows_are_where_the_bundled_workloads_come_from() -> None:
    trace = load_twitter_trace()
    for name, wins in EVALUATION_WINDOWS.items():
        expected = np.concatenate([trace.rates_rps[a:b] for a, b in wins])
        assert np.array_equal(load_workload(name).rates_rps, expected), name
