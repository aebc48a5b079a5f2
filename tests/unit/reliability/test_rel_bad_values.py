"""Tracebacks on bad values (issue 14): each hostile value is one line naming the field, exit 2.

The sweep behind this list (every command x zero/NaN/negative/huge numbers, binary and deeply nested
files, ports out of range or taken) found about 40 cases that traced back or ran; each is a case here.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from rel_helpers import Runner, assert_nothing_written, assert_refused

BINARY = b"\x00\x01\x02\xff\xfe binary\n"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name in ("bin.yaml", "bin.json", "bin.csv"):
        (tmp_path / name).write_bytes(BINARY)
        out[name] = tmp_path / name
    (tmp_path / "latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    out["latin1.yaml"] = tmp_path / "latin1.yaml"
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    out["deep.yaml"] = tmp_path / "deep.yaml"
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    out["deep.json"] = tmp_path / "deep.json"
    return out


SIM = ["simulate", "--duration-s", "20", "--predictor", "reactive"]
CASES = [
    ([*SIM, "--interval-s", "0"], "--interval-s"),
    ([*SIM, "--interval-s", "nan"], "--interval-s"),
    ([*SIM, "--interval-s", "-inf"], "--interval-s"),
    ([*SIM, "--seed", "-1"], "--seed"),
    ([*SIM, "--seed", "1.5"], "--seed"),
    ([*SIM, "--seed", str(2**70)], "--seed"),
    ([*SIM, "--load-scale", "1e300"], "--load-scale"),
    ([*SIM, "--initial-rate", "inf"], "--initial-rate"),
    (["serve", "--duration-s", "5", "--time-scale", "0"], "--time-scale"),
    (["serve", "--duration-s", "5", "--max-batch-wait-s", "nan"], "--max-batch-wait-s"),
    (["serve", "--duration-s", "5", "--prometheus-port", "70000"], "--prometheus-port"),
    (["bench", "--workers", "-1", "--out", "{D}/o"], "--workers"),
    (["bench", "--workers", "0", "--out", "{D}/o"], "--workers"),
    (["profile", "--pipeline", "digits", "--batches", "100000000000"], "--batches"),
    (["profile", "--pipeline", "digits", "--image-size", "-1"], "--image-size"),
    (["profile", "--pipeline", "digits", "--repeats", "0"], "--repeats"),
    (["predictor", "train", "--epochs", "-1"], "--epochs"),
    (["predictor", "evaluate", "--stride-s", "0"], "--stride-s"),
    (["predictor", "evaluate", "--first-day", "nan"], "--first-day"),
    (["energy", "monitor", "--meter", "model", "--duration-s", "1", "--interval-s", "0"], "--interval-s"),
    (["energy", "monitor", "--meter", "model", "--duration-s", "1", "--prometheus-port", "-1"], "--prometheus-port"),
    (["energy", "measure", "--meter", "model", "--interval-s", "nan", "--", "true"], "--interval-s"),
    (["energy", "calibrate", "--max-cores", "-1"], "--max-cores"),
    (["energy", "calibrate", "--step-s", "0"], "--step-s"),
    (["solve", "--pipeline", "video", "--rate", "inf"], "rate"),
    (["solve", "--pipeline", "video", "--rate", "nan"], "rate"),
    # files that are not what they claim to be
    ([*SIM, "--pipeline", "{F}bin.yaml"], "bin.yaml"),
    ([*SIM, "--pipeline", "{F}latin1.yaml"], "latin1.yaml"),
    ([*SIM, "--pipeline", "{F}deep.yaml"], "deep.yaml"),
    ([*SIM, "--workload", "{F}bin.csv"], "bin.csv"),
    (["solve", "{F}bin.json"], "bin.json"),
    (["solve", "{F}deep.json"], "deep.json"),
    (["bench", "--config", "{F}bin.yaml", "--out", "{D}/o"], "bin.yaml"),
    (["bench", "--config", "{F}deep.yaml", "--out", "{D}/o"], "deep.yaml"),
    (["pipelines", "show", "{F}bin.yaml"], "bin.yaml"),
    (["pipelines", "show", "video", "--profile", "{F}bin.csv"], "bin.csv"),
    (["energy", "monitor", "--meter", "model", "--duration-s", "1", "--power-model", "{F}bin.json"], "bin.json"),
    (["energy", "parse", "{F}bin.csv"], "bin.csv"),
]


@pytest.mark.parametrize(("args", "field"), CASES, ids=[" ".join(a[0][:1] + a[0][-2:]) for a in CASES])
def test_bad_value_is_one_line_exit_2(
    cli: Runner, files: dict[str, Path], tmp_path: Path, args: list[str], field: str
) -> None:
    d = tmp_path / "work"
    d.mkdir()
    argv = [a.replace("{F}", str(files["bin.yaml"].parent) + "/").replace("{D}", str(d)) for a in args]
    assert_refused(cli(*argv), field)
    assert_nothing_written(d / "o")


def test_port_taken_is_refused(cli: Runner) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = cli("energy", "monitor", "--meter", "model", "--duration-s", "1", "--prometheus-port", str(port))
    assert_refused(r, "--prometheus-port")
    assert "cannot listen" in r.err


def test_infinite_sla_in_a_pipeline_yaml_is_refused(cli: Runner, tmp_path: Path) -> None:
    from ipa_energy.pipelines import pipeline_path

    text = pipeline_path("video").read_text()
    import re

    bad = tmp_path / "inf.yaml"
    bad.write_text(re.sub(r"(?m)^(\s*sla_s:).*$", r"\1 .inf", text, count=1))
    assert ".inf" in bad.read_text()
    r = cli("simulate", "--pipeline", str(bad), "--duration-s", "20")
    assert_refused(r, "sla_s")


def test_too_many_requests_is_refused_not_a_memory_error() -> None:
    import numpy as np

    from ipa_energy.errors import ConfigError
    from ipa_energy.workloads import arrival_times
    from ipa_energy.workloads.trace import Workload

    w = Workload(name="huge", rates_rps=np.full(1200, 1e6), source="test")
    with pytest.raises(ConfigError, match="load_scale"):
        arrival_times(w, seed=0)


def test_memory_error_backstop_is_one_line(cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    import ipa_energy.pipelines as pipes

    def boom(*_a: object, **_k: object) -> list[str]:
        raise MemoryError

    monkeypatch.setattr(pipes, "pipeline_names", boom)
    assert_refused(cli("pipelines", "list"), "out of memory")
