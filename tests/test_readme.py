"""The README's commands run as written, and every CLI command is documented and has help."""
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from tc0lab.cli import COMMANDS, main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
CONSOLE_COMMANDS = [line[2:].strip() for block in re.findall(r"```console\n(.*?)```", README, re.S)
                    for line in block.splitlines() if line.startswith("$ tc0lab ")]
SLOW = ("tc0lab probe",)  # a real sweep takes minutes: checked through --help


def test_the_two_setup_commands_are_the_ci_command():
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    test_command = "bash scripts/setup.sh && .venv/bin/python -m pytest -q -p no:cacheprovider"
    assert test_command in README and test_command in ci
    assert "bash scripts/setup.sh && .venv/bin/tc0lab compile --layers 4" in README


@pytest.mark.parametrize("command", CONSOLE_COMMANDS)
def test_readme_command_runs(command, tmp_path, monkeypatch):
    monkeypatch.setenv("TC0LAB_CACHE", str(tmp_path / "cache"))
    args = shlex.split(command)[1:]
    if command.startswith(SLOW):
        args = [args[0], "--help"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, (command, result.output)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_and_a_readme_section(name):
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0 and len(result.output) > 100
    assert f"### `tc0lab {name}`" in README
