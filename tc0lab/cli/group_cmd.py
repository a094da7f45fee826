"""`tc0lab group`: inspect finite groups and transformation monoids used as word problems.

`tc0lab group info A4xZ5` prints the order, generators, derived series and the cited
complexity of the word problem; `flipflop`, `parity` and `maps:...` are monoids and print
their classification by maximal subgroups. The CLI only formats what tc0lab.groups and
tc0lab.monoids compute.
"""
from __future__ import annotations

from typing import Any

import click
import numpy as np
from sympy.combinatorics import Permutation

from tc0lab.cli.common import emit_json, json_option, library_errors
from tc0lab.groups import (FiniteGroup, GroupError, classify_word_problem, group_order,
                           parse_group)
from tc0lab.monoids import (TransformationMonoid, classify_monoid, is_monoid_name,
                            parse_monoid)

MAX_TABLE_ORDER = 120
MONOID_NAMES = "flipflop, parity, maps:<images>;<images>;... (e.g. maps:1,2,0;0,0,0)"
COMPOSITION = ("table[a][b] is the id of 'a then b' (apply a first, then b); "
               "element 0 is the identity")


@click.group(name="group")
def group_command() -> None:
    """Finite groups and transformation monoids for word problems."""


@group_command.command("info")
@click.argument("name")
@json_option
@click.option("--table", "show_table", is_flag=True,
              help=f"Include the Cayley table (order <= {MAX_TABLE_ORDER}).")
@library_errors
def info_command(name: str, as_json: bool, show_table: bool) -> None:
    """Describe group or monoid NAME: order, generators, kind and word-problem complexity.

    Groups: S<n>, A<n>, Z<n>/C<n>, D<n> (order 2n), Q8, and products such as A4xZ5 or
    A4_x_Z5. Monoids: flipflop, parity, maps:1,2,0;0,0,0 (generator maps as images).
    """
    if is_monoid_name(name):
        monoid = parse_monoid(name)
        _refuse_large_table(show_table, monoid.name, monoid.size)
        document = _monoid_document(monoid, show_table)
    else:
        _refuse_large_table(show_table, name, _order_of_group_name(name))
        document = _group_document(parse_group(name), show_table)
    if as_json:
        emit_json(document)
    else:
        _print_text(document)


def _order_of_group_name(name: str) -> int:
    try:
        return group_order(name)
    except GroupError as error:
        raise click.ClickException(f"{error}; or a monoid: {MONOID_NAMES}") from None


def _refuse_large_table(show_table: bool, name: str, order: int) -> None:
    # checked before enumerating, so a refused table costs nothing
    if show_table and order > MAX_TABLE_ORDER:
        raise click.ClickException(f"--table prints order x order entries; {name} has order "
                                   f"{order}, more than {MAX_TABLE_ORDER}")


def _header(name: str, kind: str, order: int, degree: int, generators) -> dict[str, Any]:
    """The fields a group's and a monoid's documents share, in their order."""
    return {"name": name, "type": kind, "order": order, "degree": degree, "generators": list(generators)}


def _group_document(group: FiniteGroup, show_table: bool) -> dict[str, Any]:
    word_problem = classify_word_problem(group)
    document: dict[str, Any] = {
        **_header(group.name, "group", group.order, group.degree, group.generators),
        "generator_cycles": [_cycle_notation(group.elements[g]) for g in group.generators],
        "kind": word_problem.kind,
        "derived_series": word_problem.derived_series,
        "complexity": word_problem.complexity,
        "citation": word_problem.citation,
        "composition": COMPOSITION,
    }
    return _with_table(document, group.table, show_table)


def _cycle_notation(permutation: Permutation) -> str:
    cycles = permutation.cyclic_form
    return "".join("(" + " ".join(map(str, cycle)) + ")" for cycle in cycles) or "()"


def _monoid_document(monoid: TransformationMonoid, show_table: bool) -> dict[str, Any]:
    classification = classify_monoid(monoid)
    document: dict[str, Any] = {
        **_header(monoid.name, "monoid", monoid.size, monoid.degree, monoid.generators),
        "generator_maps": [list(m) for m in monoid.generator_maps],
        "kind": classification.kind,
        "maximal_subgroups": [
            {"idempotent": s.idempotent, "map": monoid.maps[s.idempotent].tolist(),
             "rank": s.rank, "order": s.order, "kind": s.kind}
            for s in classification.maximal_subgroups],
        "complexity": classification.complexity,
        "citation": classification.citation,
        "composition": COMPOSITION,
    }
    return _with_table(document, monoid.table, show_table)


def _with_table(document: dict[str, Any], table: np.ndarray, show_table: bool) -> dict[str, Any]:
    if show_table:
        document["table"] = table.tolist()
    return document


def _print_text(document: dict[str, Any]) -> None:
    for key, value in document.items():
        if key == "table":
            continue
        if key == "maximal_subgroups":
            click.echo(f"{key}:")
            for subgroup in value:
                click.echo("  " + ", ".join(f"{k}={v}" for k, v in subgroup.items()))
            continue
        click.echo(f"{key}: {value}")
    if "table" in document:
        click.echo("table (row a, column b -> a then b):")
        width = len(str(len(document["table"]) - 1))
        for row in document["table"]:
            click.echo(" ".join(str(v).rjust(width) for v in row))
