"""Formulas in n, L, d, N, p for a zoo architecture, by exact interpolation in d and N: no hand-written sheet.

  n, p    exact, not fitted: `numeric_formulas` of a one-layer stack at a concrete (d, N) derives
          the n-dependence from each construction's loops (`counts.py`: Θ(n^2) decay pairs,
          Sklansky's bit_ones_below(n) compositions, n chain steps, ...) and the p-dependence from
          the cost model, so each size is sum_b c_b(d, N) * b(n, p) over basis terms b (n^2, n p,
          p bit_ones_below(n), 2^p n, KroneckerDelta(n, 1), ...).
  d, N    each coefficient c_b is a polynomial of degree at most DEGREE in each of two grid
          coordinates. Why 3: a layer's gates are sums over channels (d), states per channel
          (N), and the rows, operands and products of its matrices, and no construction multiplies
          more than three such sizes per variable (a scan tree's matrix composition is S^2 entries
          of S products, S = N; DeltaNet's d blocks give d N^2 entries of N); a threshold size is
          linear in the fan-in. Lagrange interpolation on the (DEGREE + 1)^2 grid is then exact.
  check   the result must equal the numeric formulas (as formulas in n and p) at three points
          beyond the grid, in each coordinate and in both: a coefficient of higher degree, or
          sizes that are not one polynomial, differ there. Then the (d, N) plane is split in two
          regions, d <= N and d > N (a kernel C A^k B folds B when d <= N: s4), each interpolated
          on its own grid (coordinates (d, N - d) and (N, d - N - 1)) and checked the same way;
          failing both, FormulaUnsupported is raised instead of a wrong formula. The check cannot
          rule out a change that starts beyond every point tried; tests compare the formulas with
          circuits built at other n, L, d and N.
  domain  the grids start at d = N = 2; d = 1 (and N = 1) is included when the formulas also
          equal the numeric ones at DEGREE + 2 points with d = 1 (N = 1), i.e. on the whole line
          under the same degree bound (at d = 1 a projection w x has no 'add'; at N = 1 a 1 x 1
          transition is diagonal: such architectures start at 2).
  L       L identical layers cost the embedding plus L times one layer (the embedding is
          `input_tally`); depth is a + b L at n = 1, 2 fitted on the layer prefixes of a 3-layer
          reference stack at each region's first grid point, plus the construction's growth
          (`depth.py`; for constant-depth layers c * min(n - 1, L)), checked at n = 1, 2, 3 (up to
          n = 5 for constant-depth layers, past the saturation) on every prefix there and on the one-layer stack
          at every grid, check and domain point (a gate's depth does not depend on its fan-in).
"""
from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

import sympy

from tc0lab.formulas.depth import (BOUNDARY_CHECK, DEPTH_KIND, checked_lengths, fit_offsets, layered_depth,
                                   layered_depth_at, uniform_units)
from tc0lab.formulas.fitted import exact_formulas
from tc0lab.formulas.numeric import StackFormulas, constructions_of, input_tally, measured_depths, read_small
from tc0lab.formulas.symbols import FormulaUnsupported, L, N, d, n, p
from tc0lab.spec import zoo
from tc0lab.spec.recurrence import AttentionLayer, SpecError

DEGREE = 3  # per grid coordinate, see the module docstring
LOW = 2  # first d and N of the grids
SPAN = tuple(range(DEGREE + 1))
BEYOND = ((DEGREE + 1, 0), (0, DEGREE + 1), (DEGREE + 1, DEGREE + 1))  # check points, in grid coordinates
REFERENCE_LAYERS = 3  # a + b L is fitted on layer prefixes 1, 2 and checked on 3
u, v = sympy.symbols("u v")


@dataclass(frozen=True)
class Region:
    """A part of the (d, N) plane with its grid: point(u, v) -> (d, N), and (u, v) in d and N."""

    condition: sympy.Basic
    point: Callable[[int, int], tuple[int, int]]
    coordinates: tuple[sympy.Expr, sympy.Expr]


WHOLE = (Region(sympy.true, lambda a, b: (LOW + a, LOW + b), (d - LOW, N - LOW)),)
SPLIT = (Region(d <= N, lambda a, b: (LOW + a, LOW + a + b), (d - LOW, N - d)),
         Region(d > N, lambda a, b: (LOW + a + b + 1, LOW + a), (N - LOW, d - N - 1)))


@dataclass
class Sample:
    """What a one-layer stack at one (d, N) gives: its sizes as formulas in n and p, depths, construction."""

    sizes: dict[str, sympy.Expr]
    depth: dict
    construction: str


def _sizes(formulas: StackFormulas) -> dict[str, sympy.Expr]:
    """Every size of a StackFormulas by name: gates[op], edges, threshold_gates, nodes."""
    sizes = {f"gates[{op}]": expr for op, expr in formulas.gates_by_op.items()}
    sizes.update(edges=formulas.edges, threshold_gates=formulas.threshold_gates, nodes=formulas.nodes)
    return sizes


