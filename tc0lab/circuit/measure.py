"""Measurements of a circuit, computed from the networkx graph.

- arithmetic depth: the longest path counted in non-source gates;
- threshold depth: the longest path with each gate weighted by its cost-model depth;
- gates by op, edges;
- threshold gates: the sum over gates of the cost model's gadget size at precision p.

Also the growth classification of measured points (constant / logarithmic / linear / ...)
used for scaling reports. Precision defaults to c * ceil(log2 n) bits with c = PRECISION_FACTOR.
"""
from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Iterator

import networkx as nx
import numpy as np

from tc0lab.circuit import nodes as K
import sympy

from tc0lab.circuit.no_gc import paused_gc
from tc0lab.circuit.cost import COST_MODEL, gate_depths, k as cost_k, p as cost_p

PRECISION_FACTOR = 2  # log precision: p = PRECISION_FACTOR * ceil(log2 n) bits


def default_precision(n: int) -> int:
    """p = c * ceil(log2 n), at least c bits (c = PRECISION_FACTOR)."""
    return PRECISION_FACTOR * max(1, math.ceil(math.log2(max(n, 2))))


@dataclass(frozen=True)
class Measurement:
    precision_bits: int
    depth_arithmetic: int
    depth_threshold: int
    gates_by_op: dict[str, int]
    threshold_gates: int
    edges: int
    nodes: int

    def as_dict(self) -> dict:
        return asdict(self)


def topological_order(graph: nx.DiGraph):
    """Node insertion order when the builder vouches for it, else networkx's topological sort."""
    return iter(graph._node) if graph.graph.get(K.TOPOLOGICAL) else nx.topological_sort(graph)


def node_depths(graph: nx.DiGraph) -> Iterator[tuple[str, int, int]]:
    """(node, arithmetic depth, threshold depth) of every gate, in topological order.

    Longest paths by `cost.gate_depths` (the one depth rule) over each gate's predecessors.
    """
    arithmetic: dict = {}
    threshold: dict = {}
    node_attributes = graph._node
    predecessors_of = graph._pred
    for node in topological_order(graph):
        deepest = None
        if predecessors_of[node]:
            deepest = (max(arithmetic[u] for u in predecessors_of[node]),
                       max(threshold[u] for u in predecessors_of[node]))
        arithmetic[node], threshold[node] = gate_depths(node_attributes[node][K.OP], deepest)
        yield node, arithmetic[node], threshold[node]


def depths(graph: nx.DiGraph) -> tuple[int, int]:
    """(arithmetic depth, threshold depth): the deepest gate of `node_depths`."""
    deepest_arithmetic = deepest_threshold = 0
    for _, a, t in node_depths(graph):
        deepest_arithmetic, deepest_threshold = max(deepest_arithmetic, a), max(deepest_threshold, t)
    return deepest_arithmetic, deepest_threshold


def edge_count(graph: nx.DiGraph) -> int:
    """Number of edges (DiGraph.number_of_edges walks a degree view; this is the same sum, faster)."""
    return sum(map(len, graph._succ.values()))


def fan_in_histogram(graph: nx.DiGraph) -> Counter:
    """Counter of (op, fan-in) over all gates; fan-in counts operands, repeats included."""
    return Counter((attrs[K.OP], len(attrs[K.ARGS])) for attrs in graph._node.values())


def threshold_gate_count(histogram: Counter, precision_bits: int) -> int:
    """Sum of cost-model gadget sizes over the gates."""
    sizes = _size_functions()
    return int(sum(count * int(sizes[op](fan_in, precision_bits)) for (op, fan_in), count in histogram.items()))


@functools.lru_cache(maxsize=1)
def _size_functions() -> dict:
    """The cost model's size formulas as plain Python functions of (k, p), made once."""
    return {op: sympy.lambdify([cost_k, cost_p], entry.size, modules="math") for op, entry in COST_MODEL.items()}


def measure(graph: nx.DiGraph, precision_bits: int) -> Measurement:
    """Measure depth, sizes and threshold cost of a circuit at `precision_bits`, with networkx.

    A circuit compiled by tc0lab is measured while it is built (`CircuitBuilder.measurement`);
    this function is the independent recomputation from the graph, for any DiGraph that
    follows `tc0lab.circuit.nodes` (including hand-built and edited ones).
    """
    if precision_bits < 1:
        raise ValueError(f"precision must be >= 1 bit, got {precision_bits}")
    with paused_gc():
        arithmetic, threshold = depths(graph)
        histogram = fan_in_histogram(graph)
    return measurement_from_tallies(precision_bits, arithmetic, threshold, histogram, edge_count(graph),
                                    graph.number_of_nodes())


def measurement_from_tallies(precision_bits: int, depth_arithmetic: int, depth_threshold: int, histogram: Counter,
                             edges: int, nodes: int) -> Measurement:
    """A Measurement from depths, the (op, fan-in) histogram and the edge and node counts."""
    if precision_bits < 1:
        raise ValueError(f"precision must be >= 1 bit, got {precision_bits}")
    by_op = Counter()
    for (op, _), count in histogram.items():
        by_op[op] += count
    return Measurement(precision_bits, depth_arithmetic, depth_threshold, dict(sorted(by_op.items())),
                       threshold_gate_count(histogram, precision_bits), edges, nodes)


def classify_growth(ns: list[int], values: list[float]) -> str:
    """Classify measured points as constant, logarithmic, linear, n log n, quadratic or cubic.

    Non-constant points need at least three lengths to be told apart.

    Depth: 'constant' when all points are equal; otherwise the better least-squares fit of
    a + b*log2(n) versus a + b*n. Sizes: the log-log slope (1, 2, 3 -> linear, quadratic,
    cubic), with 'n log n' when a + b*n*log2(n) fits better than both neighbours.
    """
    if len(ns) != len(values) or len(ns) < 2:
        raise ValueError("need at least two (n, value) points to classify growth")
    ns_arr, v = np.asarray(ns, dtype=float), np.asarray(values, dtype=float)
    if np.all(v == v[0]):
        return "constant"
    if len(ns) < 3:
        return "undetermined (needs 3 or more lengths)"  # any two points fit every two-parameter curve
    candidates = {"logarithmic": np.log2(ns_arr), "linear": ns_arr, "n log n": ns_arr * np.log2(ns_arr),
                  "quadratic": ns_arr**2, "cubic": ns_arr**3}
    residuals = {}
    for name, feature in candidates.items():
        design = np.stack([np.ones_like(feature), feature], axis=1)
        coefficients, *_ = np.linalg.lstsq(design, v, rcond=None)
        residuals[name] = float(np.sum((design @ coefficients - v) ** 2)) / max(float(np.sum(v**2)), 1e-300)
    return min(residuals, key=residuals.get)
