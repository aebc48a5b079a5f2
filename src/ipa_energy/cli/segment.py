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
