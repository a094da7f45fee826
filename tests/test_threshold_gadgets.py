"""Threshold gadgets: bit-exact against the fixed-point reference, and within the cost model.

Small formats are checked on every input assignment; larger ones with hypothesis.
"""
from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tc0lab.circuit.cost import COST_MODEL, threshold_depth, threshold_size
from tc0lab.threshold import fixed_point as fx
from tc0lab.threshold.circuit import ThresholdCircuit
from tc0lab.threshold.gadgets import gadget_circuit, integer_circuit, lookup_circuit

EXP_TABLE = {fmt: fx.lookup_table(fmt, np.exp) for fmt in (fx.FixedPoint(5, 2), fx.FixedPoint(8, 3))}


def _reference(op: str, fmt: fx.FixedPoint, words: list[np.ndarray], **options) -> np.ndarray:
    if op == "add":
        return fx.add(fmt, words, options["coeffs"])
    if op == "lookup":
        return fx.lookup(fmt, words[0], options["table"])
    if op in ("prod", "max"):
        return {"prod": fx.prod, "max": fx.maximum}[op](fmt, words)
    if op == "cmp":
        return fx.cmp(fmt, *words, options.get("relation", ">="))
    return {"mul": fx.mul, "div": fx.div}[op](fmt, *words)


def _all_words(fmt: fx.FixedPoint, fan_in: int, nonnegative: bool = False) -> list[np.ndarray]:
    words = fmt.all_words()
    if nonnegative:
        words = words[words >= 0]
    grid = np.array(list(itertools.product(words, repeat=fan_in)))  # (B, fan_in)
    return list(grid.T)


def _check(op: str, fmt: fx.FixedPoint, words: list[np.ndarray], **options) -> ThresholdCircuit:
    circuit = gadget_circuit(op, fmt, len(words), **options)
    got = circuit.evaluate_words({f"x{i}": w for i, w in enumerate(words)})["out"]
    options.pop("nonnegative", None)
    np.testing.assert_array_equal(got, _reference(op, fmt, words, **options))
    return circuit


EXHAUSTIVE_CASES = [
    ("add", fx.FixedPoint(4, 1), 3, {"coeffs": [1, -1, 1]}),
    ("add", fx.FixedPoint(3, 0), 4, {"coeffs": [-1, -1, 1, -1]}),
    ("mul", fx.FixedPoint(5, 0), 2, {}),
    ("mul", fx.FixedPoint(5, 2), 2, {}),
    ("mul", fx.FixedPoint(6, 4), 2, {}),
    ("div", fx.FixedPoint(5, 2), 2, {}),
    ("div", fx.FixedPoint(5, 0), 2, {}),
    ("lookup", fx.FixedPoint(5, 2), 1, {"table": EXP_TABLE[fx.FixedPoint(5, 2)]}),
    ("prod", fx.FixedPoint(4, 1), 3, {}),
    ("prod", fx.FixedPoint(5, 2), 2, {}),
    ("cmp", fx.FixedPoint(5, 2), 2, {}),
    ("cmp", fx.FixedPoint(5, 2), 2, {"relation": ">"}),
    ("max", fx.FixedPoint(4, 1), 3, {}),
    ("max", fx.FixedPoint(3, 1), 4, {}),
]


@pytest.mark.parametrize("op, fmt, fan_in, options", EXHAUSTIVE_CASES,
                         ids=[f"{c[0]}-p{c[1].bits}f{c[1].frac_bits}k{c[2]}" for c in EXHAUSTIVE_CASES])
def test_gadget_exhaustive_and_within_cost_model(op, fmt, fan_in, options):
    circuit = _check(op, fmt, _all_words(fmt, fan_in), **dict(options))
    measured = circuit.measure()
    assert measured["depth"] == threshold_depth(op)
    assert measured["size"] <= threshold_size(op, fan_in, fmt.bits)


def test_nonnegative_product_is_depth_3_and_exact():
    fmt = fx.FixedPoint(5, 2)
    circuit = _check("prod", fmt, _all_words(fmt, 3, nonnegative=True), nonnegative=True)
    assert circuit.measure()["depth"] == 3


@pytest.mark.parametrize("fan_in, bits", [(2, 3), (3, 3), (5, 2), (2, 5)])
def test_unsigned_iterated_addition_all_output_bits(fan_in, bits):
    circuit = integer_circuit("add", fan_in, bits)
    grid = np.array(list(itertools.product(range(1 << bits), repeat=fan_in))).T
    got = circuit.evaluate_words({f"x{i}": w for i, w in enumerate(grid)})["out"]
    np.testing.assert_array_equal(got, grid.sum(0))
    assert circuit.measure()["depth"] == 2


