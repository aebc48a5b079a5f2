"""Consistency (issue 14): one spelling per option, ``simulate --json`` carries every figure its text
prints, no Python reprs in output, and every docs path named in help texts and the README exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from rel_helpers import Runner

from ipa_energy.cli.main import cli as root

ROOT = Path(__file__).resolve().parents[3]
DOCS_PATH = re.compile(r"docs/[A-Za-z0-9_./-]*[A-Za-z0-9_]")


def _leaves(cmd: click.Command, ctx: click.Context, path: tuple[str, ...] = ()) -> list[tuple[str, click.Command]]:
    if isinstance(cmd, click.Group):
        out = []
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            assert sub is not None
            out += _leaves(sub, ctx, (*path, name))
        return out
    return [(" ".join(path), cmd)]


LEAVES = _leaves(root, click.Context(root))


def _help_texts() -> list[tuple[str, str]]:
    texts = []
    for path, cmd in LEAVES:
        texts.append((path, cmd.help or ""))
        texts += [(f"{path} {p.opts[0]}", p.help or "") for p in cmd.params if isinstance(p, click.Option)]
    return texts


def test_every_docs_path_in_help_and_readme_exists() -> None:
    named = [(where, m) for where, text in _help_texts() for m in DOCS_PATH.findall(text)]
    named += [("README.md", m) for m in DOCS_PATH.findall((ROOT / "README.md").read_text())]
    assert named, "the check found no docs path at all"
    missing = [(where, p) for where, p in named if not (ROOT / p).exists()]
    assert missing == []


def test_the_check_would_catch_a_missing_doc() -> None:
    assert DOCS_PATH.findall("see docs/solve.md.") == ["docs/solve.md"]
    assert not (ROOT / "docs/solve.md").exists()


def test_one_spelling_per_option_across_commands() -> None:
    """A value with a unit is spelled with it (``--duration-s``) on every command that takes it; the
    bare spelling is accepted only as an alias of the same option."""
    primary: dict[str, set[str]] = {}
    for path, cmd in LEAVES:
        for p in cmd.params:
            if isinstance(p, click.Option):
                primary.setdefault(p.opts[0], set()).add(path)
    clashes = []
    for name, where in primary.items():
        if name.endswith("-s") and name[:-2] in primary:
            clashes.append((name, sorted(where), sorted(primary[name[:-2]])))
    assert clashes == []
    for path in ("simulate", "serve", "energy monitor"):
        cmd = dict(LEAVES)[path]
        opt = next(p for p in cmd.params if isinstance(p, click.Option) and p.name == "duration_s")
        assert opt.opts[0] == "--duration-s" and "--duration" in opt.opts


def test_simulate_json_carries_every_figure_of_the_text(cli: Runner) -> None:
    args = ("simulate", "--workload", "steady_low", "--duration-s", "30", "--predictor", "reactive")
    text = cli(*args)
    data = cli(*args, "--json")
    assert text.code == 0 and data.code == 0, text.err + data.err
    metrics = json.loads(data.out)
    keys = {ln.split(":", 1)[0].strip() for ln in text.out.splitlines() if ":" in ln}
    stage_lines = {k for k in keys if k.startswith("stage ")}
    assert keys - stage_lines <= set(metrics), sorted((keys - stage_lines) - set(metrics))
    assert {f"stage {s['stage']}" for s in metrics["stages"]} == stage_lines
    # every number printed is the JSON's number (to the printed precision)
    for ln in text.out.splitlines():
        k, _, v = ln.partition(":")
        k, v = k.strip(), v.strip()
        timed = "time" in k or k.startswith("wall")  # wall-clock figures differ between the two runs
        if k in metrics and isinstance(metrics[k], float) and not timed:
            assert float(v) == pytest.approx(metrics[k], rel=1e-5, abs=1e-9), (k, v, metrics[k])


REPR = re.compile(r"\b[A-Z][A-Za-z]+\(|\[\s*'|\{'|<[a-z_.]+ object at 0x|\bnp\.")


@pytest.mark.parametrize(
    "args",
    [
        ("simulate", "--workload", "steady_low", "--duration-s", "20", "--predictor", "reactive"),
        ("solve", "--pipeline", "video", "--rate", "20"),
        ("pipelines", "list"),
        ("pipelines", "show", "video"),
        ("predictor", "list"),
    ],
)
def test_no_python_reprs_in_output(cli: Runner, args: tuple[str, ...]) -> None:
    r = cli(*args)
    assert r.code == 0, r.err
    assert not REPR.search(r.out + r.err), REPR.search(r.out + r.err)


def test_usage_errors_are_one_line(cli: Runner) -> None:
    r = cli("simulate", "--no-such-flag")
    assert r.code == 2
    assert len([ln for ln in r.err.splitlines() if ln.strip()]) == 1
    assert "--no-such-flag" in r.err and "--help" in r.err
