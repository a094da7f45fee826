"""Threshold circuits over bits: build, evaluate bit-exactly, measure.

A threshold gate is THR(w, theta)(x) = [sum_i w_i x_i >= theta] with integer weights.
A circuit has source nodes (input bits and the two constant bits) and gates. Gadgets
(`tc0lab.threshold.gadgets`) append gates; `evaluate` runs the circuit on many input
assignments at once (numpy, level by level); `measure` gives depth (the longest path
counted in gates), size (gate count) and edges.

Why not build an `nx.DiGraph` gate by gate: a lowered circuit has up to ~1e6 gates and
~1e7 edges, which networkx cannot hold in the memory of a laptop. Gates are therefore
kept in flat arrays (compressed sparse rows); `to_networkx()` gives the DiGraph view
(node attributes `kind`, `theta`; edge attribute `weight`) for circuits of moderate
size, and the tests check that its longest path equals `measure()["depth"]`.

Words. A word is a list of bit nodes, least significant first, read either unsigned
(value sum 2^i b_i) or two's complement (the top bit weighs -2^(p-1)); see `Word`.

Gate simplification (`add_gate`) folds constant inputs into theta, returns a constant
node for a gate whose value cannot vary, returns the input itself for an identity gate
[x >= 1], and returns the existing gate when an identical one (same weighted inputs and
theta) was built before, e.g. the minterms of a word read by several gadgets.
Simplification never adds gates, so a gadget built on constant or shared inputs is never
larger than the same gadget on free inputs.
"""
from __future__ import annotations

from array import array
from dataclasses import dataclass

import networkx as nx
import numpy as np

CONST0, CONST1 = 0, 1  # node ids of the constant bits, present in every circuit
_EVAL_CELLS = 1 << 22  # edges x assignments held in memory at once while evaluating


@dataclass(frozen=True)
class Word:
    """A number held in bits: `bits[i]` is the node of bit i (LSB first)."""
    bits: tuple[int, ...]
    signed: bool = True

    @property
    def width(self) -> int:
        return len(self.bits)

    def bit_weights(self) -> list[int]:
        """The value of each bit: 2^i, and -2^(p-1) for the sign bit of a signed word."""
        weights = [1 << i for i in range(self.width)]
        if self.signed:
            weights[-1] = -weights[-1]
        return weights

    def terms(self, coefficient: int = 1, shift: int = 0) -> list[tuple[int, int]]:
        """(node, weight) pairs of the linear form coefficient * 2^shift * value."""
        return [(bit, coefficient * (w << shift)) for bit, w in zip(self.bits, self.bit_weights())]


