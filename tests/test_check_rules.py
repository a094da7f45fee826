"""Verdicts for user-written recurrences come from the matrices, never from the name."""
import dataclasses
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st
from sympy.combinatorics import Permutation, PermutationGroup

from tc0lab.check import check_recurrence
from tc0lab.check.verdict import check_cached
from tc0lab.spec import zoo
from tc0lab.spec.recurrence import Recurrence, SpecError, input_symbols, symbol_array
from tests import zoo_cases


def renamed(rec, name: str):
    return dataclasses.replace(rec, name=name)  # every field kept: a token shift, a state update's expressions


# every recurrence whose verdict needs no wider layer (the RNN's Thm 5.1 witness is built at
# d_state = 75 by `tc0lab check`, sLSTM's at N = 30; see test_nonlinear_layer_too_narrow_for_the_construction...)
@pytest.mark.parametrize("case", zoo_cases.params(lambda case: case.construction not in ("softmax-attention",
                                                                                         "sequential-chain",
                                                                                         "state-chain")))
def test_a_zoo_layer_under_another_name_gets_the_same_verdict(case, tmp_path_factory, monkeypatch):
    # the zoo verdict through the session's check cache (shared with tests/test_cli_check.py and
    # tests/test_architectures_doc.py, which check the same layers), the disguised one computed afresh
    monkeypatch.setenv("TC0LAB_CACHE", str(tmp_path_factory.getbasetemp() / "check-cache"))
    original = check_cached(case.arch)
    disguised = check_recurrence(renamed(zoo.core(case.arch, 5, 5), "my_new_layer"))
    assert (original["verdict"], original["status"]) == (case.verdict, case.status)
    assert (disguised.verdict, disguised.rule, disguised.structure) == \
        (original["verdict"], original["rule"], original["structure"])
    assert disguised.layer == "my_new_layer"


def _one_input_layer(A: sympy.Matrix, x, params: dict) -> Recurrence:
    size = A.shape[0]
    return Recurrence("user", x, A, sympy.ones(size, len(x)), sympy.ones(1, size), sympy.zeros(1, len(x)), params)


def test_complex_rotations_are_diagonal_so_tc0():
    x = input_symbols(1)
    w, b = symbol_array("w", (2,)), symbol_array("b", (2,))
    A = sympy.diag(*[sympy.exp(sympy.I * (w[i] * x[0] + b[i])) for i in range(2)])
    verdict = check_recurrence(_one_input_layer(A, x, {"w": w, "b": b}))
    assert (verdict.verdict, verdict.structure) == ("TC0", "diagonal")
    assert "4.4" in verdict.citation
    assert verdict.non_real_eigenvalues is True  # e^{i theta}: counting modulo 3 is within reach
    assert verdict.negative_eigenvalues is not False  # -1 at theta = pi, which random points miss


def test_rotations_by_an_input_dependent_angle_commute_so_tc0():
    x = input_symbols(2)
    w = symbol_array("w", (2,))
    theta = w[0] * x[0] + w[1] * x[1]
    A = sympy.Matrix([[sympy.cos(theta), -sympy.sin(theta)], [sympy.sin(theta), sympy.cos(theta)]])
    verdict = check_recurrence(_one_input_layer(A, x, {"w": w}))
    assert (verdict.verdict, verdict.structure) == ("TC0", "commuting")
    assert "4.6" in verdict.citation and "rotation-scaling blocks" in verdict.evidence  # proved entry by entry


def _selector(first: Permutation, second: Permutation, readout: str = "generic") -> Recurrence:
    """A(x) = x0 P(first) + x1 P(second): the input selects a permutation matrix; h0 is a parameter.

    readout 'generic': C is a row of parameters; 'ones': C sums the state, which every
    permutation leaves unchanged; 'zero': C = 0.
    """
    x = input_symbols(2)

    def matrix(p: Permutation) -> sympy.Matrix:
        m = sympy.zeros(5, 5)
        for i in range(5):
            m[p(i), i] = 1
        return m

    h0, c = symbol_array("h0", (5,)), symbol_array("c", (1, 5))
    C = {"generic": sympy.Matrix(c), "ones": sympy.ones(1, 5), "zero": sympy.zeros(1, 5)}[readout]
    params = {"h0": h0, "c": c} if readout == "generic" else {"h0": h0}
    return Recurrence("selector", x, x[0] * matrix(first) + x[1] * matrix(second), sympy.zeros(5, 2),
                      C, sympy.zeros(1, 2), params, h0=sympy.Matrix(h0))


