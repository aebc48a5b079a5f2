"""The profile table: CSV round trip, look-ups, validation with line numbers, conversion to stages."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipa_energy.errors import ConfigError
from ipa_energy.profiles import (
    ProfileRow,
    ProfileTable,
    VariantSpec,
    load_profile,
    parse_profile_csv,
    profile_to_csv,
    save_profile,
)
from ipa_energy.profiles.power_model import P99_OVER_MEAN_LATENCY, batch_energy_j

GOOD = """stage,variant,batch,latency_s,energy_j,latency_p50_s,latency_p99_s,cores,source
a,v1,1,0.1,0.5,,,1,fragment:series-70
a,v1,8,0.6,3.0,0.4,0.6,1,fit:x
a,v2,1,0.2,1.0,,,2,paper:table3
b,w,1,0.05,0.2,,,,measured:test
"""


def test_parse_and_lookup() -> None:
    t = parse_profile_csv(GOOD, source="mem.csv")
    assert t.stages() == ("a", "b")
    assert t.variants("a") == ("v1", "v2")
    assert t.batches("a", "v1", 1) == (1, 8)
    r = t.lookup("a", "v1", 8, cores=1)
    assert (r.latency_s, r.energy_j, r.latency_p50_s, r.source) == (0.6, 3.0, 0.4, "fit:x")
    assert t.lookup("b", "w", 1).cores is None
    # a core count the table lacks falls back to rows without cores, else it is an error naming the batch
    assert t.latency_s("b", "w", 1, cores=4) == 0.05
    with pytest.raises(ConfigError, match=r"mem.csv: no profile row for stage 'a' variant 'v1' batch 4"):
        t.lookup("a", "v1", 4)


def test_round_trip_file(tmp_path: Path) -> None:
    t = parse_profile_csv(GOOD)
    p = tmp_path / "p.csv"
    save_profile(t, p)
    back = load_profile(p)
    assert back.rows == t.rows
    assert back.source == str(p)


row_strategy = st.builds(
    ProfileRow,
    stage=st.sampled_from(["s0", "stage one", "x,y"]),
    variant=st.text(alphabet="abcXYZ-_/.0123", min_size=1, max_size=12),
    batch=st.integers(1, 64),
    latency_s=st.floats(1e-6, 1e4, allow_nan=False),
    energy_j=st.floats(0, 1e6, allow_nan=False),
    latency_p50_s=st.none() | st.floats(1e-6, 10),
    latency_p99_s=st.none() | st.floats(1e-6, 10),
    cores=st.none() | st.integers(1, 64),
    source=st.text(alphabet="abc:-[]+ ,", max_size=20),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(row_strategy, min_size=1, max_size=8, unique_by=lambda r: r.key))
def test_round_trip_property(rows: list[ProfileRow]) -> None:
    t = ProfileTable(tuple(rows))
    back = parse_profile_csv(profile_to_csv(t))
    # the source column is stripped of surrounding blanks on reading
    assert back.rows == tuple(ProfileRow(**{**r.__dict__, "source": r.source.strip()}) for r in rows)


@pytest.mark.parametrize(
    "text,where",
    [
        ("stage,variant,batch,latency_s,energy_j\na,v,1,-0.1,1\n", "line 2: latency_s"),
        ("stage,variant,batch,latency_s,energy_j\na,v,1,0.1,1\na,v,2,0.1,-3\n", "line 3: energy_j"),
        ("stage,variant,batch,latency_s,energy_j\na,v,1.5,0.1,1\n", "line 2: batch"),
        ("stage,variant,batch,latency_s,energy_j\na,v,1,fast,1\n", "line 2: latency_s"),
        ("stage,variant,batch,latency_s,energy_j\na,v,1,0.1,1\na,v,1,0.2,1\n", "line 3"),
        ("stage,variant,batch,latency_s,energy_j\na,,1,0.1,1\n", "line 2: variant"),
        ("stage,variant,batch,latency_s,energy_j,cores\na,v,1,0.1,1,0\n", "line 2: cores"),
        ("stage,variant,batch,latency_s\na,v,1,0.1\n", "line 1"),
        ("stage,variant,batch,latency_s,energy_j,watts\na,v,1,0.1,1,3\n", "line 1"),
        ("stage,variant,batch,latency_s,energy_j\n", "no rows"),
    ],
)
def test_bad_csv_names_file_and_line(tmp_path: Path, text: str, where: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_profile(p)
    assert str(p) in str(e.value) and where in str(e.value)


def test_spreadsheet_bom(tmp_path: Path) -> None:
    p = tmp_path / "excel.csv"
    p.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert load_profile(p).rows == parse_profile_csv(GOOD).rows


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_profile(tmp_path / "nope.csv")


def test_to_problem_stages_limits_and_factor() -> None:
    t = parse_profile_csv(GOOD, source="mem.csv")
    specs = {"a": [VariantSpec("v1", 0.5, 1), VariantSpec("v2", 0.7, 2)], "b": [VariantSpec("w", 0.9, 1)]}
    stages = t.to_problem_stages(specs, latency_factor=2.0)
    assert [s.name for s in stages] == ["a", "b"]
    v1 = stages[0].variants[0]
    assert [p.batch for p in v1.profile] == [1, 8]
    assert [p.latency_s for p in v1.profile] == [0.2, 1.2]  # doubled
    assert [p.energy_j for p in v1.profile] == [0.5, 3.0]  # energy is not scaled
    assert stages[0].variants[1].cores == 2
    capped = t.to_problem_stages(specs, max_batch=4)
    assert [p.batch for p in capped[0].variants[0].profile] == [1]


def test_to_problem_stages_errors() -> None:
    t = parse_profile_csv(GOOD, source="mem.csv")
    with pytest.raises(ConfigError, match=r"mem.csv: .*variant 'v2' is profiled at cores \[2\].*4 cores"):
        t.to_problem_stages({"a": [VariantSpec("v2", 0.7, 4)]})
    with pytest.raises(ConfigError, match="no rows for stage 'a' variant 'v9'"):
        t.to_problem_stages({"a": [VariantSpec("v9", 0.7, 1)]})
    with pytest.raises(ConfigError, match="within the batch limits"):
        t.to_problem_stages({"a": [VariantSpec("v2", 0.7, 2)]}, batches=[8])
    with pytest.raises(ConfigError, match="latency_factor"):
        t.to_problem_stages({"a": [VariantSpec("v1", 0.7, 1)]}, latency_factor=0)


def test_power_model_energy() -> None:
    # 5 W per busy core (the stated coefficient) x 2 cores x mean busy time
    e = batch_energy_j(0.274, 2, dynamic_power_w_per_core=5.0)
    assert e == pytest.approx(5.0 * 2 * 0.274 / P99_OVER_MEAN_LATENCY)
    with pytest.raises(ValueError):
        batch_energy_j(0.0, 1)
