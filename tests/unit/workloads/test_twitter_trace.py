"""The full Twitter trace: damping, gaps, bad lines, and the bundled workloads' provenance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ipa_energy.errors import ConfigError
from ipa_energy.workloads import (
    TWITTER_TRACE_ENV,
    default_twitter_trace_path,
    load_twitter_trace,
    load_workload,
)


def test_damping_and_gaps(tmp_path: Path) -> None:
    p = tmp_path / "t.txt"
    p.write_text("0\n7\n8\n17\n400\n\n")
    tr = load_twitter_trace(p)
    np.testing.assert_array_equal(tr.rates_rps, [0, 0, 1, 2, 50])
    np.testing.assert_array_equal(tr.gaps, [True, False, False, False, False])
    assert tr.duration_s == 5 and tr.damping == 8


@pytest.mark.parametrize(
    "text,line,fragment",
    [("1\n2\nx\n", 3, "non-integer count 'x'"), ("1\n\n2\n", 2, "missing"), ("1\n-4\n", 2, "negative")],
)
def test_bad_lines(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    p = tmp_path / "t.txt"
    p.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_twitter_trace(p)
    assert f"{p}:{line}:" in str(e.value) and fragment in str(e.value)


def test_env_var_and_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TWITTER_TRACE_ENV, str(tmp_path / "absent.txt"))
    assert default_twitter_trace_path() == tmp_path / "absent.txt"
    with pytest.raises(ConfigError, match="not found"):
        load_twitter_trace()


def test_no_trace_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TWITTER_TRACE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_twitter_trace_path() is None
    with pytest.raises(ConfigError, match="--trace"):
        load_twitter_trace()


WINDOWS = {
    "bursty": [(1301160, 1302360)],
    "steady_low": [(1299600, 1300800)],
    "steady_high": [(1768800, 1769400), (1768800, 1769400)],
    "fluctuating": [(1301400, 1302000), (1308600, 1309200)],
}


def test_bundled_workloads_are_the_trace_windows() -> None:
    path = default_twitter_trace_path()
    if path is None or not path.is_file():
        pytest.skip("the Twitter trace is not present")
    tr = load_twitter_trace(path)
    assert tr.duration_s == 1_899_061
    assert int(tr.gaps.sum()) == 37_899
    for name, windows in WINDOWS.items():
        expected = np.concatenate([tr.rates_rps[a:b] for a, b in windows])
        np.testing.assert_array_equal(load_workload(name).rates_rps, expected, err_msg=name)
