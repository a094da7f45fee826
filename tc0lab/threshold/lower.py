"""Lower a compiled arithmetic circuit to a bit-level threshold circuit, and check it.

Stages:
  1. `lower_circuit` replaces every arithmetic gate of the compiler's nx.DiGraph (schema in
     `tc0lab.circuit.nodes`) by its gadget (`tc0lab.threshold.gadgets.fixed_point_op`) on
     p-bit fixed-point words; 'input' nodes become input words named by their node id,
     'const' nodes become constant bits (quantised, saturating).
  2. `evaluate_fixed_point` is the word-level reference: the same circuit evaluated on raw
     words with the op semantics of `tc0lab.threshold.fixed_point` (same rounding).
  3. `check_lowering` runs both on random input words and compares every node's word.
  4. `gadget_level_count` counts a large instance without materialising it: one gadget is
     built per distinct (op, fan-in, options) and multiplied by how often it occurs.
`lower_and_measure` puts measured depth and gates beside the cost model's prediction.

Only real-valued circuits can be lowered (complex constants raise ValueError).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import reduce

import networkx as nx
import numpy as np

from tc0lab.circuit import nodes as K
from tc0lab.circuit.measure import measure as measure_arithmetic
from tc0lab.spec.functions import NUMPY
from tc0lab.threshold import fixed_point as fx
from tc0lab.threshold.circuit import CONST0, CONST1, ThresholdCircuit, Word
from tc0lab.threshold.gadgets import fixed_point_op, gadget_circuit

DEFAULT_FRAC_FRACTION = 0.5  # frac_bits defaults to floor(bits / 2), capped at bits - 2


def default_frac_bits(bits: int) -> int:
    return max(0, min(bits - 2, int(bits * DEFAULT_FRAC_FRACTION)))


@dataclass
class LoweredCircuit:
    """A threshold circuit plus the word of every arithmetic node in it."""
    circuit: ThresholdCircuit
    fmt: fx.FixedPoint
    words: dict[str, Word]

    def measure(self) -> dict[str, int]:
        return self.circuit.measure()


class _OpOptions:
    """Per-node gadget options, shared by the lowering and the word-level reference."""

    def __init__(self, graph: nx.DiGraph, fmt: fx.FixedPoint) -> None:
        self.graph, self.fmt = graph, fmt
        self._tables: dict[tuple, dict[int, int]] = {}

    def table(self, stages: tuple) -> dict[int, int]:
        if stages not in self._tables:
            for _, scale in stages:
                if isinstance(scale, complex):
                    raise ValueError("cannot lower a lookup with a complex scale")
            def composed(z: np.ndarray) -> np.ndarray:
                return reduce(lambda value, stage: NUMPY[stage[0]](stage[1] * value), stages, z)
            self._tables[stages] = fx.lookup_table(self.fmt, composed)
        return self._tables[stages]

    def nonnegative(self, node: str) -> bool:
        """True when every word this node can take is >= 0 (lookups and constants only)."""
        attrs = self.graph.nodes[node]
        if attrs[K.OP] == "lookup":
            return min(self.table(attrs[K.FN]).values()) >= 0
        return attrs[K.OP] == "const" and quantise_constant(self.fmt, attrs[K.VALUE]) >= 0

    def of(self, node: str) -> dict:
        attrs = self.graph.nodes[node]
        op = attrs[K.OP]
        if op == "add":
            return {"coeffs": list(attrs.get(K.COEFFS) or [1] * len(attrs[K.ARGS]))}
        if op == "lookup":
            return {"table": self.table(attrs[K.FN])}
        if op == "cmp":
            return {"relation": attrs[K.CMP]}
        if op == "prod":
            return {"nonnegative": all(self.nonnegative(a) for a in attrs[K.ARGS])}
        return {}


def quantise_constant(fmt: fx.FixedPoint, value: complex) -> int:
    if isinstance(value, complex):
        if value.imag:
            raise ValueError(f"cannot lower the complex constant {value}")
        value = value.real
    return int(fmt.quantise(np.array([value]))[0])


def lower_circuit(graph: nx.DiGraph, bits: int, frac_bits: int | None = None) -> LoweredCircuit:
    """Replace every arithmetic gate by its threshold gadget in p-bit fixed point."""
    fmt = fx.FixedPoint(bits, default_frac_bits(bits) if frac_bits is None else frac_bits)
    options = _OpOptions(graph, fmt)
    circuit = ThresholdCircuit()
    words: dict[str, Word] = {}
    for node in nx.topological_sort(graph):
        attrs = graph.nodes[node]
        op = attrs[K.OP]
        if op == "input":
            words[node] = circuit.add_input(node, bits)
        elif op == "const":
            raw = quantise_constant(fmt, attrs[K.VALUE])
            words[node] = Word(tuple(CONST1 if (raw >> i) & 1 else CONST0 for i in range(bits)))
        else:
            operands = [words[a] for a in attrs[K.ARGS]]
            words[node] = fixed_point_op(circuit, fmt, op, operands, **options.of(node))
    for node, word in words.items():
        circuit.set_output(node, word)
    return LoweredCircuit(circuit, fmt, words)


_REFERENCE_OPS = {
    "add": lambda fmt, args, o: fx.add(fmt, args, o["coeffs"]),
    "mul": lambda fmt, args, o: fx.mul(fmt, *args),
    "div": lambda fmt, args, o: fx.div(fmt, *args),
    "lookup": lambda fmt, args, o: fx.lookup(fmt, args[0], o["table"]),
    "prod": lambda fmt, args, o: fx.prod(fmt, args),
    "cmp": lambda fmt, args, o: fx.cmp(fmt, *args, o["relation"]),
    "max": lambda fmt, args, o: fx.maximum(fmt, args),
}


def evaluate_fixed_point(graph: nx.DiGraph, fmt: fx.FixedPoint,
                         input_words: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Raw word of every node for a batch of input words (node id -> (B,) ints)."""
    options = _OpOptions(graph, fmt)
    batch = len(next(iter(input_words.values())))
    values: dict[str, np.ndarray] = {}
    for node in nx.topological_sort(graph):
        attrs = graph.nodes[node]
        op = attrs[K.OP]
        if op == "input":
            values[node] = np.asarray(input_words[node], dtype=np.int64)
        elif op == "const":
            values[node] = np.full(batch, quantise_constant(fmt, attrs[K.VALUE]), dtype=np.int64)
        else:
            args = [values[a] for a in attrs[K.ARGS]]
            values[node] = _REFERENCE_OPS[op](fmt, args, options.of(node))
    return values


