"""Find, read and validate pipelines: the shipped ones by name, or a user's YAML by path."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from ipa_energy.config.validation import load_mapping, parse_model
from ipa_energy.errors import ConfigError, UnknownNameError
from ipa_energy.optimize.problem import Weights
from ipa_energy.pipelines.model import Pipeline, PipelineStage, PipelineVariant, Presets
from ipa_energy.pipelines.schema import PipelineModel
from ipa_energy.profiles.table import ProfileTable, load_profile

_SUFFIXES = (".yaml", ".yml", ".json")


def data_dir() -> Path:
    """The folder of the shipped pipeline YAMLs and reference profiles (package data)."""
    return Path(__file__).resolve().parent / "data"


def pipeline_names() -> tuple[str, ...]:
    """Names of the shipped pipelines (the YAML files in the package data folder), sorted."""
    return tuple(sorted(p.stem for p in data_dir().glob("*.yaml")))


def pipeline_path(name_or_path: str | Path) -> Path:
    """A shipped pipeline's YAML by name, or the given path when it names a file."""
    text = str(name_or_path)
    shipped = data_dir() / f"{text}.yaml"
    if text in pipeline_names():
        return shipped
    p = Path(text)
    if p.suffix in _SUFFIXES or p.exists() or "/" in text:
        if not p.is_file():
            raise ConfigError("pipeline file not found", source=text)
        return p
    raise UnknownNameError("pipeline", text, pipeline_names())


def load_pipeline(
    name_or_path: str | Path, *, profile: str | Path | ProfileTable | None = None
) -> Pipeline:
    """Load a shipped pipeline by name (``video``) or a pipeline YAML by path.

    ``profile`` replaces the pipeline's own profile (e.g. a CSV written by ``ipa-energy profile``);
    it must cover every variant of every stage at the variant's cores.
    """
    path = pipeline_path(name_or_path)
    src = str(path)
    model = parse_model(PipelineModel, load_mapping(path), source=src)
    _check_names(model, src)
    presets = _presets(model, src)
    if profile is None:
        table = load_profile(_resolve(path, model.profile))
    elif isinstance(profile, ProfileTable):
        table = profile
    else:
        table = load_profile(profile)
    stages = tuple(
        PipelineStage(
            s.name, s.task,
            tuple(PipelineVariant(v.name, v.accuracy, v.rank_score, v.cores, v.params_m, v.source)
                  for v in s.variants),
        )
        for s in model.stages
    )
    _check_profile(stages, table, model.max_batch, src)
    return Pipeline(
        name=model.name,
        description=model.description,
        sla_s=model.sla_s,
        drop_limit_s=model.drop_limit_s,
        accuracy_method=model.accuracy_method,
        stages=stages,
        profile=table,
        presets=presets,
        max_batch=model.max_batch,
        latency_factor=model.latency_factor,
        path=src,
    )


def _resolve(pipeline_file: Path, ref: str) -> Path:
    p = Path(ref)
    return p if p.is_absolute() else pipeline_file.parent / p


def _check_names(model: PipelineModel, src: str) -> None:
    stage_names = [s.name for s in model.stages]
    for i, s in enumerate(model.stages):
        if stage_names.count(s.name) > 1:
            raise ConfigError(f"duplicate stage name {s.name!r}", field=f"stages[{i}].name", source=src)
        names = [v.name for v in s.variants]
        for j, v in enumerate(s.variants):
            if names.count(v.name) > 1:
                raise ConfigError(
                    f"duplicate variant name {v.name!r} in stage {s.name!r}",
                    field=f"stages[{i}].variants[{j}].name", source=src,
                )


def _presets(model: PipelineModel, src: str) -> Presets:
    p = model.presets
    stages = {s.name: [v.name for v in s.variants] for s in model.stages}
    for key in ("fa2_low", "fa2_high", "rim_high_replicas", "rim_low_replicas"):
        mapping: dict[str, object] = getattr(p, key)
        for stage in mapping:
            if stage not in stages:
                raise ConfigError(
                    f"unknown stage {stage!r}; stages: {', '.join(stages)}",
                    field=f"presets.{key}.{stage}", source=src,
                )
        missing = [s for s in stages if s not in mapping]
        if missing:
            raise ConfigError(f"no entry for stage(s) {', '.join(missing)}", field=f"presets.{key}", source=src)
    for key in ("fa2_low", "fa2_high"):
        fixed: dict[str, str] = getattr(p, key)
        for stage, variant in fixed.items():
            if variant not in stages[stage]:
                raise ConfigError(
                    f"unknown variant {variant!r} for stage {stage!r}; valid: {', '.join(stages[stage])}",
                    field=f"presets.{key}.{stage}", source=src,
                )
    w = p.weights
    return Presets(
        weights=Weights(accuracy=w.accuracy, cost=w.cost, batch=w.batch, energy=0.0),
        fa2_low=MappingProxyType(dict(p.fa2_low)),
        fa2_high=MappingProxyType(dict(p.fa2_high)),
        rim_high_replicas=MappingProxyType(dict(p.rim_high_replicas)),
        rim_low_replicas=MappingProxyType(dict(p.rim_low_replicas)),
        source=p.source,
    )


def _check_profile(
    stages: tuple[PipelineStage, ...], table: ProfileTable, max_batch: int | None, src: str
) -> None:
    known = {s.name for s in stages}
    for stage in table.stages():
        if stage not in known:
            raise ConfigError(
                f"profile {table.source} has rows for stage {stage!r}, which the pipeline does not have "
                f"(stages: {', '.join(s.name for s in stages)})", field="profile", source=src,
            )
    for i, s in enumerate(stages):
        for j, v in enumerate(s.variants):
            rows = table.rows_for(s.name, v.name, v.cores)
            field = f"stages[{i}].variants[{j}]"
            if not rows:
                other = sorted({r.cores for r in table.rows_for(s.name, v.name) if r.cores is not None})
                extra = f" (it has rows at cores {other})" if other else ""
                raise ConfigError(
                    f"profile {table.source} has no rows for stage {s.name!r} variant {v.name!r} at "
                    f"{v.cores} cores{extra}", field=field, source=src,
                )
            if max_batch is not None and not any(r.batch <= max_batch for r in rows):
                raise ConfigError(
                    f"profile {table.source} has no batch <= max_batch={max_batch} for stage {s.name!r} "
                    f"variant {v.name!r}", field=field, source=src,
                )
