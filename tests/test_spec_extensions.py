"""The spec's extensions for published architectures, each against an independent loop and the compiler:
token shift, complex matrices in real form, hard selection, products of factors; and the checker's
pieces they need (witness transfer through a token shift, rotation blocks, shifted rank, complex steps)."""
import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from tc0lab.check.search import generic_shifted_rank, shifted_rank
from tc0lab.check.solve import _ComplexStepJacobian, _Jacobian
from tc0lab.check.verdict import previous_token_failure, smoothed_twin
from tc0lab.check.verify import Machine
from tc0lab.compiler import compile_stack
from tc0lab.spec import reference, zoo
from tc0lab.spec.complex_form import complex_recurrence
from tc0lab.spec.functions import hardmax, sigmoid, step
from tc0lab.spec.recurrence import Recurrence, SpecError, input_symbols, symbol_array, widen_sequence
from tc0lab.spec.structure import analyze, rotation_pairs


def _shifted_layer(d: int = 2, N: int = 3) -> Recurrence:
    """h_t = diag(sigmoid(W x_t + V x_{t-1})) h_{t-1} + B x_t + B' x_{t-1}, y = C h."""
    x, xp = input_symbols(d), input_symbols(d, "xp")
    W, V, B, Bp, C = (symbol_array(n, s) for n, s in (("W", (N, d)), ("V", (N, d)), ("B", (N, d)), ("Bp", (N, d)),
                                                        ("C", (d, N))))
    A = sympy.diag(*[sigmoid(sum(W[r, j] * x[j] + V[r, j] * xp[j] for j in range(d))) for r in range(N)])
    return Recurrence("shifted", x, A, sympy.Matrix(B), sympy.Matrix(C), sympy.zeros(d, d),
                      {"W": W, "V": V, "B": B, "Bp": Bp, "C": C}, previous_inputs=xp, B_previous=sympy.Matrix(Bp))


def _values(rec, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {s: float(rng.normal()) for s in rec.parameters()}


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 9), seed=st.integers(0, 10_000))
def test_token_shift_reference_is_the_loop_over_the_previous_token(n, seed):
    rec, rng = _shifted_layer(), np.random.default_rng(seed)
    values, x = _values(rec, seed), rng.normal(size=(n, 2))
    number = lambda m, at: np.array(m.xreplace({**values, **at}).evalf(), dtype=float)
    h, expected, previous = np.zeros(3), [], np.zeros(2)
    for token in x:
        at = {**dict(zip(rec.inputs, token)), **dict(zip(rec.previous_inputs, previous))}
        h = number(rec.A, at) @ h + number(rec.B, at) @ token + number(rec.B_previous, at) @ previous
        expected.append(number(rec.C, at) @ h)
        previous = token
    np.testing.assert_allclose(reference.run_recurrence(rec, values, x), np.array(expected), rtol=1e-12, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 10), seed=st.integers(0, 10_000))
def test_token_shift_circuit_equals_reference(n, seed):
    compiled = compile_stack(_shifted_layer(), n=n, seed=seed)
    x = np.random.default_rng(seed).normal(size=(n, 2))
    np.testing.assert_allclose(compiled.evaluate(x), reference.run_stack(compiled.stack, x), rtol=1e-9, atol=1e-12)
    assert compiled.constructions == ["diagonal-decay"]  # the shift is wiring: the diagonal stays diagonal


def test_widened_layer_reads_the_pair():
    rec = _shifted_layer()
    wide = rec.widened()
    assert wide.d_in == 4 and wide.B.shape == (3, 4) and not wide.reads_previous_token
    x = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(widen_sequence(x), [[0, 1, 0, 0], [2, 3, 0, 1], [4, 5, 2, 3]])
    assert analyze(wide).kind == "diagonal"


def test_token_shift_is_validated():
    rec = _shifted_layer()
    with pytest.raises(SpecError, match="previous_inputs"):
        Recurrence("bad", rec.inputs, rec.A, rec.B, rec.C, rec.D, rec.param_arrays, B_previous=rec.B_previous)
    with pytest.raises(SpecError, match="one symbol per input"):
        Recurrence("bad", rec.inputs, rec.A, rec.B, rec.C, rec.D, rec.param_arrays,
                   previous_inputs=rec.previous_inputs[:1])
    with pytest.raises(SpecError, match="B_previous must be"):
        Recurrence("bad", rec.inputs, rec.A, rec.B, rec.C, rec.D, rec.param_arrays,
                   previous_inputs=rec.previous_inputs, B_previous=sympy.zeros(2, 2))