class ThresholdCircuit:
    """A threshold circuit under construction (append-only) with named input/output words."""

    def __init__(self, store_edges: bool = True) -> None:
        """store_edges=False only counts edges (for gadget-level counting of large
        instances); such a circuit can be measured but not evaluated."""
        self.store_edges = store_edges
        self._edge_count = 0
        self.kind: list[str] = ["const", "const"]  # 'const', 'input' or 'gate' per node
        self.level: list[int] = [0, 0]             # depth of each node in gates
        self.theta: list[int] = [0, 0]             # threshold (gates only)
        self._indptr: list[int] = [0, 0, 0]        # node i's edges: _indptr[i]:_indptr[i+1]
        self._src = array("q")     # int64 arrays: 16 bytes per edge instead of ~70 in lists
        self._weight = array("q")
        self.inputs: dict[str, Word] = {}
        self.outputs: dict[str, Word] = {}
        # (sources, weights) -> {theta: gate}: an identical gate is built once and shared
        self._gate_cache: dict[tuple, dict[int, int]] = {}
        self.memo: dict = {}  # gadgets keep derived gates of a word here (e.g. its minterms)

    # -- building -------------------------------------------------------------------
    @property
    def num_nodes(self) -> int:
        return len(self.kind)

    def _append(self, kind: str, level: int, theta: int) -> int:
        self.kind.append(kind)
        self.level.append(level)
        self.theta.append(theta)
        self._indptr.append(len(self._src))
        return len(self.kind) - 1

    def add_input(self, name: str, width: int, signed: bool = True) -> Word:
        """Add a named input word of `width` fresh input bits."""
        if name in self.inputs:
            raise ValueError(f"input {name!r} already exists")
        word = Word(tuple(self._append("input", 0, 0) for _ in range(width)), signed)
        self.inputs[name] = word
        return word

    def set_output(self, name: str, word: Word) -> None:
        self.outputs[name] = word

    def add_gate(self, sources: list[int], weights: list[int], theta: int) -> int:
        """Append THR(weights, theta) over `sources`, simplified; return its node id."""
        return self.add_gates(sources, weights, [theta])[0]

    def add_gates(self, sources: list[int], weights: list[int], thetas: list[int]) -> list[int]:
        """Gates THR(weights, theta) for each theta, all over the same weighted sources
        (layer 1 of a depth-2 gadget); simplified as in the module docstring."""
        merged: dict[int, int] = {}
        shift = 0  # constant-1 inputs move the threshold
        for node, w in zip(sources, weights):
            if node == CONST1:
                shift += w
            elif node != CONST0 and w != 0:
                merged[node] = merged.get(node, 0) + w
        merged = {node: w for node, w in merged.items() if w != 0}
        low = sum(w for w in merged.values() if w < 0)
        high = sum(w for w in merged.values() if w > 0)
        level = 1 + max((self.level[n] for n in merged), default=0)
        nodes, node_ws = list(merged), list(merged.values())
        existing = self._gate_cache.setdefault((tuple(nodes), tuple(node_ws)), {})
        gates = []
        for theta in thetas:
            theta -= shift
            if low >= theta or high < theta:
                gates.append(CONST1 if low >= theta else CONST0)
            elif len(merged) == 1 and node_ws[0] > 0 and 0 < theta <= node_ws[0]:
                gates.append(nodes[0])  # [x >= 1] is x itself
            elif theta in existing:
                gates.append(existing[theta])
            else:
                existing[theta] = self._append("gate", level, theta)
                gates.append(existing[theta])
                self._edge_count += len(nodes)
                if self.store_edges:
                    self._src.extend(nodes)
                    self._weight.extend(node_ws)
                    self._indptr[-1] = len(self._src)
        return gates

    # -- measuring ------------------------------------------------------------------
    def measure(self) -> dict[str, int]:
        """Depth (longest path, in gates), size (gates) and edges of the circuit."""
        gates = [i for i, kind in enumerate(self.kind) if kind == "gate"]
        return {"depth": max((self.level[i] for i in gates), default=0),
                "size": len(gates), "edges": self._edge_count}

    def to_networkx(self) -> nx.DiGraph:
        """The circuit as an nx.DiGraph: node attrs kind/theta, edge attr weight."""
        self._require_edges()
        graph = nx.DiGraph()
        for node, kind in enumerate(self.kind):
            graph.add_node(node, kind=kind, theta=self.theta[node])
        for node in range(self.num_nodes):
            start, stop = self._indptr[node], self._indptr[node + 1]
            for src, w in zip(self._src[start:stop], self._weight[start:stop]):
                graph.add_edge(src, node, weight=w)
        return graph

    def _require_edges(self) -> None:
        if not self.store_edges:
            raise ValueError("this circuit only counts its edges (store_edges=False)")

    # -- evaluating -----------------------------------------------------------------
    def evaluate(self, input_bits: dict[str, np.ndarray]) -> np.ndarray:
        """Values (0/1, int8) of every node for a batch of assignments.

        input_bits: name -> (B, width) array of 0/1 for every input word.
        Returns an (N, B) array, N = num_nodes.
        """
        self._require_edges()
        batch = len(next(iter(input_bits.values()))) if input_bits else 1
        values = np.zeros((self.num_nodes, batch), dtype=np.int8)
        values[CONST1] = 1
        for name, word in self.inputs.items():
            values[list(word.bits)] = np.asarray(input_bits[name], dtype=np.int8).T
        indptr = np.asarray(self._indptr, dtype=np.int64)
        src = np.frombuffer(self._src, dtype=np.int64).copy()  # a view would pin the array
        weight = np.frombuffer(self._weight, dtype=np.int64).copy()
        theta = np.asarray(self.theta, dtype=np.int64)
        level = np.asarray(self.level)
        is_gate = np.asarray([kind == "gate" for kind in self.kind])
        for depth in range(1, int(level.max(initial=0)) + 1):
            gates = np.flatnonzero(is_gate & (level == depth))
            for chunk in _chunks(gates, indptr, max(1, _EVAL_CELLS // batch)):
                values[chunk] = _evaluate_gates(chunk, indptr, src, weight, theta, values)
        return values

    def evaluate_words(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Evaluate on integer input words; return the integer value of every output word."""
        bits = {name: to_bits(np.asarray(inputs[name]), word.width)
                for name, word in self.inputs.items()}
        values = self.evaluate(bits)
        return {name: read_word(values, word) for name, word in self.outputs.items()}


def _chunks(gates: np.ndarray, indptr: np.ndarray, max_edges: int) -> list[np.ndarray]:
    """Split consecutive gates into runs of at most ~max_edges edges (at least one gate)."""
    if len(gates) == 0:
        return []
    fan_in = indptr[gates + 1] - indptr[gates]
    cumulative = np.cumsum(fan_in)
    cuts = np.searchsorted(cumulative, np.arange(max_edges, cumulative[-1], max_edges), "right")
    return [part for part in np.split(gates, np.unique(cuts)) if len(part)]


def _evaluate_gates(gates: np.ndarray, indptr: np.ndarray, src: np.ndarray, weight: np.ndarray,
                    theta: np.ndarray, values: np.ndarray) -> np.ndarray:
    starts, fan_in = indptr[gates], indptr[gates + 1] - indptr[gates]
    offsets = np.concatenate([[0], np.cumsum(fan_in)[:-1]])         # each gate's first row
    edges = np.arange(fan_in.sum()) + np.repeat(starts - offsets, fan_in)
    contributions = weight[edges, None] * values[src[edges]]      # (E, B)
    sums = np.add.reduceat(contributions, offsets, axis=0)          # (G, B)
    return (sums >= theta[gates, None]).astype(np.int8)


def to_bits(values: np.ndarray, width: int) -> np.ndarray:
    """(B,) integers -> (B, width) bits of their two's complement (LSB first)."""
    values = np.asarray(values, dtype=np.int64)
    return ((values[:, None] >> np.arange(width)) & 1).astype(np.int8)


def read_word(values: np.ndarray, word: Word) -> np.ndarray:
    """Integer value of `word` for every assignment, from evaluate()'s (N, B) array."""
    bits = values[list(word.bits)].astype(np.int64)               # (width, B)
    weights = np.asarray(word.bit_weights(), dtype=np.int64)
    return weights @ bits
