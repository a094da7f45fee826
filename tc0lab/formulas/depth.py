"""Depth of a compiled stack as a function of n: the longest path through the sequence constructions.

Every path of a compiled stack climbs the layers in order; inside a layer it moves between
positions only through the mixer. Per layer, what the mixer adds to a path that enters at
position j and leaves at position i >= j is (derived from the construction's loop):

    constant depth   lti-kernel, diagonal-decay, softmax-attention, ...: ('mix') the output at
                     i sees every j <= i through one fixed-depth gadget, s deep from j = i and m
                     from any j < i (a decay product, or the token shift x_(i-1), on the way),
                     and position 1 has no earlier j at all. A path through L such layers
                     therefore moves back one position in at most min(i - 1, L) of them, each
                     adding c = m - s: G(n) = c * min(n - 1, L), constant from n = L + 1 on
                     (c is measured: the 2-layer depth at n = 3 minus n = 2; c = 0 for most)
    scan-tree        c per composition passed, c = depth(mul) + depth(add); in Sklansky's tree
                     a path from element j to prefix i passes through h(j -> i) compositions
                     (at level l it composes when its position has bit l set, or when it
                     jumps from the last position of a left half into the right half)
    sequential-chain s per step (i - j steps), s = depth of one loop iteration
                     (mul by A, add, lookup of the nonlinearity)

So for n >= 2, depth(n) = depth(2) + G(n) - G(2) with G the growth derived here (checked on
circuits built at n = 3 and, for constant-depth layers, up to n = L + BOUNDARY_CHECK), and the
per-token constants (the depth of the maps before and after each mixer, and the boundary at
position 1) are read from circuits compiled at n = 1, 2 (measured). For stacks of scan trees
and constant-depth mixers, G(n) = c * path_units(n) where path_units is the largest number
of compositions on a chain of paths through the stacked trees ending at a position < n,
computed exactly by a recursion over the set bits of n - 1 (`stacked_tree_units`, O(L log n)).
For L identical scan-tree layers with L a symbol, `scan_units(n, L)` is the same number.
`prefix_depths(graph)` measures the depth of every layer prefix of one compiled stack (the
zoo formulas fit depth = a + b L on them).
"""
from __future__ import annotations

import sympy

from tc0lab.circuit import nodes as K
from tc0lab.circuit.cost import GATE_DEPTH
from tc0lab.circuit.measure import node_depths
from tc0lab.formulas.symbols import FormulaUnsupported

NEG = float("-inf")
# how each construction's depth grows with n: constant ('mix'), per composition ('tree'), per step ('chain')
DEPTH_KIND = {"lti-kernel": "mix", "diagonal-decay": "mix", "softmax-attention": "mix", "triangular": "mix",
              "diagonalised": "mix", "memoryless": "mix", "scan-tree": "tree", "sequential-chain": "chain",
              "state-chain": "chain"}


