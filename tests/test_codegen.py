"""The direct numpy code generator against sympy.lambdify, on the zoo and on random expressions."""
from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from tc0lab.spec import functions, zoo
from tc0lab.spec.codegen import Unsupported, numpy_source_function
from tc0lab.spec.numeric import numpy_function, parameter_symbols
from tc0lab.spec.state_recurrence import StateRecurrence


def _lambdified(symbols, exprs):
    plain = [sympy.Symbol(f"_s{i}") for i in range(len(symbols))]
    renamed = [sympy.sympify(e).xreplace(dict(zip(symbols, plain))) for e in exprs]
    return sympy.lambdify(plain, renamed, modules=functions.lambdify_modules())


def _values(function, point) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.array([complex(np.asarray(v)) for v in function(*point)])


@pytest.mark.parametrize("arch", [a for a in zoo.ARCHS if a != "transformer"])
def test_every_zoo_matrix_matches_lambdify(arch):
    mixer = zoo.core(arch, 3, 2)
    if isinstance(mixer, StateRecurrence):  # a general update: its expressions over (h, x)
        symbols = list(mixer.state) + list(mixer.inputs) + sorted(mixer.parameters(), key=str)
        exprs = list(mixer.update) + list(mixer.output)
    else:
        rec = mixer.widened()  # a token-shifting layer: its matrices over (x_t, x_{t-1})
        symbols = list(rec.inputs) + list(parameter_symbols(rec))
        exprs = list(rec.A) + list(rec.B * sympy.Matrix(rec.inputs)) + list(rec.C) + list(rec.D)
    ours, theirs = numpy_source_function(symbols, exprs), _lambdified(symbols, exprs)
    rng = np.random.default_rng(0)
    for _ in range(3):
        point = rng.normal(size=len(symbols))
        np.testing.assert_allclose(_values(ours, point), _values(theirs, point), rtol=1e-12, atol=1e-14)


def test_shared_subexpressions_are_computed_once():
    x, y = sympy.symbols("x y")
    shared = sympy.tanh(x * y + 1)
    calls = []
    source = numpy_source_function([x, y], [shared + 1, 2 * shared, shared**2])
    function_names = [name for name, value in source.__globals__.items() if value is np.tanh]
    assert len(function_names) == 1
    original = source.__globals__[function_names[0]]
    source.__globals__[function_names[0]] = lambda v: calls.append(v) or original(v)
    t = np.tanh(2.0)
    assert np.allclose(source(0.5, 2.0), [t + 1, 2 * t, t**2])
    assert len(calls) == 1


def test_complex_and_constant_outputs():
    x = sympy.Symbol("x", real=True)
    function = numpy_source_function([x], [sympy.exp(sympy.I * x), sympy.Integer(3), sympy.pi * x])
    values = function(0.25)
    assert values[0] == pytest.approx(np.exp(0.25j))
    assert values[1] == 3.0
    assert values[2] == pytest.approx(np.pi * 0.25)


def test_max_and_min_of_several_arguments():
    a, b, c = sympy.symbols("a b c")
    function = numpy_source_function([a, b, c], [sympy.Max(a, b, c), sympy.Min(a, b * c)])
    assert function(1.0, -2.0, 3.0) == [3.0, -6.0]


def test_unknown_node_kinds_fall_back_to_lambdify():
    x = sympy.Symbol("x")
    with pytest.raises(Unsupported):
        numpy_source_function([x], [sympy.gamma(x)])
    assert numpy_function([x], [sympy.gamma(x)])(4.0)[0] == pytest.approx(6.0)
    with pytest.raises(Unsupported):
        numpy_source_function([x], [x + sympy.Symbol("y")])  # a symbol that is not an argument


_SYMBOLS = sympy.symbols("a b c")
_UNARY = [sympy.exp, sympy.tanh, sympy.sin, functions.sigmoid, functions.softplus, functions.silu,
          functions.relu, lambda e: functions.rsqrt(1 + e**2), lambda e: sympy.sqrt(e**2 + 1), sympy.Abs]


def _expressions(depth: int):
    leaf = st.one_of(st.sampled_from(_SYMBOLS), st.integers(-3, 3).map(sympy.Integer),
                     st.fractions(min_value=-2, max_value=2, max_denominator=4).map(sympy.Rational))
    if depth == 0:
        return leaf
    smaller = _expressions(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(smaller, smaller).map(lambda p: p[0] + p[1]),
        st.tuples(smaller, smaller).map(lambda p: p[0] * p[1]),
        st.tuples(smaller, st.integers(-2, 3)).map(lambda p: p[0] ** p[1] if p[1] >= 0 else 1 / (1 + p[0] ** 2) ** -p[1]),
        st.tuples(st.sampled_from(_UNARY), smaller).map(lambda p: p[0](p[1])),
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(_expressions(3), min_size=1, max_size=4), st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_random_expressions_match_lambdify(exprs, point):
    ours, theirs = numpy_source_function(_SYMBOLS, exprs), _lambdified(_SYMBOLS, exprs)
    expected = _values(theirs, point)
    finite = np.isfinite(expected)
    np.testing.assert_allclose(_values(ours, point)[finite], expected[finite], rtol=1e-9, atol=1e-12)