class Samples(dict):
    """(d, N) -> Sample of one architecture, each one-layer stack compiled once."""

    def __init__(self, arch: str) -> None:
        super().__init__()
        self.arch = arch

    def __missing__(self, point: tuple[int, int]) -> Sample:
        try:
            stack = zoo.stack(self.arch, 1, *point)
        except SpecError as error:  # e.g. a builder that ignores d: no formula in d
            raise FormulaUnsupported(f"{self.arch} cannot be built at d={point[0]}, N={point[1]}: {error}") from None
        (construction,) = constructions_of(stack)
        self[point] = Sample(_sizes(exact_formulas(stack)), read_small(stack).depth, construction)
        return self[point]


def _lagrange(x: sympy.Symbol, node: int) -> sympy.Expr:
    """The Lagrange basis polynomial of `node` over SPAN, in x."""
    return sympy.Mul(*[sympy.Rational(1, node - q) * (x - q) for q in SPAN if q != node])


@functools.lru_cache(maxsize=None)
def _basis(region: Region) -> dict[tuple[int, int], sympy.Poly]:
    """Per grid point (u, v), the polynomial in d, N that is 1 there and 0 at the other grid points."""
    back = {u: region.coordinates[0], v: region.coordinates[1]}
    return {(a, b): sympy.Poly((_lagrange(u, a) * _lagrange(v, b)).xreplace(back), d, N) for a in SPAN for b in SPAN}


def _interpolate(values: dict[tuple[int, int], sympy.Expr], region: Region) -> sympy.Expr:
    """The formula in d, N, n, p whose coefficients take `values` at the grid points (u, v) in SPAN^2."""
    coefficients: dict = defaultdict(dict)
    for grid_point, expr in values.items():
        for term, coefficient in sympy.expand(expr).as_coefficients_dict().items():
            coefficients[term][grid_point] = coefficient
    basis = _basis(region)
    zero = sympy.Poly(0, d, N)
    return sympy.Add(*[sum((basis[point] * value for point, value in at.items()), zero).as_expr() * term
                       for term, at in coefficients.items()])


@dataclass
class Piece:
    """The formulas of one region: one layer's sizes (embedding included) and the depth in n and L."""

    sizes: dict[str, sympy.Expr]
    depth: tuple[sympy.Expr, sympy.Expr]
    construction: str
    kind: str
    units: tuple[int, int]
    fits: tuple

    def agrees(self, sample: Sample, point: tuple[int, int]) -> bool:
        """The piece equals the sample at `point`: the same construction, sizes and depths at n = 1, 2, 3."""
        at = {d: point[0], N: point[1]}
        names = set(self.sizes) | set(sample.sizes)
        zero = sympy.Integer(0)
        return (sample.construction == self.construction
                and all(sympy.expand(self.sizes.get(name, zero).xreplace(at) - sample.sizes.get(name, zero)) == 0
                        for name in names)
                and all(layered_depth_at(self.kind, self.units, self.fits, length, 1, n, L) == tuple(prefixes[-1])
                        for length, prefixes in sample.depth.items()))


def _piece(samples: Samples, region: Region) -> Piece:
    """Interpolate on the region's grid, fit the depth on its first point, check beyond the grid."""
    grid = {(a, b): samples[region.point(a, b)] for a in SPAN for b in SPAN}
    construction = grid[0, 0].construction
    if any(sample.construction != construction for sample in grid.values()):
        raise FormulaUnsupported(f"{samples.arch}: the construction changes with d and N")
    names = sorted(set().union(*(sample.sizes for sample in grid.values())))
    sizes = {name: _interpolate({key: sample.sizes.get(name, sympy.Integer(0)) for key, sample in grid.items()}, region)
             for name in names}
    reference = zoo.stack(samples.arch, REFERENCE_LAYERS, *region.point(0, 0))
    kind = DEPTH_KIND[construction]
    table = measured_depths(reference, checked_lengths((kind,) * REFERENCE_LAYERS))
    units = uniform_units(reference.blocks[0], construction, table)
    fits = fit_offsets(kind, units, table, n, L)
    depth = tuple(layered_depth(kind, units, fits, which, n, L) for which in (0, 1))
    piece = Piece(sizes, depth, construction, kind, units, fits)
    for point in [region.point(a, b) for a in SPAN for b in SPAN] + [region.point(*beyond) for beyond in BEYOND]:
        if not piece.agrees(samples[point], point):
            raise FormulaUnsupported(f"{samples.arch}: the interpolated formulas disagree with the stack at d={point[0]}, "
                                     f"N={point[1]} (a degree above {DEGREE}, or not one polynomial in d and N)")
    return piece


def _pieces(samples: Samples) -> tuple[tuple[Region, ...], list[Piece]]:
    """The pieces of the first partition (whole plane, then d <= N / d > N) that interpolates exactly."""
    failure = None
    for regions in (WHOLE, SPLIT):
        try:
            return regions, [_piece(samples, region) for region in regions]
        except FormulaUnsupported as error:
            failure = error
    raise failure


