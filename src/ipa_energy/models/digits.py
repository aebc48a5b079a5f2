"""The ``digits`` model family: real, tiny models trained in seconds on scikit-learn's digits.

Stage ``locate`` (detect): fully convolutional nets score every 8x8 box position on a 32x32 noisy canvas
and crop the best one. Stage ``classify``: a linear model, an MLP and a small CNN label the crop.
Each variant is trained once with a fixed seed and cached (``<cache>/digits/<VERSION>/``) with its
held-out accuracy: the fraction of held-out canvases whose predicted box has IoU >= 0.5 with the true
box (locate), or whose crop at the true box is labelled correctly (classify).

Run ``python -m ipa_energy.models.digits [--cache-dir D]`` to train (if needed) and print the measured
accuracies, including end-to-end accuracy of every locate x classify combination.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ipa_energy.errors import BackendError, ConfigError
from ipa_energy.models import digits_data as dd
from ipa_energy.models.cache import cache_dir
from ipa_energy.models.spec import ModelSpec

if TYPE_CHECKING:
    import torch

#: bump when data, architectures or training change: old caches are then ignored
VERSION = "v1"
TRAIN_SEED = 1234
LOCATE_IOU = 0.5
BATCH = 128


@dataclass(frozen=True)
class DigitsVariant:
    name: str
    stage: str  # "locate" | "classify"
    width: int
    depth: int
    epochs: int


VARIANTS: dict[str, DigitsVariant] = {
    v.name: v
    for v in (
        DigitsVariant("digits-loc-s", "locate", width=2, depth=1, epochs=2),
        DigitsVariant("digits-loc-m", "locate", width=6, depth=2, epochs=2),
        DigitsVariant("digits-loc-l", "locate", width=12, depth=3, epochs=2),
        DigitsVariant("digits-cls-s", "classify", width=0, depth=0, epochs=20),
        DigitsVariant("digits-cls-m", "classify", width=64, depth=1, epochs=20),
        DigitsVariant("digits-cls-l", "classify", width=16, depth=2, epochs=8),
    )
}


def _variant(name: str) -> DigitsVariant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise ConfigError(
            f"unknown digits variant {name!r}; valid: {', '.join(VARIANTS)}", field="variant"
        ) from None


def build_net(v: DigitsVariant) -> torch.nn.Module:
    import torch.nn as nn

    if v.stage == "locate":
        layers: list[nn.Module] = []
        c_in = 1
        for _ in range(v.depth):
            layers += [nn.Conv2d(c_in, v.width, 3, padding=1), nn.ReLU()]
            c_in = v.width
        layers.append(nn.Conv2d(c_in, 1, dd.DIGIT_PX))  # one score per box position: (N, 1, 25, 25)
        return nn.Sequential(*layers)
    if v.depth == 0:
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    if v.depth == 1:
        return nn.Sequential(nn.Flatten(), nn.Linear(64, v.width), nn.ReLU(), nn.Linear(v.width, 10))
    return nn.Sequential(
        nn.Conv2d(1, v.width, 3, padding=1), nn.ReLU(),
        nn.Conv2d(v.width, 2 * v.width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * v.width * 16, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def _training_data(v: DigitsVariant) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    split = dd.load_split()
    rng = np.random.default_rng(TRAIN_SEED)
    c = dd.place_on_canvas(split.train_images, split.train_labels, rng, copies=2 if v.stage == "locate" else 4)
    if v.stage == "locate":
        return c.canvases[:, None], (c.boxes[:, 0] * dd.POSITIONS + c.boxes[:, 1]).astype(np.int64)
    # classify: crops at the true box jittered by up to 1 px, as a locator's near misses look
    jitter = rng.integers(-1, 2, size=c.boxes.shape)
    return dd.crop(c.canvases, c.boxes + jitter)[:, None], c.labels


def _predict(net: torch.nn.Module, x: NDArray[np.float32], stage: str) -> NDArray[np.int64]:
    import torch

    with torch.inference_mode():
        out = net(torch.from_numpy(np.ascontiguousarray(x)))
        return out.flatten(1).argmax(1).numpy().astype(np.int64) if stage == "locate" else (
            out.argmax(1).numpy().astype(np.int64)
        )


def held_out_accuracy(net: torch.nn.Module, v: DigitsVariant) -> float:
    """Accuracy on the fixed held-out canvases (IoU >= 0.5 for locate; label at the true box for classify)."""
    c = dd.held_out_canvases()
    if v.stage == "locate":
        flat = _predict(net, c.canvases[:, None], "locate")
        boxes = np.stack([flat // dd.POSITIONS, flat % dd.POSITIONS], axis=1)
        return float(np.mean(dd.box_iou(boxes, c.boxes) >= LOCATE_IOU))
    pred = _predict(net, dd.crop(c.canvases, c.boxes)[:, None], "classify")
    return float(np.mean(pred == c.labels))


def train(v: DigitsVariant) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Train one variant from its fixed seed; returns the net and its metadata (accuracy, time)."""
    import torch

    torch.manual_seed(TRAIN_SEED)
    x, y = _training_data(v)
    net = build_net(v)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(TRAIN_SEED)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    t0 = time.perf_counter()
    net.train()
    for _ in range(v.epochs):
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), BATCH):
            idx = perm[i : i + BATCH]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(xt[idx]).flatten(1), yt[idx])
            loss.backward()
            opt.step()
    net.eval()
    train_s = time.perf_counter() - t0
    meta = {
        "variant": v.name,
        "stage": v.stage,
        "version": VERSION,
        "held_out_accuracy": held_out_accuracy(net, v),
        "metric": "box IoU >= 0.5" if v.stage == "locate" else "top-1 at the true box",
        "n_held_out": int(len(dd.held_out_canvases().labels)),
        "params": int(sum(p.numel() for p in net.parameters())),
        "train_s": train_s,
        "torch": torch.__version__,
    }
    return net, meta