def random_input_words(lowered: LoweredCircuit, samples: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    fmt = lowered.fmt
    return {name: rng.integers(fmt.lowest, fmt.highest + 1, size=samples)
            for name in lowered.circuit.inputs}


def check_lowering(graph: nx.DiGraph, lowered: LoweredCircuit, samples: int = 64,
                   seed: int = 0) -> bool:
    """True iff the threshold circuit gives the reference word at EVERY node on random inputs."""
    inputs = random_input_words(lowered, samples, seed)
    got = lowered.circuit.evaluate_words(inputs)
    expected = evaluate_fixed_point(graph, lowered.fmt, inputs)
    return all(np.array_equal(got[node], expected[node]) for node in lowered.words)


def gadget_level_count(graph: nx.DiGraph, bits: int, frac_bits: int | None = None) -> dict:
    """Threshold depth and gates from gadgets built once per (op, fan-in, options).

    An upper bound on the materialised lowering: there, constant operands fold away and
    low output bits of a gadget can be ready before its depth.
    """
    fmt = fx.FixedPoint(bits, default_frac_bits(bits) if frac_bits is None else frac_bits)
    options = _OpOptions(graph, fmt)
    occurrences: Counter = Counter()
    node_key: dict[str, tuple] = {}
    for node, attrs in graph.nodes(data=True):
        if attrs[K.OP] not in K.SOURCE_OPS:
            key = (attrs[K.OP], len(attrs[K.ARGS]), attrs.get(K.COEFFS), attrs.get(K.FN),
                   attrs.get(K.CMP), options.of(node).get("nonnegative"))
            node_key[node] = key
            occurrences[key] += 1
    measured = {}
    for key, node in {key: node for node, key in node_key.items()}.items():
        measured[key] = gadget_circuit(key[0], fmt, key[1], store_edges=False,
                                       **options.of(node)).measure()
    depth: dict[str, int] = {}
    for node in nx.topological_sort(graph):
        below = max((depth[a] for a in graph.nodes[node].get(K.ARGS, ())), default=0)
        depth[node] = below + (measured[node_key[node]]["depth"] if node in node_key else 0)
    return {"depth": max(depth.values(), default=0),
            "gates": sum(count * measured[key]["size"] for key, count in occurrences.items()),
            "edges": sum(count * measured[key]["edges"] for key, count in occurrences.items()),
            "distinct_gadgets": len(measured)}


def lower_and_measure(graph: nx.DiGraph, bits: int, frac_bits: int | None = None,
                      samples: int = 64, seed: int = 0) -> dict:
    """Lower, verify against the fixed-point reference, and compare with the cost model."""
    lowered = lower_circuit(graph, bits, frac_bits)
    measured = lowered.measure()
    model = measure_arithmetic(graph, bits)
    return {"bits": bits, "frac_bits": lowered.fmt.frac_bits,
            "measured_depth": measured["depth"], "measured_gates": measured["size"],
            "measured_edges": measured["edges"],
            "model_depth": model.depth_threshold, "model_gates": model.threshold_gates,
            "ratio": measured["size"] / model.threshold_gates if model.threshold_gates else None,
            "verified": check_lowering(graph, lowered, samples, seed), "samples": samples}
