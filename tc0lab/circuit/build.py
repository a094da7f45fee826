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
decays, kernel terms, attention scores, token programs at every position): the same gates as
one call per gate, without the per-call overhead. It returns the gates' indices, and any
gate may read an earlier gate by name or by index; the names of bulk gates are made only
when the graph is built (a repeated name is then an error). Build + measure is about three
times faster than materialising and measuring the nx.DiGraph (bench/bench_compile.py).
"""
from __future__ import annotations

from array import array
from collections import Counter
from itertools import chain
from typing import Callable, Iterable, Sequence

import networkx as nx
import numpy as np

from tc0lab.circuit import nodes as K
from tc0lab.circuit.cost import gate_depths

SMALL_BLOCK = 24  # below this many gates, add_gates adds them one by one (measured: faster)

Stage = tuple[str, float]  # (function name, scale): value -> f(scale * value)
_NO_EXTRA: dict = {}  # shared, never mutated: the extra attributes of most gates


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


Node = str | int  # a gate's handle: its name, or the index `add_gates` returned for it
Names = Sequence[str] | Callable[[], Sequence[str]]  # names, or a function making them when first needed


class CircuitBuilder:
    """Accumulates gates; `graph()` materialises the networkx DiGraph."""

    def __init__(self) -> None:
        self.layer = 0
        self.t: int | None = None
        self._anonymous = 0
        self.ids: dict[str, int] = {}  # gate name -> index (gates from add_gates: once named)
        # one entry per gate added alone, one per add_gates block, in insertion order:
        # ("gate", index, op, operand indices, layer, t, role, extra, name)
        # ("block", first index, op, operand indices (gates x arity), layer, ts, role, extra, names)
        self._entries: list[tuple] = []
        self._count = 0
        self._named: list[str] | None = None  # every gate's name by index, once materialised
        self._ordered: dict[str, dict] | None = None
        # running measurements by index (see the module docstring)
        self._depth_arithmetic = array("q")
        self._depth_threshold = array("q")
        self.fan_in: Counter = Counter()  # (op, number of operands) -> gates
        self.edges = 0

    def __len__(self) -> int:
        return self._count

    def _index(self, node: Node) -> int:
        if node.__class__ is int:
            if not 0 <= node < self._count:
                raise ValueError(f"no gate with index {node}")
            return node
        return self.ids[node]

    def names(self) -> list[str]:
        """Every gate's name, by index (block names are made here the first time)."""
        if self._named is None or len(self._named) != self._count:
            named: list = [None] * self._count
            for entry in self._entries:
                if entry[0] == "gate":
                    named[entry[1]] = entry[8]
                else:
                    made = entry[8]() if callable(entry[8]) else entry[8]
                    if len(made) != len(entry[3]):
                        raise ValueError(f"add_gates: {len(made)} names for {len(entry[3])} gates")
                    named[entry[1]:entry[1] + len(made)] = made
            if len(set(named)) != len(named):
                duplicate = next(name for name, count in Counter(named).items() if count > 1)
                raise ValueError(f"two gates are named {duplicate!r}")
            self.ids.update(zip(named, range(len(named))))
            self._named = named
        return self._named

    def indices(self, rows: Sequence[Sequence[Node | None]], missing: int = -1) -> np.ndarray:
        """An int64 array of gate indices for rows of handles (None -> `missing`)."""
        return np.array([[missing if node is None else self._index(node) for node in row] for row in rows],
                        dtype=np.int64).reshape(len(rows), -1)

    def name_of(self, node: Node) -> str:
        return node if node.__class__ is str else self.names()[node]

    @property
    def attributes(self) -> dict[str, dict]:
        """Every gate's attribute dict by name, in insertion order (a topological order)."""
        if self._ordered is not None and len(self._ordered) == self._count:
            return self._ordered
        named = self.names()
        ordered: dict[str, dict] = {}
        for kind, first, op, operands, layer, t, role, extra, _ in self._entries:
            if kind == "gate":
                ordered[named[first]] = {K.OP: op, K.ARGS: tuple([named[i] for i in operands]), K.LAYER: layer, K.T: t,
                                         K.ROLE: role, **extra}
            else:
                ordered.update(zip(named[first:first + len(operands)],
                                   [{K.OP: op, K.ARGS: tuple([named[i] for i in row]), K.LAYER: layer, K.T: position,
                                     K.ROLE: role, **extra} for row, position in zip(operands.tolist(), t)]))
        self._ordered = ordered
        return ordered

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

    def _operand_indices(self, node: str, args: Sequence[Node]) -> list[int]:
        try:
            return [a if a.__class__ is int and 0 <= a < self._count else self.ids[a] for a in args]
        except KeyError:
            missing = next(a for a in args if not (a.__class__ is int and 0 <= a < self._count) and a not in self.ids)
            raise ValueError(f"gate {node!r} reads {missing!r}, which was not added before it") from None

    def _add_node(self, name: str | None, op: str, args: Sequence[Node], role: str, extra: dict | None = None) -> str:
        node = self._name(name, role) if name is None else name
        ids = self.ids
        if node in ids:
            return node
        index = self._count
        try:
            indices = [a if a.__class__ is int and 0 <= a < index else ids[a] for a in args]
        except KeyError:
            self._operand_indices(node, args)  # raises the missing-operand error
        deepest = None
        if indices:
            deepest = (max(map(self._depth_arithmetic.__getitem__, indices)),
                       max(map(self._depth_threshold.__getitem__, indices)))
            self.edges += len(set(indices)) if len(indices) > 1 else 1
        arithmetic, threshold = gate_depths(op, deepest)
        self._entries.append(("gate", index, op, indices, self.layer, self.t, role, extra or _NO_EXTRA, node))
        ids[node] = index
        self._count = index + 1
        self._depth_arithmetic.append(arithmetic)
        self._depth_threshold.append(threshold)
        key = (op, len(indices))
        self.fan_in[key] = self.fan_in.get(key, 0) + 1
        return node

    def add_gates(self, op: str, names: Names, args: Sequence[tuple[Node, ...]], ts: Sequence[int],
                  role: str, extra: dict | None = None) -> range:
        """Many new gates of one op, role, layer and extra attributes: gate i reads the tuple
        args[i] (names or indices of earlier gates) at position ts[i]; every gate has the same
        number of operands. Returns the gates' indices, which later gates may read.

        Equivalent to adding the gates one at a time, without the per-call overhead: depths are
        computed with numpy, and names (a list, or a function returning it, called only when the
        graph is built) and attribute dicts are only made when the graph is asked for. Names
        must be new; a repeated name is an error when the graph is built.
        """
        count = len(args)
        if not count:
            return range(self._count, self._count)
        if isinstance(ts, np.ndarray):
            ts = ts.tolist()
        if len(ts) != count or (not callable(names) and len(names) != count):
            raise ValueError("add_gates needs one operand tuple, one position and one name per gate")
        if isinstance(args, np.ndarray):  # already gate indices, one row per gate
            if args.ndim != 2 or args.shape[1] == 0:
                raise ValueError("add_gates needs one operand tuple per gate, all of the same length >= 1")
            operands, arity = args.astype(np.int64), args.shape[1]
            if count < SMALL_BLOCK:
                return self._add_one_by_one(op, names() if callable(names) else names, operands.tolist(), ts, role, extra)
        else:
            arity = len(args[0])
            if arity == 0 or set(map(len, args)) != {arity}:
                raise ValueError("add_gates needs one operand tuple per gate, all of the same length >= 1")
            if count < SMALL_BLOCK:  # numpy's per-call overhead would dominate: one gate at a time
                return self._add_one_by_one(op, names() if callable(names) else names, args, ts, role, extra)
            ids = self.ids
            flat = [a if a.__class__ is int else ids.get(a, -1) for a in chain.from_iterable(args)]
            operands = np.array(flat, dtype=np.int64).reshape(count, arity)
        total = self._count
        if operands.min() < 0 or operands.max() >= total:
            bad = next(i for i, row in enumerate(operands.tolist()) if min(row) < 0 or max(row) >= total)
            self._operand_indices(f"#{bad} of this block", list(args[bad]))  # raises the missing-operand error
            raise ValueError(f"gate #{bad} of this block reads a gate that does not exist")
        arithmetic, threshold = gate_depths(op, (np.frombuffer(self._depth_arithmetic, dtype=np.int64)[operands].max(axis=1),
                                                 np.frombuffer(self._depth_threshold, dtype=np.int64)[operands].max(axis=1)))
        self._entries.append(("block", total, op, operands, self.layer, list(ts), role, extra or {}, names))
        self._count += count
        self._depth_arithmetic.frombytes(arithmetic.astype(np.int64).tobytes())
        self._depth_threshold.frombytes(threshold.astype(np.int64).tobytes())
        self.fan_in[op, arity] += count
        self.edges += count if arity == 1 else _distinct_per_row(operands)
        return range(total, total + count)

    def _add_one_by_one(self, op, names, args, ts, role, extra) -> range:
        first, position = self._count, self.t
        for name, operands, t in zip(names, args, ts):
            if name in self.ids:
                raise ValueError(f"add_gates: {name!r} already exists")
            self.t = t
            self._add_node(name, op, operands, role, extra)
        self.t = position
        return range(first, self._count)

    def fresh_names(self, role: str, ts: Sequence[int]) -> Callable[[], list[str]]:
        """Anonymous names for gates of `role` at positions ts (as `_name` would give one by one),
        made when first needed."""
        first, layer = self._anonymous + 1, self.layer
        self._anonymous += len(ts)
        return lambda: [f"L{layer}.{role}[t={t}]#{first + i}" for i, t in enumerate(ts)]

    def has(self, name: str) -> bool:
        if name not in self.ids:
            self.names()  # bulk gates are named (and entered in `ids`) on first need
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
    def add(self, args: Sequence[Node], coeffs: Sequence[int] | None = None, name: str | None = None,
            role: str = "add") -> str:
        """Iterated sum; optional +1/-1 weights per operand."""
        if not args:
            raise ValueError("add needs at least one operand")
        if coeffs is not None and len(coeffs) != len(args):
            raise ValueError("add weights must be +1 or -1, one per operand")
        return self._add_node(name, "add", args, role, gate_extra("add", coeffs=coeffs))

    def mul(self, a: Node, b: Node, name: str | None = None, role: str = "mul") -> str:
        return self._add_node(name, "mul", (a, b), role)

    def prod(self, args: Sequence[Node], name: str | None = None, role: str = "prod") -> str:
        """Iterated product of commuting scalars."""
        return self._add_node(name, "prod", args, role)

    def div(self, numerator: Node, denominator: Node, name: str | None = None, role: str = "div") -> str:
        return self._add_node(name, "div", (numerator, denominator), role)

    def lookup(self, arg: Node, stages: Iterable[Stage], name: str | None = None, role: str = "lookup") -> str:
        """Any function of one value, given as stages (f, scale) applied in order."""
        return self._add_node(name, "lookup", (arg,), role, gate_extra("lookup", stages=stages))

    def cmp(self, a: Node, b: Node, relation: str = ">=", name: str | None = None, role: str = "cmp") -> str:
        if relation not in (">=", ">"):
            raise ValueError("relation must be '>=' or '>'")
        return self._add_node(name, "cmp", (a, b), role, {K.CMP: relation})

    def max(self, args: Sequence[Node], name: str | None = None, role: str = "max") -> str:
        return self._add_node(name, "max", args, role)

    def measurement(self, precision_bits: int):
        """The circuit's `Measurement` from the running tallies (no graph is built)."""
        from tc0lab.circuit.measure import measurement_from_tallies
        return measurement_from_tallies(precision_bits, max(self._depth_arithmetic, default=0),
                                        max(self._depth_threshold, default=0), self.fan_in, self.edges, self._count)

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
