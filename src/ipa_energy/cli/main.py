"""Entry point of the ``ipa-energy`` CLI. Sub-commands live one per module and load lazily."""

from __future__ import annotations

import importlib
import sys

import click

from ipa_energy.errors import ConfigError, IpaEnergyError

#: command name -> "module:attribute" of its click command or group
COMMANDS = {
    "solve": "ipa_energy.cli.solve:solve",
    "simulate": "ipa_energy.cli.simulate:simulate",
    "bench": "ipa_energy.cli.bench:bench",
    "energy": "ipa_energy.cli.energy:energy",
    "predictor": "ipa_energy.cli.predictor:predictor",
    "profile": "ipa_energy.cli.profile:profile",
    "serve": "ipa_energy.cli.serve:serve",
    "pipelines": "ipa_energy.cli.pipelines:pipelines",
    "segment": "ipa_energy.cli.segment:segment",
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported only when listed or invoked (fast start-up)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name == module_name:  # command not built yet in this checkout
                return None
            raise
        cmd: click.Command = getattr(module, attr)
        return cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ipa-energy")
def cli() -> None:
    """Adapt multi-stage ML inference pipelines for accuracy, cost and energy."""


def _usage_line(e: click.UsageError) -> str:
    """A usage error as one line: the message and where the help is (click would print three)."""
    path = e.ctx.command_path if e.ctx is not None else "ipa-energy"
    return f"error: {e.format_message()} (see '{path} --help')"


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; bad input becomes one line on stderr and exit status 2 (no traceback)."""
    try:
        cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.UsageError as e:
        click.echo(_usage_line(e), err=True)
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except (ConfigError, IpaEnergyError) as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    except MemoryError:
        # a backstop: the value rules (config/validation.py) bound every size a user can type
        click.echo("error: out of memory: an input is too large for this machine", err=True)
        sys.exit(2)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)


if __name__ == "__main__":
    main()
