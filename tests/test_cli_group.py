"""Tests for `tc0lab group info`: JSON shape, errors with exit codes, spellings, tables."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner, Result

from tc0lab.cli import main
from tc0lab.groups import parse_group

GROUP_KEYS = {"name", "type", "order", "degree", "generators", "generator_cycles", "kind",
              "derived_series", "complexity", "citation", "composition"}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["group", "info", *args])


def run_json(*args: str) -> dict:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)       # exactly one JSON document on stdout


def test_a5_json_has_the_documented_keys() -> None:
    document = run_json("A5")
    assert set(document) == GROUP_KEYS
    assert (document["name"], document["order"], document["degree"]) == ("A5", 60, 5)
    assert document["kind"] == "non-solvable" and document["derived_series"] == [60]
    assert document["complexity"] == "NC1-complete (Barrington 1989)"
    assert document["generators"] == list(parse_group("A5").generators)


def test_text_output_names_kind_and_complexity() -> None:
    result = run("A4xZ5")
    assert result.exit_code == 0
    assert "order: 60" in result.stdout and "kind: solvable" in result.stdout
    assert "derived_series: [60, 4, 1]" in result.stdout
    assert "TC0: in ACC0 (Barrington-Therien 1988)" in result.stdout


@pytest.mark.parametrize("spelling, canonical", [
    ("A4_x_Z5", "A4xZ5"), ("s5", "S5"), ("S5", "S5"), ("c60", "Z60")])
def test_spellings_give_identical_documents(spelling: str, canonical: str) -> None:
    assert run_json(spelling) == run_json(canonical)


def test_unknown_group_is_an_error_listing_the_grammar() -> None:
    result = run("G7")
    assert result.exit_code == 1
    assert "Error:" in result.output and "S<n>" in result.output and "flipflop" in result.output
    assert "Traceback" not in result.output


def test_too_large_group_states_its_order() -> None:
    result = run("S8")
    assert result.exit_code == 1
    assert "Error: S8 has order 40320, more than the 5040" in result.output


def test_table_matches_the_library() -> None:
    document = run_json("Q8", "--table")
    assert np.array_equal(np.array(document["table"]), parse_group("Q8").table)
    text = run("Z3", "--table").stdout
    assert "0 1 2\n1 2 0\n2 0 1" in text


def test_table_above_order_120_is_refused() -> None:
    result = run("S6", "--table")
    assert result.exit_code == 1
    assert "Error: --table" in result.output and "S6 has order 720, more than 120" in result.output


def test_monoids_show_their_classification() -> None:
    flipflop = run_json("flipflop", "--table")
    assert (flipflop["type"], flipflop["kind"], flipflop["order"]) == ("monoid", "aperiodic", 3)
    assert flipflop["table"] == [[0, 1, 2], [1, 1, 2], [2, 1, 2]]
    parity = run_json("parity")
    assert parity["kind"] == "solvable"
    assert [s["kind"] for s in parity["maximal_subgroups"]] == ["abelian"]
    text = run("maps:1,2,0;0,0,0").stdout
    assert "kind: solvable" in text and "maximal_subgroups:" in text


def test_bad_monoid_is_an_error() -> None:
    result = run("maps:3,0")
    assert result.exit_code == 1 and "Error: " in result.output and "0..1" in result.output


def test_help_texts() -> None:
    runner = CliRunner()
    group_help = runner.invoke(main, ["group", "--help"])
    info_help = runner.invoke(main, ["group", "info", "--help"])
    assert group_help.exit_code == 0 and "info" in group_help.output
    assert info_help.exit_code == 0
    assert "--table" in info_help.output and "A4_x_Z5" in info_help.output
