"""The ``unet`` segmentation family: tiny U-Nets of several widths with real, measured IoU.

Each net (two poolings, widths w / 2w / 4w, batch norm) predicts two maps: foreground and instance
boundary. Instances come from the prediction by a seeded watershed: seeds are the connected components of
(foreground and not boundary), grown over the foreground (:func:`instances_from_maps`).

Training (fixed seed, CPU, minutes): random 64 x 64 (unet-l: 96 x 96) crops with flips, 90-degree turns and intensity
jitter from the nuclei image's training rows (:mod:`.data`: rows 0-191) and from synthetic training
scenes; loss = BCE + Dice on the foreground + BCE on the boundary. Held-out IoU is measured on the nuclei
test rows 256-511 (and on held-out synthetic scenes; the validation rows 192-255 chose the instance
step's settings) with :func:`ipa_energy.models.segment.iou.instance_iou`.
Weights ship with the package (``data/<variant>.npz``, float16 state dicts) beside their measured metadata
(``data/<variant>.json``); ``python -m ipa_energy.models.segment.unet train`` reproduces them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ipa_energy.errors import BackendError, ConfigError
from ipa_energy.models.segment import data as sd
from ipa_energy.models.spec import ModelSpec

if TYPE_CHECKING:
    import torch

VERSION = "v1"
TRAIN_SEED = 2026
BATCH = 16
LR = 3e-3
SYNTHETIC_TRAIN_SCENES = 24
#: the instance step's settings, chosen on the nuclei validation rows 192-255 (never on the test rows)
FG_THRESHOLD = 0.5
SEED_MIN_DISTANCE_PX = 5
MIN_INSTANCE_PX = 12


@dataclass(frozen=True)
class UNetVariant:
    name: str
    #: channels of the first level (then 2x, 4x)
    width: int
    steps: int
    crop_px: int = 64


VARIANTS: dict[str, UNetVariant] = {
    v.name: v
    for v in (
        UNetVariant("unet-s", width=2, steps=600, crop_px=64),
        UNetVariant("unet-m", width=4, steps=600, crop_px=64),
        UNetVariant("unet-l", width=8, steps=300, crop_px=96),
    )
}


def variant(name: str) -> UNetVariant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise ConfigError(f"unknown unet variant {name!r}; valid: {', '.join(VARIANTS)}", field="variant") from None


def build_net(width: int) -> torch.nn.Module:
    import torch
    import torch.nn as nn

    def block(c_in: int, c_out: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        )

    w = width

    class UNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.e1, self.e2, self.mid = block(1, w), block(w, 2 * w), block(2 * w, 4 * w)
            self.u2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)
            self.d2 = block(4 * w, 2 * w)
            self.u1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2)
            self.d1 = block(2 * w, w)
            self.head = nn.Conv2d(w, 2, 1)  # foreground, boundary logits
            self.pool = nn.MaxPool2d(2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            a = self.e1(x)
            b = self.e2(self.pool(a))
            c = self.mid(self.pool(b))
            d = self.d2(torch.cat([self.u2(c), b], 1))
            out: torch.Tensor = self.head(self.d1(torch.cat([self.u1(d), a], 1)))
            return out

    return UNet()


def targets(labels: NDArray[np.integer]) -> NDArray[np.float32]:
    """(2, H, W) training targets: foreground, and instance boundaries (inner, 1 px)."""
    from skimage.segmentation import find_boundaries

    fg = labels > 0
    bnd = find_boundaries(labels, mode="inner") & fg
    return np.stack([fg, bnd]).astype(np.float32)


def instances_from_maps(fg_prob: NDArray[np.floating], bnd_prob: NDArray[np.floating]) -> NDArray[np.int32]:
    """Instance labels from the foreground probability: seeds at the peaks of the foreground's distance
    transform (at least :data:`SEED_MIN_DISTANCE_PX` apart), grown by watershed over the foreground. The
    boundary map is an auxiliary training target; seeding from it did worse on the validation rows
    (0.53-0.67 vs 0.72 mean IoU), so it is not used here."""
    from scipy.ndimage import distance_transform_edt, label
    from skimage.feature import peak_local_max
    from skimage.morphology import remove_small_objects
    from skimage.segmentation import watershed

    fg = np.asarray(fg_prob) > FG_THRESHOLD
    dist = distance_transform_edt(fg)
    peaks = peak_local_max(dist, min_distance=SEED_MIN_DISTANCE_PX, labels=label(fg)[0], exclude_border=False)
    markers = np.zeros(fg.shape, dtype=np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    lab = watershed(-dist, markers, mask=fg)
    lab = remove_small_objects(lab, max_size=MIN_INSTANCE_PX - 1)
    return np.asarray(lab, dtype=np.int32)


def _pad4(x: NDArray[np.float32]) -> tuple[NDArray[np.float32], tuple[int, int]]:
    h, w = x.shape[-2:]
    ph, pw = (-h) % 4, (-w) % 4
    if ph or pw:
        x = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(0, ph), (0, pw)], mode="reflect")
    return x, (h, w)


def predict_maps(net: torch.nn.Module, images: NDArray[np.float32]) -> NDArray[np.float32]:
    """(N, 2, H, W) probabilities for (N, H, W) normalised images."""
    import torch

    x, (h, w) = _pad4(np.asarray(images, dtype=np.float32))
    with torch.inference_mode():
        p = torch.sigmoid(net(torch.from_numpy(np.ascontiguousarray(x[:, None])))).numpy()
    return p[:, :, :h, :w]


def segment(net: torch.nn.Module, images: NDArray[np.float32]) -> NDArray[np.int32]:
    maps = predict_maps(net, images)
    return np.stack([instances_from_maps(m[0], m[1]) for m in maps])


def _training_pool() -> list[tuple[NDArray[np.float32], NDArray[np.float32]]]:
    pool = [sd.nuclei_part("train")]
    pool += [sd.synthetic_scene(TRAIN_SEED + i, shape=(128, 128)) for i in range(SYNTHETIC_TRAIN_SCENES)]
    return [(s.image, targets(s.labels)) for s in pool]


def _batch(
    pool: list[tuple[NDArray[np.float32], NDArray[np.float32]]], rng: np.random.Generator, crop: int
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    xs, ys = [], []
    for _ in range(BATCH):
        # half the crops from the nuclei training rows, half from synthetic scenes
        img, tgt = pool[0] if rng.random() < 0.5 else pool[int(rng.integers(1, len(pool)))]
        r = int(rng.integers(0, img.shape[0] - crop + 1))
        c = int(rng.integers(0, img.shape[1] - crop + 1))
        x, y = img[r : r + crop, c : c + crop], tgt[:, r : r + crop, c : c + crop]
        k = int(rng.integers(0, 4))
        x, y = np.rot90(x, k), np.rot90(y, k, axes=(1, 2))
        if rng.random() < 0.5:
            x, y = x[:, ::-1], y[:, :, ::-1]
        x = x * rng.uniform(0.7, 1.3) + rng.uniform(-0.1, 0.1)
        xs.append(x)
        ys.append(y)
    return np.stack(xs)[:, None].astype(np.float32), np.stack(ys).astype(np.float32)


def train(
    v: UNetVariant, *, steps: int | None = None, threads: int = 1, log: Any = None
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Train one variant from its fixed seed; returns the net and its metadata (held-out IoU, time)."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(TRAIN_SEED)
    torch.set_num_threads(threads)  # one thread per variant by default: the three train side by side
    rng = np.random.default_rng(TRAIN_SEED)
    pool = _training_pool()
    net = build_net(v.width)
    n_steps = steps or v.steps
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=n_steps)
    t0 = time.perf_counter()
    net.train()
    for step in range(n_steps):
        xb, yb = _batch(pool, rng, v.crop_px)
        x, y = torch.from_numpy(xb), torch.from_numpy(yb)
        out = net(x)
        fg_logit, bnd_logit = out[:, 0], out[:, 1]
        p = torch.sigmoid(fg_logit)
        dice = 1 - (2 * (p * y[:, 0]).sum() + 1) / (p.sum() + y[:, 0].sum() + 1)
        loss = F.binary_cross_entropy_with_logits(fg_logit, y[:, 0]) + dice + F.binary_cross_entropy_with_logits(
            bnd_logit, y[:, 1], pos_weight=torch.tensor(3.0)
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if log is not None and (step + 1) % 100 == 0:
            log(f"{v.name} step {step + 1}/{n_steps} loss {float(loss):.3f}")
    net.eval()
    train_s = time.perf_counter() - t0
    meta = {
        "variant": v.name, "version": VERSION, "width": v.width, "steps": n_steps, "crop_px": v.crop_px,
        "threads": threads, "seed": TRAIN_SEED,
        "params": int(sum(p.numel() for p in net.parameters())), "train_s": round(train_s, 1),
        "torch": torch.__version__,
    }
    return net, meta


def evaluate(net: torch.nn.Module, synthetic: int = 4) -> dict[str, Any]:
    """Held-out IoU: nuclei validation and test rows, and ``synthetic`` held-out synthetic scenes."""
    from ipa_energy.models.segment.iou import instance_iou, mean_result

    out: dict[str, Any] = {}
    for part in ("val", "test"):
        s = sd.nuclei_part(part)
        r = instance_iou(segment(net, s.image[None])[0], s.labels)
        out[f"nuclei_{part}"] = r.as_dict()
    scenes = [sd.synthetic_scene(sd.TEST_SEED0 + i) for i in range(synthetic)]
    if scenes:
        preds = segment(net, np.stack([s.image for s in scenes]))
        out["synthetic_test"] = mean_result(
            [instance_iou(p, s.labels) for p, s in zip(preds, scenes, strict=True)]
        ).as_dict()
    return out


# ---- shipped weights ---------------------------------------------------------------------------------
def _shipped(name: str, suffix: str) -> Path:
    return Path(str(resources.files("ipa_energy.models.segment").joinpath(f"data/{name}{suffix}")))


def save(net: torch.nn.Module, meta: dict[str, Any], directory: Path) -> None:
    """Float16 state dict (``<variant>.npz``) and metadata (``<variant>.json``)."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {k: t.detach().cpu().numpy() for k, t in net.state_dict().items()}
    np.savez_compressed(
        directory / f"{meta['variant']}.npz",
        **{k: (a.astype(np.float16) if a.dtype == np.float32 else a) for k, a in arrays.items()},
    )
    (directory / f"{meta['variant']}.json").write_text(json.dumps(meta, indent=1) + "\n")


