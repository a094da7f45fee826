"""Sound verdicts: every TC0 verdict is a flat compiled circuit, every NC1-hard one a witness
decoded from the layer's output, and everything else is 'open' with what was searched."""
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from tc0lab.check import check_recurrence
from tc0lab.check.eigen import eigenvalue_answers
from tc0lab.spec.recurrence import Recurrence, SpecError, input_symbols, symbol_array
from tests import layer_cases as cases


def assert_constructed_tc0(verdict, construction: str):
    assert verdict.verdict == "TC0" and verdict.status == "constructed", verdict.notes
    built = verdict.construction
    assert construction in built.name and built.constant_depth
    assert len(set(built.threshold_depths.values())) == 1 and len(built.threshold_depths) >= 2
    assert built.max_relative_error <= 1e-9


def assert_witnessed(verdict, group: str):
    assert verdict.verdict == "NC1-hard" and verdict.status == "witnessed", verdict.searched
    witness = verdict.witness
    assert witness.group == group and witness.verified and not witness.solvable
    assert "output" in witness.verification["decoded"]
    assert witness.verification["words_random"] == 1000


# --- false claims that must be impossible ------------------------------------------------------

def test_identity_is_not_a_nonlinearity():
    x = input_symbols(2)
    with pytest.raises(SpecError, match="'identity' is not a nonlinearity"):
        cases.layer("linear", sympy.diag(x[0], x[1]), x, nonlinearity="identity")


def test_a_memoryless_tanh_layer_is_tc0_by_construction_not_nc1_hard():
    assert_constructed_tc0(check_recurrence(cases.memoryless()), "memoryless")


@pytest.mark.parametrize("build", [cases.indrnn, cases.fixed_cycle_under_tanh])
def test_nonlinear_layers_outside_thm_5_1_are_open_and_say_why(build):
    verdict = check_recurrence(build())
    assert verdict.verdict == "open" and verdict.witness is None
    assert "Thm 5.1" in verdict.notes[0] and verdict.searched


def test_a_family_cannot_lend_thm_5_1_to_a_layer_whose_parameters_cannot_realise_it():
    rec = cases.indrnn()
    verdict = check_recurrence(rec, family=lambda d, N: rec)  # the same elementwise structure, any width
    assert verdict.verdict == "open" and verdict.witness is None


def test_eigenvalues_of_a_conjugated_gate_are_never_called_negative_from_rounding():
    answers = eigenvalue_answers(cases.conjugated_diagonal(sympy.Matrix([[1, 2, 0], [0, 1, 1], [1, 0, 1]])))
    assert answers.negative is not True and answers.non_real is not True


def test_transitions_that_are_permutations_only_to_1e_10_are_not_a_witness():
    from sympy.combinatorics import Permutation
    x = input_symbols(2)

    def matrix(p: Permutation) -> sympy.Matrix:
        return sympy.Matrix(5, 5, lambda i, j: 1 if p(j) == i else 0)

    E = sympy.Matrix(5, 5, lambda i, j: sympy.Rational((3 * i + 7 * j) % 5 - 2, 10 ** 10))
    h0, c = symbol_array("h0", (5,)), symbol_array("c", (1, 5))
    A = x[0] * (matrix(Permutation(0, 1, size=5)) + E) + x[1] * matrix(Permutation(0, 1, 2, 3, 4))
    rec = Recurrence("near", x, A, sympy.zeros(5, 2), sympy.Matrix(c), sympy.zeros(1, 2), {"h0": h0, "c": c},
                     h0=sympy.Matrix(h0))
    assert check_recurrence(rec).verdict == "open"  # the group they generate is infinite


def test_a_tiny_genuine_non_commuting_part_is_not_taken_for_rounding():
    x = input_symbols(3)
    M = symbol_array("M", (3, 5, 5))
    A = sympy.diag(1, 2, 3, 4, 5) + sympy.Float(1e-13) * sum((sympy.Matrix(M[t]) * x[t] for t in range(3)),
                                                             sympy.zeros(5, 5))
    verdict = check_recurrence(cases.layer("tiny", A, x, {"M": M}))
    assert verdict.verdict != "TC0"  # at other parameter values this family is the S5 selector


def test_eigenvalue_answers_survive_a_cancelling_entry():
    x = input_symbols(1)
    zero = sympy.exp(x[0] + 40) - sympy.exp(40) * sympy.exp(x[0])  # exactly 0: A is the shear [[1, 1], [0, 1]]
    answers = eigenvalue_answers(cases.layer("cancel", sympy.Matrix([[1, 1], [zero, 1]]), x))
    assert answers.negative is not True and answers.non_real is not True


# --- labels --------------------------------------------------------------------------------