def stacked_tree_units(kinds: tuple[str, ...], n: int) -> int:
    """Max over positions i < n and chains of paths of the compositions passed (units).

    kinds[l] is 'tree' (Sklansky scan tree) or 'mix' (a constant-depth causal mixer).
    Recursion on the top bit of the remaining range: positions below 2^k form a full block
    whose last position is the deepest (every layer passes k compositions there); positions
    >= 2^k pass the level-k composition, which brings in the left block as a floor, and the
    remainder is the same problem on n - 2^k positions with those floors (shifted).
    Checked against brute force over all paths (tests/test_formulas.py).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    layers = len(kinds)
    floors = [0.0] + [NEG] * layers  # floors[0]: the stack's inputs, depth 0 everywhere
    offset, best, remaining = 0, NEG, n - 1
    while remaining:
        k = remaining.bit_length() - 1
        before = [0.0] * (layers + 1)  # value at the block's last position before the floor
        after = [floors[0]] + [0.0] * layers
        for l, kind in enumerate(kinds, start=1):
            before[l] = after[l - 1] + (k if kind == "tree" else 0)
            after[l] = max(floors[l], before[l])
        best = max(best, offset + after[layers])
        shift, new_floors = 0, [0.0] * (layers + 1)
        for l, kind in enumerate(kinds, start=1):
            if kind == "tree":
                shift += 1
                new_floors[l] = max(floors[l], 1 + before[l]) - shift
            else:
                new_floors[l] = max(floors[l], after[l - 1]) - shift
        offset += shift
        floors = new_floors
        remaining -= 1 << k
    value = floors[0]
    for l in range(1, layers + 1):
        value = max(floors[l], value)
    return int(max(best, offset + value))


def tree_units_function(kinds: tuple[str, ...]) -> type[sympy.Function]:
    """A sympy function path_units(n) for this sequence of layer kinds (exact at integers)."""

    class path_units(sympy.Function):  # noqa: N801 - reads like the math in formula strings
        """Compositions on the deepest chain of scan-tree paths (see stacked_tree_units)."""

        nargs = 1
        layer_kinds = kinds

        @classmethod
        def eval(cls, n):
            if n.is_Integer:
                return sympy.Integer(stacked_tree_units(cls.layer_kinds, int(n)))
            return None

    return path_units


class scan_units(sympy.Function):  # noqa: N801 - reads like the math in formula strings
    """scan_units(n, L): path_units(n) of L stacked scan trees (stacked_tree_units), exact at integers."""

    nargs = 2

    @classmethod
    def eval(cls, n, layers):
        if n.is_Integer and layers.is_Integer:
            return sympy.Integer(stacked_tree_units(("tree",) * int(layers), int(n)))
        if n == 1:
            return sympy.Integer(0)
        if n == 2:  # one composition per tree: at most 1 per layer, and position 2 passes it in every layer
            return layers
        return None


def prefix_depths(graph) -> list[tuple[int, int]]:
    """(arithmetic, threshold) depth of the first l layers, for l = 0..L (`measure.node_depths`).

    The first l layers of a compiled stack are exactly the nodes with layer <= l (layers
    only read earlier layers), so one pass over a compiled L-layer stack measures the
    depth of every shorter stack with the same blocks and values.
    """
    deepest: dict = {}
    for node, a, t in node_depths(graph):
        best = deepest.setdefault(graph._node[node][K.LAYER], [0, 0])
        best[0], best[1] = max(best[0], a), max(best[1], t)
    result, running = [], (0, 0)
    for layer in range(max(deepest, default=0) + 1):
        best = deepest.get(layer, (0, 0))
        running = (max(running[0], best[0]), max(running[1], best[1]))
        result.append(running)
    return result


def growth(kinds: tuple[str, ...], per_unit: dict[str, int], n: sympy.Symbol) -> sympy.Expr | None:
    """G(n): the n-dependent part of the depth, or None when no exact form is derived.

    kinds[l] in {'mix', 'tree', 'chain'}; per_unit maps 'tree' to the depth per composition
    and 'chain' to the largest depth per loop step among the chain layers. Stacks of constant-depth
    layers only: `saturated_depth`.
    """
    if "tree" in kinds and "chain" in kinds:
        return None  # trees feeding chains: not derived (see the report)
    if "chain" in kinds:
        return per_unit["chain"] * n  # the deepest path runs the whole chain: s per step
    if "tree" in kinds:
        return per_unit["tree"] * tree_units_function(tuple(k if k == "tree" else "mix" for k in kinds))(n)
    return None


def saturated_depth(measured: dict[int, int], layers: int, n: sympy.Symbol) -> sympy.Expr:
    """The depth of L constant-depth layers of any kinds from its values measured at n = 1 .. L + BOUNDARY_CHECK:
    d(2) + c * (min(n - 1, K) - 1) when it grows by one c per length up to K + 1 (the layers' gains are equal),
    else the measured value at each n <= L and d(L + 1) beyond; nan when it still changes after n = L + 1
    (the derivation above does not hold for these layers)."""
    top = layers + BOUNDARY_CHECK
    values = [measured[length] for length in range(1, top + 1)]
    if len(set(values[layers:]) | {value for length, value in measured.items() if length > top}) != 1:
        return sympy.nan
    steps = [b - a for a, b in zip(values[1:], values[2:])]
    rises = [step for step in steps if step]
    saturation = len(rises)
    if len(set(rises)) > 1 or steps[:saturation] != rises:
        return sympy.Piecewise(*[(values[k - 1], sympy.Eq(n, k)) for k in range(1, layers + 1)], (values[layers], True))
    later = sympy.Integer(values[1]) + (rises[0] * (sympy.Min(n - 1, saturation + 1) - 1) if rises else 0)
    return later if later.subs(n, 1) == values[0] else sympy.Piecewise((values[0], sympy.Eq(n, 1)), (later, True))


def uniform_growth(kind: str, unit: int, n: sympy.Symbol, layers: sympy.Expr) -> sympy.Expr:
    """G(n, L) for L identical layers of one kind (unit: depth per composition, step or position moved back)."""
    if kind == "tree":
        return unit * scan_units(n, layers)
    if kind == "chain":
        return unit * n
    return sympy.Integer(0) if unit == 0 or layers == 1 else unit * sympy.Min(n - 1, layers)  # n >= 2: 1 at L = 1


BOUNDARY_CHECK = 2  # constant-depth stacks: the depth formula is checked on circuits up to n = L + this


def checked_lengths(kinds: tuple[str, ...]) -> tuple[int, ...]:
    """Lengths beyond n = 3 whose circuits a depth formula of these layers is checked on: up to L + BOUNDARY_CHECK
    for constant-depth layers (where the growth saturates, and past it), none for the others."""
    return tuple(range(4, len(kinds) + BOUNDARY_CHECK + 1)) if set(kinds) == {"mix"} else ()


def boundary_units(depth: dict) -> tuple[int, int]:
    """(arithmetic, threshold) c of constant-depth layers, measured: the depth of the first two layers at
    n = 3 minus that at n = 2 (0 for a one-layer stack, where min(n - 1, L) - 1 is 0 from n = 2 on)."""
    if len(depth[2]) < 3:
        return 0, 0
    return depth[3][2][0] - depth[2][2][0], depth[3][2][1] - depth[2][2][1]


def unit_depths(blocks, constructions: list[str]) -> tuple[dict, dict]:
    """Depth added per scan-tree composition and per chain step (arithmetic, threshold).

    A composition is a 'mul' then an 'add'; a chain step multiplies by A (when A has a
    non-zero entry), adds, and applies the nonlinearity (when there is one).
    """
    weight = GATE_DEPTH
    arithmetic = {"tree": 2, "chain": 0}
    threshold = {"tree": weight["mul"] + weight["add"], "chain": 0}
    for block, construction in zip(blocks, constructions):
        if construction == "state-chain":
            step = measured_step_depth(block)
            arithmetic["chain"], threshold["chain"] = max(arithmetic["chain"], step[0]), max(threshold["chain"], step[1])
        if construction != "sequential-chain":
            continue
        recurrent = any(e != 0 for e in block.mixer.A)
        squash = block.mixer.nonlinearity is not None
        arithmetic["chain"] = max(arithmetic["chain"], recurrent + 1 + squash)
        threshold["chain"] = max(threshold["chain"], recurrent * weight["mul"] + weight["add"] + squash * weight["lookup"])
    return arithmetic, threshold


STEP_LENGTHS = (8, 9, 10)  # a state update's chain is measured at these lengths


def measured_step_depth(block) -> tuple[int, int]:
    """(arithmetic, threshold) depth one step of a general state update adds, measured: the layer is
    built at consecutive lengths and must grow by the same amount each time (a StateRecurrence's
    update is arbitrary expressions, so no rule counts it; the formulas are then checked against
    the built circuits like every other)."""
    import numpy as np

    from tc0lab.compiler.compiling import compile_circuit
    from tc0lab.spec import zoo
    from tc0lab.spec.recurrence import Stack
    stack = Stack((block,), (zoo.random_values(block, np.random.default_rng(0)),))
    measured = [compile_circuit(stack, length).measure() for length in STEP_LENGTHS]
    steps = {(b.depth_arithmetic - a.depth_arithmetic, b.depth_threshold - a.depth_threshold)
             for a, b in zip(measured, measured[1:])}
    if len(steps) != 1:
        raise FormulaUnsupported(f"the state update's depth does not grow by one amount per step at n = {STEP_LENGTHS}")
    return steps.pop()


def uniform_units(block, construction: str, depth: dict) -> tuple[int, int]:
    """(arithmetic, threshold) depth per composition, step or (constant-depth layers) position moved back
    of one layer kind; depth is the measured prefix depth table of a stack of such layers."""
    kind = DEPTH_KIND[construction]
    if kind == "mix":
        return boundary_units(depth)
    arithmetic, threshold = unit_depths([block], [construction])
    return arithmetic.get(kind, 0), threshold.get(kind, 0)


def stack_depth(measured: dict, grow: sympy.Expr | None, which: int, n: sympy.Symbol) -> tuple[sympy.Expr, bool]:
    """Piecewise(d(1) at n = 1; d(2) + G(n) - G(2) beyond), and whether every measured n >= 3 agrees.

    measured[length] lists the depth of every layer prefix (`prefix_depths`); which picks
    arithmetic (0) or threshold (1).
    """
    if grow is None:
        return sympy.nan, False
    total = {length: prefixes[-1] for length, prefixes in measured.items()}
    general = total[2][which] + grow - grow.subs(n, 2)
    formula = sympy.Piecewise((total[1][which], sympy.Eq(n, 1)), (general, True))
    return formula, all(int(general.subs(n, length)) == depth[which] for length, depth in total.items() if length >= 3)


# ---- L identical layers, L a symbol: depth a + b L at n = 1, 2, plus the growth ---------------

def layered_depth(kind: str, units: tuple[int, int], fits: tuple, which: int, n: sympy.Symbol,
                  layers: sympy.Symbol) -> sympy.Expr:
    """Piecewise(a_1 + b_1 L at n = 1; a_2 + b_2 L + G(n, L) - G(2, L) beyond)."""
    grow = uniform_growth(kind, units[which], n, layers)
    (a1, b1), (a2, b2) = fits[which]
    return sympy.Piecewise((a1 + b1 * layers, sympy.Eq(n, 1)), (a2 + b2 * layers + grow - grow.subs(n, 2), True))


def layered_depth_at(kind: str, units: tuple[int, int], fits: tuple, length: int, count: int,
                     n: sympy.Symbol, layers: sympy.Symbol) -> tuple[int, int]:
    """(arithmetic, threshold) of `layered_depth` at n = length and L = count."""
    values = {n: length, layers: count}
    return tuple(int(layered_depth(kind, units, fits, which, n, layers).xreplace(values).doit()) for which in (0, 1))


def fit_offsets(kind: str, units: tuple[int, int], depth: dict, n: sympy.Symbol, layers: sympy.Symbol) -> tuple:
    """((a_1, b_1), (a_2, b_2)) per measure (arithmetic, threshold): depth at n = 1, 2 is a + b L.

    depth[n][l] is the measured depth of the first l layers at n = 1, 2, 3 (and, for constant-depth
    layers, on to `checked_lengths`). a and b are fitted on l = 1, 2; the whole depth formula is
    then checked at every measured n on every prefix (so the affine form, and the growth per
    composition, step or position moved back, are checked).
    Raises FormulaUnsupported when a prefix disagrees.
    """
    fits = tuple(tuple(_affine([prefix[which] for prefix in depth[length][1:3]]) for length in (1, 2))
                 for which in (0, 1))
    for length, prefixes in depth.items():
        for count, measured in enumerate(prefixes[1:], start=1):
            if layered_depth_at(kind, units, fits, length, count, n, layers) != tuple(measured):
                raise FormulaUnsupported(f"the depth formula disagrees with the circuit at n={length}, L={count}")
    return fits


def _affine(series: list[int]) -> tuple[int, int]:
    """(a, b) with series[l - 1] = a + b l for l = 1, 2."""
    slope = series[1] - series[0]
    return series[0] - slope, slope
