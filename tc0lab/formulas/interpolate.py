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
          sizes that are not one polynomial, differ there. Failing that, the (d, N) plane is split
          into regions (`partitions`, cheapest first), each interpolated on its own grid and
          checked the same way beyond it:
            N = 2 | N > 2      a sum or product over the N - 1 other states has one term at N = 2,
                               which compiles to other gates (longhorn: beta * sum_{j != s} k_j^2
                               is beta * k_j * k_j there: a 'mul' more, no 'add'); N = 2 is a
                               line of DEGREE + 1 points in d, checked at one more, and N > 2 a
                               grid from N = 3;
            d <= cN | d > cN   a kernel C A^k B folds B when d <= S, the real state size; where
                               S = c N whatever d, the split is there (s4: c = 1; lru's (Re, Im)
                               pairs: c = 2), else at d = N. Coordinates (d, N - d), a grid inside
                               d <= N whose wedge N < d <= c N is checked on its edges d = N + 1 and
                               d = c N, and (N, d - c N - 1).
          Failing all, FormulaUnsupported is raised instead of a wrong formula, with where and how
          each partition disagrees (a size and by how much, or a depth that changes with d or N
          inside a region, while the depth formulas are in n and L alone: pd-ssm, whose hardmax
          products of N - 1 steps are balanced trees of ceil(log2(N + 2)) 'mul' levels) and what
          the samples show: sizes that differ between two draws of the random values at the point
          of disagreement (then no further partition is tried: slstm), or terms [n >= q] whose
          largest q grows with d or N (a kernel with a lag per state, sizes in min(n, N): hyena).
          No zoo architecture needs a degree above 3 in these coordinates. The check cannot rule
          out a change that starts beyond every point tried; tests compare the formulas with
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
REFERENCE_LAYERS = 3  # a + b L is fitted on layer prefixes 1, 2 and checked on 3
OTHER_SEEDS = (1, 2)  # draws compared with seed 0 where the formulas disagree (sizes that depend on the values)
u, v = sympy.symbols("u v")


@dataclass(frozen=True)
class Region:
    """A part of the (d, N) plane with its grid: point(u, v) -> (d, N) for (u, v) in spans, and (u, v) in d and N.

    A line (a coordinate whose span is (0,)) is interpolated in the other coordinate only. `extra`: check
    points in (d, N) of the region that are not beyond its grid (a region wider than the grid's image).
    """

    condition: sympy.Basic
    point: Callable[[int, int], tuple[int, int]]
    coordinates: tuple[sympy.Expr, sympy.Expr]
    name: str
    spans: tuple[tuple[int, ...], tuple[int, ...]] = (SPAN, SPAN)
    extra: tuple[tuple[int, int], ...] = ()

    def grid(self) -> list[tuple[int, int]]:
        """The grid points (u, v)."""
        return [(a, b) for a in self.spans[0] for b in self.spans[1]]

    def checks(self) -> list[tuple[int, int]]:
        """(d, N) of the check points: a step beyond the grid in each interpolated coordinate and in both; `extra`."""
        ends = [len(span) if len(span) > 1 else None for span in self.spans]
        beyond = [(ends[0], 0), (0, ends[1]), (ends[0], ends[1])]
        return [self.point(*q) for q in beyond if None not in q] + list(self.extra)

    def grid_text(self) -> str:
        """How the region is interpolated, e.g. 'a 4 x 4 grid' or '4 points in d'."""
        lengths = [len(span) for span in self.spans]
        if 1 in lengths:
            return f"{max(lengths)} points in {'d' if lengths[0] > 1 else 'N'}"
        return f"a {lengths[0]} x {lengths[1]} grid"


WHOLE = (Region(sympy.true, lambda a, b: (LOW + a, LOW + b), (d - LOW, N - LOW), "one region"),)
# N = LOW on its own (a sum or product over the N - 1 other states has one term there: longhorn), N > LOW on a grid
FIRST_STATE_LINE = (Region(sympy.Eq(N, LOW), lambda a, b: (LOW + a, LOW), (d - LOW, sympy.Integer(0)), f"N = {LOW}",
                           spans=(SPAN, (0,))),
                    Region(N > LOW, lambda a, b: (LOW + a, LOW + 1 + b), (d - LOW, N - LOW - 1), f"N > {LOW}"))


