"""User-written layers get a constant-depth construction wherever one exists, and equal the reference.

Layers written through the public API (Recurrence, input_symbols, symbol_array, custom_stack):
rotation blocks and conjugated diagonals (commuting: `diagonalised`), a shear, a general upper-
triangular and a permuted triangular family (`triangular`), a memoryless tanh layer
(`memoryless`); the threshold depth must be identical at n = 8 .. 256 and the circuit must
equal `reference.run_stack` on random inputs.
"""
import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from tc0lab.circuit.measure import measure
from tc0lab.compiler import compiling
from tc0lab.compiler import CONSTANT_DEPTH_CONSTRUCTIONS, CONSTRUCTIONS, choose_construction, compile_stack
from tc0lab.compiler.diagonalised import diagonalising_basis, exact_discriminant
from tc0lab.formulas import FormulaUnsupported, formulas_for
from tc0lab.compiler.recurrence_terms import bind_recurrence
from tc0lab.spec import reference, zoo
from tc0lab.spec.functions import sigmoid
from tc0lab.spec.recurrence import Recurrence, SpecError, input_symbols, symbol_array
from tc0lab.spec.structure import analyze
from tests import zoo_cases

LENGTHS = (8, 16, 32, 64, 128, 256)
x = input_symbols(2)


def layer(name: str, A: sympy.Matrix, C=None, nonlinearity=None, h0=None) -> Recurrence:
    """A layer over two inputs with parameter matrices B (S x 2), C (1 x S), D (1 x 2) and gate weights w."""
    S = A.shape[0]
    B, D = symbol_array("B", (S, 2)), symbol_array("D", (1, 2))
    arrays = {"w": W_GATE, "B": B, "D": D}
    if C is None:
        C = symbol_array("C", (1, S))
        arrays["C"] = C
    return Recurrence(name, x, A, sympy.Matrix(B), sympy.Matrix(C), sympy.Matrix(D), arrays,
                      nonlinearity=nonlinearity, h0=h0)


W_GATE = symbol_array("w", (4,))
w = W_GATE


def rotation_block(theta, radius) -> sympy.Matrix:
    return sympy.Matrix([[radius * sympy.cos(theta), -radius * sympy.sin(theta)],
                         [radius * sympy.sin(theta), radius * sympy.cos(theta)]])


def rotation(**options) -> Recurrence:
    return layer("rotation", rotation_block(w[0] * x[0] + w[1] * x[1], sigmoid(w[2] * x[1])), **options)


def conjugated(W: sympy.Matrix) -> Recurrence:
    return layer("conjugated", W * sympy.diag(sigmoid(w[0] * x[0]), sigmoid(w[1] * x[1])) * W.inv())


def shear() -> Recurrence:
    return layer("shear", sympy.Matrix([[1, sympy.tanh(w[0] * x[0])], [0, 1]]))


def upper_triangular() -> sympy.Matrix:
    return sympy.Matrix([[sigmoid(w[0] * x[0]), sympy.tanh(w[1] * x[1]), w[2] * x[0]],
                         [0, sympy.tanh(w[3] * x[0]), x[1]],
                         [0, 0, sigmoid(w[1] * x[1])]])


PERMUTATION = sympy.Matrix([[0, 0, 1], [1, 0, 0], [0, 1, 0]])
INTEGER_W = sympy.Matrix([[1, 2], [1, 3]])
FLOAT_W = sympy.Matrix([[1.5, 0.25], [0.5, 2.0]])