def test_unsigned_multiplication_and_comparison_exhaustive():
    grid = np.array(list(itertools.product(range(32), repeat=2))).T
    product = integer_circuit("mul", 2, 5)
    compare = integer_circuit("cmp", 2, 5)
    inputs = {"x0": grid[0], "x1": grid[1]}
    np.testing.assert_array_equal(product.evaluate_words(inputs)["out"], grid[0] * grid[1])
    np.testing.assert_array_equal(compare.evaluate_words(inputs)["out"], grid[0] >= grid[1])
    assert (product.measure()["depth"], compare.measure()) == (3, {"depth": 1, "size": 1, "edges": 10})


def test_lookup_of_an_arbitrary_function():
    table = np.random.default_rng(0).integers(0, 1 << 6, size=1 << 6)
    circuit = lookup_circuit(6, lambda u: int(table[u]), 6)
    got = circuit.evaluate_words({"x": np.arange(64)})["out"]
    np.testing.assert_array_equal(got, table)
    assert circuit.measure()["depth"] == 2
    assert circuit.measure()["size"] <= 2**6 + 6


@pytest.mark.parametrize("op", ["add", "mul", "div", "lookup", "prod", "cmp", "max"])
def test_measured_size_never_exceeds_the_model_formula(op):
    for bits in range(3, 8):
        for frac_bits in range(bits - 1):
            fmt = fx.FixedPoint(bits, frac_bits)
            for fan_in in ((1,) if op == "lookup" else (2,) if op in ("mul", "div", "cmp")
                           else (1, 2, 3, 5)):
                if op == "prod" and bits > 6:
                    continue
                options = {"table": fx.lookup_table(fmt, np.tanh)} if op == "lookup" else {}
                measured = gadget_circuit(op, fmt, fan_in, **options).measure()
                assert measured["depth"] <= COST_MODEL[op].depth
                assert measured["size"] <= threshold_size(op, fan_in, bits), (op, fmt, fan_in)


def test_networkx_view_has_the_measured_depth_size_and_edges():
    circuit = gadget_circuit("prod", fx.FixedPoint(4, 1), 3)
    graph = circuit.to_networkx()
    measured = circuit.measure()
    assert nx.dag_longest_path_length(graph, weight=None) == measured["depth"]
    gates = [n for n, kind in graph.nodes(data="kind") if kind == "gate"]
    assert len(gates) == measured["size"]
    assert graph.number_of_edges() == measured["edges"]


@settings(max_examples=25, deadline=None)
@given(bits=st.integers(6, 10), data=st.data())
def test_add_mul_max_on_random_inputs_at_larger_precision(bits, data):
    fmt = fx.FixedPoint(bits, data.draw(st.integers(0, bits - 2)))
    fan_in = data.draw(st.integers(1, 8))
    words_strategy = st.lists(st.integers(fmt.lowest, fmt.highest), min_size=16, max_size=16)
    words = [np.array(data.draw(words_strategy)) for _ in range(fan_in)]
    coeffs = data.draw(st.lists(st.sampled_from([1, -1]), min_size=fan_in, max_size=fan_in))
    _check("add", fmt, words, coeffs=coeffs)
    _check("max", fmt, words)
    if fan_in >= 2:
        _check("mul", fmt, words[:2])


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_prod_and_div_on_random_inputs(data):
    fmt = fx.FixedPoint(data.draw(st.integers(6, 7)), 3)
    fan_in = data.draw(st.integers(2, 6))
    words = [np.array(data.draw(st.lists(st.integers(fmt.lowest, fmt.highest),
                                          min_size=32, max_size=32))) for _ in range(fan_in)]
    _check("prod", fmt, words)
    _check("div", fmt, words[:2])


@settings(max_examples=60, deadline=None)
@given(weights=st.lists(st.integers(-9, 9), min_size=1, max_size=5), theta=st.integers(-20, 20),
       constants=st.lists(st.sampled_from([None, 0, 1]), min_size=5, max_size=5))
def test_gate_simplification_keeps_the_gate_function(weights, theta, constants):
    circuit = ThresholdCircuit()
    x = circuit.add_input("x", len(weights), signed=False)
    sources = [bit if c is None else c for bit, c in zip(x.bits, constants)]  # 0, 1: const nodes
    gate = circuit.add_gate(sources, weights, theta)
    assignments = np.array(list(itertools.product([0, 1], repeat=len(weights))))
    values = circuit.evaluate({"x": assignments})[gate]
    inputs = np.array([[a if c is None else c for a, c in zip(row, constants)] for row in assignments])
    np.testing.assert_array_equal(values, inputs @ np.array(weights) >= theta)


@pytest.mark.parametrize("op, fan_in", [("add", 6), ("prod", 3), ("div", 2), ("max", 4)])
def test_counting_mode_measures_the_same_circuit(op, fan_in):
    fmt = fx.FixedPoint(6, 3)
    stored = gadget_circuit(op, fmt, fan_in).measure()
    counted = gadget_circuit(op, fmt, fan_in, store_edges=False).measure()
    assert stored == counted