def test_a_float_conjugated_family_is_labelled_commuting_up_to_rounding_and_left_open():
    W = sympy.Matrix(np.random.default_rng(1).normal(size=(3, 3)))
    verdict = check_recurrence(cases.conjugated_diagonal(W))
    assert verdict.structure == "commuting" and "rounding" in verdict.evidence
    assert "non-commuting" not in verdict.rule
    assert verdict.verdict == "open" and "exactly" in verdict.notes[-1]


def test_a_shear_is_tc0_by_the_triangular_rule_not_by_thm_4_6():
    verdict = check_recurrence(cases.shear())
    assert verdict.structure == "triangular" and "4.6" not in verdict.citation
    assert_constructed_tc0(verdict, "triangular")
    assert verdict.negative_eigenvalues is False and verdict.non_real_eigenvalues is False


def test_an_open_verdict_lists_what_was_searched_and_what_was_skipped():
    verdict = check_recurrence(cases.delta_rule(keys=5, inputs=2))  # too few inputs for any target set
    assert verdict.verdict == "open"
    assert any("skipped" in line and "inputs" in line for line in verdict.searched)
    assert not any("were found" in note for note in verdict.notes)


# --- misses that now have answers -------------------------------------------------------

def test_rwkv7_like_transitions_with_gates_that_only_approach_their_limits_have_a_witness():
    assert_witnessed(check_recurrence(cases.rwkv7_like()), "S5")


def test_a_four_dimensional_delta_rule_tracks_s5_through_the_standard_representation():
    verdict = check_recurrence(cases.delta_rule(keys=4, inputs=6))
    assert_witnessed(verdict, "S5")
    assert "standard representation" in verdict.witness.method


def test_three_dimensional_transitions_track_a5_as_icosahedral_rotations():
    verdict = check_recurrence(cases.per_token_matrices(size=3, inputs=3))
    assert_witnessed(verdict, "A5")
    assert verdict.witness.action_on == "an orbit of a generic vector"


def test_unipotent_transitions_track_a5_through_words_of_two_tokens():
    verdict = check_recurrence(cases.transvections())
    assert_witnessed(verdict, "A5")
    assert "word of 2 tokens" in verdict.witness.method
    assert any("one token per generator: skipped" in line for line in verdict.searched)


@pytest.mark.parametrize("permutation", [None, (2, 0, 1)])
def test_upper_triangular_input_dependent_layers_are_tc0_by_construction(permutation):
    verdict = check_recurrence(cases.upper_triangular(3, permutation))
    assert verdict.structure == "triangular"
    assert_constructed_tc0(verdict, "triangular")


def test_commuting_rotation_blocks_are_compiled_flat_not_by_the_scan_tree():
    verdict = check_recurrence(cases.rotation_blocks())
    assert verdict.structure == "commuting" and "4.6" in verdict.citation
    assert_constructed_tc0(verdict, "diagonalised")
    assert verdict.non_real_eigenvalues is True


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(-2, 2), min_size=9, max_size=9).filter(
    lambda e: sympy.Matrix(3, 3, e).det() != 0))
def test_any_integer_conjugation_of_a_gated_diagonal_is_constructed_tc0(entries):
    verdict = check_recurrence(cases.conjugated_diagonal(sympy.Matrix(3, 3, entries)))
    assert verdict.structure in ("commuting", "diagonal", "triangular")
    assert verdict.verdict == "TC0" and verdict.status == "constructed", verdict.notes


# --- bad input ---------------------------------------------------------------------------

def _bad(**changes):
    x = input_symbols(2)
    fields = dict(name="bad", inputs=x, A=sympy.diag(x[0], 1), B=sympy.eye(2), C=sympy.ones(1, 2),
                  D=sympy.zeros(1, 2), param_arrays={})
    fields.update(changes)
    return Recurrence(**fields)


