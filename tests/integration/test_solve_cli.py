"""`ipa-energy solve` as a real process: the JSON contract, infeasible answers, and malformed input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ipa_energy.optimize.problem_io import load_problem, problem_to_dict
from ipa_energy.optimize.random_problems import random_problem
from ipa_energy.optimize.solvers import get_solver

KEYS = {"feasible", "solver", "objective", "solve_time_s", "pas", "cost_cores", "power_w", "latency_s", "stages"}
STAGE_KEYS = {"name", "variant", "batch", "replicas", "latency_s", "power_w"}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ipa_energy.cli.main", "solve", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


def write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


@pytest.fixture
def problem_dict() -> dict[str, Any]:
    return problem_to_dict(random_problem(1, budgets=True))


@pytest.mark.parametrize("solver", ["dp", "milp", "ipa-milp", "brute"])
def test_json_output_keys_and_values(tmp_path: Path, problem_dict: dict[str, Any], solver: str) -> None:
    path = write(tmp_path, "p.json", problem_dict)
    r = run_cli(path, "--solver", solver, "--json")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    out = json.loads(r.stdout)  # the whole of stdout is one JSON object (no solver log around it)
    assert set(out) == KEYS
    assert out["feasible"] is True and out["solver"] == solver
    assert [s["name"] for s in out["stages"]] == [s["name"] for s in problem_dict["stages"]]
    assert all(set(s) == STAGE_KEYS for s in out["stages"])
    assert 0 < out["solve_time_s"] < 60
    # the process's answer is the library's optimum for the same file
    ref = get_solver("brute").solve(load_problem(path))
    assert out["objective"] == pytest.approx(ref.objective, rel=1e-9)
    assert out["cost_cores"] == ref.cost_cores
    assert out["latency_s"] <= problem_dict["sla_s"] + 1e-9


def test_infeasible_prints_reason_and_exits_zero(tmp_path: Path, problem_dict: dict[str, Any]) -> None:
    problem_dict["sla_s"] = 1e-6
    r = run_cli(write(tmp_path, "p.json", problem_dict), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == KEYS | {"reason"}
    assert out["feasible"] is False and out["objective"] is None and out["stages"] == []
    assert "fastest option per stage still exceeds the SLA" in out["reason"]


def test_human_output(tmp_path: Path, problem_dict: dict[str, Any]) -> None:
    r = run_cli(write(tmp_path, "p.json", problem_dict), "--solver", "milp")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("objective ") and "(milp," in r.stdout
    assert len(r.stdout.splitlines()) == 1 + len(problem_dict["stages"])


def test_save_problem_round_trips(tmp_path: Path) -> None:
    saved = tmp_path / "saved.json"
    r = run_cli("--pipeline", "video", "--rate", "20", "--save-problem", str(saved), "--json")
    assert r.returncode == 0, r.stderr
    first = json.loads(r.stdout)
    r2 = run_cli(str(saved), "--solver", "milp", "--json")
    assert r2.returncode == 0, r2.stderr
    again = json.loads(r2.stdout)
    assert first["feasible"] and again["feasible"]
    assert again["objective"] == pytest.approx(first["objective"], rel=1e-9)


def _malformed(problem_dict: dict[str, Any]) -> dict[str, tuple[Any, list[str], str]]:
    """case -> (file content, extra args, text the one stderr line must contain)."""
    neg = dict(problem_dict, arrival_rate=-3)
    missing = {k: v for k, v in problem_dict.items() if k != "sla_s"}
    unknown = dict(problem_dict, sla_ms=5)
    bad_stage = json.loads(json.dumps(problem_dict))
    bad_stage["stages"][0]["variants"][0]["profile"][0]["latency_s"] = "fast"
    return {
        "bad_json": ('{"arrival_rate": 10, "sla_s": ', [], "invalid JSON at line 1"),
        "missing_key": (missing, [], "sla_s: Field required"),
        "negative_rate": (neg, [], "arrival_rate"),
        "unknown_key": (unknown, [], "sla_ms: unknown key"),
        "nested_field": (bad_stage, [], "stages[0].variants[0].profile[0].latency_s"),
        "unknown_solver": (problem_dict, ["--solver", "gurobi"], "unknown solver 'gurobi'; valid: "),
    }


@pytest.mark.parametrize(
    "case", ["bad_json", "missing_key", "negative_rate", "unknown_key", "nested_field", "unknown_solver"]
)
def test_malformed_input_is_one_line_exit_2(tmp_path: Path, problem_dict: dict[str, Any], case: str) -> None:
    content, extra, needle = _malformed(problem_dict)[case]
    r = run_cli(write(tmp_path, "bad.json", content), *extra, "--json")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert needle in lines[0], lines[0]
    if case != "unknown_solver":
        assert "bad.json" in lines[0]  # names the file


def test_missing_file_and_bad_rate_are_one_line(tmp_path: Path) -> None:
    r = run_cli(str(tmp_path / "nope.json"))
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "nope.json" in r.stderr
    r = run_cli("--pipeline", "video", "--rate", "-5")
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "rate" in r.stderr
    assert "Traceback" not in r.stderr
