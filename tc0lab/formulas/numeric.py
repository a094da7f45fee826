"""Exact formulas in n and p for one concrete stack, and the result type every formula path returns.

`numeric_formulas(stack)` gives arithmetic depth, threshold depth, gates by op, edges, nodes
and threshold gates of `compile_circuit(stack, n)` at precision p, for every n >= 1, without
building the circuit at that n. What is derived and what is measured:

  derived   the n-dependence, from each construction's loops (`counts.py`): sums over t and
            (t, j), Sklansky's popcount(i) compositions per position, kernel lags, sharing
            (prefix sums per distinct base, decays per distinct key, one const per (lag, o, i));
            the structural zeros come from the spec's matrices; threshold gates sum the cost
            model's size at each family's fan-in. Depth: the growth G(n) of the deepest path
            (`depth.py`).
  measured  the per-token work (the spec's own expressions, compiled once per position) and
            the per-layer shared constants, read from the stack compiled at n = 1 and 2
            (`read_small`); the depth at n = 1 and 2 (the offsets of the depth formula).
            Depth at n = 3 is measured too and checked against the formula (for stacks of
            constant-depth layers, at every n up to L + 2: their growth saturates at L + 1).
"""
from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field

import sympy

from tc0lab.circuit import nodes as K
from tc0lab.compiler.compiling import compile_circuit, construction_for
from tc0lab.compiler.expr_to_gates import bind
from tc0lab.compiler.recurrence_terms import bind_recurrence
from tc0lab.formulas import counts
from tc0lab.formulas.depth import (BOUNDARY_CHECK, DEPTH_KIND, checked_lengths, growth, prefix_depths,
                                   saturated_depth, stack_depth, unit_depths)
from tc0lab.formulas.symbols import FormulaUnsupported, n, p
from tc0lab.spec.recurrence import Stack

TOKEN_ROLES = ("sum", "mul", "f")  # roles of the gates ExpressionCompiler makes for a token's expressions
SHARED_CONSTANT_ROLE = "const"  # ExpressionCompiler.const: one per distinct value per layer


@dataclass
class StackFormulas:
    """Exact formulas for one stack (or, from zoo_formulas, one architecture); evaluate with `at`."""

    depth_arithmetic: sympy.Expr
    depth_threshold: sympy.Expr
    gates_by_op: dict[str, sympy.Expr]
    edges: sympy.Expr
    threshold_gates: sympy.Expr
    nodes: sympy.Expr
    layers: int | None
    d_model: int | None
    constructions: list[str]
    provenance: str
    symbols: dict[str, sympy.Symbol] = field(default_factory=lambda: {"n": n, "p": p})
    general: "StackFormulas | None" = None  # the same stack's formulas in n, L, d, N, p (zoo stacks)
    minimum: tuple[int, int] = (1, 1)  # smallest (d, N) where formulas in d and N hold

    def at(self, length: int, precision_bits: int, layers: int | None = None, d_model: int | None = None,
           d_state: int | None = None) -> dict:
        """Integer values at n = length and p = precision_bits (same keys as a Measurement).

        layers, d_model and d_state are needed only by formulas that have L, d, N as symbols.
        """
        if length < 1 or precision_bits < 1:
            raise ValueError(f"need n >= 1 and precision >= 1 bit, got n={length}, p={precision_bits}")
        values = {n: sympy.Integer(length), p: sympy.Integer(precision_bits)}
        values.update(self._sizes(layers, d_model, d_state))

        def value(expr: sympy.Expr) -> int | None:
            if expr is sympy.nan:  # depth of trees feeding chains: not derived (None, see provenance)
                return None
            return int(expr.xreplace(values).doit())

        gates = {op: value(expr) for op, expr in sorted(self.gates_by_op.items())}
        return {"precision_bits": precision_bits,
                "depth_arithmetic": value(self.depth_arithmetic), "depth_threshold": value(self.depth_threshold),
                "gates_by_op": {op: c for op, c in gates.items() if c}, "threshold_gates": value(self.threshold_gates),
                "edges": value(self.edges), "nodes": value(self.nodes)}

    def nodes_at(self, length: int, layers: int | None = None, d_model: int | None = None,
                 d_state: int | None = None) -> int:
        """Only the node count at n = length (what a size check before building needs)."""
        values = {n: sympy.Integer(length), p: sympy.Integer(1)}
        values.update(self._sizes(layers, d_model, d_state))
        return int(self.nodes.xreplace(values).doit())

    def _sizes(self, layers: int | None, d_model: int | None, d_state: int | None) -> dict:
        given = {"L": layers, "d": d_model, "N": d_state}
        lowest = {"L": 1, "d": self.minimum[0], "N": self.minimum[1]}
        sizes = {}
        for name, symbol in self.symbols.items():
            if name in given:
                if given[name] is None:
                    raise ValueError(f"these formulas have {name} as a symbol: pass it to at()")
                if given[name] < lowest[name]:
                    raise ValueError(f"{name}={given[name]} is outside the derived domain {name} >= {lowest[name]}")
                sizes[symbol] = sympy.Integer(given[name])
        return sizes

    def as_strings(self) -> dict[str, str]:
        """The formulas as text: the general ones (n, L, d, N, p) when attached, else these."""
        if self.general is not None:
            return self.general.as_strings()
        strings = {"depth_arithmetic": str(self.depth_arithmetic), "depth_threshold": str(self.depth_threshold),
                   "edges": str(self.edges), "threshold_gates": str(self.threshold_gates), "nodes": str(self.nodes)}
        strings.update({f"gates[{op}]": str(expr) for op, expr in sorted(self.gates_by_op.items())})
        return strings