@functools.lru_cache(maxsize=None)
def fold_split(ratio: int) -> tuple[Region, Region]:
    """Regions d <= ratio * N and d > ratio * N (each a grid of its own, see the module docstring).

    The grid of d <= ratio * N lies in d <= N; for ratio > 1 the wedge N < d <= ratio * N is checked on its
    edges d = N + 1 and d = ratio * N for N = LOW .. LOW + DEGREE + 1.
    """
    states = range(LOW, LOW + DEGREE + 2) if ratio > 1 else ()
    wedge = tuple(dict.fromkeys(point for state in states for point in ((state + 1, state), (ratio * state, state))))
    below = Region(d <= ratio * N, lambda a, b: (LOW + a, LOW + a + b), (d - LOW, N - d), f"d <= {ratio * N}",
                   extra=wedge)
    above = Region(d > ratio * N, lambda a, b: (ratio * (LOW + a) + 1 + b, LOW + a), (N - LOW, d - ratio * N - 1),
                   f"d > {ratio * N}")
    return below, above


def fold_ratio(arch: str) -> int:
    """c when the architecture's state size is c N whatever d (an LTI kernel C A^k B folds B when d <= c N:
    s4's c = 1, lru's (Re, Im) pairs c = 2), else 1."""
    try:
        sizes = {point: getattr(zoo.core(arch, *point), "state_size", None)
                 for point in ((LOW, LOW), (LOW + 1, LOW), (LOW, LOW + 1))}
    except SpecError:
        return 1
    base = sizes[LOW, LOW]
    if not base or base % LOW or sizes[LOW + 1, LOW] != base or sizes[LOW, LOW + 1] != base // LOW * (LOW + 1):
        return 1
    return base // LOW


def partitions(arch: str) -> tuple[tuple[Region, ...], ...]:
    """The partitions of the (d, N) plane tried in turn, cheapest (fewest new points) first."""
    return WHOLE, FIRST_STATE_LINE, fold_split(fold_ratio(arch))


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


def _one_layer(arch: str, point: tuple[int, int], seed: int = 0):
    """zoo.stack(arch, 1, d, N, seed), refused with the reason when the builder rejects that size."""
    try:
        return zoo.stack(arch, 1, *point, seed=seed)
    except SpecError as error:  # e.g. a builder that ignores d: no formula in d
        raise FormulaUnsupported(f"{arch} cannot be built at d={point[0]}, N={point[1]}: {error}") from None


class Samples(dict):
    """(d, N) -> Sample of one architecture, each one-layer stack compiled once."""

    def __init__(self, arch: str) -> None:
        super().__init__()
        self.arch = arch

    def __missing__(self, point: tuple[int, int]) -> Sample:
        stack = _one_layer(self.arch, point)
        (construction,) = constructions_of(stack)
        self[point] = Sample(_sizes(exact_formulas(stack)), read_small(stack).depth, construction)
        return self[point]


def size_difference(expected: dict[str, sympy.Expr], actual: dict[str, sympy.Expr]) -> tuple[str, sympy.Expr] | None:
    """The first size (by name) where two sets of sizes differ, with actual - expected; None when they are equal."""
    zero = sympy.Integer(0)
    for name in sorted(set(expected) | set(actual)):
        difference = sympy.expand(actual.get(name, zero) - expected.get(name, zero))
        if difference != 0:
            return name, difference
    return None


def _lagrange(x: sympy.Symbol, node: int, span: tuple[int, ...]) -> sympy.Expr:
    """The Lagrange basis polynomial of `node` over `span`, in x (1 over a span of one node)."""
    return sympy.Mul(*[sympy.Rational(1, node - q) * (x - q) for q in span if q != node])