@pytest.mark.parametrize("changes, message", [
    (dict(A=sympy.Matrix([[sympy.nan, 0], [0, 1]])), "A has non-finite"),
    (dict(B=sympy.Matrix([[float("inf"), 0], [0, 1]])), "B has non-finite"),
    (dict(C=sympy.Matrix([[sympy.zoo, 0]])), "C has non-finite"),
    (dict(A=sympy.zeros(0, 0), B=sympy.zeros(0, 2), C=sympy.zeros(1, 0)), "at least one coordinate"),
    (dict(inputs=[sympy.Symbol("x0", real=True), sympy.Symbol("x0", real=True)]), "inputs repeat"),
    (dict(inputs=(sympy.Symbol("x0", real=True),) * 2), "inputs repeat"),
    (dict(param_arrays={"x": np.array([sympy.Symbol("x0", real=True)], dtype=object)}), "both as inputs and as parameters"),
    (dict(param_arrays=[symbol_array("W", (2,))]), "param_arrays must be a dict"),
    (dict(h0=[0, 1]), "h0 must be a sympy Matrix"),
    (dict(h0=sympy.Matrix([sympy.Symbol("x0", real=True), 0])), "h0 must not depend on the input"),
    (dict(D=sympy.Matrix([[sympy.Integer(10) ** 400, 0]])), "too large for float64"),
    (dict(C=sympy.zeros(0, 2), D=sympy.zeros(0, 2)), "at least one coordinate"),
    (dict(A=sympy.diag(sympy.Symbol("x0") * sympy.Symbol("x0", real=True), 1),
          param_arrays={"p": np.array([sympy.Symbol("x0")], dtype=object)}), "share a name"),
    (dict(param_arrays={"W": [sympy.Symbol("W0")]}), "must be a numpy array"),
])
def test_malformed_specs_are_refused_naming_the_field(changes, message):
    with pytest.raises(SpecError, match=message):
        _bad(**changes)


def test_a_boolean_entry_is_refused():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sympy deprecates Booleans in matrices, which is the point
        A = sympy.Matrix([[sympy.true, 0], [0, 1]])
    with pytest.raises(SpecError, match="Boolean entry"):
        _bad(A=A)


def test_a_state_too_large_for_the_witness_search_is_refused_plainly():
    x = input_symbols(2)
    size = 70
    M = symbol_array("M", (size, 2))
    A = sympy.Matrix(size, size, lambda i, j: M[i, 0] * x[0] if j == (i + 1) % size else (M[i, 1] * x[1] if i == j else 0))
    verdict = check_recurrence(cases.layer("wide", A, x, {"M": M}))
    assert verdict.verdict == "open" and any("refused" in line for line in verdict.searched)


# --- through the block ------------------------------------------------------------------

def test_a_stack_carries_the_witness_through_its_blocks_output():
    from tc0lab.check.stack import check_stack
    from tc0lab.spec import zoo
    result = check_stack(zoo.custom_stack(cases.delta_rule(keys=5, inputs=6), layers=2, seed=0))
    assert result["verdict"] == "NC1-hard"
    assert [run["verified"] for run in result["witness_through_block"]] == [True]


def test_a_block_whose_map_ignores_the_mixer_does_not_carry_the_witness():
    from tc0lab.check.stack import check_stack
    from tc0lab.spec.recurrence import Block, Stack, TokenMap
    mixer = cases.delta_rule(keys=5, inputs=6)
    y = input_symbols(mixer.d_out, "y")
    post = TokenMap(mixer.inputs + y, tuple(mixer.inputs))  # the residual alone: the mixer's y is dropped
    values = {s: 0.3 for s in mixer.parameters()}
    result = check_stack(Stack((Block(mixer, post),), (values,)))
    assert result["verdict"] == "open" and result["witness_through_block"][0]["verified"] is False


# --- float evaluation -----------------------------------------------------------------------

def test_accurate_evaluation_sees_through_a_catastrophic_cancellation():
    from tc0lab.spec.numeric import SparseMatrixFunction, accurate_matrix
    u = sympy.Symbol("u", real=True)
    matrix = sympy.Matrix([[sympy.exp(u + 36) - sympy.exp(36) * sympy.exp(u), sigmoid_of(u)]])
    rounded = SparseMatrixFunction(matrix, (u,))([1.0])
    accurate = accurate_matrix(matrix, (u,), [1.0], rounded)
    assert abs(rounded[0, 0]) > 0.1 and abs(accurate[0, 0]) < 1e-20  # float64 cancels, 40 digits do not
    assert abs(accurate[0, 1] - 1 / (1 + np.exp(-1.0))) < 1e-15


def sigmoid_of(u):
    from tc0lab.spec.functions import sigmoid
    return sigmoid(u)


def test_a_witness_is_refused_when_the_specs_float_evaluation_is_not_the_spec():
    from tc0lab.check.verify import _float_evaluation_error
    from tc0lab.spec.numeric import parameter_symbols
    x = input_symbols(2)
    spoiled = sympy.exp(x[0] + 36) - sympy.exp(36) * sympy.exp(x[0])  # exactly 0
    rec = cases.layer("spoiled", sympy.diag(1 + spoiled, 1), x)
    symbols = rec.inputs + parameter_symbols(rec)
    points = [list(token) + [0.5] * len(parameter_symbols(rec)) for token in np.eye(2)]
    assert _float_evaluation_error(rec, symbols, points, np.eye(2), [(rec.A, None)]) > 1e-3