def load_net(name: str, weights: Path | None = None) -> torch.nn.Module:
    import torch

    v = variant(name)
    path = weights or _shipped(name, ".npz")
    if not path.is_file():
        raise BackendError(
            f"no weights for {name} at {path}; train them with `python -m ipa_energy.models.segment.unet train`"
        )
    net = build_net(v.width)
    with np.load(path) as d:
        state = {k: torch.from_numpy(d[k].astype(np.float32) if d[k].dtype == np.float16 else d[k]) for k in d.files}
    net.load_state_dict(state)
    net.eval()
    return net


def metadata(name: str) -> dict[str, Any]:
    """The shipped metadata of a variant (its measured held-out IoU among them)."""
    path = _shipped(variant(name).name, ".json")
    if not path.is_file():
        raise BackendError(f"no metadata for {name} at {path}")
    meta: dict[str, Any] = json.loads(path.read_text())
    return meta


class UNetRunner:
    """A trained U-Net: (N, 2, H, W) requests (channel 0 = image) -> (N, H, W) instance label images."""

    def __init__(self, net: torch.nn.Module, name: str, weights: str) -> None:
        self.net = net
        self.name = name
        self.weights = weights

    def run(self, inputs: NDArray[np.float32]) -> NDArray[np.generic]:
        x = np.asarray(inputs, dtype=np.float32)
        return segment(self.net, x[:, 0] if x.ndim == 4 else x)


