"""The (I - R) D eigenvalue proof and the sign proofs under it: proven forms have real eigenvalues in range at
random points, and every way out of the form (beta up to 2, an unnormalised key, two different keys, a product
of two factors, an unbounded decay) gives no proof."""
from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from tc0lab.check.eigen import eigenvalue_answers
from tc0lab.check.rank_one_eigen import psd_similar
from tc0lab.check.signs import proven_in_unit_interval, proven_nonnegative
from tc0lab.spec import zoo
from tc0lab.spec.building import Parameters, linear
from tc0lab.spec.functions import rsqrt, sigmoid
from tc0lab.spec.numeric import point, random_values, transition_function
from tc0lab.spec.recurrence import Recurrence, input_symbols

EIGEN_TOLERANCE = 1e-9


def _delta_rule(d: int, N: int, *, beta_scale: float = 1.0, normalised: bool = True, second_key: bool = False,
                decay: str = "sigmoid", epsilon: float = 0.0) -> Recurrence:
    """A user-written delta-rule layer, alpha (I - beta k q^T): the knobs leave the proven form one at a time."""
    x, p = input_symbols(d), Parameters()
    raw = linear(p("W_k", (N, d)), x)
    norm = rsqrt(sum((e**2 for e in raw), sympy.Integer(0)) + epsilon) if normalised else 1
    k = sympy.Matrix([e * norm for e in raw])
    if second_key:
        other = linear(p("W_q", (N, d)), x)
        q = sympy.Matrix([e * rsqrt(sum((f**2 for f in other), sympy.Integer(0))) for e in other])
    else:
        q = k
    beta = beta_scale * sigmoid(linear(p("w_beta", (1, d)), x)[0])
    gate = linear(p("w_alpha", (1, d)), x)[0]
    alpha = sigmoid(gate) if decay == "sigmoid" else sympy.exp(gate)
    A = alpha * (sympy.eye(N) - beta * (k * q.T))
    return Recurrence("user-delta", x, A, sympy.eye(N)[:, :d] if N >= d else sympy.ones(N, d),
                      sympy.ones(d, N), sympy.zeros(d, d), p.arrays)


def _spectra(rec: Recurrence, samples: int, seed: int) -> list[np.ndarray]:
    A, rng = transition_function(rec), np.random.default_rng(seed)
    return [np.linalg.eigvals(A(point(rec, rng.normal(0, 2, rec.d_in), random_values(rec, rng, 2.0))))
            for _ in range(samples)]


@pytest.mark.parametrize("arch", ["gated-deltanet", "kda"])
@pytest.mark.parametrize("d, N", [(1, 3), (2, 2), (3, 4)])
def test_zoo_delta_rules_with_beta_at_most_one_are_proven_in_the_unit_interval(arch, d, N):
    form = psd_similar(zoo.core(arch, d, N).A)
    assert form is not None and form.unit_interval
    for eigenvalues in _spectra(zoo.core(arch, d, N), 20, seed=d * 10 + N):  # the proof against the numbers
        assert np.abs(eigenvalues.imag).max() < EIGEN_TOLERANCE
        assert eigenvalues.real.min() > -EIGEN_TOLERANCE and eigenvalues.real.max() < 1 + EIGEN_TOLERANCE


@pytest.mark.parametrize("arch", ["gated-deltanet-neg", "deltanet", "deltaproduct", "rwkv7"])
def test_forms_outside_the_rule_are_not_proven_and_have_a_negative_eigenvalue(arch):
    mixer = zoo.core(arch, 2, 3)
    mixer = mixer.stationary() if mixer.previous_inputs else mixer
    assert psd_similar(mixer.A) is None
    answers = eigenvalue_answers(mixer)
    assert answers.negative is True and answers.unit_interval is False


def test_deltanet_with_beta_at_most_one_is_proven():
    form = psd_similar(zoo._deltanet(2, 3, beta_max=1.0).A)
    assert form is not None and form.unit_interval


@pytest.mark.parametrize("knobs, negative", [
    (dict(beta_scale=2.0), True),        # beta up to 2: eigenvalue alpha (1 - beta) reaches below 0
    (dict(normalised=False), True),      # beta |k|^2 is unbounded
    (dict(second_key=True), None),       # I - beta k q^T: R is not symmetric (eigenvalues may be anything)
])
def test_user_layers_that_leave_the_form_get_no_proof(knobs, negative):
    rec = _delta_rule(2, 3, **knobs)
    assert psd_similar(rec.A) is None
    answers = eigenvalue_answers(rec)
    assert answers.negative is not False and answers.unit_interval is not True
    if negative:
        assert answers.negative is True


def test_an_unbounded_decay_keeps_the_sign_proof_but_not_the_unit_interval():
    form = psd_similar(_delta_rule(2, 3, decay="exp").A)
    assert form is not None and not form.unit_interval
    answers = eigenvalue_answers(_delta_rule(2, 3, decay="exp"))
    assert answers.negative is False and answers.non_real is False and answers.unit_interval is None


def test_an_epsilon_in_the_normalisation_is_still_proven():
    form = psd_similar(_delta_rule(2, 3, epsilon=1e-6).A)
    assert form is not None and form.unit_interval


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(2, 4), st.integers(0, 10**6))
def test_proven_user_layers_have_real_eigenvalues_in_the_unit_interval(d, N, seed):
    rec = _delta_rule(d, N)
    assert psd_similar(rec.A) is not None
    for eigenvalues in _spectra(rec, 3, seed):
        assert np.abs(eigenvalues.imag).max() < EIGEN_TOLERANCE
        assert -EIGEN_TOLERANCE < eigenvalues.real.min() and eigenvalues.real.max() < 1 + EIGEN_TOLERANCE


def test_sign_proofs():
    z, w = sympy.Symbol("z", real=True), sympy.Symbol("w", real=True)
    assert proven_nonnegative(1 - sigmoid(z)) and proven_in_unit_interval(sigmoid(z) * sympy.exp(-z**2))
    assert not proven_nonnegative(sigmoid(z) - sympy.Rational(1, 2))
    assert not proven_in_unit_interval(sympy.exp(z)) and not proven_nonnegative(1 - 2 * sigmoid(z))
    unit = (w**2 + z**2) * rsqrt(w**2 + z**2) ** 2  # |k|^2 / |k|^2
    assert proven_nonnegative(1 - unit * sigmoid(z)) and not proven_nonnegative(1 - 2 * unit * sigmoid(z))
    decay = (1 + sigmoid(w) * z**2) / (1 + sigmoid(w) * (z**2 + w**2))  # Longhorn's, in (0, 1]
    assert proven_in_unit_interval(decay) and not proven_in_unit_interval(1 / decay)

