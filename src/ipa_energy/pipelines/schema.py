"""The pipeline YAML schema (validated; unknown keys and bad values name the field and file).

A pipeline file looks like (see ``data/video.yaml`` for a complete one)::

    name: video
    description: object detection -> image classification
    sla_s: 6.89                 # end-to-end latency SLA (paper Table 6)
    drop_limit_s: 10            # requests older than this are dropped (IPA's drop_limit)
    accuracy_method: product    # default PAS: "product" of raw accuracies or "sum" of rank scores
    max_batch: 8                # optional batching cap (IPA's batching_cap)
    latency_factor: 1.0         # optional planning margin: profile latency x this (IPA's latency_margin)
    profile: video.profile.csv  # relative to this file
    stages:
      - name: crop
        task: object detection
        variants:
          - {name: yolov5n, accuracy: 0.457, rank_score: 0.0, cores: 1, params_m: 1.9, source: ...}
    presets:                    # the baselines, as constraints on IPA's optimizer
      weights: {accuracy: 2, cost: 1, batch: 1.0e-6}   # IPA's alpha, beta, gamma
      fa2_low: {crop: yolov5n, classification: resnet18}
      fa2_high: {crop: yolov5s, classification: resnet101}
      rim_high_replicas: {crop: 3, classification: 3}
      rim_low_replicas: {crop: 1, classification: 1}
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from ipa_energy.config.validation import StrictModel


class VariantModel(StrictModel):
    name: str = Field(min_length=1, description="Model variant name, as in the profile CSV.")
    accuracy: float = Field(gt=0, le=1, description="Raw accuracy 0..1 (revision_accuracy).")
    rank_score: float = Field(ge=0, le=1, description="Rank among the stage's variants, 0..1.")
    cores: PositiveInt = Field(description="Cores per replica (paper_base_alloc_cores).")
    params_m: float | None = Field(default=None, gt=0, description="Parameters, millions.")
    source: str = Field(default="", description="Provenance of the numbers above.")


class StageModel(StrictModel):
    name: str = Field(min_length=1)
    task: str = Field(min_length=1)
    variants: list[VariantModel] = Field(min_length=1)


class WeightsModel(StrictModel):
    accuracy: float = Field(ge=0, description="IPA's alpha.")
    cost: float = Field(ge=0, description="IPA's beta, per core.")
    batch: float = Field(ge=0, description="IPA's gamma, per unit of batch size.")


class PresetsModel(StrictModel):
    weights: WeightsModel
    fa2_low: dict[str, str] = Field(description="stage -> fixed variant of FA2-low.")
    fa2_high: dict[str, str] = Field(description="stage -> fixed variant of FA2-high.")
    rim_high_replicas: dict[str, PositiveInt] = Field(description="stage -> fixed replicas of RIM-high.")
    rim_low_replicas: dict[str, PositiveInt] = Field(description="stage -> fixed replicas of RIM-low.")
    source: str = Field(default="", description="Provenance of the presets.")


class PipelineModel(StrictModel):
    name: str = Field(min_length=1)
    description: str = ""
    sla_s: float = Field(gt=0, description="End-to-end latency SLA, seconds.")
    drop_limit_s: float = Field(gt=0, description="Requests waiting longer are dropped, seconds.")
    accuracy_method: Literal["sum", "product"] = "product"
    max_batch: PositiveInt | None = Field(default=None, description="Largest batch size the optimizer may use.")
    latency_factor: float = Field(default=1.0, gt=0, description="Profile latency multiplier when planning.")
    profile: str = Field(min_length=1, description="Profile CSV, relative to the pipeline file.")
    stages: list[StageModel] = Field(min_length=1)
    presets: PresetsModel
