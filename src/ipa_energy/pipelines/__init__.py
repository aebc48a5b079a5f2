"""The shipped pipelines (video, audio-qa, audio-sent, sum-qa, nlp) and the loader for user pipelines.

``load_pipeline("video")`` reads the packaged YAML and its reference profile; ``load_pipeline(path)``
reads a user's YAML; ``load_pipeline(name, profile=csv)`` swaps in a measured profile.
Provenance of every shipped number: ``data/README.md`` and ``docs/pipelines.md``.
"""

from ipa_energy.pipelines.loader import data_dir, load_pipeline, pipeline_names, pipeline_path
from ipa_energy.pipelines.model import (
    AccuracyScore,
    Pipeline,
    PipelineStage,
    PipelineVariant,
    Presets,
)

__all__ = [
    "AccuracyScore",
    "Pipeline",
    "PipelineStage",
    "PipelineVariant",
    "Presets",
    "data_dir",
    "load_pipeline",
    "pipeline_names",
    "pipeline_path",
]
