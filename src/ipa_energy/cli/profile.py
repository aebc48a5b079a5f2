"""``ipa-energy profile``: measure every variant of a pipeline on this machine into a profile CSV."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
from typing import Any

import click

from ipa_energy.cli.params import OUT_FILE, Number, NumberList
from ipa_energy.errors import ConfigError


def read_pipeline_spec(name_or_path: str) -> Any:
    """The validated pipeline YAML without its profile (which may be the thing being measured)."""
    from ipa_energy.config.validation import load_mapping, parse_model
    from ipa_energy.pipelines import pipeline_path
    from ipa_energy.pipelines.schema import PipelineModel

    path = pipeline_path(name_or_path)
    return parse_model(PipelineModel, load_mapping(path), source=str(path))


def _meter_factory(name: str) -> Any:
    if name == "none":
        return None
    from ipa_energy.energy import get_meter

    return lambda pid: get_meter(name, pids=[pid]) if name in ("auto", "model") else get_meter(name)


@click.command()
@click.option("--pipeline", required=True, help="Shipped pipeline name or YAML path.")
@click.option("--batches", type=NumberList("batch"), default="1,2,4,8", show_default=True,
              help="Batch sizes, comma separated.")
@click.option("--cores", type=NumberList("cores"),
              help="Core counts to profile, comma separated (default: each variant's own).")
@click.option("--repeats", type=Number("count"), default=20, show_default=True, help="Timed batches.")
@click.option("--warmup", type=Number("count0"), default=3, show_default=True, help="Untimed batches.")
@click.option("--variants", help="Only these variants, comma separated (default: all).")
@click.option("--meter", default="auto", show_default=True, help="Energy meter (auto, model, rapl, perf, none).")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Model cache (default: user cache).")
@click.option("--image-size", type=Number("image_px"), help="Input side for torchvision models (smaller = faster).")
@click.option("--out", type=OUT_FILE, help="Write the profile CSV here.")
@click.option("--json", "as_json", is_flag=True, help="Print the measurements as JSON lines.")
def profile(
    pipeline: str, batches: tuple[int, ...], cores: tuple[int, ...] | None, repeats: int, warmup: int,
    variants: str | None, meter: str, cache_dir: str | None, image_size: int | None, out: str | None, as_json: bool,
) -> None:
    """Warm up, then measure latency percentiles, throughput, CPU time and energy per batch of every
    variant; the CSV is a profile table that solve, simulate and serve accept in place of the reference."""
    import numpy as np
    from rich.progress import Progress

    from ipa_energy.backends.local.build import local_stages
    from ipa_energy.backends.local.profiler import profile_variant, to_profile_rows
    from ipa_energy.loadgen import inputs_for
    from ipa_energy.profiles import ProfileTable, save_profile

    batch_list = batches or (1,)
    core_list = cores
    only = set(variants.replace(",", " ").split()) if variants else None
    spec = read_pipeline_spec(pipeline)
    stages = local_stages(spec.stages, cache_dir=cache_dir, image_size=image_size)
    if only is not None:
        unknown = only - {v for _, vs in stages for v in vs}
        if unknown:
            raise ConfigError(f"unknown variant(s) {sorted(unknown)}", field="--variants")
    first = next(iter(stages[0][1].values()))
    source = inputs_for(first.spec.family, seed=0, image_px=image_size)
    pool = np.stack([np.asarray(source.get(i)[0]) for i in range(max(32, max(batch_list)))])
    factory = _meter_factory(meter)
    total = sum(
        len(core_list or (1,)) * len(batch_list) for _, vs in stages for v in vs if only is None or v in only
    )
    label = f"ipa-energy profile {dt.date.today().isoformat()} {platform.node() or 'host'} cpus={os.cpu_count()}"
    points = []
    from rich.console import Console

    # progress only on a terminal (stderr), never in a pipe or a log
    with Progress(transient=True, disable=as_json or not sys.stderr.isatty(), console=Console(stderr=True)) as bar:
        task = bar.add_task("profiling", total=total)
        for k, (stage_name, vs) in enumerate(stages):
            next_pool = None
            last = k == len(stages) - 1
            for v in vs.values():
                if only is not None and v.name not in only and (next_pool is not None or last):
                    continue
                for c in core_list or (v.cores,):
                    bar.update(task, description=f"{stage_name}/{v.name} cores={c}")
                    selected = only is None or v.name in only
                    pts, outputs = profile_variant(
                        stage_name, v, pool, cores=c, batches=batch_list if selected else batch_list[:1],
                        repeats=repeats if selected else 1, warmup=warmup if selected else 0,
                        meter_factory=factory if selected else None,
                        on_point=(lambda: bar.advance(task)) if selected else None,
                        collect_outputs=not last,
                    )
                    if selected:
                        points.extend(pts)
                    if next_pool is None:
                        next_pool = outputs
            pool = next_pool if next_pool is not None else pool
    if out:
        save_profile(ProfileTable(tuple(to_profile_rows(points, label)), source=out), out)
    if as_json:
        for p in points:
            click.echo(json.dumps(p.__dict__))
        return
    from rich.table import Table

    t = Table(title=f"profile of {spec.name} ({label})")
    for col in ("stage", "variant", "cores", "batch", "p50 ms", "p99 ms", "rps", "cpu ms/batch", "energy J/batch"):
        t.add_column(col)
    for p in points:
        t.add_row(
            p.stage, p.variant, str(p.cores), str(p.batch), f"{p.latency_p50_s * 1e3:.2f}",
            f"{p.latency_p99_s * 1e3:.2f}", f"{p.throughput_rps:.1f}", f"{p.cpu_s_per_batch * 1e3:.2f}",
            f"{p.energy_j_per_batch:.4f}",
        )
    Console().print(t)
    if points:
        click.echo(f"energy: {points[0].energy_source}; weights: {', '.join(sorted({p.weights for p in points}))}")
    if out:
        click.echo(f"wrote {out}")