LAYERS = {
    "rotation": (rotation, "diagonalised"),
    "rotation-h0-input-C": (lambda: rotation(C=sympy.Matrix([[x[0], 1]]), h0=sympy.Matrix([1, -2])), "diagonalised"),
    "rotation-two-blocks": (lambda: layer("two-blocks", sympy.diag(rotation_block(w[0] * x[0], sigmoid(w[1] * x[1])),
                                                                   rotation_block(w[2] * x[1], sigmoid(w[3] * x[0])))),
                            "diagonalised"),
    "rotation-and-decay": (lambda: layer("rotation-and-decay", sympy.diag(rotation_block(w[0] * x[0], 0.9),
                                                                          sigmoid(w[1] * x[1]))), "diagonalised"),
    "conjugated-integer-W": (lambda: conjugated(INTEGER_W), "diagonalised"),
    "diagonal-with-zero-entry": (lambda: layer("half-memoryless", sympy.diag(2 * sigmoid(w[0] * x[0]) - 1, 0),
                                               h0=sympy.Matrix([1, 1])), "diagonal-decay"),
    "constant-triangular": (lambda: layer("constant-diagonal", sympy.Matrix([[0.9, x[0]], [0, -0.5]])), "triangular"),
    "shear": (shear, "triangular"),
    "upper-triangular": (lambda: layer("upper", upper_triangular()), "triangular"),
    "permuted-triangular": (lambda: layer("permuted", PERMUTATION * upper_triangular() * PERMUTATION.T), "triangular"),
    "positive-triangular-h0": (lambda: layer("positive", sympy.Matrix([[sigmoid(w[0] * x[0]), x[1]],
                                                                       [0, sympy.exp(-(w[1] * x[1]) ** 2)]]),
                                             h0=sympy.Matrix([0.5, 1])), "triangular"),
    "nilpotent": (lambda: layer("nilpotent", sympy.Matrix([[0, sympy.tanh(w[0] * x[0])], [0, 0]]),
                                h0=sympy.Matrix([1, 2])), "triangular"),
    "memoryless-tanh": (lambda: layer("memoryless", sympy.zeros(2, 2), nonlinearity="tanh"), "memoryless"),
    "linear-zero-A": (lambda: layer("zero", sympy.zeros(2, 2)), "lti-kernel"),
}


def relative_error(circuit: np.ndarray, expected: np.ndarray) -> float:
    return float(np.max(np.abs(circuit - expected)) / max(1.0, float(np.max(np.abs(expected)))))


def agrees_with_reference(rec: Recurrence, n: int, seed: int, layers: int = 1) -> float:
    compiled = compile_stack(rec, layers=layers, n=n, seed=seed)
    inputs = np.random.default_rng(seed).normal(size=(n, 2))
    circuit = compiled.evaluate(inputs)
    assert not np.iscomplexobj(circuit)  # a real layer's outputs come out real, in every basis
    return relative_error(circuit, reference.run_stack(compiled.stack, inputs))


@pytest.mark.parametrize("case", sorted(LAYERS))
def test_threshold_depth_is_identical_from_8_to_256(case):
    make, construction = LAYERS[case]
    rec = make()
    depths = []
    for n in LENGTHS:
        compiled = compile_stack(rec, n=n, seed=1)
        assert compiled.constructions == [construction]
        depths.append(compiled.measure().depth_threshold)
    assert len(set(depths)) == 1, depths
    assert construction in CONSTANT_DEPTH_CONSTRUCTIONS


@pytest.mark.parametrize("case", sorted(LAYERS))
def test_circuit_equals_reference(case):
    rec = LAYERS[case][0]()
    for n in (1, 2, 5, 24):
        assert agrees_with_reference(rec, n, seed=n) <= 1e-9, n


@settings(max_examples=12, deadline=None)
@given(case=st.sampled_from(sorted(LAYERS)), seed=st.integers(0, 10_000), n=st.integers(1, 12))
def test_circuit_equals_reference_at_random_values_and_inputs(case, seed, n):
    assert agrees_with_reference(LAYERS[case][0](), n, seed) <= 1e-9


@pytest.mark.parametrize("case", ["rotation-h0-input-C", "permuted-triangular", "positive-triangular-h0",
                                  "memoryless-tanh", "diagonal-with-zero-entry"])
