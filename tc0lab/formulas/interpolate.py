"""Formulas in n, L, d, N, p for a zoo architecture without a hand-written sheet, by exact interpolation.

Nothing is written by hand for such an architecture (a new `zoo.registered` entry):

  n, p    exact, not fitted: `numeric_formulas` of a one-layer stack at a concrete (d, N) derives
          the n-dependence from each construction's loops (`counts.py`) and the p-dependence
          from the cost model, so each size is sum_b c_b(d, N) * b(n, p) over basis terms b
          (n^2, n p, p bit_ones_below(n), 2^p n, KroneckerDelta(n, 1), ...).
  d, N    each coefficient c_b(d, N) is a polynomial of degree at most DEGREE in d and in N:
          one layer's gates are sums over channels (d), states per channel (N), and the rows,
          operands and products of its matrices, which multiply at most three such sizes (a
          scan tree's matrix composition: S^2 entries of S products, S = N; DeltaNet's d blocks:
          d N^2 entries of N); a threshold size is linear in the fan-in (quadratic only for
          'max'). So Lagrange interpolation on the (DEGREE + 1)^2 grid d, N in 2..2+DEGREE is
          exact when the bound holds.
  check   the result is compared, as a formula in n and p, with numeric formulas at CHECK
          points beyond the grid in d, in N and in both: a coefficient of higher degree, or a
          piece that is not one polynomial (s4's d <= N / d > N), differs there, and then
          FormulaUnsupported is raised instead of a wrong formula. (The check cannot rule out
          a deviation that starts beyond every point tried; tests compare with built circuits
          and, for the zoo's own architectures, with the sheets, term by term.)
  L       L identical layers cost the embedding plus L times one layer (the embedding is
          `input_tally`); depth is a + b L at n = 1, 2 fitted on the layer prefixes of a
          3-layer reference stack, plus the construction's growth (`depth.py`), and checked
          at n = 1, 2, 3 on every prefix there and on the one-layer stack at every grid and
          check point (the depth of a gate does not depend on its fan-in).

Valid for d >= 2 and N >= 2 (the grid's corner) and generic parameter values.
"""
from __future__ import annotations

import functools
from collections import defaultdict

import sympy

from tc0lab.formulas.depth import DEPTH_KIND, fit_offsets, layered_depth, layered_depth_at, uniform_units
from tc0lab.formulas.numeric import StackFormulas, constructions_of, input_tally, numeric_formulas, read_small
from tc0lab.formulas.symbols import FormulaUnsupported, L, N, d, n, p
from tc0lab.spec import zoo

DEGREE = 3  # per variable, see the module docstring
LOW = 2  # smallest d and N of the grid (and of the domain)
GRID = tuple(range(LOW, LOW + DEGREE + 1))
CHECK = ((LOW + DEGREE + 1, LOW), (LOW, LOW + DEGREE + 1), (LOW + DEGREE + 1, LOW + DEGREE + 1))
REFERENCE_LAYERS = 3  # a + b L is fitted on layer prefixes 1, 2 and checked on 3


def _sizes(formulas: StackFormulas) -> dict[str, sympy.Expr]:
    """Every size of a StackFormulas by name: gates[op], edges, threshold_gates, nodes."""
    sizes = {f"gates[{op}]": expr for op, expr in formulas.gates_by_op.items()}
    sizes.update(edges=formulas.edges, threshold_gates=formulas.threshold_gates, nodes=formulas.nodes)
    return sizes


def _lagrange(points: tuple[int, ...], x: sympy.Symbol, i: int) -> sympy.Expr:
    """The Lagrange basis polynomial of points[i] in x."""
    return sympy.Mul(*[(x - q) / (points[i] - q) for q in points if q != points[i]])


def _interpolate(samples: dict[tuple[int, int], sympy.Expr]) -> sympy.Expr:
    """The polynomial in d, N (degree <= DEGREE each) times basis terms in n, p through samples on GRID^2."""
    coefficients: dict = defaultdict(dict)
    for point, expr in samples.items():
        for term, coefficient in sympy.expand(expr).as_coefficients_dict().items():
            coefficients[term][point] = coefficient
    total = sympy.Integer(0)
    for term, values in coefficients.items():
        polynomial = sum((values.get((a, b), 0) * _lagrange(GRID, d, i) * _lagrange(GRID, N, j)
                          for i, a in enumerate(GRID) for j, b in enumerate(GRID)), sympy.Integer(0))
        total += sympy.expand(polynomial) * term
    return total


def _one_layer(arch: str, width: int, state: int) -> tuple[StackFormulas, dict, str]:
    """Numeric formulas, measured depths and construction of a one-layer stack at (width, state)."""
    stack = zoo.stack(arch, 1, width, state)
    (construction,) = constructions_of(stack)
    return numeric_formulas(stack), read_small(stack).depth, construction


