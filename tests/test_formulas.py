"""The symbolic formulas equal circuits built at other n (differential: formulas use n <= 3 only)."""
from __future__ import annotations

import time

import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from tc0lab.compiler.compiling import compile_circuit
from tc0lab.compiler.formula_depth import stacked_tree_units
from tc0lab.compiler.formulas import estimate_nodes, formulas_for
from tc0lab.spec import zoo
from tc0lab.spec.functions import sigmoid
from tc0lab.spec.recurrence import Recurrence, Stack, input_symbols, symbol_array

LENGTHS = (1, 2, 4, 5, 6, 9, 17)  # n = 3 is measured by formulas_for itself; these are not


def assert_matches(stack: Stack, lengths, bits: int = 7) -> None:
    formulas = formulas_for(stack)
    for n in lengths:
        measured = compile_circuit(stack, n).measure(bits).as_dict()
        assert formulas.at(n, bits) == measured, f"{stack.arch} L={stack.layers} n={n}"


@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("arch", zoo.ARCHS)
def test_zoo_formulas_equal_measurements(arch: str, layers: int) -> None:
    assert_matches(zoo.stack(arch, layers), LENGTHS)


@pytest.mark.parametrize("d, N", [(3, 2), (2, 3)])
@pytest.mark.parametrize("arch", zoo.ARCHS)
def test_other_widths_and_state_sizes(arch: str, d: int, N: int) -> None:
    assert_matches(zoo.stack(arch, 2, d, N, seed=1), (3, 7, 12), bits=11)


def _diagonal_with_constant_entry() -> Recurrence:
    """A user diagonal layer: one input gate that can be negative, one constant decay, h0 != 0."""
    x = input_symbols(2)
    w, b, h0 = symbol_array("w", (2,)), symbol_array("b", (2,)), symbol_array("h0", (2,))
    gate = 2 * sigmoid(w[0] * x[0] + w[1] * x[1]) - 1  # not provably positive: 'prod' gates
    A = sympy.diag(gate, sympy.Float(0.5))
    B = sympy.Matrix([[b[0], 0], [0, b[1]]])
    return Recurrence("user-diag", x, A, B, sympy.Matrix([[1, 1], [0, 1]]), sympy.zeros(2, 2),
                      {"w": w, "b": b, "h0": h0}, h0=sympy.Matrix(h0))


def _positive_diagonal() -> Recurrence:
    """A user diagonal layer with positive gates: log-space prefix sums, a shared base."""
    x = input_symbols(2)
    w = symbol_array("w", (2,))
    gate = sigmoid(w[0] * x[0] + w[1] * x[1])
    A = sympy.diag(gate, gate, sympy.exp(-x[0] ** 2))
    B = sympy.Matrix([[1, 0], [0, 1], [x[1], 0]])
    C = sympy.Matrix([[x[0], 0, 1], [0, 1, 0]])
    return Recurrence("user-gates", x, A, B, C, sympy.eye(2), {"w": w})


def _lti_with_input_readout() -> Recurrence:
    """Fixed A with h0 and an input-dependent C: the kernel is materialised per state."""
    x = input_symbols(2)
    A, h0 = symbol_array("A", (2, 2)), symbol_array("h0", (2,))
    C = sympy.Matrix([[x[0], 0], [0, x[1]]])
    return Recurrence("user-lti", x, sympy.Matrix(A), sympy.eye(2), C, sympy.zeros(2, 2), {"A": A, "h0": h0},
                      h0=sympy.Matrix(h0))


@pytest.mark.parametrize("make", [_diagonal_with_constant_entry, _positive_diagonal, _lti_with_input_readout])
def test_user_written_recurrences(make) -> None:
    assert_matches(zoo.custom_stack(make(), layers=2, seed=3), LENGTHS)


def test_heterogeneous_stack_of_zoo_blocks() -> None:
    """mamba, ids4 and s4 blocks in one stack: constant-depth layers around a scan tree."""
    parts = [zoo.stack(name, 1, seed=s) for s, name in enumerate(("mamba", "ids4", "s4"))]
    stack = Stack(tuple(p.blocks[0] for p in parts), tuple(p.values[0] for p in parts), arch="mixed")
    assert_matches(stack, LENGTHS)


def _brute_force_units(kinds: tuple[str, ...], n: int) -> int:
    """Enumerate every path through Sklansky trees ('tree') and causal mixers ('mix')."""
    levels = (n - 1).bit_length()
    compositions = []  # compositions[j][i]: most compositions from element j to prefix i
    for start in range(n):
        best = {start: 0}
        for level in range(levels):
            step: dict = {}
            for x, c in best.items():
                step[x] = max(step.get(x, -1), c + (x >> level & 1))
                if not x >> level & 1 and (x + 1) % (1 << level) == 0:  # last of a left half: jump right
                    for y in range(x + 1, min(x + (1 << level), n - 1) + 1):
                        step[y] = max(step.get(y, -1), c + 1)
            best = step
        compositions.append(best)
    value = [0] * n
    for kind in kinds:
        if kind == "tree":
            value = [max(value[j] + compositions[j].get(i, -10**9) for j in range(i + 1)) for i in range(n)]
        else:
            value = list(np.maximum.accumulate(value))
    return max(value)


@given(st.lists(st.sampled_from(["tree", "mix"]), min_size=1, max_size=4), st.integers(1, 40))
@settings(max_examples=60, deadline=None)
def test_stacked_tree_units_equal_brute_force(kinds, n) -> None:
    assert stacked_tree_units(tuple(kinds), n) == _brute_force_units(tuple(kinds), n)


@given(st.sampled_from(zoo.ARCHS), st.integers(1, 3), st.integers(1, 12), st.integers(1, 16))
@settings(max_examples=25, deadline=None)
def test_formulas_at_random_points(arch: str, layers: int, n: int, bits: int) -> None:
    stack = zoo.stack(arch, layers)
    assert formulas_for(stack).at(n, bits) == compile_circuit(stack, n).measure(bits).as_dict()


def test_estimate_nodes_is_the_node_count_and_needs_no_build() -> None:
    stack = zoo.stack("mamba", 2)
    assert estimate_nodes(stack, 23) == compile_circuit(stack, 23).graph.number_of_nodes()
    started = time.perf_counter()
    huge = estimate_nodes(stack, 10**6)
    assert time.perf_counter() - started < 1.0
    assert huge > 10**12  # Theta(n^2) gates: nothing of that size could have been built


@pytest.mark.parametrize("arch", zoo.ARCHS)
def test_query_at_a_million_is_fast_and_consistent(arch: str) -> None:
    formulas = formulas_for(zoo.stack(arch, 4))
    started = time.perf_counter()
    values = formulas.at(10**6, 40)
    assert time.perf_counter() - started < 1.0
    assert values["nodes"] == sum(values["gates_by_op"].values())
    assert values["depth_threshold"] >= values["depth_arithmetic"] > 0
