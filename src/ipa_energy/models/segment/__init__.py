"""Segmentation: instance IoU (:mod:`.iou`), the nuclei + synthetic-scene data (:mod:`.data`), a trained
U-Net family (:mod:`.unet`) and Segment Anything variants (:mod:`.sam`). torch and segment-anything are
imported only when a model is built."""

from __future__ import annotations

from ipa_energy.models.segment.iou import IoUResult, foreground_iou, instance_iou, match_instances

__all__ = ["IoUResult", "foreground_iou", "instance_iou", "match_instances"]
