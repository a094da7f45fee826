"""The symbolic formulas equal circuits built at other n, L, d, N (differential: formulas use n <= 3 only)."""
from __future__ import annotations

import time

import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from tc0lab.compiler.compiling import compile_circuit
from tc0lab.circuit.measure import depths
from tc0lab.formulas.depth import prefix_depths, scan_units, stacked_tree_units
from tc0lab.formulas import FormulaUnsupported, estimate_nodes, formulas_for, zoo_formulas
from tc0lab.formulas.general import cached_zoo_formulas
from tc0lab.spec import zoo
from tc0lab.spec.functions import sigmoid
from tc0lab.spec.recurrence import Recurrence, Stack, input_symbols, symbol_array
from tests import zoo_cases

LENGTHS = (1, 2, 4, 5, 6, 9, 17)  # n = 3 is measured by formulas_for itself; these are not


def expected_formulas(stack: Stack, n: int, bits: int) -> dict:
    """What the formulas must say: the circuit built at n, measured at p = bits."""
    return compile_circuit(stack, n).measure(bits).as_dict()


def assert_matches(stack: Stack, lengths, bits: int = 7) -> None:
    formulas = formulas_for(stack)
    for n in lengths:
        assert formulas.at(n, bits) == expected_formulas(stack, n, bits), f"{stack.arch} L={stack.layers} n={n}"


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


def test_constant_depth_layers_deepen_until_n_reaches_L_plus_1():
    """A decay product (or a token shift) on the path from an earlier position costs more than the own position's
    term, and position 1 has none: each layer can add that once, so the depth grows up to n = L + 1 and stays."""
    uniform = zoo.stack("rg-lru", 5)
    assert_matches(uniform, range(1, 10))
    assert "Min(L, n - 1)" in cached_zoo_formulas("rg-lru")[1]["depth_threshold"]
    parts = [zoo.stack(name, 1, seed=s) for s, name in enumerate(("rg-lru", "rwkv6", "mamba3", "gla", "rg-lru"))]
    mixed = Stack(tuple(p.blocks[0] for p in parts), tuple(p.values[0] for p in parts), arch="mixed")
    assert_matches(mixed, range(1, 10))  # layers with different gains: the measured values up to n = L + 1
    formulas = formulas_for(mixed)
    assert formulas.at(10**6, 7)["depth_threshold"] == formulas.at(6, 7)["depth_threshold"]


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
    assert formulas_for(stack).at(n, bits) == expected_formulas(stack, n, bits)


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


# ---- formulas in n, L, d, N, p for the zoo ---------------------------------------------------
# zoo_formulas interpolates sizes from one-layer stacks with seed 0 on a grid of (d, N) and measures
# depth offsets on zoo.stack(arch, 3, d, N, seed=0) at (d, N) = (2, 2) (s4: also (3, 2)); the builds
# below use seed 7, L = 1..4, so no circuit they measure was used to make the formulas.
HELD_OUT = ((1, 2, 2), (2, 3, 2), (3, 2, 3), (4, 3, 4))  # (L, d, N)


GENERAL = [case.arch for case in zoo_cases.CASES if case.formulas == "general" and case.arch in zoo.ARCHS]


def general(arch: str):
    return cached_zoo_formulas(arch)[0]


@pytest.mark.parametrize("case", zoo_cases.params(lambda case: case.formulas == "at-size"))
def test_general_formulas_are_refused_with_the_reason_not_guessed(case) -> None:
    with pytest.raises(FormulaUnsupported, match="disagree"):
        cached_zoo_formulas(case.arch)
    stack = zoo.stack(case.arch, 1)
    assert formulas_for(stack).general is None  # the formulas at this size stay exact in n and p
    assert_matches(stack, (1, 4))


@pytest.mark.parametrize("arch", GENERAL)
def test_general_formulas_equal_fresh_builds(arch: str) -> None:
    formulas = general(arch)
    for layers, d, N in HELD_OUT:
        stack = zoo.stack(arch, layers, d, N, seed=7)
        for n in (1, 2, 5, 7):
            assert formulas.at(n, 9, layers=layers, d_model=d, d_state=N) == expected_formulas(stack, n, 9), \
                (arch, layers, d, N, n)


@given(st.sampled_from(GENERAL), st.integers(1, 4), st.integers(2, 4), st.integers(2, 4), st.integers(1, 9),
       st.integers(1, 16))
