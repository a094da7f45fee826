"""Options and output helpers shared by every subcommand.

Rule of the CLI: with `--json`, stdout carries exactly one JSON document; everything
else (progress, logs) goes to stderr. Expected failures raise `click.ClickException`,
which click prints as `Error: ...` with exit code 1.
"""
from __future__ import annotations

import functools
import json
from typing import Any, Callable

import click


def json_option(command: Callable) -> Callable:
    """Add `--json` (stored as `as_json`) to a command."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Print one JSON document on stdout instead of text.")(command)


def emit_json(document: Any) -> None:
    """Print exactly one JSON document on stdout."""
    click.echo(json.dumps(document, indent=2, sort_keys=False, default=_json_default))


def _json_default(value: Any) -> Any:
    # numpy scalars and sympy numbers appear in reports; make them plain JSON
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def log(message: str) -> None:
    """A progress or log line: always stderr, never stdout."""
    click.echo(message, err=True)


def parse_int_list(text: str, option_name: str, minimum: int = 1) -> list[int]:
    """Parse '8,16,32' into [8, 16, 32]; a malformed or out-of-range list is a clear error."""
    try:
        values = [int(part) for part in text.split(",") if part.strip() != ""]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got {text!r}",
                                 param_hint=option_name) from None
    if not values:
        raise click.BadParameter("the list is empty", param_hint=option_name)
    for value in values:
        if value < minimum:
            raise click.BadParameter(f"every value must be >= {minimum}, got {value}",
                                     param_hint=option_name)
    return values


def library_errors(command: Callable) -> Callable:
    """Turn the library's input errors (ValueError and friends) into `Error: ...`, exit 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ValueError, KeyError, OSError, MemoryError) as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
            raise click.ClickException(str(message)) from None

    return wrapper
