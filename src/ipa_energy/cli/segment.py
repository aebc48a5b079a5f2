"""``ipa-energy segment``: score label images (``iou``) and benchmark segmentation models (``bench``)."""

from __future__ import annotations

import json

import click


@click.group()
def segment() -> None:
    """Segmentation: instance IoU of label images; latency, energy and IoU per model."""


@segment.command("iou")
@click.argument("pred", type=click.Path(dir_okay=False))
@click.argument("gt", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def iou(pred: str, gt: str, as_json: bool) -> None:
    """Matched instance IoU of PRED against GT (label images, .npy or .png; 0 = background)."""
    from ipa_energy.cli.output import clean, print_metrics
    from ipa_energy.models.segment.iou import instance_iou, read_label_image

    result = instance_iou(read_label_image(pred), read_label_image(gt)).as_dict()
    if as_json:
        click.echo(json.dumps(clean(result)))
    else:
        print_metrics(result)


@segment.command("bench")
@click.option("--models", help="Comma-separated models (default: unet-s,unet-m,unet-l,sam-vit-b; "
              "also sam-vit-l, sam-vit-h).")
@click.option("--images", type=click.IntRange(min=1), default=1, show_default=True,
              help="Held-out images: the nuclei test rows, then held-out synthetic scenes.")
@click.option("--warmup", type=click.IntRange(min=0), default=1, show_default=True,
              help="Untimed images per model before its meter window opens.")
@click.option("--min-time-s", type=click.FloatRange(min=0), default=5.0, show_default=True,
              help="Repeat the images in rounds until this long has passed (at least one round).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="results/segment", show_default=True,
              help="Output directory.")
@click.option("--meter", default="auto", show_default=True, help="Energy meter (auto, model, rapl, perf, none).")
@click.option("--sam-mode", type=click.Choice(["points", "auto"]), default="points", show_default=True,
              help="SAM prompting: one seed point per object, or the automatic mask generator.")
@click.option("--checkpoint", type=click.Path(), help="SAM checkpoint file or directory (default: "
              "$IPA_ENERGY_SAM_CHECKPOINT_DIR, then <cache>/sam/); without one SAM is random-init.")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Model cache (default: user cache).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary rows as JSON lines.")
def bench(
    models: str | None, images: int, warmup: int, min_time_s: float, out_dir: str, meter: str, sam_mode: str,
    checkpoint: str | None, cache_dir: str | None, as_json: bool,
) -> None:
    """Latency and energy per image of each model (its own meter window), IoU where weights are real;
    writes OUT/summary.csv, OUT/energy/<model>.csv, energy plots and OUT/report.md."""
    from dataclasses import asdict

    from ipa_energy.bench.segment import parse_models, run_segment_bench
    from ipa_energy.cli.output import clean

    names = parse_models(models)
    if checkpoint is not None and not any(n.startswith("sam-") for n in names):
        from ipa_energy.errors import ConfigError

        raise ConfigError("a checkpoint is for SAM models, none selected", field="--checkpoint")
    rows = run_segment_bench(
        out_dir, models=names, images=images, warmup=warmup, min_time_s=min_time_s, meter=meter, sam_mode=sam_mode,
        checkpoint=checkpoint, cache_dir=cache_dir, progress=None if as_json else (lambda m: click.echo(m, err=True)),
    )
    for r in rows:
        if as_json:
            click.echo(json.dumps(clean(asdict(r))))
        else:
            iou = "n/a (random-init)" if r.mean_iou is None else f"{r.mean_iou:.3f}"
            e = "n/a" if r.energy_j_per_image is None else f"{r.energy_j_per_image:.3g} J"
            click.echo(f"{r.model:10s} {r.weights:12s} {r.latency_s_per_image:9.3f} s/image  {e:>10s}/image  "
                       f"mean IoU {iou}")
    if not as_json:
        click.echo(f"wrote {out_dir}/summary.csv, report.md")