def _embedding(arch: str) -> dict[str, sympy.Expr]:
    """Sizes of the embedding in d (what a stack has before its first layer)."""
    positions = zoo.stack(arch, 1, LOW, LOW).positions
    tally = input_tally(d, positions)
    gates = {f"gates[{op}]": expr for op, expr in tally.gates.items() if expr != 0}
    return {**gates, "edges": tally.edges, "threshold_gates": tally.threshold, "nodes": sympy.Add(*tally.gates.values())}


def _stacked(embedding: sympy.Expr, one_layer: sympy.Expr) -> sympy.Expr:
    """embedding + L * (one layer's stack - embedding), expanded term by term."""
    per_layer = sympy.expand(one_layer - embedding)
    return sympy.Add(sympy.expand(embedding), *(L * term for term in sympy.Add.make_args(per_layer)))


def _check(name: str, formula: sympy.Expr, measured: sympy.Expr, point: tuple[int, int]) -> None:
    if sympy.expand(formula.xreplace({d: point[0], N: point[1]}) - measured) != 0:
        raise FormulaUnsupported(f"{name}: the interpolated formula disagrees with the stack at d={point[0]}, "
                                 f"N={point[1]} (a degree above {DEGREE} in d or N, or not one polynomial)")


@functools.lru_cache(maxsize=None)
def _interpolated(arch: str, registration: tuple) -> StackFormulas:
    points = [(a, b) for a in GRID for b in GRID]
    layers = {point: _one_layer(arch, *point) for point in points + list(CHECK)}
    construction = layers[GRID[0], GRID[0]][2]
    if any(layer[2] != construction for layer in layers.values()):
        raise FormulaUnsupported(f"{arch}: the construction changes with d and N; no single formula")
    names = sorted(set().union(*(_sizes(layer[0]) for layer in layers.values())))
    sizes = {}
    for name in names:
        sizes[name] = _interpolate({point: _sizes(layers[point][0]).get(name, sympy.Integer(0)) for point in points})
        for point in CHECK:
            _check(name, sizes[name], _sizes(layers[point][0]).get(name, sympy.Integer(0)), point)
    embedding = _embedding(arch)
    stacked = {name: _stacked(embedding.get(name, sympy.Integer(0)), expr) for name, expr in sizes.items()}
    depth = _depth(arch, construction, [layer[1] for layer in layers.values()])
    gates = {name[6:-1]: expr for name, expr in stacked.items() if name.startswith("gates[") and expr != 0}
    provenance = (f"{arch}: no hand-written sheet; sizes interpolated exactly in d and N (degree <= {DEGREE} each, "
                  f"grid d, N in {GRID[0]}..{GRID[-1]}) from formulas in n and p derived for one-layer stacks, "
                  f"checked at (d, N) = {', '.join(map(str, CHECK))}; L layers cost the embedding plus L times one "
                  f"layer; depth a + b*L fitted on zoo.stack({arch!r}, {REFERENCE_LAYERS}, {LOW}, {LOW}) and checked "
                  "at n = 1, 2, 3 on every prefix and at every grid and check point (tc0lab/formulas/interpolate.py)")
    return StackFormulas(depth[0], depth[1], gates, stacked["edges"], stacked["threshold_gates"], stacked["nodes"],
                         None, None, [construction], provenance, {"n": n, "L": L, "d": d, "N": N, "p": p},
                         minimum=(LOW, LOW))


def _depth(arch: str, construction: str, one_layer_depths: list[dict]) -> tuple[sympy.Expr, sympy.Expr]:
    """(arithmetic, threshold) depth in n and L, fitted on the reference stack and checked everywhere."""
    reference = zoo.stack(arch, REFERENCE_LAYERS, LOW, LOW)
    kind, units = DEPTH_KIND[construction], uniform_units(reference.blocks[0], construction)
    fits = fit_offsets(kind, units, read_small(reference).depth, n, L)
    for depth in one_layer_depths:
        if any(layered_depth_at(kind, units, fits, length, 1, n, L) != tuple(prefixes[-1])
               for length, prefixes in depth.items()):
            raise FormulaUnsupported(f"{arch}: the depth depends on d or N; no single depth formula")
    return tuple(layered_depth(kind, units, fits, which, n, L) for which in (0, 1))


def interpolated_formulas(arch: str) -> StackFormulas:
    """Formulas in n, L, d, N, p for a zoo architecture, interpolated (see the module docstring).

    Cached per registration of the architecture; evaluate with `.at(n, p, layers=L, d_model=d, d_state=N)`.
    """
    return _interpolated(arch.lower(), zoo.registration(arch))
