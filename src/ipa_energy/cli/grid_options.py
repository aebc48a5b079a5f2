"""The carbon and power-cap options shared by ``simulate`` and ``serve`` (docs/carbon.md).

``--carbon SOURCE`` takes a source spec of the carbon registry (``constant:400``, ``csv:FILE``,
``diurnal:period_s=600,shape=square``, ``codecarbon:country=FRA``); ``--carbon-trace FILE`` and
``--carbon-intensity G_PER_KWH`` are its two common cases. ``--power-cap`` takes W or a
``t_s,max_power_w`` CSV. They become ``RunSpec.carbon`` / ``carbon_options`` / ``power_cap``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ipa_energy.errors import ConfigError

_OPTIONS = (
    click.option("--carbon", "carbon", metavar="SOURCE",
                 help="Grid carbon intensity: constant:G, csv:FILE[,time_scale=K], diurnal:KEY=V,... (synthetic), "
                      "codecarbon:country=ISO3[,region=..]. Adds carbon_g to the results."),
    click.option("--carbon-trace", type=click.Path(dir_okay=False), metavar="FILE",
                 help="Same as --carbon csv:FILE (columns t_s,g_co2_per_kwh, a step function)."),
    click.option("--carbon-intensity", type=float, metavar="G_PER_KWH",
                 help="Same as --carbon constant:G_PER_KWH."),
    click.option("--carbon-mode", type=click.Choice(["weight", "lambda"]),
                 help="ipa-carbon's objective: the energy weight scaled by intensity (default), or Clover's lambda."),
    click.option("--carbon-lambda", type=float,
                 help="ipa-carbon, lambda mode: weight of carbon vs accuracy in [0, 1]."),
    click.option("--carbon-threshold", type=float,
                 help="ipa-carbon: relative intensity move that re-weights the objective (default 0.05)."),
    click.option("--carbon-lookahead-s", type=float,
                 help="ipa-carbon: plan with the mean intensity of the next S seconds (a forecast) instead of now."),
    click.option("--power-cap", metavar="W|FILE",
                 help="Cap on planned pipeline power: W, or a CSV t_s,max_power_w schedule."),
)


def grid_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_OPTIONS):
        f = option(f)
    return f


def grid_spec_fields(
    carbon: str | None, carbon_trace: str | None, carbon_intensity: float | None, carbon_mode: str | None,
    carbon_lambda: float | None, carbon_threshold: float | None, carbon_lookahead_s: float | None,
    power_cap: str | None,
) -> dict[str, Any]:
    """The RunSpec fields of the options (validated later by :func:`ipa_energy.runs.grid.grid_of`)."""
    given = [n for n, v in (("--carbon", carbon), ("--carbon-trace", carbon_trace),
                            ("--carbon-intensity", carbon_intensity)) if v is not None]
    if len(given) > 1:
        raise ConfigError(f"give one carbon source (got {' and '.join(given)})", field=given[1])
    if carbon_trace is not None:
        carbon = f"csv:{carbon_trace}"
    elif carbon_intensity is not None:
        carbon = f"constant:{carbon_intensity!r}"
    options = tuple((k, v) for k, v in (("mode", carbon_mode), ("lam", carbon_lambda),
                                        ("threshold", carbon_threshold), ("lookahead_s", carbon_lookahead_s))
                    if v is not None)
    return {"carbon": carbon, "carbon_options": options, "power_cap": power_cap}


__all__ = ["grid_options", "grid_spec_fields"]
