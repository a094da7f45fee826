"""Formulas in n, L, d, N and p for the zoo: derived layer structure, L layers, measured depth offsets.

Assembles `sheets.py`'s per-layer derivation into `StackFormulas` whose symbols are n, L,
d, N and p (the transformer has no N):

  sizes  embedding + L * (mixer tally from the derived shape + n * per-token sheet +
         per-layer constants), with the same tally functions as the numeric formulas;
  depth  Piecewise(a_1 + b_1 L at n = 1; a_2 + b_2 L + G(n, L) - G(2, L) beyond), where
         G is the construction's growth (`depth.uniform_growth`) and a, b are
         measured on the layer prefixes l = 1, 2 of a compiled stack and checked on every
         further prefix (`depth_offsets`). s4 has two (d, N) regions (d <= N folds B into
         the kernel), each with its own sizes and measured depth.

`general_for(stack, ...)` decides whether a concrete stack is covered: it must be a zoo
stack within `sheets.min_sizes`, every layer's measured token gates, constants and
numeric mixer shape must equal the derived ones at its (d, N), and the depth of every layer
prefix at n = 1, 2, 3 must equal the formula. Otherwise `formulas_for` keeps its numeric
formulas, which are exact for that stack anyway.
"""
from __future__ import annotations

import functools

import sympy

from tc0lab.formulas import sheets as zoo_counts
from tc0lab.formulas.depth import DEPTH_KIND, fit_offsets, layered_depth, layered_depth_at, uniform_units
from tc0lab.formulas.numeric import SmallCircuits, StackFormulas, input_tally, mixer_shape, mixer_tally, read_small
from tc0lab.formulas.symbols import FormulaUnsupported, L, N, d, n, p
from tc0lab.spec import zoo
from tc0lab.spec.recurrence import Stack

REFERENCE_LAYERS = 3  # zoo_formulas measures depth offsets on 3 layers: 2 fit a + b L, 1 checks