class UNetFamily:
    def variants(self) -> tuple[str, ...]:
        return tuple(VARIANTS)

    def prepare(self, spec: ModelSpec) -> None:
        variant(spec.variant)
        if not _shipped(spec.variant, ".npz").is_file():
            raise BackendError(f"the shipped weights of {spec.variant} are missing from the package")

    def load(self, spec: ModelSpec) -> UNetRunner:
        import torch

        torch.set_num_threads(1)
        return UNetRunner(load_net(spec.variant), spec.variant, f"trained:{_shipped(spec.variant, '.npz').name}")


FAMILY = UNetFamily()


def main(argv: list[str] | None = None) -> None:
    import argparse
    import sys

    ap = argparse.ArgumentParser(description="Train or evaluate the unet segmentation family.")
    ap.add_argument("action", choices=("train", "evaluate"))
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: each variant's own)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads while training")
    ap.add_argument("--out", default=None, help="train: write weights + metadata here; evaluate: score the "
                    "weights there and update their metadata (default: the shipped weights, print only)")
    args = ap.parse_args(argv)
    for name in args.variants.split(","):
        out = Path(args.out) if args.out else None
        if args.action == "train":
            net, meta = train(variant(name), steps=args.steps, threads=args.threads,
                              log=lambda m: print(m, file=sys.stderr))
            if out is not None:
                save(net, meta, out)  # the figures are measured on the float16 weights that ship
                net = load_net(name, out / f"{name}.npz")
        else:
            net = load_net(name, None if out is None else out / f"{name}.npz")
            meta = json.loads((out / f"{name}.json").read_text()) if out is not None else metadata(name)
        meta["held_out"] = evaluate(net)
        if out is not None:
            (out / f"{name}.json").write_text(json.dumps(meta, indent=1) + "\n")
        print(json.dumps(meta))


if __name__ == "__main__":
    main()