def _paths(spec: ModelSpec) -> tuple[Path, Path]:
    d = cache_dir(spec.cache_dir) / "digits" / VERSION
    return d / f"{spec.variant}.pt", d / f"{spec.variant}.json"


def _atomic_write(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def ensure_trained(spec: ModelSpec) -> dict[str, Any]:
    """Train and cache ``spec.variant`` unless cached; returns its metadata (with held-out accuracy)."""
    import torch

    v = _variant(spec.variant)
    weights, meta_path = _paths(spec)
    if weights.exists() and meta_path.exists():
        meta: dict[str, Any] = json.loads(meta_path.read_text())
        return meta
    net, meta = train(v)
    _atomic_write(weights, lambda p: torch.save(net.state_dict(), p))
    _atomic_write(meta_path, lambda p: Path(p).write_text(json.dumps(meta, indent=1)))
    return meta


class DigitsRunner:
    """A trained digits variant: locate returns the 8x8 crops, classify returns labels."""

    def __init__(self, net: torch.nn.Module, v: DigitsVariant, weights: str) -> None:
        self.net = net
        self.variant = v
        self.weights = weights

    def run(self, inputs: NDArray[np.float32]) -> NDArray[np.generic]:
        x = np.asarray(inputs, dtype=np.float32)
        if self.variant.stage == "locate":
            flat = _predict(self.net, x[:, None], "locate")
            boxes = np.stack([flat // dd.POSITIONS, flat % dd.POSITIONS], axis=1)
            return dd.crop(x, boxes)
        return _predict(self.net, x[:, None], "classify")


class DigitsFamily:
    def variants(self) -> tuple[str, ...]:
        return tuple(VARIANTS)

    def prepare(self, spec: ModelSpec) -> None:
        ensure_trained(spec)

    def load(self, spec: ModelSpec) -> DigitsRunner:
        import torch

        v = _variant(spec.variant)
        weights, _ = _paths(spec)
        if not weights.exists():
            raise BackendError(
                f"digits variant {spec.variant} is not trained in {weights.parent}; "
                "call ipa_energy.models.prepare(spec) (or `python -m ipa_energy.models.digits`) first"
            )
        net = build_net(v)
        net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        net.eval()
        return DigitsRunner(net, v, f"trained:{weights}")


FAMILY = DigitsFamily()


def measure(cache: str | None = None) -> dict[str, Any]:
    """Train (if needed) every variant; per-variant held-out accuracy and end-to-end accuracy per pair."""
    metas = {name: ensure_trained(ModelSpec("digits", name, cache)) for name in VARIANTS}
    runners = {name: FAMILY.load(ModelSpec("digits", name, cache)) for name in VARIANTS}
    c = dd.held_out_canvases()
    e2e: dict[str, float] = {}
    for loc in (n for n in VARIANTS if VARIANTS[n].stage == "locate"):
        crops = np.asarray(runners[loc].run(c.canvases), dtype=np.float32)
        for cls in (n for n in VARIANTS if VARIANTS[n].stage == "classify"):
            e2e[f"{loc}+{cls}"] = float(np.mean(runners[cls].run(crops) == c.labels))
    return {"variants": metas, "end_to_end_accuracy": e2e, "n_held_out": int(len(c.labels))}


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--cache-dir", default=None)
    print(json.dumps(measure(ap.parse_args().cache_dir), indent=1))
