"""The compiler picks its construction from the matrices, and depth grows as the theory says."""
import sympy
import pytest

from tc0lab.circuit.build import CircuitBuilder
from tc0lab.circuit.measure import classify_growth, depths, measure
from tc0lab.compiler import compile_stack, construction_for
from tc0lab.spec import zoo
from tc0lab.spec.recurrence import Recurrence, input_symbols, symbol_array
from tests import zoo_cases

LENGTHS = (8, 16, 32, 64, 128)


def threshold_depths(arch: str, layers: int = 1) -> list[int]:
    return [compile_stack(arch, layers=layers, n=n, d_model=2, d_state=2).measure().depth_threshold for n in LENGTHS]


@pytest.mark.parametrize("case", zoo_cases.params(lambda case: case.growth == "constant"))
def test_tc0_architectures_have_constant_threshold_depth(case):
    measured = threshold_depths(case.arch)
    assert len(set(measured)) == 1, measured
    assert classify_growth(list(LENGTHS), measured) == "constant"


@pytest.mark.parametrize("case", zoo_cases.params(lambda case: case.growth == "logarithmic"))
def test_non_commuting_architectures_grow_logarithmically(case):
    measured = threshold_depths(case.arch)
    steps = [b - a for a, b in zip(measured, measured[1:])]
    assert len(set(steps)) == 1 and steps[0] > 0, measured  # one more tree level per doubling
    assert classify_growth(list(LENGTHS), measured) == "logarithmic"


@pytest.mark.parametrize("case", zoo_cases.params(lambda case: case.growth == "linear"))
def test_nonlinear_rnn_grows_linearly(case):
    measured = threshold_depths(case.arch)
    assert classify_growth(list(LENGTHS), measured) == "linear"
    assert measured[-1] - measured[-2] == 2 * (measured[-2] - measured[-3])


def test_stacking_four_mamba_layers_stays_flat():
    measured = threshold_depths("mamba", layers=4)
    assert len(set(measured)) == 1 and measured[0] > threshold_depths("mamba", layers=1)[0]


def test_user_written_diagonal_layer_gets_the_diagonal_construction_not_a_name_lookup():
    x = input_symbols(2)
    w = symbol_array("w", (2,))
    gate = sympy.exp(-(w[0] * x[0]) ** 2)  # positive, input-dependent, diagonal
    spec = Recurrence("anything", x, sympy.diag(gate, gate), sympy.eye(2), sympy.eye(2), sympy.zeros(2, 2), {"w": w})
    assert construction_for(spec) == "diagonal-decay"
    renamed_zoo = zoo.core("ids4", 2, 2)
    clone = Recurrence("my-layer", renamed_zoo.inputs, renamed_zoo.A, renamed_zoo.B, renamed_zoo.C, renamed_zoo.D,
                       renamed_zoo.param_arrays, h0=renamed_zoo.h0)
    assert construction_for(clone) == construction_for(renamed_zoo) == "scan-tree"


def test_depth_of_a_hand_built_circuit():
    # x1 --+                      arithmetic depth / threshold depth (add 2, mul 3, lookup 2)
    #      add (1/2) --- mul (2/5) --- lookup (3/7)
    # x2 --+            /
    # c ----------------
    b = CircuitBuilder()
    x1, x2 = b.input(1, 0), b.input(1, 1)
    s = b.add([x1, x2], name="s")
    m = b.mul(s, b.const(3.0, name="c"), name="m")
    b.lookup(m, (("exp", 1.0),), name="out")
    graph = b.graph()
    assert depths(graph) == (3, 7)
    result = measure(graph, precision_bits=4)
    assert result.gates_by_op == {"add": 1, "const": 1, "input": 2, "lookup": 1, "mul": 1}
    assert result.edges == 5


def test_growth_classifier_on_known_shapes():
    ns = [8, 16, 32, 64, 128]
    assert classify_growth(ns, [5] * 5) == "constant"
    assert classify_growth(ns, [3 + 2 * (n.bit_length() - 1) for n in ns]) == "logarithmic"
    assert classify_growth(ns, [7 * n + 1 for n in ns]) == "linear"
    assert classify_growth(ns, [n * n for n in ns]) == "quadratic"


def test_two_points_cannot_tell_growth_apart():
    assert classify_growth([8, 16], [3, 5]).startswith("undetermined")
    assert classify_growth([8, 16], [4, 4]) == "constant"


def test_bound_values_do_not_change_the_gates():
    """Binding keeps a function as written (sympy would make tanh(-0.3 x) -tanh(0.3 x) for some draws) and folds
    every number (0.5 sqrt(3) is one constant, as 0.5 / 2 is), so random values never change what is compiled."""
    from collections import Counter

    from tc0lab.circuit.measure import fan_in_histogram
    from tc0lab.compiler.compiling import compile_circuit
    from tc0lab.compiler.expr_to_gates import bind
    x, w = sympy.symbols("x w", real=True)
    (kept,) = bind([sympy.tanh(w * x)], {w: -0.3})
    assert isinstance(kept, sympy.tanh) and kept.args[0].could_extract_minus_sign()
    (folded,) = bind([w * sympy.sqrt(3) * x / 3], {w: 0.5})
    assert folded.as_coeff_Mul()[1] == x and folded.as_coeff_Mul()[0].is_Float
    histograms = set()
    for seed in range(4):
        counts = Counter()
        for (op, _), count in fan_in_histogram(compile_circuit(zoo.stack("slstm", 1, 2, 1, seed=seed), 2).graph).items():
            counts[op] += count
        histograms.add(tuple(sorted(counts.items())))
    assert len(histograms) == 1
