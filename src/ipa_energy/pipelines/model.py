"""A loaded pipeline: typed, frozen, with its profile table and baseline presets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ipa_energy.errors import ConfigError
from ipa_energy.optimize.problem import AccuracyMethod, Stage, Weights
from ipa_energy.profiles.table import ProfileTable, VariantSpec

#: Which per-variant score enters PAS: the raw accuracy (0..1) or the rank score (0..1).
AccuracyScore = Literal["raw", "rank"]


@dataclass(frozen=True)
class PipelineVariant:
    name: str
    #: raw accuracy 0..1 (mAP, top-1, 1 - WER, F1, ROUGE-L, BLEU over 100)
    accuracy: float
    #: rank among the stage's variants scaled to 0..1 (IPA's first PAS)
    rank_score: float
    #: cores per replica
    cores: int
    params_m: float | None = None
    source: str = ""


@dataclass(frozen=True)
class PipelineStage:
    name: str
    task: str
    variants: tuple[PipelineVariant, ...]

    def variant(self, name: str) -> PipelineVariant:
        for v in self.variants:
            if v.name == name:
                return v
        raise ConfigError(
            f"stage {self.name!r} has no variant {name!r}; valid: {', '.join(v.name for v in self.variants)}"
        )

    @property
    def variant_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variants)


@dataclass(frozen=True)
class Presets:
    """The baselines of IPA, as data: weights and per-stage fixed variants or replicas."""

    weights: Weights
    fa2_low: Mapping[str, str]
    fa2_high: Mapping[str, str]
    rim_high_replicas: Mapping[str, int]
    rim_low_replicas: Mapping[str, int]
    source: str = ""


@dataclass(frozen=True)
class Pipeline:
    name: str
    description: str
    sla_s: float
    drop_limit_s: float
    accuracy_method: AccuracyMethod
    stages: tuple[PipelineStage, ...]
    profile: ProfileTable
    presets: Presets
    #: largest batch the optimizer may choose (None: every batch in the profile)
    max_batch: int | None = None
    #: profile latency x this when planning (IPA's latency_margin); energy is not scaled
    latency_factor: float = 1.0
    #: the file this pipeline was read from
    path: str = ""

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    def stage(self, name: str) -> PipelineStage:
        for s in self.stages:
            if s.name == name:
                return s
        raise ConfigError(f"pipeline {self.name!r} has no stage {name!r}; valid: {', '.join(self.stage_names)}")

    def problem_stages(
        self,
        *,
        accuracy_score: AccuracyScore = "raw",
        max_batch: int | None = None,
        latency_factor: float | None = None,
    ) -> tuple[Stage, ...]:
        """The optimizer's stages (no fixed_* constraints) from this pipeline's variants and profile.

        ``max_batch`` and ``latency_factor`` default to the pipeline's own settings.
        """
        specs = {
            s.name: [
                VariantSpec(v.name, v.accuracy if accuracy_score == "raw" else v.rank_score, v.cores)
                for v in s.variants
            ]
            for s in self.stages
        }
        return self.profile.to_problem_stages(
            specs,
            max_batch=self.max_batch if max_batch is None else max_batch,
            latency_factor=self.latency_factor if latency_factor is None else latency_factor,
        )
