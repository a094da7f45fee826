"""A new architecture is one zoo entry: compile, check, --formula and --latex work with nothing else written."""
import dataclasses
import json

import numpy as np
import pytest
import sympy
from click.testing import CliRunner

from tc0lab.cli import main
from tc0lab.compiler.compiling import compile_circuit
from tc0lab.formulas import FormulaUnsupported, general, interpolate, zoo_formulas
from tc0lab.spec import zoo

NAME = "s4d-slow"


def _s4d_slow(d: int, N: int):
    """S4D's recurrence under another name."""
    return dataclasses.replace(zoo.core("s4d", d, N), name=NAME)


def _slow_inits(d: int, N: int) -> dict:
    """Another initialisation: ten times smaller steps than the zoo's S4D."""
    return {"log_dt": lambda rng, shape: rng.uniform(np.log(0.01), np.log(0.1), size=shape),
            "A_log": lambda rng, shape: rng.uniform(-0.7, 0.7, size=shape),
            "B": lambda rng, shape: rng.normal(0, 1, size=shape),
            "C": lambda rng, shape: rng.normal(0, 1 / np.sqrt(N), size=shape),
            "D": lambda rng, shape: rng.normal(0, 0.5, size=shape)}


@pytest.fixture
def new_arch(monkeypatch, tmp_path):
    monkeypatch.setenv("TC0LAB_CACHE", str(tmp_path))  # nothing about the temporary entry outlives the test
    with zoo.registered(NAME, _s4d_slow, _slow_inits) as name:
        yield name
    assert NAME not in zoo.ARCHS


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_compile_with_and_without_formula(new_arch):
    built = run("compile", "--arch", new_arch, "--layers", "2", "--n", "4,9", "--json")
    assert built.exit_code == 0, built.output
    formula = run("compile", "--arch", new_arch, "--layers", "2", "--n", "4,9", "--json", "--formula")
    assert formula.exit_code == 0, formula.output
    keys = ("depth_arithmetic", "depth_threshold", "gates_by_op", "threshold_gates", "edges", "nodes")
    rows = [[{key: row[key] for key in keys} for row in json.loads(result.output)["circuits"]]
            for result in (built, formula)]
    assert rows[0] == rows[1]
    assert json.loads(formula.output)["architectures"][0]["formulas"]["depth_threshold"] == "12*L"
    table = run("compile", "--arch", new_arch, "--layers", "2", "--n", "1000000", "--formula")
    assert table.exit_code == 0 and new_arch in table.output, table.output


def test_check_and_latex(new_arch):
    verdict = run("check", "--arch", new_arch)
    assert verdict.exit_code == 0, verdict.output
    assert f"{new_arch}: TC0" in verdict.output
    latex = run("check", "--arch", new_arch, "--latex")
    assert latex.exit_code == 0 and "12" in latex.output, latex.output


def test_interpolated_formulas_equal_circuits_at_new_sizes(new_arch):
    formulas = zoo_formulas(new_arch)
    for layers, d, N, n in ((1, 2, 2, 5), (2, 3, 6, 4), (3, 7, 2, 3)):
        stack = zoo.stack(new_arch, layers, d, N, seed=11)
        assert formulas.at(n, 7, layers=layers, d_model=d, d_state=N) == compile_circuit(stack, n).measure(7).as_dict()


@pytest.mark.parametrize("arch", ["s4d", "rnn", "mamba2", "ids4"])
def test_interpolation_equals_the_hand_written_sheet(arch):
    interpolated = interpolate.interpolated_formulas(arch)
    sheet = general.zoo_formulas(arch)
    assert set(interpolated.gates_by_op) == set(sheet.gates_by_op)
    pairs = [(interpolated.gates_by_op[op], sheet.gates_by_op[op]) for op in sheet.gates_by_op]
    pairs += [(getattr(interpolated, key), getattr(sheet, key)) for key in ("edges", "threshold_gates", "nodes")]
    assert all(sympy.expand(a - b) == 0 for a, b in pairs)
    assert interpolated.depth_threshold == sheet.depth_threshold


def test_two_regions_are_refused_not_interpolated():
    with pytest.raises(FormulaUnsupported, match="disagrees with the stack"):
        interpolate.interpolated_formulas("s4")  # d <= N and d > N: not one polynomial
