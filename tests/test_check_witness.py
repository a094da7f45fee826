"""The witness machinery: verification catches wrong machines; the solver; eigenvalue signs."""
import numpy as np
import sympy

from tc0lab.check.construct import S5_GENERATORS, construct
from tc0lab.check.eigen import eigenvalue_answers
from tc0lab.check.matrix_groups import as_permutation
from tc0lab.check.solve import solve_parameters
from tc0lab.check.verify import Machine, verify_machine
from tc0lab.spec import zoo


def test_verification_rejects_a_machine_whose_tokens_are_not_the_claimed_generators():
    machine, _ = construct(zoo.core("rnn", 3, 75))
    # token 0 is a transposition and token 1 a 5-cycle; claiming them swapped names a labelling
    # no automorphism of S5 can produce (the orders differ), so the word problem must fail
    swapped = [S5_GENERATORS[1], S5_GENERATORS[0]]
    result = verify_machine(machine, swapped, random_words=10)
    assert not result.verified and result.failure


def test_verification_rejects_a_start_state_that_permutations_fix():
    machine, _ = construct(zoo.core("rnn", 3, 75))
    blank = Machine(machine.rec, machine.values, machine.tokens, np.zeros((0, 3)), machine.coordinates)
    result = verify_machine(blank, list(S5_GENERATORS), random_words=10)
    assert not result.verified


def test_solver_assigns_bare_symbols_and_fits_saturating_ones():
    a, b = sympy.symbols("a b", real=True)
    from tc0lab.spec.functions import sigmoid
    solution = solve_parameters([(a, 3.0), (2 * sigmoid(b), 2.0)], [a, b], {a: 0.0, b: 0.0})
    assert solution.values[a] == 3.0 and solution.residual < 1e-9 and solution.values[b] > 15


def test_as_permutation_reads_array_forms_and_refuses_non_permutations():
    matrix = np.zeros((3, 3))
    matrix[[1, 2, 0], [0, 1, 2]] = 1  # 0 -> 1 -> 2 -> 0
    assert as_permutation(matrix).tolist() == [1, 2, 0]
    assert as_permutation(0.5 * np.eye(3)) is None and as_permutation(2 * np.eye(3)) is None


def test_mamba_cannot_be_negative_and_its_variant_can():
    plain = eigenvalue_answers(zoo.core("mamba", 2, 2))
    assert plain.negative is False and plain.non_real is False
    variant = eigenvalue_answers(zoo.core("mamba-neg", 2, 2))
    assert variant.negative is True and "eigenvalue -" in variant.negative_evidence