@functools.lru_cache(maxsize=None)
def _basis(region: Region) -> dict[tuple[int, int], sympy.Poly]:
    """Per grid point (u, v), the polynomial in d, N that is 1 there and 0 at the other grid points."""
    back = {u: region.coordinates[0], v: region.coordinates[1]}
    return {(a, b): sympy.Poly((_lagrange(u, a, region.spans[0]) * _lagrange(v, b, region.spans[1])).xreplace(back),
                               d, N)
            for a, b in region.grid()}


def _interpolate(values: dict[tuple[int, int], sympy.Expr], region: Region) -> sympy.Expr:
    """The formula in d, N, n, p whose coefficients take `values` at the region's grid points (u, v)."""
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
        return (sample.construction == self.construction
                and size_difference({name: e.xreplace(at) for name, e in self.sizes.items()}, sample.sizes) is None
                and all(layered_depth_at(self.kind, self.units, self.fits, length, 1, n, L) == tuple(prefixes[-1])
                        for length, prefixes in sample.depth.items()))


def _piece(samples: Samples, region: Region) -> Piece:
    """Interpolate on the region's grid, fit the depth on its first point, check beyond the grid."""
    grid = {key: samples[region.point(*key)] for key in region.grid()}
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
    for point in [region.point(*key) for key in region.grid()] + region.checks():
        if not piece.agrees(samples[point], point):
            raise Disagreement(samples.arch, point, *_difference(piece, samples, point, region.point(0, 0)))
    return piece


class Disagreement(FormulaUnsupported):
    """A region's formulas differ from the stack at `point`; kind 'construction', 'sizes', 'depth' (the measured
    depth differs from where it is fitted) or 'depth formula' (it does not)."""

    def __init__(self, arch: str, point: tuple[int, int], kind: str, detail: str) -> None:
        super().__init__(f"{arch}: the interpolated formulas disagree with the stack at d={point[0]}, N={point[1]} "
                         f"({detail})")
        self.point, self.kind, self.detail = point, kind, detail


def _difference(piece: Piece, samples: Samples, point: tuple[int, int], fitted_at: tuple[int, int]) -> tuple[str, str]:
    """(kind, what) differs between the piece and the stack at `point`; the depth is compared with the stack at
    `fitted_at`, where the piece's depth (in n and L only) is fitted."""
    sample = samples[point]
    if sample.construction != piece.construction:
        return "construction", f"its construction is {sample.construction}, not {piece.construction}"
    off = size_difference({name: expr.xreplace({d: point[0], N: point[1]}) for name, expr in piece.sizes.items()},
                          sample.sizes)
    if off is not None:
        terms = len(sympy.Add.make_args(off[1]))
        return "sizes", f"{off[0]} is off by {off[1]}" if terms <= 3 else f"{off[0]} differs in {terms} terms"
    fitted = samples[fitted_at]
    for length, prefixes in sample.depth.items():
        here, there = tuple(prefixes[-1]), tuple(fitted.depth[length][-1])
        if here != there:
            return "depth", (f"the sizes agree; the depth at n = {length} is {here} there but {there} at "
                             f"d={fitted_at[0]}, N={fitted_at[1]}, where it is fitted")
    return "depth formula", "the sizes agree, the depth formula does not"


def _pieces(samples: Samples) -> tuple[tuple[Region, ...], list[Piece]]:
    """The pieces of the first of `partitions` that interpolates exactly; else FormulaUnsupported with the reason."""
    failures: list[tuple[tuple[Region, ...], FormulaUnsupported]] = []
    for regions in partitions(samples.arch):
        try:
            return regions, [_piece(samples, region) for region in regions]
        except Disagreement as error:
            drawn = _drawn(samples, error.point) if error.kind == "sizes" else ""
            if drawn:  # no partition mends sizes that are not a function of d and N
                raise FormulaUnsupported(f"{error}, where {drawn}") from None
            failures.append((regions, error))
        except FormulaUnsupported as error:  # the construction changes, a size the builder rejects, ...
            failures.append((regions, error))
    raise _refusal(samples, failures)