@dataclass
class SmallCircuits:
    """What is read off the stack compiled at n = 1, 2, 3."""

    tokens: dict  # (layer, t) -> (Counter of (op, fan-in), edges) of per-token gates, t in {1, 2}
    shared_constants: dict  # (layer, n) -> count of per-layer shared constants, n in {1, 2}
    depth: dict  # n -> [(arithmetic, threshold) of the first l layers for l = 0..L]


@functools.lru_cache(maxsize=64)
def read_small(stack: Stack) -> SmallCircuits:
    tokens: dict = {}
    shared: Counter = Counter()
    depth = {}
    for length in (1, 2, 3):
        graph = compile_circuit(stack, length).graph
        depth[length] = prefix_depths(graph)
        if length == 3:
            continue
        for node, attrs in graph._node.items():
            role, layer = attrs[K.ROLE], attrs[K.LAYER]
            if role == SHARED_CONSTANT_ROLE and attrs[K.OP] == "const":
                shared[layer, length] += 1
            elif length == 2 and role in TOKEN_ROLES:
                histogram, edges = tokens.setdefault((layer, attrs[K.T]), (Counter(), [0]))
                histogram[attrs[K.OP], len(attrs[K.ARGS])] += 1
                edges[0] += len(set(attrs[K.ARGS]))
    return SmallCircuits({key: (h, e[0]) for key, (h, e) in tokens.items()}, dict(shared), depth)


@functools.lru_cache(maxsize=64)
def measured_depths(stack: Stack, lengths: tuple[int, ...]) -> dict:
    """n -> the depth of every layer prefix (`prefix_depths`) of the stack compiled at n: n = 1, 2, 3
    (`read_small`) and the further `lengths` a depth formula is checked on."""
    further = {length: prefix_depths(compile_circuit(stack, length).graph) for length in lengths if length > 3}
    return {**read_small(stack).depth, **further}


COUNTED = frozenset({"lti-kernel", "diagonal-decay", "scan-tree", "sequential-chain", "softmax-attention"})  # in counts.py
_TALLY = {counts.DiagonalShape: counts.diagonal, counts.ScanShape: counts.scan_tree,
          counts.ChainShape: counts.chain, counts.AttentionShape: counts.attention}


def mixer_shape(block, values: dict, construction: str):
    """The numeric shape of the sequence construction (and, for LTI with C(x), its output rows)."""
    mixer = block.mixer
    if construction == "softmax-attention":
        query, key, value = (bind(list(matrix), values) for matrix in (mixer.query, mixer.key, mixer.value))
        return counts.attention_shape(query, key, value, mixer.causal), None
    bound = bind_recurrence(mixer, values)
    if construction == "lti-kernel":
        return counts.fixed_shape(bound, mixer.d_in)
    derive = {"diagonal-decay": counts.diagonal_shape, "scan-tree": counts.scan_tree_shape,
              "sequential-chain": counts.chain_shape}
    return derive[construction](bound), None


def mixer_tally(shape, rows) -> tuple[counts.Tally, sympy.Expr]:
    """Derived gates of the sequence construction (no per-token work), and its own constants."""
    if isinstance(shape, counts.KernelShape):
        return counts.fixed(shape, rows)
    return _TALLY[type(shape)](shape)


