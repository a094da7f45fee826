"""The `tc0lab` command line: a thin click layer over the library.

Each subcommand lives in its own module and is imported only when it is used, so
`tc0lab compile` never pays for (or imports) torch, which only `tc0lab probe` needs.
"""
from __future__ import annotations

import importlib

import click

# command name -> "module:attribute" of its click command
COMMANDS: dict[str, str] = {
    "compile": "tc0lab.cli.compile_cmd:compile_command",
    "check": "tc0lab.cli.check_cmd:check_command",
    "prove": "tc0lab.cli.prove_cmd:prove_command",
    "group": "tc0lab.cli.group_cmd:group_command",
    "probe": "tc0lab.cli.probe_cmd:probe_command",
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when it is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)


@click.group(cls=LazyGroup)
@click.version_option(package_name="tc0lab")
def main() -> None:
    """tc0lab: circuit complexity of sequence models, compiled, checked and probed."""