def test_a_witness_transfers_through_a_token_shift_only_when_the_shift_changes_nothing():
    rec = _shifted_layer()
    tokens, start = np.eye(2)[:1], np.eye(2)[1:]
    values = _values(rec, 0)
    machine = Machine(rec.stationary(), values, tokens, start, (0, 1, 2))
    assert "previous token changes" in previous_token_failure(rec, machine)
    quiet = {**values, **{s: 0.0 for s in rec.param_arrays["V"].flat}, **{s: 0.0 for s in rec.param_arrays["Bp"].flat}}
    assert previous_token_failure(rec, Machine(rec.stationary(), quiet, tokens, start, (0, 1, 2))) is None


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 8), seed=st.integers(0, 10_000))
def test_complex_recurrence_is_the_complex_loop_read_as_its_real_part(n, seed):
    d, N = 2, 3
    x = input_symbols(d)
    a, th, Bre, Bim, Cre, Cim = (symbol_array(k, s) for k, s in (("a", (N, d)), ("th", (N, d)), ("Bre", (N, d)),
                                                                  ("Bim", (N, d)), ("Cre", (d, N)), ("Cim", (d, N))))
    A = sympy.diag(*[sigmoid(sum(a[r, j] * x[j] for j in range(d))) * sympy.exp(sympy.I * sum(th[r, j] * x[j]
                     for j in range(d))) for r in range(N)])
    B, C = sympy.Matrix(Bre) + sympy.I * sympy.Matrix(Bim), sympy.Matrix(Cre) + sympy.I * sympy.Matrix(Cim)
    rec = complex_recurrence("c", x, A, B, C, sympy.zeros(d, d), {k: v for k, v in zip(
        ("a", "th", "Bre", "Bim", "Cre", "Cim"), (a, th, Bre, Bim, Cre, Cim))})
    assert rec.state_size == 2 * N and rotation_pairs(rec.A) and analyze(rec).kind == "commuting"
    values, inputs = _values(rec, seed), np.random.default_rng(seed).normal(size=(n, d))
    number = lambda m, at: np.array(m.xreplace({**values, **at}).evalf(), dtype=complex)
    h, expected = np.zeros(N, dtype=complex), []
    for token in inputs:
        at = dict(zip(x, token))
        h = number(A, at) @ h + number(B, at) @ token
        expected.append((number(C, at) @ h).real)
    np.testing.assert_allclose(reference.run_recurrence(rec, values, inputs), np.array(expected), atol=1e-12)
    compiled = compile_stack(rec, n=n, seed=seed)
    assert compiled.constructions == ["diagonalised"]
    np.testing.assert_allclose(compiled.evaluate(inputs), reference.run_stack(compiled.stack, inputs), atol=1e-9)


def test_rotation_pairs_is_a_proof_not_a_pattern_guess():
    a, b = sympy.symbols("a b", real=True)
    assert rotation_pairs(sympy.Matrix([[a, -b], [b, a]]))
    assert not rotation_pairs(sympy.Matrix([[a, b], [b, a]]))  # symmetric, not a rotation-scaling
    assert not rotation_pairs(sympy.Matrix([[a, -b, 1, 0], [b, a, 0, 0], [0, 0, a, -b], [0, 0, b, a]]))


@settings(max_examples=30, deadline=None)
@given(scores=st.lists(st.floats(-5, 5), min_size=2, max_size=6, unique=True))
def test_hardmax_is_the_one_hot_of_the_largest_score(scores):
    z = sympy.symbols(f"z0:{len(scores)}", real=True)
    values = [float(e.xreplace(dict(zip(z, scores)))) for e in hardmax(list(z))]
    assert values == [1.0 if i == int(np.argmax(scores)) else 0.0 for i in range(len(scores))]


def test_hard_selection_compiles_and_its_solver_twin_is_smooth():
    rec = zoo.core("pd-ssm", 2, 3)
    assert rec.A.has(step) and not smoothed_twin(rec).A.has(step)
    for n in (1, 4, 9):
        compiled = compile_stack("pd-ssm", n=n, seed=n)
        x = np.random.default_rng(n).normal(size=(n, 2))
        np.testing.assert_allclose(compiled.evaluate(x), reference.run_stack(compiled.stack, x), atol=1e-9)


def test_a_product_of_householder_factors_moves_one_direction_per_factor():
    # alpha * prod_j (I - beta_j k_j k_j^T): alpha I plus a rank-(number of factors) matrix, generically exactly that
    for arch, factors in (("gated-deltanet", 1), ("deltaproduct", 2)):
        rec = zoo.core(arch, 3, 4)
        assert generic_shifted_rank(rec, (0, 1, 2, 3)) == factors, arch


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), rank=st.integers(0, 3))
def test_shifted_rank_of_a_multiple_of_identity_plus_low_rank(seed, rank):
    rng = np.random.default_rng(seed)
    M = rng.normal() * np.eye(5) + rng.normal(size=(5, rank)) @ rng.normal(size=(rank, 5))
    assert shifted_rank(M) <= rank


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_complex_step_jacobian_equals_the_symbolic_one(seed):
    a, b, c = sympy.symbols("a b c", real=True)
    exprs = [sigmoid(a * b) * sympy.exp(-c) + sympy.tanh(a - 2 * c), sympy.log(1 + a**2) * b, sigmoid(40 * c)]
    theta = np.random.default_rng(seed).normal(size=3)
    exact = _Jacobian(exprs, [a, b, c])(theta, None, np.zeros(3))
    stepped = _ComplexStepJacobian(exprs, [a, b, c])(theta, None, np.zeros(3))
    np.testing.assert_allclose(stepped, exact, rtol=1e-12, atol=1e-300)
