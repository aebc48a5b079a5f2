"""``ipa-energy pipelines``: list the shipped pipelines and show one (variants, profile, presets)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ipa_energy.optimize.presets import SystemSpec


@click.group()
def pipelines() -> None:
    """The shipped pipelines (video, audio-qa, audio-sent, sum-qa, nlp) and user pipeline files."""


@pipelines.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per line.")
def list_(as_json: bool) -> None:
    """One line per shipped pipeline: stages, variants per stage, SLA."""
    from ipa_energy.pipelines import load_pipeline, pipeline_names

    for name in pipeline_names():
        p = load_pipeline(name)
        if as_json:
            click.echo(json.dumps({
                "name": p.name, "sla_s": p.sla_s, "stages": list(p.stage_names),
                "variants": [len(s.variants) for s in p.stages], "description": p.description,
            }))
        else:
            stages = " -> ".join(f"{s.name}({len(s.variants)})" for s in p.stages)
            click.echo(f"{p.name:<11} SLA {p.sla_s:>6.2f} s  {stages}")


@pipelines.command("show")
@click.argument("name_or_path")
@click.option("--profile", type=click.Path(dir_okay=False), help="Use this profile CSV instead.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(name_or_path: str, profile: str | None, as_json: bool) -> None:
    """Show a pipeline: settings, variants (accuracy, cores, latency at batch 1 and max), presets."""
    from ipa_energy.pipelines import load_pipeline

    p = load_pipeline(name_or_path, profile=profile)
    if as_json:
        click.echo(json.dumps(_as_dict(p)))
        return
    click.echo(f"{p.name}: {p.description}")
    click.echo(
        f"  SLA {p.sla_s} s, drop limit {p.drop_limit_s} s, PAS {p.accuracy_method}, "
        f"max batch {p.max_batch or 'profile'}, latency factor {p.latency_factor}"
    )
    click.echo(f"  file {p.path}\n  profile {p.profile.source}")
    for s in p.stages:
        click.echo(f"  stage {s.name} ({s.task})")
        for v in s.variants:
            rows = p.profile.rows_for(s.name, v.name, v.cores)
            first, last = rows[0], rows[-1]
            click.echo(
                f"    {v.name:<48} acc {v.accuracy:.4f} rank {v.rank_score:.2f} cores {v.cores:>2}  "
                f"b{first.batch} {first.latency_s:.3f} s  b{last.batch} {last.latency_s:.3f} s"
            )
    pr = p.presets
    w = pr.weights
    click.echo(f"  presets: weights accuracy {w.accuracy} cost {w.cost} batch {w.batch}")
    click.echo(f"    fa2-low   {_pairs(pr.fa2_low)}")
    click.echo(f"    fa2-high  {_pairs(pr.fa2_high)}")
    click.echo(f"    rim-high  {_pairs(pr.rim_high_replicas)}")
    click.echo(f"    rim-low   {_pairs(pr.rim_low_replicas)}")
    click.echo("  systems (problem built for rate x (1 + headroom)):")
    for name, spec in _system_specs(p).items():
        click.echo(f"    {name:<11} {spec.describe()}")


def _system_specs(p: object) -> dict[str, SystemSpec]:
    from ipa_energy.optimize.presets import SYSTEMS, system_spec
    from ipa_energy.pipelines import Pipeline

    assert isinstance(p, Pipeline)
    return {name: system_spec(p, name) for name in SYSTEMS}


def _as_dict(p: object) -> dict[str, object]:
    from ipa_energy.pipelines import Pipeline

    assert isinstance(p, Pipeline)
    pr = p.presets
    return {
        "name": p.name,
        "description": p.description,
        "sla_s": p.sla_s,
        "drop_limit_s": p.drop_limit_s,
        "accuracy_method": p.accuracy_method,
        "max_batch": p.max_batch,
        "latency_factor": p.latency_factor,
        "path": p.path,
        "profile": p.profile.source,
        "stages": [
            {
                "name": s.name,
                "task": s.task,
                "variants": [
                    {
                        "name": v.name, "accuracy": v.accuracy, "rank_score": v.rank_score, "cores": v.cores,
                        "profile": [
                            {"batch": r.batch, "latency_s": r.latency_s, "energy_j": r.energy_j}
                            for r in p.profile.rows_for(s.name, v.name, v.cores)
                        ],
                    }
                    for v in s.variants
                ],
            }
            for s in p.stages
        ],
        "presets": {
            "weights": {"accuracy": pr.weights.accuracy, "cost": pr.weights.cost, "batch": pr.weights.batch},
            "fa2_low": dict(pr.fa2_low),
            "fa2_high": dict(pr.fa2_high),
            "rim_high_replicas": dict(pr.rim_high_replicas),
            "rim_low_replicas": dict(pr.rim_low_replicas),
        },
        "systems": {
            name: {"headroom": spec.headroom, **asdict(spec.adaptation)} for name, spec in _system_specs(p).items()
        },
    }


@pipelines.command("rayservice")
@click.argument("name_or_path")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), required=True, help="Manifest file to write.")
@click.option("--system", default="ipa", show_default=True, help="System preset that decides the configuration.")
@click.option("--rate", "rate_rps", type=float, default=10.0, show_default=True,
              help="Requests/s the configuration is planned for.")
@click.option("--image", default=None, help="Container image with ipa-energy[ray] installed "
                                            "(default: rayproject/ray:2.60.0-py311, which lacks it).")
@click.option("--workers", type=int, default=1, show_default=True, help="Ray worker pods at start.")
@click.option("--max-batch-wait-s", type=float, default=1.0, show_default=True, help="Adaptive batching wait.")
def rayservice(name_or_path: str, out_path: str, system: str, rate_rps: float, image: str | None, workers: int,
               max_batch_wait_s: float) -> None:
    """Write a KubeRay RayService manifest serving the pipeline in the system's configuration for RATE."""
    from pathlib import Path

    import numpy as np
    import yaml

    from ipa_energy.adapt import Policy, Snapshot
    from ipa_energy.backends.ray.rayservice import DEFAULT_IMAGE, check_manifest, rayservice_manifest
    from ipa_energy.errors import ConfigError
    from ipa_energy.optimize.presets import system_solver
    from ipa_energy.optimize.solvers import get_solver
    from ipa_energy.pipelines import load_pipeline
    from ipa_energy.predict import get_predictor
    from ipa_energy.runs import RunSpec
    from ipa_energy.runs.run import problem_factory

    if not (rate_rps > 0):
        raise ConfigError(f"must be > 0 (got {rate_rps!r})", field="--rate")
    if workers < 1:
        raise ConfigError(f"must be >= 1 (got {workers})", field="--workers")
    p = load_pipeline(name_or_path)
    policy = Policy(problem_factory(RunSpec(pipeline=name_or_path, system=system), p),
                    get_solver(system_solver(system)), get_predictor("reactive"), initial_rate_rps=rate_rps)
    config = policy.decide(Snapshot(t_s=0.0, history_rps=np.zeros(0), current=None)).config
    doc = rayservice_manifest(p, config, image=image or DEFAULT_IMAGE, workers=workers,
                              max_batch_wait_s=max_batch_wait_s)
    problems = check_manifest(doc)
    if problems:  # pragma: no cover - the builder and the check disagree
        raise click.ClickException("; ".join(problems))
    Path(out_path).write_text(yaml.safe_dump(doc, sort_keys=False))
    stages = ", ".join(f"{s.name}={c.variant} x{c.replicas} b{c.batch}" for s, c in zip(p.stages, config.stages,
                                                                                        strict=True))
    click.echo(f"wrote {out_path}: RayService {doc['metadata']['name']} ({stages}); apply with kubectl apply -f")


def _pairs(mapping: object) -> str:
    """``stage=value, ...``: a mapping as text, not a Python repr."""
    return ", ".join(f"{k}={v}" for k, v in dict(mapping).items())  # type: ignore[call-overload]
