"""Gate-adding helpers: the one place where circuit nodes are created.

`CircuitBuilder` adds arithmetic gates in topological order (every operand exists before
the gate that reads it) and returns an `nx.DiGraph` whose node attributes follow
`tc0lab.circuit.nodes`. The compiler uses it; notebooks can use it directly to assemble
a custom circuit:

    b = CircuitBuilder()
    x = b.input(1, 0)
    y = b.lookup(b.add([x, b.const(1.0, "one")]), (("exp", 1.0),), name="y")
    graph = b.graph()

Node ids are readable and deterministic, e.g. "L1.h[t=3,r=2]". Reusing an id returns the
existing node (so callers can name a value once and refer to it by name).

The builder also measures as it goes: each gate's arithmetic and threshold depth is the
deepest operand's plus its own (operands exist before the gate, so one pass suffices), and
the (op, fan-in) histogram and edge count are tallied. `measurement()` therefore costs
nothing extra, and the nx.DiGraph is only materialised when someone asks for it (export,
evaluation, lowering). `tc0lab.circuit.measure.measure(graph)` recomputes the same numbers
from the graph with networkx; tests check that both agree on every architecture.

`add_gates` adds many gates of one kind at once (the Theta(n^2) parts of the constructions:
decays, kernel terms, attention scores): the same nodes as one call per gate, without the
per-call overhead.
"""
from __future__ import annotations

from array import array
from collections import Counter
from itertools import chain
from typing import Iterable, Sequence

import networkx as nx
import numpy as np

from tc0lab.circuit import nodes as K
from tc0lab.circuit.cost import COST_MODEL

GATE_DEPTH = {op: entry.depth for op, entry in COST_MODEL.items()}  # threshold depth of one gate
SMALL_BLOCK = 24  # below this many gates, add_gates adds them one by one (measured: faster)

Stage = tuple[str, float]  # (function name, scale): value -> f(scale * value)


def gate_extra(op: str, coeffs: Sequence[int] | None = None, stages: Iterable[Stage] | None = None) -> dict | None:
    """The op-specific attributes of a gate: an add's +1/-1 weights, a lookup's stages."""
    if op == "add" and coeffs is not None and any(c != 1 for c in coeffs):
        if any(c not in (1, -1) for c in coeffs):
            raise ValueError("add weights must be +1 or -1, one per operand")
        return {K.COEFFS: tuple(coeffs)}
    if op == "lookup":
        return {K.FN: tuple(stages)}
    return None


def _distinct_per_row(ids: np.ndarray) -> int:
    """Sum over rows of the number of distinct entries (DiGraph edges: x*x is one edge)."""
    ordered = np.sort(ids, axis=1)
    return int(ids.shape[0] + np.count_nonzero(ordered[:, 1:] != ordered[:, :-1]))


