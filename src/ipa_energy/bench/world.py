"""An experiment's simulated world: what the simulated machines really do, apart from the planning profile.

The optimizer plans with the pipeline's own profile; the simulator serves the world (``RunSpec.world_profile``)
and learning (``learn``) is what closes the gap (docs/learning.md). The experiment's ``world`` is a profile
CSV, or the pipeline's own profile, with one stage (or one variant of it) scaled by
:func:`ipa_energy.profiles.scale_profile`. Each pipeline's world is written once per bench into
``<out>/worlds/<pipeline>.csv``, so the run can be reproduced and the file is kept with the results.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from ipa_energy.config.validation import StrictModel
from ipa_energy.errors import ConfigError
from ipa_energy.profiles import ProfileTable

#: the folder of the bench output the world CSVs are written into
WORLDS_DIR = "worlds"
#: scale_profile's argument -> this model's field (its errors are named by the experiment's field)
_FIELDS = {"stage": "stage", "variant": "variant", "latency": "latency_factor", "energy": "energy_factor"}


class WorldSpec(StrictModel):
    """The simulated world of every run of the experiment (simulator only: the bench's backend)."""

    #: a profile CSV of the pipeline (like ``simulate --world-profile``); null: the pipeline's own profile
    profile: str | None = None
    #: the stage whose rows are scaled; null: the profile as it is
    stage: str | None = None
    #: only this variant's rows of ``stage``; null: every variant of it
    variant: str | None = None
    #: the world's latency / the profile's, on the scaled rows (dimensionless; 1.6 = 1.6x slower)
    latency_factor: float = Field(default=1.0, gt=0)
    #: the world's energy per batch / the profile's, on the scaled rows (dimensionless)
    energy_factor: float = Field(default=1.0, gt=0)


def check_world(world: WorldSpec, field: str = "world") -> None:
    """The rules that need no pipeline: a world that differs from the plan, and factors only with a stage."""
    if world.variant is not None and world.stage is None:
        raise ConfigError("names a variant without `stage`", field=f"{field}.variant")
    if world.stage is None and (world.latency_factor != 1.0 or world.energy_factor != 1.0):
        name = "latency_factor" if world.latency_factor != 1.0 else "energy_factor"
        raise ConfigError("scales nothing without `stage`", field=f"{field}.{name}")
    if world.profile is None and world.stage is None:
        raise ConfigError("sets neither `profile` nor `stage`: the world would be the plan (leave `world` out)",
                          field=field)


def world_table(world: WorldSpec, pipeline: str, field: str = "world") -> ProfileTable:
    """``pipeline``'s world: ``world.profile`` (checked against the pipeline) or its own profile, with
    ``world.stage`` scaled. A ConfigError names the experiment's field (a bad CSV names its file)."""
    from ipa_energy.pipelines import load_pipeline
    from ipa_energy.profiles import scale_profile

    check_world(world, field)
    try:
        table = load_pipeline(pipeline, profile=world.profile).profile
    except ConfigError as e:
        if e.source is not None and e.source != world.profile:
            raise  # the pipeline itself is bad: check_names reports it by its own field
        raise ConfigError(f"{e} (for pipeline {pipeline!r})", field=f"{field}.profile") from None
    if world.stage is None:
        return table
    try:
        return scale_profile(table, stage=world.stage, variant=world.variant, latency=world.latency_factor,
                             energy=world.energy_factor)
    except ConfigError as e:
        name = _FIELDS.get(e.field or "", e.field or "")
        msg = str(e).removeprefix(f"{e.field}: ") if e.field else str(e)
        raise ConfigError(f"{msg} (pipeline {pipeline!r})", field=f"{field}.{name}") from None


def write_worlds(world: WorldSpec | None, pipelines: Sequence[str], out: Path) -> dict[str, str]:
    """Each pipeline's world written to ``out / worlds / <pipeline>.csv``; pipeline -> its path ({} without
    a world)."""
    from ipa_energy.config.validation import safe_filename
    from ipa_energy.profiles import save_profile

    if world is None:
        return {}
    folder = out / WORLDS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for pipe in pipelines:
        path = folder / f"{safe_filename(pipe)}.csv"
        save_profile(world_table(world, pipe), path)
        paths[pipe] = str(path)
    return paths


__all__ = ["WORLDS_DIR", "WorldSpec", "check_world", "world_table", "write_worlds"]