@settings(max_examples=20, deadline=None)
def test_general_formulas_at_random_points(arch: str, layers: int, d: int, N: int, n: int, bits: int) -> None:
    stack = zoo.stack(arch, layers, d, N, seed=11)
    assert general(arch).at(n, bits, layers=layers, d_model=d, d_state=N) == expected_formulas(stack, n, bits)


@pytest.mark.parametrize("arch", GENERAL)
def test_general_formulas_hold_down_to_the_stated_minimum(arch: str) -> None:
    """At the smallest (d, N) of the derivation they hold; below it at() refuses."""
    formulas = general(arch)
    low_d, low_n = formulas.minimum
    stack = zoo.stack(arch, 2, low_d, low_n, seed=5)
    for n in (1, 3, 6):
        assert formulas.at(n, 8, layers=2, d_model=low_d, d_state=low_n) == expected_formulas(stack, n, 8)
    if low_d > 1:
        with pytest.raises(ValueError, match="outside the derived domain"):
            formulas.at(4, 8, layers=2, d_model=low_d - 1, d_state=low_n)
    with pytest.raises(ValueError, match="pass it to at"):
        formulas.at(4, 8)


def test_zoo_stacks_below_the_minimum_keep_exact_numeric_formulas() -> None:
    stack = zoo.stack("deltanet", 2, 2, 1)  # N = 1: a 1 x 1 transition is diagonal, another construction
    assert formulas_for(stack).general is None
    assert_matches(stack, (1, 4, 9))


@pytest.mark.parametrize("arch", GENERAL)
def test_zoo_stack_strings_are_in_n_L_d_N_p(arch: str) -> None:
    formulas = formulas_for(zoo.stack(arch, 4))
    assert formulas.general is not None
    strings = formulas.as_strings()
    names = set().union(*(sympy.sympify(text, locals=_FORMULA_NAMES).free_symbols for text in strings.values()))
    # N is absent where it cancels: s4d's kernel C A^k B is d x d diagonal whatever N, and attention has no state
    assert {"n", "L", "d", "p"} <= {s.name for s in names} <= {"n", "L", "d", "N", "p"}
    assert "derived" in formulas.provenance and "measured" in formulas.provenance


_FORMULA_NAMES = {"scan_units": sympy.Function("scan_units"), "bit_ones_below": sympy.Function("bit_ones_below"),
                  "N": sympy.Symbol("N"), "L": sympy.Symbol("L")}


def _with_equal_weights(stack: Stack, layer: int) -> Stack:
    """The stack with two of one layer's W_delta weights made equal: one shared const fewer there."""
    W_delta = stack.blocks[layer].mixer.param_arrays["W_delta"]
    values = [dict(v) for v in stack.values]
    values[layer][W_delta[0, 1]] = values[layer][W_delta[0, 0]]
    return Stack(stack.blocks, tuple(values), positions=stack.positions, arch=stack.arch)


def test_coinciding_values_fall_back_to_the_numeric_formulas() -> None:
    """Per-layer counts differ when random values coincide: no L * (one layer) claim then."""
    stack = _with_equal_weights(zoo.stack("mamba", 3, seed=2), layer=1)
    formulas = formulas_for(stack)
    assert formulas.general is None
    assert_matches(stack, (1, 2, 5))
    generic = zoo_formulas("mamba").at(5, 7, layers=3, d_model=2, d_state=2)
    assert formulas.at(5, 7)["gates_by_op"]["const"] == generic["gates_by_op"]["const"] - 1


def test_general_query_at_a_million_is_fast() -> None:
    formulas = zoo_formulas("mamba")
    started = time.perf_counter()
    values = formulas.at(10**6, 40, layers=4, d_model=8, d_state=16)
    assert time.perf_counter() - started < 1.0
    assert values["nodes"] == sum(values["gates_by_op"].values())
    assert values["gates_by_op"]["lookup"] >= 4 * 8 * 16 * (10**6 * (10**6 - 1) // 2)  # one exp per (c, s, t, j < t)


def test_prefix_depths_end_at_the_measured_depth_and_scan_units_shortcuts_hold() -> None:
    graph = compile_circuit(zoo.stack("ids4", 3), 6).graph
    assert prefix_depths(graph)[-1] == depths(graph)
    L = sympy.Symbol("L", positive=True, integer=True)
    for layers in range(1, 7):  # the symbolic rules scan_units(1, L) = 0 and scan_units(2, L) = L
        assert scan_units(1, L).subs(L, layers) == stacked_tree_units(("tree",) * layers, 1)
        assert scan_units(2, L).subs(L, layers) == stacked_tree_units(("tree",) * layers, 2)