def test_builder_tallies_equal_the_networkx_measurement(case):
    compiled = compile_stack(LAYERS[case][0](), n=7, seed=3)
    assert compiled.measure(10) == measure(compiled.graph, 10)


def test_two_layers_each_get_their_own_eigenbasis():
    rec = rotation()
    compiled = compile_stack(rec, layers=2, n=6, seed=4)
    assert compiled.constructions == ["diagonalised", "diagonalised"]
    assert agrees_with_reference(rec, 6, seed=4, layers=2) <= 1e-9


def test_the_eigenbasis_is_proven_and_the_reason_says_how():
    turned = layer("conjugated-rotation", INTEGER_W * rotation().A * INTEGER_W.inv())  # not in rotation-block form
    choice = choose_construction(turned, zoo.custom_stack(turned, seed=0).values[0])
    assert choice.name == "diagonalised"
    assert "exact discriminant" in choice.reason and "Bauer-Fike" in choice.reason
    # rotation-scaling blocks themselves need no search: their basis is exact for every A(x)
    choice = choose_construction(rotation(), zoo.custom_stack(rotation(), seed=0).values[0])
    assert choice.name == "diagonalised" and "rotation-scaling blocks" in choice.reason
    assert exact_discriminant(np.array([[2.0, 1.0], [0.0, 2.0]])) == 0  # a Jordan block: repeated, exactly
    assert exact_discriminant(np.array([[0.1, 0.0], [0.0, 0.1 + 2 ** -52]])) != 0  # one ulp apart: distinct, exactly


def test_commuting_but_not_diagonalisable_falls_back_to_the_scan_tree_and_says_why():
    rec = layer("conjugated-shear", INTEGER_W * sympy.Matrix([[1, sympy.tanh(w[0] * x[0])], [0, 1]]) * INTEGER_W.inv())
    assert analyze(rec).kind == "commuting"
    compiled = compile_stack(rec, n=8, seed=2)
    assert compiled.constructions == ["scan-tree"]
    # the float64 value of A(x0) may have a non-zero discriminant, but its eigenvalues are then
    # closer than its rounding can separate (Bauer-Fike): not proven distinct either way
    assert "no constant eigenbasis proven" in compiled.reasons[0]
    assert "repeated eigenvalue" in compiled.reasons[0] or "too close" in compiled.reasons[0]
    assert "scan-tree" not in CONSTANT_DEPTH_CONSTRUCTIONS
    assert agrees_with_reference(rec, 8, seed=2) <= 1e-9


def test_repeated_eigenvalues_of_a_commuting_family_fall_back():
    block = rotation_block(w[0] * x[0], sigmoid(w[1] * x[1]))
    # the coordinates interleaved (0, 2, 1, 3), so that no exact rotation-block basis applies
    order = [0, 2, 1, 3]
    rec = layer("same-rotation-twice", sympy.diag(block, block).extract(order, order))
    assert compile_stack(rec, n=4, seed=0).constructions == ["scan-tree"]
    # in rotation-block form the same family has the exact basis, repeated eigenvalues and all
    rec = layer("same-rotation-twice-in-blocks", sympy.diag(block, block))
    assert compile_stack(rec, n=4, seed=0).constructions == ["diagonalised"]
    assert agrees_with_reference(rec, 6, seed=0) <= 1e-9


def test_float_W_conjugated_diagonal_is_diagonalised_once_commutation_is_established(monkeypatch):
    rec = conjugated(FLOAT_W)
    values = zoo.custom_stack(rec, seed=1).values[0]
    assert diagonalising_basis(bind_recurrence(rec, values)).basis is not None
    # today's analyze may call it 'general' (sympy cannot cancel the float constants): then the scan tree
    assert compile_stack(rec, n=4, seed=1).constructions[0] in ("diagonalised", "scan-tree")
    commuting = compiling.ConstructionChoice(compiling._NEEDS_VALUES, "established elsewhere")
    monkeypatch.setattr(compiling, "_by_structure", lambda mixer: commuting)
    depths = {compile_stack(rec, n=n, seed=1).measure().depth_threshold for n in (8, 64, 256)}
    assert len(depths) == 1 and compile_stack(rec, n=4, seed=1).constructions == ["diagonalised"]
    assert agrees_with_reference(rec, 20, seed=1) <= 1e-9


