"""Real model families a local backend can run: ``digits`` (tiny models trained here on scikit-learn's
digits, real measured accuracy), ``torchvision`` (detectors and ResNets; published accuracy, local
weights or random initialisation), ``unet`` (tiny U-Nets trained here on nuclei + synthetic scenes, measured
IoU, shipped weights) and ``sam`` (Segment Anything ViT-B/L/H; a checkpoint or random initialisation).
torch, torchvision and segment-anything are imported only when a model is built."""

from __future__ import annotations

from ipa_energy.models.spec import FAMILIES, ModelSpec, Runner, load_runner, prepare

#: variant name -> family name, for the variants this package can run (names are unique across families)
_CATALOG = {
    **{n: "digits" for n in (
        "digits-loc-s", "digits-loc-m", "digits-loc-l", "digits-cls-s", "digits-cls-m", "digits-cls-l",
    )},
    **{n: "unet" for n in ("unet-s", "unet-m", "unet-l")},
    **{n: "sam" for n in ("sam-vit-b", "sam-vit-l", "sam-vit-h")},
    **{n: "torchvision" for n in (
        "ssdlite320_mobilenet_v3_large", "fasterrcnn_mobilenet_v3_large_320_fpn",
        "fasterrcnn_mobilenet_v3_large_fpn", "retinanet_resnet50_fpn", "fcos_resnet50_fpn",
        "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    )},
}


def runnable_variants() -> tuple[str, ...]:
    return tuple(_CATALOG)


def spec_for(variant: str, *, cache_dir: str | None = None, image_size: int | None = None) -> ModelSpec:
    """The model spec of a variant name; a ConfigError lists the runnable names when it has no model."""
    from ipa_energy.errors import ConfigError

    family = _CATALOG.get(variant)
    if family is None:
        raise ConfigError(
            f"no local model for variant {variant!r}; runnable: {', '.join(_CATALOG)}", field="variant"
        )
    return ModelSpec(family, variant, cache_dir, image_size)


__all__ = ["FAMILIES", "ModelSpec", "Runner", "load_runner", "prepare", "runnable_variants", "spec_for"]