def test_inputs_selecting_permutation_matrices_are_nc1_hard_with_a_verified_witness():
    verdict = check_recurrence(_selector(Permutation(0, 1, size=5), Permutation(0, 1, 2, 3, 4)))
    assert verdict.verdict == "NC1-hard"
    witness = verdict.witness
    assert witness.group == "S5" and witness.group_order == 120 and not witness.solvable and witness.verified
    assert witness.verification["words_exhaustive"] == 120 + 120**2 + 120**3
    assert witness.verification["words_random"] == 1000 and witness.verification["random_length"] == 64
    assert "output" in witness.verification["decoded"]


@pytest.mark.parametrize("readout", ["ones", "zero"])
def test_a_selector_whose_output_cannot_see_the_permutation_is_not_nc1_hard(readout):
    verdict = check_recurrence(_selector(Permutation(0, 1, size=5), Permutation(0, 1, 2, 3, 4), readout))
    assert verdict.verdict == "open" and verdict.witness is None
    assert any("same output" in line for line in verdict.searched)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(range(5)), st.permutations(range(5)))
def test_a_selector_is_nc1_hard_exactly_when_its_permutations_generate_a_non_solvable_group(first, second):
    p, q = Permutation(list(first)), Permutation(list(second))
    verdict = check_recurrence(_selector(p, q))
    expected = ("TC0" if p * q == q * p  # commuting transitions: Thm 4.6
                else "NC1-hard" if not PermutationGroup([p, q]).is_solvable else "open")
    assert verdict.verdict == expected


def test_deltanet_with_beta_at_most_one_is_reported_open_plainly():
    # beta in (0, 1): eigenvalue 1 - beta of I - beta k k^T is never -1, so no permutation
    verdict = check_recurrence(zoo._deltanet(5, 5, beta_max=1.0))
    assert verdict.verdict == "open"
    assert verdict.witness is None and "neither a proof of TC0 nor of NC1-hardness" in verdict.notes[0]


def test_nonlinear_layer_too_narrow_for_the_construction_is_open_and_says_why():
    verdict = check_recurrence(renamed(zoo.core("rnn", 2, 2), "tiny_rnn"))
    assert verdict.verdict == "open" and verdict.witness is None
    assert "Thm 5.1" in verdict.notes[0] and "75" in verdict.notes[0]


def test_non_square_and_mismatched_matrices_are_refused_with_every_problem():
    x = input_symbols(2)
    with pytest.raises(SpecError) as error:
        Recurrence("bad", x, sympy.ones(2, 3), sympy.ones(3, 2), sympy.ones(1, 2), sympy.zeros(1, 2))
    assert "A must be square, got 2x3" in str(error.value) and "B must be 2x2" in str(error.value)
    with pytest.raises(SpecError, match="B must be 2x2"):
        Recurrence("bad", x, sympy.eye(2), sympy.ones(2, 1), sympy.ones(1, 2), sympy.zeros(1, 2))


def test_undefined_symbols_are_refused():
    x = input_symbols(1)
    stray = sympy.Symbol("mystery")
    with pytest.raises(SpecError, match="undefined symbols.*mystery"):
        Recurrence("bad", x, sympy.Matrix([[stray * x[0]]]), sympy.ones(1, 1), sympy.ones(1, 1), sympy.zeros(1, 1))


def test_checking_something_that_is_not_a_layer_is_an_error():
    with pytest.raises(SpecError, match="expected a Recurrence"):
        check_recurrence(np.eye(2))