def test_a_non_commuting_family_is_refuted_even_if_called_commuting(monkeypatch):
    rec = layer("general", sympy.Matrix([[sigmoid(w[0] * x[0]), 0.5], [x[1], sympy.tanh(w[1] * x[0])]]))
    commuting = compiling.ConstructionChoice(compiling._NEEDS_VALUES, "claimed")
    monkeypatch.setattr(compiling, "_by_structure", lambda mixer: commuting)
    choice = choose_construction(rec, zoo.custom_stack(rec, seed=0).values[0])
    assert choice.name == "scan-tree" and "not diagonal" in choice.reason


def test_commuting_choice_needs_the_parameter_values():
    with pytest.raises(ValueError, match="parameter values"):
        choose_construction(rotation())


@pytest.mark.parametrize("case", zoo_cases.params())
def test_zoo_constructions_are_unchanged(case):
    assert compile_stack(case.arch, layers=1, n=3).constructions == [case.construction]


def test_constant_depth_constructions_are_constructions():
    assert CONSTANT_DEPTH_CONSTRUCTIONS < set(CONSTRUCTIONS)
    assert {"scan-tree", "sequential-chain"}.isdisjoint(CONSTANT_DEPTH_CONSTRUCTIONS)


@pytest.mark.parametrize("case", ["rotation", "shear", "memoryless-tanh", "diagonal-with-zero-entry"])
def test_formulas_of_the_newer_constructions_equal_measurement(case):
    """Interpolated in n (tc0lab.formulas.fitted); back-substitution's depth is left underived (None)."""
    stack = zoo.custom_stack(LAYERS[case][0](), layers=2, seed=0)
    formulas = formulas_for(stack)
    for n, bits in ((1, 5), (3, 9), (12, 7), (15, 12)):
        measured = compiling.compile_circuit(stack, n).measure(bits).as_dict()
        values = formulas.at(n, bits)
        if LAYERS[case][1] == "triangular":
            assert values["depth_threshold"] is None and values["depth_arithmetic"] is None
            values.update(depth_arithmetic=measured["depth_arithmetic"], depth_threshold=measured["depth_threshold"])
        assert values == measured, (case, n)


def test_formulas_refused_clearly_where_depth_grows_and_nothing_counts():
    rotation = zoo.custom_stack(LAYERS["rotation"][0](), seed=0)
    chain = zoo.stack("rnn", 1)
    mixed = type(rotation)(rotation.blocks + chain.blocks, rotation.values + chain.values, arch="mixed")
    with pytest.raises(FormulaUnsupported, match="no size or depth formula"):
        formulas_for(mixed)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((5, 3)), r"shape \(n, d\) = \(4, 2\)"),
    (np.zeros((4,)), r"shape \(n, d\) = \(4, 2\)"),
    (np.full((4, 2), np.nan), "finite"),
    (np.array([[0.0, 1.0]] * 3 + [[np.inf, 0.0]]), r"x\[3, 0\] = inf"),
    (np.zeros((4, 2), dtype=complex), "real numbers"),
    ([["a", "b"]] * 4, "real numbers"),
])
def test_evaluate_rejects_bad_inputs(bad, message):
    compiled = compile_stack(shear(), n=4, seed=0)
    with pytest.raises(SpecError, match=message):
        compiled.evaluate(bad)


def test_non_finite_parameter_values_are_refused():
    rec = shear()
    with pytest.raises(SpecError, match="finite"):
        compile_stack(zoo.custom_stack(rec, values={w[0]: float("nan")}), n=4)
