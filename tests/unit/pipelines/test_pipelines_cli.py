"""`ipa-energy pipelines list/show` and `ipa-energy solve --pipeline` through the real CLI entry point."""

from __future__ import annotations

import json

import pytest

from ipa_energy.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "pipelines", "list", "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["name"] for r in rows] == [
        "audio-qa", "audio-sent", "digits", "nlp", "segment", "sum-qa", "video", "video-tv",
    ]
    assert next(r for r in rows if r["name"] == "nlp")["stages"] == ["nlp-li", "nlp-trans", "nlp-sum"]


def test_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "pipelines", "show", "video")
    assert code == 0 and "yolov5x" in out and "rim-high" in out
    code, out, _ = run(capsys, "pipelines", "show", "sum-qa", "--json")
    d = json.loads(out)
    assert d["sla_s"] == 3.84 and len(d["stages"][0]["variants"]) == 6


def test_show_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "pipelines", "show", "vidoe")
    assert code == 2 and "unknown pipeline 'vidoe'" in err and "Traceback" not in err


def test_solve_with_a_preset(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "solve", "--pipeline", "video", "--rate", "20", "--system", "fa2-high", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["feasible"] and [s["variant"] for s in d["stages"]] == ["yolov5s", "resnet101"]


def test_solve_unknown_system(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "solve", "--pipeline", "video", "--rate", "20", "--system", "fa3")
    assert code == 2 and "unknown system 'fa3'" in err
