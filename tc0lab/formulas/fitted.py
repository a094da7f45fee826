"""Formulas in n and p for constructions without a counting function, by exact interpolation in n.

`triangular`, `diagonalised` and `memoryless` layers (and stacks mixing them with the other
constant-depth constructions) have no shape in `counts.py`. Their sizes are read off circuits
built at small n instead, with the degree their construction bounds:

  gates   every one of these constructions is constant-depth and builds at most one gate per
          pair (t, j <= t) and coordinate (back-substitution and the diagonalised decays are the
          diagonal construction's decay sums; a memoryless layer builds O(n) gates), with fan-in
          at most n (a 'prod' over t - j decays). So per op the number of gates is a polynomial
          in n of degree <= 2, the sum of their fan-ins of degree <= 3 and the sum of squared
          fan-ins of degree <= 4, and so are the edges (at most the sum of fan-ins).
  p       a cost-model size is a polynomial of degree <= 2 in the fan-in k (`max` has k^2), so
          the threshold gates are exact from those three sums: sum over ops of
          c0(p) * gates + c1(p) * sum k + c2(p) * sum k^2.
  fit     n = 1 can differ (no pair j < t: prefix sums start at n = 2), so each series is
          measured at n = 1 on its own and interpolated with degree DEGREE on n = 2..2+DEGREE;
          then it is checked at CHECK further lengths, which a wrong bound would miss only by a
          polynomial that vanishes there too. Depth: the value at n = 1, and from n = 2 on the
          growth of constant-depth layers, c * min(n - 1, L) (`depth.py`; diagonalised and
          memoryless layers: one fixed-depth gadget per output, as for diagonal decays), checked
          up to the largest n built (at least L + 2, past the saturation). Back-substitution's
          depth keeps growing with n until n covers its dependency chain; no bound on that
          length is derived, so its depth is left underived (`at` gives None) while its sizes
          are exact. A `state-chain` (a StateRecurrence unrolled) repeats one step's gates on top of
          the previous state: its depth is a + b n, fitted on n = 2, 3 and checked on the others.
"""
from __future__ import annotations

import functools
from collections import Counter

import sympy

from tc0lab.circuit.cost import COST_MODEL, k as cost_k
from tc0lab.circuit.measure import depths, edge_count, fan_in_histogram
from tc0lab.compiler.compiling import CONSTANT_DEPTH_CONSTRUCTIONS, compile_circuit
from tc0lab.formulas.depth import BOUNDARY_CHECK, saturated_depth
from tc0lab.formulas.numeric import COUNTED, StackFormulas, constructions_of, numeric_formulas
from tc0lab.formulas.symbols import FormulaUnsupported, n, p
from tc0lab.spec.recurrence import Stack

DEGREE = 4  # the largest degree in n of the series (sum of squared fan-ins); see the module docstring
FIT = tuple(range(2, 2 + DEGREE + 1))
CHECK = (FIT[-1] + 1, FIT[-1] + 3)
# a state update unrolled step by step: every step adds the same gates on top of the last state, so
# sizes are polynomials in n as above and the depth is a + b n (fitted on two lengths, checked on the rest)
STEP_BY_STEP = frozenset({"state-chain"})


def _series(graph) -> dict[str, int]:
    """What one circuit gives: per op the gates and the sums of fan-in and squared fan-in; edges; depths."""
    values: Counter = Counter()
    for (op, fan_in), count in fan_in_histogram(graph).items():
        values[f"gates[{op}]"] += count
        values[f"fan_in[{op}]"] += count * fan_in
        values[f"fan_in2[{op}]"] += count * fan_in**2
    values["edges"] = edge_count(graph)
    values["depth_arithmetic"], values["depth_threshold"] = depths(graph)
    return values


def _fit(name: str, measured: dict[int, Counter]) -> sympy.Expr:
    """Piecewise(value at n = 1; the degree-DEGREE polynomial through n in FIT), checked at n in CHECK."""
    polynomial = sympy.expand(sympy.interpolate([(length, measured[length][name]) for length in FIT], n))
    for length in CHECK:
        if polynomial.subs(n, length) != measured[length][name]:
            raise FormulaUnsupported(f"{name} is not a polynomial of degree <= {DEGREE} in n from n = 2 on")
    first = measured[1][name]
    return polynomial if polynomial.subs(n, 1) == first else sympy.Piecewise((first, sympy.Eq(n, 1)), (polynomial, True))


def _depth(name: str, measured: dict[int, Counter], layers: int) -> sympy.Expr:
    """The depth of constant-depth layers (`depth.saturated_depth`): saturating by n = L + 1."""
    return saturated_depth({length: values[name] for length, values in measured.items()}, layers, n)


