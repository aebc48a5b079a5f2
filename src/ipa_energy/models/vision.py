"""The video pipeline's families as real torchvision architectures (detector -> ResNet classifier).

Accuracy is metadata from torchvision's published model cards (COCO val2017 box mAP for detectors,
ImageNet-1K top-1 of the IMAGENET1K_V1 weights for ResNets, as IPA used), not measured here.
Nothing is downloaded (the network may be closed): models are built with ``weights=None`` and a state dict
is loaded from ``<cache_dir>/torchvision/<file>`` or the torch hub cache (``$TORCH_HOME/hub/checkpoints``)
when the published checkpoint file is there. Otherwise the model keeps its random initialisation: latency
and energy are real, predictions are not, and the runner's ``weights`` says ``random-init``.

torchvision is imported lazily, only when a model is built; it is an optional dependency.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ipa_energy.errors import BackendError, ConfigError
from ipa_energy.models.cache import cache_dir
from ipa_energy.models.spec import ModelSpec

if TYPE_CHECKING:
    import torch

RANDOM_INIT = "random-init"
DEFAULT_IMAGE_PX = 224


@dataclass(frozen=True)
class VisionVariant:
    name: str
    stage: str  # "detect" | "classify"
    #: builder function name (torchvision.models or torchvision.models.detection)
    builder: str
    #: published accuracy: COCO val2017 box mAP (detect) or ImageNet-1K top-1 % (classify)
    accuracy: float
    accuracy_metric: str
    params_m: float
    #: file name of the published checkpoint, looked for locally (never downloaded)
    checkpoint: str


# Figures from torchvision 0.29's weight metadata (the published model cards); checked by a test
# against torchvision itself when it is installed.
VARIANTS: dict[str, VisionVariant] = {
    v.name: v
    for v in (
        VisionVariant("ssdlite320_mobilenet_v3_large", "detect", "ssdlite320_mobilenet_v3_large",
                      21.3, "COCO box mAP", 3.44, "ssdlite320_mobilenet_v3_large_coco-a79551df.pth"),
        VisionVariant("fasterrcnn_mobilenet_v3_large_320_fpn", "detect",
                      "fasterrcnn_mobilenet_v3_large_320_fpn", 22.8, "COCO box mAP", 19.39,
                      "fasterrcnn_mobilenet_v3_large_320_fpn-907ea3f9.pth"),
        VisionVariant("fasterrcnn_mobilenet_v3_large_fpn", "detect", "fasterrcnn_mobilenet_v3_large_fpn",
                      32.8, "COCO box mAP", 19.39, "fasterrcnn_mobilenet_v3_large_fpn-fb6a3cc7.pth"),
        VisionVariant("retinanet_resnet50_fpn", "detect", "retinanet_resnet50_fpn", 36.4, "COCO box mAP",
                      34.01, "retinanet_resnet50_fpn_coco-eeacb38b.pth"),
        VisionVariant("fcos_resnet50_fpn", "detect", "fcos_resnet50_fpn", 39.2, "COCO box mAP", 32.27,
                      "fcos_resnet50_fpn_coco-99b0c9b7.pth"),
        VisionVariant("resnet18", "classify", "resnet18", 69.758, "ImageNet-1K top-1 %", 11.69,
                      "resnet18-f37072fd.pth"),
        VisionVariant("resnet34", "classify", "resnet34", 73.314, "ImageNet-1K top-1 %", 21.80,
                      "resnet34-b627a593.pth"),
        VisionVariant("resnet50", "classify", "resnet50", 76.13, "ImageNet-1K top-1 %", 25.56,
                      "resnet50-0676ba61.pth"),
        VisionVariant("resnet101", "classify", "resnet101", 77.374, "ImageNet-1K top-1 %", 44.55,
                      "resnet101-63fe2227.pth"),
        VisionVariant("resnet152", "classify", "resnet152", 78.312, "ImageNet-1K top-1 %", 60.19,
                      "resnet152-394f9c45.pth"),
    )
}


def _variant(name: str) -> VisionVariant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise ConfigError(
            f"unknown torchvision variant {name!r}; valid: {', '.join(VARIANTS)}", field="variant"
        ) from None


def find_checkpoint(v: VisionVariant, spec_cache: str | None = None) -> Path | None:
    """The local checkpoint file for ``v``, if present (project cache first, then the torch hub cache)."""
    candidates = [cache_dir(spec_cache) / "torchvision" / v.checkpoint]
    try:
        import torch.hub

        candidates.append(Path(torch.hub.get_dir()) / "checkpoints" / v.checkpoint)
    except ImportError:  # pragma: no cover - torch is a hard dependency
        pass
    return next((p for p in candidates if p.is_file()), None)


def _import_torchvision() -> Any:
    try:
        import torchvision
    except ImportError as e:
        raise BackendError(
            f"torchvision is not importable ({e}); install a torchvision matching torch "
            "(e.g. torch==2.14.1 torchvision==0.29.1) to use the torchvision family"
        ) from e
    return torchvision


def build(v: VisionVariant, image_px: int | None = None) -> torch.nn.Module:
    """The architecture with random initialisation (no download: weights and backbone weights None)."""
    tv = _import_torchvision()
    if v.stage == "classify":
        net: torch.nn.Module = getattr(tv.models, v.builder)(weights=None)
        return net
    kwargs: dict[str, Any] = {"weights": None, "weights_backbone": None, "num_classes": 91}
    if image_px is not None and not v.builder.startswith("ssdlite"):
        kwargs.update(min_size=image_px, max_size=image_px)
    det: torch.nn.Module = getattr(tv.models.detection, v.builder)(**kwargs)
    return det


class VisionRunner:
    """Detect returns one crop per image (the top-scoring box, or the centre when there is none), resized
    to the classifier's input; classify returns the top-1 ImageNet class index."""

    def __init__(self, net: torch.nn.Module, v: VisionVariant, weights: str, out_px: int) -> None:
        self.net = net
        self.variant = v
        self.weights = weights
        self.out_px = out_px

    def run(self, inputs: NDArray[np.float32]) -> NDArray[np.generic]:
        import torch

        x = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))
        with torch.inference_mode():
            if self.variant.stage == "classify":
                out: NDArray[np.generic] = self.net(x).argmax(1).numpy().astype(np.int64)
                return out
            dets = self.net(list(x))
            crops = [self._crop(img, d) for img, d in zip(x, dets, strict=True)]
            return torch.stack(crops).numpy()

    def _crop(self, img: torch.Tensor, det: dict[str, torch.Tensor]) -> torch.Tensor:
        import torch.nn.functional as F

        _, h, w = img.shape
        if len(det["boxes"]):
            x0, y0, x1, y1 = (int(round(float(t))) for t in det["boxes"][int(det["scores"].argmax())])
            x0, y0 = max(0, min(x0, w - 1)), max(0, min(y0, h - 1))
            x1, y1 = max(x0 + 1, min(x1, w)), max(y0 + 1, min(y1, h))
        else:
            x0, y0, x1, y1 = w // 4, h // 4, w - w // 4, h - h // 4
        region = img[:, y0:y1, x0:x1][None]
        return F.interpolate(region, size=(self.out_px, self.out_px), mode="bilinear", align_corners=False)[0]


class VisionFamily:
    def variants(self) -> tuple[str, ...]:
        return tuple(VARIANTS)

    def prepare(self, spec: ModelSpec) -> None:
        _variant(spec.variant)
        _import_torchvision()

    def load(self, spec: ModelSpec) -> VisionRunner:
        import torch

        v = _variant(spec.variant)
        net = build(v, spec.image_size)
        path = find_checkpoint(v, spec.cache_dir)
        weights = RANDOM_INIT
        if path is not None:
            try:
                net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            except (RuntimeError, OSError) as e:
                raise BackendError(f"{path}: cannot load checkpoint for {v.name}: {e}") from e
            weights = f"pretrained:{path}"
        net.eval()
        return VisionRunner(net, v, weights, spec.image_size or DEFAULT_IMAGE_PX)


FAMILY = VisionFamily()
