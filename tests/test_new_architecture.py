"""A new architecture is one zoo entry: compile, check, --formula and --latex work with nothing else written."""
import dataclasses
import json

import numpy as np
import pytest
from click.testing import CliRunner

from tc0lab.cli import main
from tc0lab.compiler.compiling import compile_circuit
from tc0lab.formulas import zoo_formulas
from tc0lab.formulas.general import cached_zoo_formulas
from tc0lab.spec import zoo
from tests import zoo_cases

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


def test_the_interpolation_finds_regions_and_domains():
    """The formulas the project once wrote by hand: s4's two regions and each architecture's smallest (d, N)."""
    s4 = zoo_formulas("s4")
    assert str(s4.depth_threshold) == "Piecewise((12*L, N >= d), (17*L, True))"
    assert {arch: zoo_formulas(arch).minimum for arch in ("s4", "mamba2", "ids4")} == {
        "s4": (1, 1), "mamba2": (2, 1), "ids4": (2, 2)}  # d = 1: w x has no 'add'; N = 1: a diagonal 1 x 1 A


def test_an_architecture_without_formulas_still_compiles(monkeypatch, tmp_path):
    """A fixed-size layer (its builder ignores d and N) has no formulas in d: circuits are still built and measured."""
    from tests.test_compile_constructions import shear  # a 2 x 2 shear: back-substitution
    monkeypatch.setenv("TC0LAB_CACHE", str(tmp_path))
    inits = {key: (lambda rng, shape: rng.normal(0, 0.5, size=shape)) for key in shear().param_shapes}
    with zoo.registered("shear-zoo", lambda d, N: shear(), lambda d, N: inits) as name:
        built = run("compile", "--arch", name, "--layers", "2", "--n", "4,8", "--json")
        assert built.exit_code == 0, built.output
        summary = json.loads(built.output)["architectures"][0]
        assert summary["formulas"] == {} and summary["formula_provenance"].startswith("no formulas")
        # formula mode answers at this stack's own d, N and L (exact in n and p), and says why no more
        at_size = run("compile", "--arch", name, "--layers", "2", "--n", "4,8", "--formula", "--json")
        assert at_size.exit_code == 0, at_size.output
        provenance = json.loads(at_size.output)["architectures"][0]["formula_provenance"]
        assert provenance.startswith("no formula in d and N") and "d_model=2" in provenance


@pytest.mark.parametrize("case", zoo_cases.params(lambda case: case.formulas == "general"))
def test_zoo_formulas_hold_beyond_every_point_the_interpolation_used(case):
    """(d, N) = (8, 3) and (3, 9), with seed 3: beyond the one-polynomial and d <= N grids (for lru, whose fold line is
    d = 2N, (8, 3) is a point of its d > 2N grid; tests/test_formulas_regions.py holds lru out properly)."""
    arch = case.arch
    formulas = cached_zoo_formulas(arch)[0]
    for layers, d, N, n in ((2, 8, 3, 3), (1, 3, 9, 4)):
        stack = zoo.stack(arch, layers, d, N, seed=3)
        assert formulas.at(n, 6, layers=layers, d_model=d, d_state=N) == compile_circuit(stack, n).measure(6).as_dict()