def _substitution_depth(name: str, measured: dict[int, Counter]) -> sympy.Expr:
    """Piecewise(value at n = 1; the one value from n = 2 on), or nan (not derived) when it changes:
    back-substitution's depth grows until n covers its dependency chain, and no bound on that is derived."""
    later = {measured[length][name] for length in measured if length >= 2}
    if len(later) != 1:
        return sympy.nan
    (value,) = later
    first = measured[1][name]
    return sympy.Integer(value) if first == value else sympy.Piecewise((first, sympy.Eq(n, 1)), (value, True))


def _chain_depth(name: str, measured: dict[int, Counter]) -> sympy.Expr:
    """Piecewise(value at n = 1; a + b n through n in FIT), checked at n in CHECK, or nan when not linear."""
    line = sympy.expand(sympy.interpolate([(length, measured[length][name]) for length in FIT[:2]], n))
    if any(line.subs(n, length) != measured[length][name] for length in (*FIT, *CHECK)):
        return sympy.nan
    first = measured[1][name]
    return line if line.subs(n, 1) == first else sympy.Piecewise((first, sympy.Eq(n, 1)), (line, True))


def _size_coefficients(op: str) -> list[sympy.Expr]:
    """[c0(p), c1(p), c2(p)] with the cost model's size(k, p) = c0 + c1 k + c2 k^2."""
    size = sympy.Poly(COST_MODEL[op].size, cost_k)
    if size.degree() > 2:
        raise FormulaUnsupported(f"the cost of '{op}' is not quadratic in the fan-in")
    return [size.coeff_monomial(cost_k**power) for power in range(3)]


@functools.lru_cache(maxsize=64)
def fitted_formulas(stack: Stack, constructions: tuple[str, ...]) -> StackFormulas:
    """Exact formulas in n and p for a stack of constant-depth constructions (see the module docstring)."""
    chained = bool(set(constructions) & STEP_BY_STEP)
    if not set(constructions) <= CONSTANT_DEPTH_CONSTRUCTIONS | STEP_BY_STEP:
        raise FormulaUnsupported(f"no size or depth formula is derived for {', '.join(sorted(set(constructions)))} "
                                 "together (a depth growing with n): build the circuit (compile_stack) and measure it")
    lengths = sorted({*FIT, *CHECK, *range(1, stack.layers + BOUNDARY_CHECK + 1)})
    measured = {length: _series(compile_circuit(stack, length).graph) for length in lengths}
    names = sorted(set().union(*measured.values()))
    fitted = {name: _fit(name, measured) for name in names if not name.startswith("depth")}
    gates = {name[6:-1]: expr for name, expr in fitted.items() if name.startswith("gates[") and expr != 0}
    threshold = sympy.Integer(0)
    for op in gates:
        c0, c1, c2 = _size_coefficients(op)
        threshold += c0 * gates[op] + c1 * fitted[f"fan_in[{op}]"] + c2 * fitted[f"fan_in2[{op}]"]
    depth_of = (_chain_depth if chained else _substitution_depth if "triangular" in constructions
                else functools.partial(_depth, layers=stack.layers))
    depth = [depth_of(name, measured) for name in ("depth_arithmetic", "depth_threshold")]
    shape = "linear in n" if chained else "constant from n = L + 1 on"
    depth_note = (f"depth {shape}, checked up to n = {lengths[-1]}" if sympy.nan not in depth else
                  f"WARNING: the depth is not {shape} from n = 2 up to the largest n built; not derived (None)")
    provenance = (f"sizes interpolated in n (degree <= {DEGREE}) from circuits built at n = 1, {FIT[0]}..{FIT[-1]} "
                  f"and checked at n = {', '.join(map(str, CHECK))}; the p-dependence derived from the cost model; "
                  f"{depth_note} (tc0lab/formulas/fitted.py)")
    return StackFormulas(depth[0], depth[1], gates,
                         fitted["edges"], sympy.expand(threshold), sympy.Add(*gates.values()), stack.layers, stack.d,
                         list(constructions), provenance, {"n": n, "p": p})


def exact_formulas(stack: Stack) -> StackFormulas:
    """Formulas in n and p for any stack: counted from the loops (`numeric.py`) where that is derived,
    else, for constant-depth constructions, interpolated in n here."""
    constructions = tuple(constructions_of(stack))
    if set(constructions) <= COUNTED:
        try:
            return numeric_formulas(stack)
        except FormulaUnsupported:  # e.g. a diagonal A(x) with a structurally zero entry
            if not set(constructions) <= CONSTANT_DEPTH_CONSTRUCTIONS:
                raise
    return fitted_formulas(stack, constructions)
