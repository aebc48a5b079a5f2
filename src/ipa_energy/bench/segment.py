"""``segment bench``: latency, energy and IoU per segmentation model, each in its own meter window.

For every model, in turn: build it and run ``warmup`` untimed images, start a fresh meter and its
per-second log (``energy/<model>.csv``), open a window, segment every image (each timed; repeated in
rounds until ``min_time_s`` has passed), close the window. Energy per image = the window's energy /
timed runs; nothing is cut out of a shared trace afterwards. IoU is computed against the ground truth
only where the weights are real (``trained`` or ``checkpoint``); for random-init SAM ``mean_iou`` is
empty. Outputs: ``summary.csv``, ``energy/<model>.csv``, ``energy_<model>.png`` and
``energy_over_time.png`` (per-second power, per-minute average, smoothed), ``report.md``.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ipa_energy.errors import ConfigError

DEFAULT_MODELS = ("unet-s", "unet-m", "unet-l", "sam-vit-b")
SEGMENT_MODELS = ("unet-s", "unet-m", "unet-l", "sam-vit-b", "sam-vit-l", "sam-vit-h")
SUMMARY_COLUMNS = (
    "model", "images", "weights", "latency_s_per_image", "energy_j_per_image", "energy_source", "energy_scope",
    "mean_iou", "foreground_iou", "instances", "matched", "params", "mode", "runs",
)


@dataclass(frozen=True)
class SegmentRow:
    model: str
    images: int
    #: timed runs (images x rounds): latency and energy per image are means over them
    runs: int
    #: "trained", "checkpoint" or "random-init"
    weights: str
    latency_s_per_image: float
    energy_j_per_image: float | None
    energy_source: str
    energy_scope: str
    #: None for random-init weights: never an invented number
    mean_iou: float | None
    foreground_iou: float | None
    instances: int
    matched: int | None
    params: int
    mode: str


def parse_models(text: str | None) -> tuple[str, ...]:
    if text is None:
        return DEFAULT_MODELS
    names = tuple(n for n in text.replace(",", " ").split() if n)
    bad = [n for n in names if n not in SEGMENT_MODELS]
    if not names or bad:
        raise ConfigError(f"unknown model(s) {bad or [text]}; valid: {', '.join(SEGMENT_MODELS)}", field="--models")
    return names


def _runner(name: str, sam_mode: str, checkpoint: str | None, cache_dir: str | None) -> tuple[Any, str, int]:
    """(runner, weights kind, params)."""
    if name.startswith("unet-"):
        from ipa_energy.models.segment import unet

        net = unet.load_net(name)
        return unet.UNetRunner(net, name, "trained"), "trained", int(sum(p.numel() for p in net.parameters()))
    from ipa_energy.models.segment import sam

    cfg = sam.SamConfig(name, mode=sam_mode, checkpoint=checkpoint, cache=cache_dir)
    model, weights = sam.build(cfg)
    return sam.SamRunner(model, cfg, weights), weights.split(":")[0], sam.params(model)


def run_segment_bench(
    out_dir: str | Path,
    *,
    models: Sequence[str] = DEFAULT_MODELS,
    images: int = 1,
    warmup: int = 1,
    min_time_s: float = 5.0,
    meter: str = "auto",
    sam_mode: str = "points",
    checkpoint: str | None = None,
    cache_dir: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[SegmentRow]:
    from ipa_energy.energy import Sampler, get_meter
    from ipa_energy.energy.log import EnergyLog
    from ipa_energy.energy.scope import energy_scope, energy_source_label
    from ipa_energy.models.segment.data import as_request, test_scenes
    from ipa_energy.models.segment.iou import instance_iou, mean_result

    out = Path(out_dir)
    (out / "energy").mkdir(parents=True, exist_ok=True)
    scenes = test_scenes(images)
    requests = [as_request(s)[None] for s in scenes]
    rows: list[SegmentRow] = []
    for name in models:
        if progress:
            progress(f"{name}: building")
        runner, weights, n_params = _runner(name, sam_mode, checkpoint, cache_dir)
        for k in range(warmup):  # untimed, outside the window: one-time start-up costs are not per image
            if progress:
                progress(f"{name}: warm-up {k + 1}/{warmup}")
            runner.run(requests[k % len(requests)])
        m = None if meter == "none" else (
            get_meter(meter, pids=[os.getpid()]) if meter in ("auto", "model") else get_meter(meter)
        )
        preds = []
        latencies = []
        log = EnergyLog(out / "energy" / f"{name}.csv", m) if m is not None else None
        sampler = Sampler(m, 1.0, on_sample=log.write) if m is not None and log is not None else None
        try:
            if sampler is not None and m is not None:
                sampler.start()
                m.begin_window(name)
            # every image once, then again in rounds until min_time_s has passed (fast models get several
            # timed runs, SAM one); IoU is scored on the first round's masks
            t_start = time.perf_counter()
            rounds = 0
            while rounds == 0 or time.perf_counter() - t_start < min_time_s:
                for i, req in enumerate(requests):
                    if progress and rounds == 0:
                        progress(f"{name}: image {i + 1}/{len(requests)}")
                    t0 = time.perf_counter()
                    pred = np.asarray(runner.run(req))[0]
                    latencies.append(time.perf_counter() - t0)
                    if rounds == 0:
                        preds.append(pred)
                rounds += 1
            measurement = m.end_window(name) if m is not None else None
        finally:
            if sampler is not None:
                sampler.stop()
            if log is not None:
                log.close()
            if m is not None:
                m.close()
        real = weights in ("trained", "checkpoint")
        pooled = mean_result([instance_iou(p, s.labels) for p, s in zip(preds, scenes, strict=True)]) if real else None
        rows.append(SegmentRow(
            model=name, images=len(scenes), runs=len(latencies), weights=weights,
            latency_s_per_image=float(np.mean(latencies)),
            energy_j_per_image=None if measurement is None else measurement.energy_j / len(latencies),
            energy_source=(
                "none" if measurement is None else energy_source_label(measurement.source, measurement.quality)
            ),
            energy_scope=energy_scope(m),
            mean_iou=None if pooled is None else pooled.mean_iou,
            foreground_iou=None if pooled is None else pooled.foreground_iou,
            instances=sum(int(np.count_nonzero(np.unique(s.labels))) for s in scenes),
            matched=None if pooled is None else pooled.matched, params=n_params,
            mode="trained U-Net" if name.startswith("unet-") else f"SAM {sam_mode}",
        ))
        del runner
    write_outputs(out, rows, meter != "none", images=images, sam_mode=sam_mode)
    return rows


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def write_outputs(out: Path, rows: Sequence[SegmentRow], plots: bool, *, images: int, sam_mode: str) -> None:
    with open(out / "summary.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(SUMMARY_COLUMNS)
        for r in rows:
            d = asdict(r)
            w.writerow([_fmt(d[c]) for c in SUMMARY_COLUMNS])
    figures = []
    if plots:
        from ipa_energy.energy.formats import parse_log
        from ipa_energy.energy.plot import plot_logs

        logs = []
        for r in rows:
            parsed = parse_log(out / "energy" / f"{r.model}.csv")
            if not parsed.domains:
                continue
            logs.append((r.model, parsed))
            plot_logs([parsed], out / f"energy_{r.model}.png", labels=[r.model], smooth="savgol:9",
                      title=f"{r.model}: power while segmenting ({r.weights} weights)")
            figures.append(f"energy_{r.model}.png")
        if logs:
            plot_logs([p for _, p in logs], out / "energy_over_time.png", labels=[n for n, _ in logs],
                      smooth="savgol:9", title="segment bench: power per model (each its own meter window)")
            figures.insert(0, "energy_over_time.png")
    lines = [
        "# segment bench",
        "",
        f"Images: {images} (the nuclei test rows 256-511{', then held-out synthetic scenes' if images > 1 else ''}); "
        f"SAM prompting: {sam_mode}. Each model ran in its own meter window; energy per image = window energy / "
        "timed runs (fast models run the images in several rounds). "
        "IoU: matched mean IoU over ground-truth instances (`ipa_energy.models.segment.iou`), only for "
        "real weights; random-init rows leave it empty.",
        "",
        "| model | weights | params | runs | latency s/image | energy J/image | energy source | mean IoU | fg IoU |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.model} | {r.weights} | {r.params:,} | {r.runs} | {r.latency_s_per_image:.4g} "
            f"| {_fmt(r.energy_j_per_image)} "
            f"| {r.energy_source} | {_fmt(r.mean_iou) or 'n/a (random-init)'} | {_fmt(r.foreground_iou)} |"
        )
    if rows:
        lines += ["", f"Energy scope: {rows[0].energy_scope}."]
    lines += [""] + [f"![{f}]({f})" for f in figures]
    (out / "report.md").write_text("\n".join(lines) + "\n")