def _join(regions: tuple[Region, ...], exprs: list[sympy.Expr]) -> sympy.Expr:
    """One expression per region, joined by a Piecewise when there are several."""
    if len(exprs) == 1:
        return exprs[0]
    return sympy.Piecewise(*zip(exprs[:-1], [region.condition for region in regions[:-1]]), (exprs[-1], True))


def _piece_at(regions: tuple[Region, ...], pieces: list[Piece], point: tuple[int, int]) -> Piece:
    at = {d: point[0], N: point[1]}
    return next(piece for region, piece in zip(regions, pieces)
                if region.condition is sympy.true or bool(region.condition.xreplace(at)))


def _minimum(samples: Samples, regions: tuple[Region, ...], pieces: list[Piece]) -> tuple[int, int]:
    """The smallest d and N the formulas hold from: 1 where a whole line d = 1 (N = 1) agrees, else LOW."""
    line = range(LOW, LOW + DEGREE + 2)

    def agrees(point: tuple[int, int]) -> bool:
        try:
            return _piece_at(regions, pieces, point).agrees(samples[point], point)
        except FormulaUnsupported:  # e.g. a construction without formulas at that size
            return False

    low_d = 1 if all(agrees((1, state)) for state in line) else LOW
    low_n = 1 if all(agrees((width, 1)) for width in line) else LOW
    if low_d == 1 and low_n == 1 and not agrees((1, 1)):
        low_n = LOW
    return low_d, low_n


def _stacked(embedding: sympy.Expr, one_layer: sympy.Expr) -> sympy.Expr:
    """embedding + L * (one layer's stack - embedding), expanded term by term."""
    per_layer = sympy.expand(one_layer - embedding)
    return sympy.Add(sympy.expand(embedding), *(L * term for term in sympy.Add.make_args(per_layer)))


def _embedding(arch: str) -> dict[str, sympy.Expr]:
    """Sizes of the embedding in d (what a stack has before its first layer)."""
    tally = input_tally(d, zoo.stack(arch, 1, LOW, LOW).positions)
    gates = {f"gates[{op}]": expr for op, expr in tally.gates.items() if expr != 0}
    return {**gates, "edges": tally.edges, "threshold_gates": tally.threshold, "nodes": sympy.Add(*tally.gates.values())}


@functools.lru_cache(maxsize=None)
def _interpolated(arch: str, registration: tuple) -> StackFormulas:
    samples = Samples(arch)
    regions, pieces = _pieces(samples)
    minimum = _minimum(samples, regions, pieces)
    embedding = _embedding(arch)
    zero = sympy.Integer(0)
    names = sorted(set().union(*(piece.sizes for piece in pieces)))
    sizes = {name: _join(regions, [_stacked(embedding.get(name, zero), piece.sizes.get(name, zero)) for piece in pieces])
             for name in names}
    gates = {name[6:-1]: expr for name, expr in sizes.items() if name.startswith("gates[") and expr != 0}
    depth = [_join(regions, [piece.depth[which] for piece in pieces]) for which in (0, 1)]
    stateless = isinstance(zoo.core(arch, LOW, LOW), AttentionLayer)  # N does not occur in attention
    symbols = {"n": n, "L": L, "d": d, "p": p} if stateless else {"n": n, "L": L, "d": d, "N": N, "p": p}
    return StackFormulas(depth[0], depth[1], gates, sizes["edges"], sizes["threshold_gates"], sizes["nodes"], None, None,
                         [pieces[0].construction], _provenance(arch, regions, minimum), symbols, minimum=minimum)


def _provenance(arch: str, regions: tuple[Region, ...], minimum: tuple[int, int]) -> str:
    where = "one region" if len(regions) == 1 else "two regions, d <= N and d > N, each"
    return (f"{arch}: sizes interpolated exactly in d and N ({where} on a {DEGREE + 1} x {DEGREE + 1} grid, degree <= "
            f"{DEGREE} per coordinate, checked beyond the grid; valid for d >= {minimum[0]}, N >= {minimum[1]} and "
            "pairwise distinct random values) from formulas of one-layer stacks whose n-dependence is derived from "
            "each construction's loops and whose per-token gates are measured at n = 1, 2; L identical layers cost the "
            f"embedding plus L times one layer. depth: a + b*L at n = 1, 2 measured on the layer prefixes of "
            f"zoo.stack({arch!r}, {REFERENCE_LAYERS}, ...) at each region's first grid point, fitted at L=1,2, checked "
            f"at n=1,2,3 (constant-depth layers: up to n={REFERENCE_LAYERS + BOUNDARY_CHECK}) on every prefix and on the one-layer stack at every point used, plus the construction's "
            "growth in n (tc0lab/formulas/interpolate.py)")


def interpolated_formulas(arch: str) -> StackFormulas:
    """Formulas in n, L, d, N, p for a zoo architecture (see the module docstring).

    Cached per registration of the architecture; evaluate with `.at(n, p, layers=L, d_model=d, d_state=N)`.
    """
    return _interpolated(arch.lower(), zoo.registration(arch))