def _layer_tally(stack: Stack, layer: int, small: SmallCircuits, construction: str) -> counts.Tally:
    block, values = stack.blocks[layer - 1], stack.values[layer - 1]
    tally, constants = mixer_tally(*mixer_shape(block, values, construction))
    empty = (Counter(), 0)
    first, later = small.tokens.get((layer, 1), empty), small.tokens.get((layer, 2), empty)
    tally.add_histogram(*first, times=1)
    tally.add_histogram(*later, times=n - 1)
    shared_1, shared_2 = small.shared_constants.get((layer, 1), 0), small.shared_constants.get((layer, 2), 0)
    tally.gates["const"] += constants + shared_1 + (shared_2 - shared_1) * counts.AT_LEAST_2
    return tally


def input_tally(width: sympy.Expr, positions: str | None) -> counts.Tally:
    tally = counts.Tally()
    tally.add("input", n * width, 0)
    if positions == "sinusoidal":
        tally.add("const", n * width, 0)  # pos[t, i]: one named constant per position and coordinate
        tally.add("add", n * width, 2)  # x + pos
    return tally


def _numeric(stack: Stack, small: SmallCircuits, constructions: list[str]) -> StackFormulas:
    total = input_tally(stack.d, stack.positions)
    for layer, construction in enumerate(constructions, start=1):
        total.merge(_layer_tally(stack, layer, small, construction))
    kinds = tuple(DEPTH_KIND[c] for c in constructions)
    unit_arithmetic, unit_threshold = unit_depths(stack.blocks, constructions)
    if set(kinds) == {"mix"}:
        measured = measured_depths(stack, checked_lengths(kinds))
        depth_a, depth_t = (saturated_depth({length: prefixes[-1][which] for length, prefixes in measured.items()},
                                            stack.layers, n) for which in (0, 1))
        ok_a = ok_t = sympy.nan not in (depth_a, depth_t)
    else:
        depth_a, ok_a = stack_depth(small.depth, growth(kinds, unit_arithmetic, n), 0, n)
        depth_t, ok_t = stack_depth(small.depth, growth(kinds, unit_threshold, n), 1, n)
    if not (ok_a and ok_t):  # a depth that disagrees with the circuit at n = 3 is not given at all
        depth_a = depth_t = sympy.nan
    gates = {op: sympy.expand(expr) for op, expr in total.gates.items() if expr != 0}
    nodes = sympy.expand(sum(gates.values(), sympy.Integer(0)))
    return StackFormulas(depth_a, depth_t, gates, sympy.expand(total.edges), sympy.expand(total.threshold),
                         nodes, stack.layers, stack.d, constructions, _provenance(kinds, ok_a and ok_t))


def _provenance(kinds: tuple[str, ...], depth_checked: bool) -> str:
    growth_text = {"mix": "saturating by n = L + 1 (a position moved back per layer)",
                   "tree": "c * path_units(n) (Sklansky compositions)",
                   "chain": "s * n (loop steps)"}
    parts = ", ".join(f"L{l}: {growth_text[k]}" for l, k in enumerate(kinds, start=1))
    checked = f"n=3..{max(3, len(kinds) + BOUNDARY_CHECK)}" if set(kinds) == {"mix"} else "n=3"
    depth_note = (f"depth at {checked} measured and equal to the formula" if depth_checked
                  else "WARNING: the depth formula is not derived or disagrees with the circuit at n=3, so no depth "
                       "is given (None)")
    return ("sizes: n-dependence derived from each construction's loops and the spec's structural zeros; "
            "per-token gates and per-layer constants measured on the stack compiled at n=1,2; "
            f"depth: d(1), d(2) measured, growth derived per layer ({parts}); {depth_note}")


def constructions_of(stack: Stack) -> list[str]:
    """Each layer's construction (a key of compiling.CONSTRUCTIONS)."""
    return [construction_for(block.mixer, values) for block, values in zip(stack.blocks, stack.values)]


def numeric_formulas(stack: Stack) -> StackFormulas:
    """Exact formulas in n and p for this stack (see the module docstring); every layer's construction COUNTED."""
    constructions = constructions_of(stack)
    uncounted = sorted(set(constructions) - COUNTED)
    if uncounted:
        raise FormulaUnsupported(f"no size or depth formula is derived for the {', '.join(uncounted)} construction "
                                 "from its loops (tc0lab.formulas.fitted interpolates one in n)")
    return _numeric(stack, read_small(stack), constructions)