def _zoo_sizes(stack: Stack) -> tuple[int, int] | None:
    """(d, N) of a zoo stack, or None when it is not built from zoo blocks."""
    if stack.arch not in zoo_counts.ARCHS or stack.arch not in zoo.ARCHS or stack.positions != (
            "sinusoidal" if stack.arch == "transformer" else None):
        return None
    width = stack.d
    mixer = stack.blocks[0].mixer
    if stack.arch == "transformer":
        return width, zoo_counts.min_sizes(stack.arch)[1]  # attention has no state; N does not occur
    state = mixer.A.shape[0]
    per_channel = zoo_counts.zoo_layers(stack.arch)[0][1].state_size.has(d)
    return (width, state // width) if per_channel else (width, state)


def _layer_matches(stack: Stack, small: SmallCircuits, constructions: list[str], sizes: tuple[int, int]) -> bool:
    """Every layer's measured token gates, constants and numeric shape equal the derived ones."""
    derived = zoo_counts.layer_at(stack.arch, *sizes)
    values = {d: sizes[0], N: sizes[1]}
    histogram = derived.token.histogram(values)
    constants = zoo_counts.evaluate(derived.token.constants, values)
    shape = zoo_counts.evaluate(derived.shape, values)
    for layer, construction in enumerate(constructions, start=1):
        if construction != derived.construction:
            return False
        tokens = [small.tokens.get((layer, t)) for t in (1, 2)]
        shared = [small.shared_constants.get((layer, length), 0) for length in (1, 2)]
        measured_shape, rows = mixer_shape(stack.blocks[layer - 1], stack.values[layer - 1], construction)
        if rows is not None or any(tok != histogram for tok in tokens) or shared != [constants] * 2:
            return False
        if zoo_counts.evaluate(measured_shape, {}) != shape:
            return False
    return True


def general_for(stack: Stack, small: SmallCircuits, constructions: list[str]) -> StackFormulas | None:
    """zoo formulas in n, L, d, N, p for this stack, or None when they do not provably apply."""
    sizes = _zoo_sizes(stack)
    if sizes is None or not zoo_counts.covers(stack.arch, *sizes):
        return None
    try:
        if not _layer_matches(stack, small, constructions, sizes):
            return None
        if stack.layers < 2:  # one layer cannot fit a + b L: the reference stacks give the depth
            return zoo_formulas(stack.arch) if _depth_agrees(stack.arch, sizes, small.depth) else None
        region = _region(stack.arch, sizes)
        offsets = _reference_offsets(stack.arch, skip=region)  # only s4 has another region
        offsets[region] = _depth_offsets(stack, constructions[0], small.depth)  # this stack's own layer prefixes
        source = f"this stack (L={stack.layers}, d={sizes[0]}, N={sizes[1]})"
        return _zoo_formulas(stack.arch, tuple(sorted(offsets.items())), source)
    except FormulaUnsupported:
        return None


def _depth_agrees(arch: str, sizes: tuple[int, int], depth: dict) -> bool:
    """The reference depth formula equals this stack's measured depth at n = 1, 2, 3."""
    layer = zoo_counts.layer_at(arch, *sizes)
    fits, units = _reference_offsets(arch)[_region(arch, sizes)]
    return all(layered_depth_at(DEPTH_KIND[layer.construction], units, fits, length, len(prefixes) - 1, n, L)
               == tuple(prefixes[-1]) for length, prefixes in depth.items())


def specialise(general: StackFormulas, stack: Stack) -> StackFormulas:
    """The general formulas at this stack's L, d, N: formulas in n and p only."""
    width, state = _zoo_sizes(stack)
    values = {L: stack.layers, d: width, N: state}

    def at_sizes(expr: sympy.Expr) -> sympy.Expr:
        return expr.xreplace(values)  # numbers times expanded terms: sympy collects them on the way

    gates = {op: at_sizes(e) for op, e in general.gates_by_op.items()}
    return StackFormulas(general.depth_arithmetic.xreplace(values), general.depth_threshold.xreplace(values),
                         {op: e for op, e in gates.items() if e != 0}, at_sizes(general.edges),
                         at_sizes(general.threshold_gates), at_sizes(general.nodes), stack.layers, stack.d,
                         [c for c in general.constructions for _ in range(stack.layers)],
                         f"{general.provenance}; here at L={stack.layers}, d={width}, N={state}, after checking "
                         "that every layer's measured token gates, constants and mixer shape equal the derived "
                         "ones and the depth of every layer prefix at n=1,2,3 equals the formula")


def _region(arch: str, sizes: tuple[int, int]) -> int:
    """Index of the (condition, layer) piece of the arch that covers sizes."""
    layer = zoo_counts.layer_at(arch, *sizes)
    return next(i for i, (_, piece) in enumerate(zoo_counts.zoo_layers(arch)) if piece is layer)


def _depth_offsets(stack: Stack, construction: str, depth: dict) -> tuple:
    """(fits, units) of `depth.fit_offsets` on the layer prefixes of `stack` (identical layers)."""
    units = uniform_units(stack.blocks[0], construction)
    return fit_offsets(DEPTH_KIND[construction], units, depth, n, L), units


def _join(arch: str, exprs: list) -> sympy.Expr:
    """One expression per (d, N) region of the arch, joined by a Piecewise when it has several."""
    conditions = [condition for condition, _ in zoo_counts.zoo_layers(arch)]
    if len(exprs) == 1:
        return exprs[0]
    return sympy.Piecewise(*zip(exprs[:-1], conditions[:-1]), (exprs[-1], True))


def _stacked(embedding: sympy.Expr, per_layer: sympy.Expr) -> sympy.Expr:
    """embedding + L * per_layer, expanded (term by term: both are already expanded)."""
    return sympy.Add(sympy.expand(embedding), *(L * term for term in sympy.Add.make_args(sympy.expand(per_layer))))


def _region_sizes(arch: str, layer: zoo_counts.ZooLayer) -> tuple[dict, sympy.Expr, sympy.Expr, sympy.Expr]:
    """(gates by op, edges, threshold gates, nodes) of L layers of one derived piece, embedding included."""
    tally, constants = mixer_tally(layer.shape, None)
    layer.token.add_to(tally, n)
    tally.gates["const"] += constants + layer.token.constants
    embedding = input_tally(d, "sinusoidal" if arch == "transformer" else None)
    ops = [op for op in sorted(set(tally.gates) | set(embedding.gates))
           if tally.gates.get(op, 0) != 0 or embedding.gates.get(op, 0) != 0]
    gates = {op: _stacked(embedding.gates.get(op, sympy.Integer(0)), tally.gates.get(op, sympy.Integer(0)))
             for op in ops}
    return (gates, _stacked(embedding.edges, tally.edges), _stacked(embedding.threshold, tally.threshold),
            sympy.Add(*gates.values()))


@functools.lru_cache(maxsize=None)
def _size_formulas(arch: str) -> tuple[dict, sympy.Expr, sympy.Expr, sympy.Expr]:
    """Sizes in n, L, d, N, p (derived only: no circuit is compiled), cached per arch."""
    regions = [_region_sizes(arch, layer) for _, layer in zoo_counts.zoo_layers(arch)]
    ops = sorted(set().union(*(gates for gates, *_ in regions)))
    gates = {op: _join(arch, [region[0].get(op, sympy.Integer(0)) for region in regions]) for op in ops}
    return (gates, *(_join(arch, [region[i] for region in regions]) for i in (1, 2, 3)))


@functools.lru_cache(maxsize=64)
def _zoo_formulas(arch: str, offsets: tuple, depth_source: str) -> StackFormulas:
    fits_by_region = dict(offsets)
    gates, edges, threshold, nodes = _size_formulas(arch)
    regions = zoo_counts.zoo_layers(arch)
    depth = [_join(arch, [sympy.nan if i not in fits_by_region else
                          layered_depth(DEPTH_KIND[layer.construction], fits_by_region[i][1], fits_by_region[i][0],
                                        which, n, L)
                          for i, (_, layer) in enumerate(regions)]) for which in (0, 1)]
    construction = regions[0][1].construction
    symbols = {"n": n, "L": L, "d": d, "N": N, "p": p} if arch != "transformer" else {"n": n, "L": L, "d": d, "p": p}
    return StackFormulas(depth[0], depth[1], dict(gates), edges, threshold, nodes, None, None, [construction],
                         _zoo_provenance(arch, depth_source), symbols, minimum=zoo_counts.min_sizes(arch))


def _zoo_provenance(arch: str, depth_source: str) -> str:
    growth_text = {"mix": "constant in n", "tree": "c * scan_units(n, L) (Sklansky compositions through L trees)",
                   "chain": "s * n (loop steps)"}
    kind = DEPTH_KIND[zoo_counts.zoo_layers(arch)[0][1].construction]
    low_d, low_n = zoo_counts.min_sizes(arch)
    regions = " (s4: one depth per region, d <= N and d > N)" if len(zoo_counts.zoo_layers(arch)) > 1 else ""
    return (f"{arch}: sizes derived, not fitted: per-token gates, per-layer constants and the mixer's shape written "
            f"from the zoo's definition as polynomials in d, N (formulas/sheets.py), valid for d >= {low_d}, "
            f"N >= {low_n} and pairwise distinct random values; n-dependence from each construction's loops; L "
            "identical layers cost the embedding plus L times one layer. depth: a + b*L at n = 1, 2 measured on "
            f"the layer prefixes of {depth_source}, fitted at L=1,2, the formula checked at n=1,2,3 on every "
            f"prefix; growth {growth_text[kind]}; the same for every (d, N) in the domain{regions}, because each "
            "gate's depth is independent of its fan-in and the zoo's products have a fixed number of factors "
            "(tests check this at other (d, N))")


@functools.lru_cache(maxsize=None)
def zoo_formulas(arch: str) -> StackFormulas:
    """Formulas in n, L, d, N, p for a zoo architecture (symbols in `.symbols`; see provenance).

    Sizes are derived; the depth offsets are measured on zoo.stack(arch, 3, d, N, seed=0)
    compiled at n = 1, 2, 3 for one (d, N) per region of the derivation (cached per arch).
    Evaluate with `.at(n, p, layers=L, d_model=d, d_state=N)`.
    """
    key = arch.lower()
    offsets = _reference_offsets(key)
    sizes = " or ".join(f"d={w}, N={k}" for w, k in (_reference_sizes(c) for c, _ in zoo_counts.zoo_layers(key)))
    return _zoo_formulas(key, tuple(sorted(offsets.items())), f"zoo.stack({key!r}, {REFERENCE_LAYERS}, {sizes}, seed=0)")


def _reference_offsets(arch: str, skip: int | None = None) -> dict:
    """Depth offsets per (d, N) region, measured on a reference stack inside each region."""
    offsets = {}
    for region, (condition, _) in enumerate(zoo_counts.zoo_layers(arch)):
        if region != skip:
            offsets[region] = _reference_depth(arch, _reference_sizes(condition))
    return offsets


@functools.lru_cache(maxsize=None)
def _reference_depth(arch: str, sizes: tuple[int, int]) -> tuple:
    stack = zoo.stack(arch, REFERENCE_LAYERS, *sizes)
    return _depth_offsets(stack, zoo_counts.layer_at(arch, *sizes).construction, read_small(stack).depth)


def _reference_sizes(condition: sympy.Basic) -> tuple[int, int]:
    """The smallest (d, N) >= 2 inside a region (d <= N, d > N or everything)."""
    for width, state in ((2, 2), (3, 2), (2, 3)):
        if condition is sympy.true or bool(condition.xreplace({d: width, N: state})):
            return width, state
    raise FormulaUnsupported("no reference size inside the region")
