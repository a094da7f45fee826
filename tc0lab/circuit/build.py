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
"""
from __future__ import annotations

from typing import Iterable, Sequence

import networkx as nx

from tc0lab.circuit import nodes as K

Stage = tuple[str, float]  # (function name, scale): value -> f(scale * value)


class CircuitBuilder:
    """Accumulates gates; `graph()` materialises the networkx DiGraph."""

    def __init__(self) -> None:
        self.attributes: dict[str, dict] = {}
        self.layer = 0
        self.t: int | None = None
        self._anonymous = 0

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

    def _add_node(self, name: str | None, op: str, args: Sequence[str], role: str, extra: dict | None = None) -> str:
        # operands are checked in graph(), where building the adjacency finds them for free
        node = self._name(name, role) if name is None else name
        known = self.attributes
        if node in known:
            return node
        attributes = {K.OP: op, K.ARGS: tuple(args), K.LAYER: self.layer, K.T: self.t, K.ROLE: role}
        if extra:
            attributes.update(extra)
        known[node] = attributes
        return node

    def has(self, name: str) -> bool:
        return name in self.attributes

    # sources
    def input(self, t: int, i: int) -> str:
        """Coordinate i of token t (1-based t), read from inputs[t - 1, i]."""
        name = f"x[t={t},i={i}]"
        if name not in self.attributes:
            self.attributes[name] = {K.OP: "input", K.ARGS: (), K.LAYER: 0, K.T: t, K.ROLE: "x",
                                     K.INDEX: (t, i)}
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
        extra = None
        if coeffs is not None and any(c != 1 for c in coeffs):
            if len(coeffs) != len(args) or any(c not in (1, -1) for c in coeffs):
                raise ValueError("add weights must be +1 or -1, one per operand")
            extra = {K.COEFFS: tuple(coeffs)}
        return self._add_node(name, "add", args, role, extra)

    def mul(self, a: str, b: str, name: str | None = None, role: str = "mul") -> str:
        return self._add_node(name, "mul", (a, b), role)

    def prod(self, args: Sequence[str], name: str | None = None, role: str = "prod") -> str:
        """Iterated product of commuting scalars."""
        return self._add_node(name, "prod", args, role)

    def div(self, numerator: str, denominator: str, name: str | None = None, role: str = "div") -> str:
        return self._add_node(name, "div", (numerator, denominator), role)

    def lookup(self, arg: str, stages: Iterable[Stage], name: str | None = None, role: str = "lookup") -> str:
        """Any function of one value, given as stages (f, scale) applied in order."""
        return self._add_node(name, "lookup", (arg,), role, {K.FN: tuple(stages)})

    def cmp(self, a: str, b: str, relation: str = ">=", name: str | None = None, role: str = "cmp") -> str:
        if relation not in (">=", ">"):
            raise ValueError("relation must be '>=' or '>'")
        return self._add_node(name, "cmp", (a, b), role, {K.CMP: relation})

    def max(self, args: Sequence[str], name: str | None = None, role: str = "max") -> str:
        return self._add_node(name, "max", args, role)

    def graph(self) -> nx.DiGraph:
        """The circuit as an nx.DiGraph (nodes in insertion order, which is topological).

        The adjacency dicts are filled directly rather than through add_edges_from: this is
        the hot path of large compiles. Filling them in insertion order also checks that
        every operand was added before the gate that reads it, so node order is a
        topological order; the graph attribute TOPOLOGICAL tells `measure` it may rely on it.
        """
        successors: dict = {}
        predecessors: dict = {}
        for node, attrs in self.attributes.items():
            incoming: dict = {}
            for arg in attrs[K.ARGS]:
                if arg not in incoming:
                    edge: dict = {}
                    incoming[arg] = edge
                    try:
                        successors[arg][node] = edge
                    except KeyError:
                        raise ValueError(f"gate {node!r} reads {arg!r}, which was not added before it") from None
            predecessors[node] = incoming
            successors[node] = {}
        graph = nx.DiGraph()
        graph._node.update(self.attributes)
        graph._succ.update(successors)
        graph._pred.update(predecessors)
        graph.graph[K.TOPOLOGICAL] = True
        return graph
