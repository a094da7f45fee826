"""Lowering arithmetic circuits to threshold gates: bit-exact against the fixed-point reference."""
from __future__ import annotations

import dataclasses

import pytest

from tc0lab.circuit.build import CircuitBuilder
from tc0lab.compiler import compile_stack
from tc0lab.threshold.circuit import Word
from tc0lab.threshold.lower import (check_lowering, gadget_level_count, lower_and_measure,
                                    lower_circuit, random_input_words)


def _selective_scan(n: int):
    """A one-channel Mamba-like scan using every op kind:

        delta_t = softplus(x_t)          a_t = exp(-delta_t)           (lookups)
        h_t = sum_j prod(a_{j+1..t}) * (delta_j * x_j)                 (prod, mul, add)
        y_t = h_t / (1 + |h_t|), up_t = [h_t >= h_{t-1}], top = max_t h_t - x_1
    """
    b = CircuitBuilder()
    one = b.const(1.0, "one")
    xs = [b.input(t, 0) for t in range(1, n + 1)]
    delta = [b.lookup(x, (("softplus", 1.0),)) for x in xs]
    decay = [b.lookup(x, (("softplus", 1.0), ("exp", -1.0))) for x in xs]
    drive = [b.mul(d, x) for d, x in zip(delta, xs)]
    hs = []
    for t in range(n):
        terms = [drive[t]] + [b.mul(b.prod(decay[j + 1:t + 1]), drive[j]) for j in range(t)]
        hs.append(b.add(terms))
        b.div(hs[-1], b.add([one, b.lookup(hs[-1], (("abs", 1.0),))]))
        if t:
            b.cmp(hs[t], hs[t - 1])
    b.add([b.max(hs), xs[0]], [1, -1])
    return b.graph()


@pytest.mark.parametrize("bits, frac_bits", [(6, 3), (7, 2), (5, 0)])
def test_lowered_scan_matches_fixed_point_reference_at_every_node(bits, frac_bits):
    graph = _selective_scan(4)
    lowered = lower_circuit(graph, bits, frac_bits)
    assert check_lowering(graph, lowered, samples=256, seed=bits)


def test_check_lowering_detects_a_wrong_word():
    graph = _selective_scan(3)
    lowered = lower_circuit(graph, 6, 3)
    node = next(n for n, attrs in graph.nodes(data=True) if attrs["op"] == "mul")
    bits = lowered.words[node].bits
    tampered = dict(lowered.words, **{node: Word(bits[1:] + bits[:1])})
    for name, word in tampered.items():
        lowered.circuit.set_output(name, word)
    assert not check_lowering(graph, dataclasses.replace(lowered, words=tampered), samples=256)


def test_gadget_level_count_bounds_the_materialised_circuit():
    graph = _selective_scan(5)
    counted = gadget_level_count(graph, 6, 3)
    measured = lower_circuit(graph, 6, 3).measure()
    assert measured["size"] <= counted["gates"]
    assert measured["edges"] <= counted["edges"]
    assert measured["depth"] <= counted["depth"]


def test_lower_and_measure_reports_both_sides():
    report = lower_and_measure(_selective_scan(4), 6, 3, samples=32)
    assert report["verified"] is True
    assert report["measured_depth"] <= report["model_depth"]
    assert report["ratio"] == report["measured_gates"] / report["model_gates"]


def _compiled(arch: str, n: int, d_state: int = 1):
    return compile_stack(arch, layers=1, n=n, d_model=1, d_state=d_state)


def test_lowered_one_layer_mamba_at_n8_p6_matches_its_fixed_point_reference():
    compiled = _compiled("mamba", 8)
    report = lower_and_measure(compiled.graph, bits=6, frac_bits=3, samples=128)
    assert report["verified"] is True
    assert report["measured_depth"] <= report["model_depth"]
    assert report["measured_gates"] <= report["model_gates"]
    # the check is not vacuous: the layer's outputs take many different words
    lowered = lower_circuit(compiled.graph, 6, 3)
    outputs = lowered.circuit.evaluate_words(random_input_words(lowered, 64))
    assert all(len(set(outputs[node].tolist())) > 8 for row in compiled.outputs for node in row)


@pytest.mark.parametrize("arch", ["mamba", "s4d"])
def test_lowered_diagonal_ssm_depth_is_the_same_at_n_4_8_16(arch):
    depths = {lower_circuit(_compiled(arch, n).graph, 6, 3).measure()["depth"] for n in (4, 8, 16)}
    assert len(depths) == 1


def test_lowered_non_commuting_layer_depth_grows_with_n():
    depths = []
    for n in (4, 8, 16):
        graph = _compiled("ids4", n, d_state=2).graph
        lowered = lower_circuit(graph, 6, 3)
        assert check_lowering(graph, lowered, samples=16)
        depths.append(lowered.measure()["depth"])
    assert depths[0] < depths[1] < depths[2]
