"""Every command and every option of the CLI documents itself."""

from __future__ import annotations

import click

from ipa_energy.cli.main import COMMANDS, cli


def _leaves(cmd: click.Command, ctx: click.Context, path: tuple[str, ...]) -> list[tuple[str, click.Command]]:
    if isinstance(cmd, click.Group):
        out = []
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            assert sub is not None
            out += _leaves(sub, ctx, (*path, name))
        return out
    return [(" ".join(path), cmd)]


def test_every_command_and_option_has_help() -> None:
    ctx = click.Context(cli)
    leaves = _leaves(cli, ctx, ())
    assert {p.split()[0] for p, _ in leaves} == set(COMMANDS)  # every registered command loads
    missing = [
        f"{path} {opt.opts[0]}"
        for path, cmd in leaves
        for opt in cmd.params
        if isinstance(opt, click.Option) and opt.name != "help" and not opt.help
    ]
    assert missing == []
    assert [path for path, cmd in leaves if not cmd.help] == []