class CircuitBuilder:
    """Accumulates gates; `graph()` materialises the networkx DiGraph."""

    def __init__(self) -> None:
        self._attributes: dict[str, dict] = {}  # per-gate adds; `add_gates` blocks wait in _blocks
        self._blocks: list[tuple] = []
        self._ordered: dict[str, dict] | None = None
        self.layer = 0
        self.t: int | None = None
        self._anonymous = 0
        # every node's index, in insertion order, and the running measurements by index
        self.ids: dict[str, int] = {}
        self._depth_arithmetic = array("q")
        self._depth_threshold = array("q")
        self.fan_in: Counter = Counter()  # (op, number of operands) -> gates
        self.edges = 0

    @property
    def attributes(self) -> dict[str, dict]:
        """Every node's attribute dict, in insertion order (a topological order)."""
        for op, names, args, ts, layer, role, extra in self._blocks:
            self._attributes.update(zip(names, [{K.OP: op, K.ARGS: a, K.LAYER: layer, K.T: t, K.ROLE: role, **extra}
                                                for a, t in zip(args, ts)]))
        self._blocks.clear()
        if self._ordered is None or len(self._ordered) != len(self.ids):
            self._ordered = {node: self._attributes[node] for node in self.ids}
        return self._ordered

    def depth(self, name: str) -> tuple[int, int]:
        """(arithmetic, threshold) depth of one node."""
        index = self.ids[name]
        return self._depth_arithmetic[index], self._depth_threshold[index]

    def at(self, layer: int, t: int | None) -> "CircuitBuilder":
        """Set the layer and position recorded on the gates added next."""
        self.layer, self.t = layer, t
        return self

    def _name(self, name: str | None, role: str) -> str:
        if name is not None:
            return name
        self._anonymous += 1
        position = "" if self.t is None else f"[t={self.t}]"
        return f"L{self.layer}.{role}{position}#{self._anonymous}"

    def _missing_operand(self, node: str, args: Sequence[str]) -> ValueError:
        missing = next(a for a in args if a not in self.ids)
        return ValueError(f"gate {node!r} reads {missing!r}, which was not added before it")

    def _add_node(self, name: str | None, op: str, args: Sequence[str], role: str, extra: dict | None = None) -> str:
        node = self._name(name, role) if name is None else name
        if node in self.ids:
            return node
        args = tuple(args)
        if args:
            try:
                indices = list(map(self.ids.__getitem__, args))
            except KeyError:
                raise self._missing_operand(node, args) from None
            arithmetic = max(map(self._depth_arithmetic.__getitem__, indices)) + 1
            threshold = max(map(self._depth_threshold.__getitem__, indices)) + GATE_DEPTH[op]
            self.edges += len(set(indices)) if len(indices) > 1 else 1
        else:  # a source, or a gate over nothing
            arithmetic, threshold = (0 if op in K.SOURCE_OPS else 1), GATE_DEPTH[op]
        attributes = {K.OP: op, K.ARGS: args, K.LAYER: self.layer, K.T: self.t, K.ROLE: role}
        if extra:
            attributes.update(extra)
        self._attributes[node] = attributes
        self.ids[node] = len(self.ids)
        self._depth_arithmetic.append(arithmetic)
        self._depth_threshold.append(threshold)
        self.fan_in[op, len(args)] += 1
        return node

    def add_gates(self, op: str, names: Sequence[str], args: Sequence[tuple[str, ...]], ts: Sequence[int],
                  role: str, extra: dict | None = None) -> list[str]:
        """Many new gates of one op, role, layer and extra attributes: gate i is names[i] over
        the tuple args[i] at position ts[i], every gate with the same number of operands.

        Equivalent to calling the op's method once per gate, without the per-call overhead:
        depths are computed with numpy, and the attribute dicts are only made when the graph
        is asked for. Names must be new (unlike the one-gate methods, which return an existing
        node of the same name). Returns `names`.
        """
        if not names:
            return []
        if len(args) != len(names) or len(ts) != len(names):
            raise ValueError("add_gates needs one operand tuple and one position per name")
        ids = self.ids
        if len(names) < SMALL_BLOCK:  # numpy's per-call overhead would dominate: one gate at a time
            return self._add_one_by_one(op, names, args, ts, role, extra)
        if not ids.keys().isdisjoint(names):
            raise ValueError(f"add_gates: {next(n for n in names if n in ids)!r} already exists")
        arity = len(args[0])
        if arity == 0 or set(map(len, args)) != {arity}:
            raise ValueError("add_gates needs one operand tuple per name, all of the same length >= 1")
        flat = list(chain.from_iterable(args))
        try:
            operands = np.fromiter(map(ids.__getitem__, flat), dtype=np.int64, count=len(flat)).reshape(-1, arity)
        except KeyError:
            bad = next(i for i, a in enumerate(args) if any(x not in ids for x in a))
            raise self._missing_operand(names[bad], args[bad]) from None
        start = len(ids)
        arithmetic = np.frombuffer(self._depth_arithmetic, dtype=np.int64)[operands].max(axis=1) + 1
        threshold = np.frombuffer(self._depth_threshold, dtype=np.int64)[operands].max(axis=1) + GATE_DEPTH[op]
        self._blocks.append((op, names, args, ts, self.layer, role, extra or {}))
        ids.update(zip(names, range(start, start + len(names))))
        self._depth_arithmetic.frombytes(arithmetic.astype(np.int64).tobytes())
        self._depth_threshold.frombytes(threshold.astype(np.int64).tobytes())
        self.fan_in[op, arity] += len(names)
        self.edges += len(names) if arity == 1 else _distinct_per_row(operands)
        return names

    def _add_one_by_one(self, op, names, args, ts, role, extra) -> Sequence[str]:
        position = self.t
        for name, operands, t in zip(names, args, ts):
            if name in self.ids:
                raise ValueError(f"add_gates: {name!r} already exists")
            if not operands or len(operands) != len(args[0]):
                raise ValueError("add_gates needs one operand tuple per name, all of the same length >= 1")
            self.t = t
            self._add_node(name, op, operands, role, extra)
        self.t = position
        return names

    def fresh_names(self, role: str, ts: Sequence[int]) -> list[str]:
        """Anonymous names for gates of `role` at positions ts, as `_name` would give one by one."""
        first = self._anonymous + 1
        self._anonymous += len(ts)
        return [f"L{self.layer}.{role}[t={t}]#{first + i}" for i, t in enumerate(ts)]

    def has(self, name: str) -> bool:
        return name in self.ids

    # sources
    def input(self, t: int, i: int) -> str:
        """Coordinate i of token t (1-based t), read from inputs[t - 1, i]."""
        name = f"x[t={t},i={i}]"
        if name not in self.ids:
            layer, position = self.layer, self.t
            self.at(0, t)._add_node(name, "input", (), "x", {K.INDEX: (t, i)})
            self.at(layer, position)
        return name

    def const(self, value: complex, name: str | None = None, role: str = "const") -> str:
        """A parameter or a constant computed at compile time."""
        return self._add_node(name, "const", (), role, {K.VALUE: value})

    # arithmetic gates
    def add(self, args: Sequence[str], coeffs: Sequence[int] | None = None, name: str | None = None,
            role: str = "add") -> str:
        """Iterated sum; optional +1/-1 weights per operand."""
        if not args:
            raise ValueError("add needs at least one operand")
        if coeffs is not None and len(coeffs) != len(args):
            raise ValueError("add weights must be +1 or -1, one per operand")
        return self._add_node(name, "add", args, role, gate_extra("add", coeffs=coeffs))

    def mul(self, a: str, b: str, name: str | None = None, role: str = "mul") -> str:
        return self._add_node(name, "mul", (a, b), role)

    def prod(self, args: Sequence[str], name: str | None = None, role: str = "prod") -> str:
        """Iterated product of commuting scalars."""
        return self._add_node(name, "prod", args, role)

    def div(self, numerator: str, denominator: str, name: str | None = None, role: str = "div") -> str:
        return self._add_node(name, "div", (numerator, denominator), role)

    def lookup(self, arg: str, stages: Iterable[Stage], name: str | None = None, role: str = "lookup") -> str:
        """Any function of one value, given as stages (f, scale) applied in order."""
        return self._add_node(name, "lookup", (arg,), role, gate_extra("lookup", stages=stages))

    def cmp(self, a: str, b: str, relation: str = ">=", name: str | None = None, role: str = "cmp") -> str:
        if relation not in (">=", ">"):
            raise ValueError("relation must be '>=' or '>'")
        return self._add_node(name, "cmp", (a, b), role, {K.CMP: relation})

    def max(self, args: Sequence[str], name: str | None = None, role: str = "max") -> str:
        return self._add_node(name, "max", args, role)

    def measurement(self, precision_bits: int):
        """The circuit's `Measurement` from the running tallies (no graph is built)."""
        from tc0lab.circuit.measure import measurement_from_tallies
        return measurement_from_tallies(precision_bits, max(self._depth_arithmetic, default=0),
                                        max(self._depth_threshold, default=0), self.fan_in, self.edges, len(self.ids))

    def graph(self) -> nx.DiGraph:
        """The circuit as an nx.DiGraph (nodes in insertion order, which is topological).

        The adjacency dicts are filled directly rather than through add_edges_from: this is
        the hot path of large compiles. Operands were checked when each gate was added, so
        node order is a topological order; the graph attribute TOPOLOGICAL tells `measure`
        it may rely on it.
        """
        successors: dict = {node: {} for node in self.attributes}
        predecessors: dict = {}
        for node, attrs in self.attributes.items():
            incoming: dict = {}
            for arg in attrs[K.ARGS]:
                if arg not in incoming:
                    incoming[arg] = successors[arg][node] = {}
            predecessors[node] = incoming
        graph = nx.DiGraph()
        graph._node.update(self.attributes)
        graph._succ.update(successors)
        graph._pred.update(predecessors)
        graph.graph[K.TOPOLOGICAL] = True
        return graph