def _drawn(samples: Samples, point: tuple[int, int]) -> str:
    """Why the sizes at `point` are not a function of d and N alone: a size that differs between draws, else ''."""
    for seed in OTHER_SEEDS:
        try:
            other = _sizes(exact_formulas(_one_layer(samples.arch, point, seed)))
        except FormulaUnsupported:  # that draw has no formulas at all: nothing to compare
            continue
        difference = size_difference(samples[point].sizes, other)
        if difference is not None:
            name, by = difference
            return (f"the sizes depend on the random parameter values, not only on d and N: {name} differs by {by} "
                    f"between seeds 0 and {seed} of zoo.stack, so no formula in d and N holds for every draw")
    return ""


def _refusal(samples: Samples, failures: list) -> FormulaUnsupported:
    """One error for every partition failing: the first that is not a disagreement as it is, else where and how
    each partition disagrees, and why (a depth that changes with d or N; sizes with terms in n that move)."""
    other = [error for _, error in failures if not isinstance(error, Disagreement)]
    if other:
        return other[0]
    where = ", ".join(f"d={error.point[0]}, N={error.point[1]} ({' | '.join(r.name for r in regions)}: {error.detail})"
                      for regions, error in failures)
    kinds = {error.kind for _, error in failures}
    if kinds == {"depth"}:
        reason = ("the depth changes with d or N inside a region, and the formulas' depth is in n and L alone (e.g. a "
                  "balanced tree of binary gates over a number of operands that grows with N)")
    elif "sizes" in kinds:
        reason = (f"not one polynomial of degree <= {DEGREE} per coordinate in d and N on the regions of any of these "
                  f"partitions{_moving_starts(samples)}")
    else:
        reason = "no partition's formulas hold at every point checked"
    return FormulaUnsupported(f"{samples.arch}: the interpolated formulas disagree with the stack at {where}: {reason}")


def _latest_start(sample: Sample) -> int:
    """The largest q of the terms [n >= q] (`counts.at_least`) in a sample's sizes, 1 when there is none."""
    starts = [piece.args[0].cond.rhs for expr in sample.sizes.values() for piece in expr.atoms(sympy.Piecewise)
              if isinstance(piece.args[0].cond, sympy.GreaterThan) and piece.args[0].cond.lhs == n]
    return int(max(starts, default=1))


def _moving_starts(samples: Samples) -> str:
    """'; the sizes have terms [n >= q] up to ...' when the largest such q differs between the points sampled."""
    starts = {point: _latest_start(sample) for point, sample in samples.items() if min(point) >= LOW}
    early, late = min(starts, key=starts.get), max(starts, key=starts.get)
    if starts[early] == starts[late]:
        return ""
    return (f"; the sizes have terms [n >= q] up to q = {starts[late]} at d={late[0]}, N={late[1]} but only up to "
            f"q = {starts[early]} at d={early[0]}, N={early[1]}: counts that start at a length growing with d or N "
            "(e.g. a kernel with one lag per state), so each size is piecewise in n with breakpoints that move with "
            "d and N, not one set of terms in n whose coefficients are polynomials in d and N")


def _join(regions: tuple[Region, ...], exprs: list[sympy.Expr]) -> sympy.Expr:
    """One expression per region, joined by a Piecewise when there are several."""
    if len(exprs) == 1:
        return exprs[0]
    return sympy.Piecewise(*zip(exprs[:-1], [region.condition for region in regions[:-1]]), (exprs[-1], True))


def _piece_at(regions: tuple[Region, ...], pieces: list[Piece], point: tuple[int, int]) -> Piece:
    """The piece of the first region holding `point`, else the last (the Piecewise's otherwise, as in `_join`)."""
    at = {d: point[0], N: point[1]}
    return next((piece for region, piece in zip(regions, pieces) if bool(region.condition.xreplace(at))), pieces[-1])


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
    where = " and ".join(f"{region.name} on {region.grid_text()}" for region in regions)
    where = where if len(regions) == 1 else f"regions {where}"
    return (f"{arch}: sizes interpolated exactly in d and N ({where}, degree <= "
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
