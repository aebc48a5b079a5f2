"""Bundled workloads match their provenance; user traces are parsed strictly with line numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ipa_energy.errors import ConfigError, UnknownNameError
from ipa_energy.workloads import default_twitter_trace_path, load_workload, workload_names

# from the shared data README (data/ipa/README.md, "workloads/" table)
EXPECTED = {
    "bursty": (3, 12.0, 34, 14_437),
    "steady_low": (3, 5.1, 8, 6_067),
    "steady_high": (23, 28.8, 34, 34_606),
    "fluctuating": (3, 16.5, 34, 19_837),
}


def test_names() -> None:
    assert set(workload_names()) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_totals_match_data_readme(name: str) -> None:
    lo, mean, hi, total = EXPECTED[name]
    w = load_workload(name)
    assert w.name == name
    assert w.duration_s == 1200
    assert w.total_requests == total
    assert w.rates_rps.min() == lo and w.rates_rps.max() == hi
    assert round(float(w.rates_rps.mean()), 1) == mean
    assert "twitter trace" in w.source


def test_load_scale_multiplies_rates() -> None:
    base = load_workload("bursty")
    w = load_workload("bursty", load_scale=100)
    assert w.load_scale == 100
    np.testing.assert_array_equal(w.rates_rps, base.rates_rps * 100)
    assert w.total_requests == 1_443_700
    assert base.scaled(2.5).total_requests == pytest.approx(14_437 * 2.5)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf")])
def test_bad_load_scale(bad: float) -> None:
    with pytest.raises(ConfigError, match="load_scale"):
        load_workload("bursty", load_scale=bad)


def test_rates_are_read_only() -> None:
    w = load_workload("steady_low")
    with pytest.raises(ValueError):
        w.rates_rps[0] = 1.0


def test_unknown_name_lists_valid_ones() -> None:
    with pytest.raises(UnknownNameError) as e:
        load_workload("burst")
    msg = str(e.value)
    assert "'burst'" in msg
    for name in EXPECTED:
        assert name in msg


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_workload("nope/trace.csv")


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "trace.csv"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "text,expected",
    [
        ("5\n7\n0\n", [5, 7, 0]),  # one column, no header
        ("rps\n5\n7.5\n", [5, 7.5]),  # one column, any header
        ("load\n1\n2\n\n\n", [1, 2]),  # trailing blank lines are fine
        ("t_s,rate_rps\n0,3\n1,4\n", [3, 4]),
        ("t_s,segment,rps\n0,a,3\n1,a,4\n", [3, 4]),
        ("\ufeffrps\r\n2\r\n3\r\n", [2, 3]),  # BOM and CRLF
    ],
)
def test_user_traces(tmp_path: Path, text: str, expected: list[float]) -> None:
    w = load_workload(_write(tmp_path, text))
    assert w.name == "trace"
    np.testing.assert_array_equal(w.rates_rps, expected)
    # a path given as a string works too
    np.testing.assert_array_equal(load_workload(str(tmp_path / "trace.csv")).rates_rps, expected)


def test_shared_reference_csv_loads() -> None:
    trace = default_twitter_trace_path()
    ref = trace.parent / "bursty.csv" if trace is not None else None
    if ref is None or not ref.is_file():
        pytest.skip("shared reference data not present")
    w = load_workload(ref)
    np.testing.assert_array_equal(w.rates_rps, load_workload("bursty").rates_rps)


@pytest.mark.parametrize(
    "text,line,fragment",
    [
        ("rps\n5\n-3\n", 3, "negative rate -3"),
        ("5\n6\n\n7\n", 3, "missing rate"),
        ("t_s,rps\n0,4\n1,\n", 3, "missing rate"),
        ("5\n6\nabc\n", 3, "non-numeric rate 'abc'"),
        ("rps\n1\nnan\n", 3, "non-finite"),
        ("t_s,rps\n0,4\n1,5,6\n", 3, "expected 2 fields"),
        ("t_s,load\n0,4\n", 1, "named rate_rps or rps"),
        ("0,4\n1,5\n", 1, "must have one column"),
    ],
)
def test_bad_traces_name_the_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_workload(p)
    msg = str(e.value)
    assert f"{p}:{line}:" in msg
    assert fragment in msg


@pytest.mark.parametrize("text", ["", "\n\n", "rps\n"])
def test_empty_traces(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="trace"):
        load_workload(_write(tmp_path, text))


def test_rows_with_negative_t_s_are_the_history_before_the_run(tmp_path: Path) -> None:
    w = load_workload(_write(tmp_path, "t_s,rps\n-2,3\n-1,4\n0,5\n1,6\n"), load_scale=2)
    np.testing.assert_array_equal(w.history_rps, [6, 8])
    np.testing.assert_array_equal(w.rates_rps, [10, 12])
    assert load_workload(_write(tmp_path, "rps\n5\n6\n")).history_rps.size == 0  # no t_s: no history


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("t_s,rps\n-1,3\n0,4\n-1,5\n", ":4: t_s: history rows (t_s < 0) must come before the run"),
        ("t_s,rps\n-2,3\n-1,4\n", "t_s: the trace has history rows"),
        ("t_s,rps\nx,3\n", ":2: t_s: non-numeric time 'x'"),
    ],
)
def test_bad_history_rows_name_the_field(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_workload(_write(tmp_path, text))
    assert fragment in str(e.value)
