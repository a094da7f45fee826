"""Formulas in n, L, d, N and p: a zoo architecture's, and whether a concrete stack is covered by them.

`zoo_formulas(arch)` are the interpolated formulas of `interpolate.py` (for the zoo's own
architectures kept in the disk cache by `cached_zoo_formulas`, keyed by the package source).
`general_for(stack, numeric)` attaches them to a concrete zoo stack only when they provably
apply: the stack is L zoo blocks at some (d, N) in their domain, and the formulas, at its
L, d and N, equal the stack's own numeric formulas term by term (sizes) and its measured
depth at n = 1, 2, 3 (random values that coincide change a count: then the numeric
formulas, exact for that stack anyway, are kept).
"""
from __future__ import annotations

import sympy

from tc0lab import disk_cache
from tc0lab.formulas import interpolate
from tc0lab.formulas.numeric import StackFormulas, read_small
from tc0lab.formulas.symbols import FormulaUnsupported, L, N, d
from tc0lab.spec import zoo
from tc0lab.spec.recurrence import Stack


def zoo_formulas(arch: str) -> StackFormulas:
    """Formulas in n, L, d, N, p for a zoo architecture (symbols in `.symbols`; see provenance).

    Evaluate with `.at(n, p, layers=L, d_model=d, d_state=N)`.
    """
    return interpolate.interpolated_formulas(arch)


def cached_zoo_formulas(arch: str) -> tuple[StackFormulas, dict[str, str]]:
    """(formulas, their strings) of a zoo arch: `zoo_formulas`, through the disk cache for the zoo's own.

    A temporary `zoo.registered` architecture is not in the package source, so its formulas are
    derived in-process (and cached per registration there).
    """
    def derive() -> tuple[StackFormulas, dict[str, str]] | tuple[str, str]:
        try:
            formulas = zoo_formulas(arch)
        except FormulaUnsupported as error:  # a refusal is a result too: it is kept, not re-derived each time
            return REFUSED, str(error)
        return formulas, formulas.as_strings()  # printing them is slow too

    result = derive() if not zoo.is_builtin(arch) else \
        disk_cache.cached("formulas", disk_cache.cache_key("zoo_formulas", arch), derive, "pickle")
    if result[0] == REFUSED:
        raise FormulaUnsupported(result[1])
    return result


REFUSED = "refused"  # what the cache holds for an architecture whose formulas are not derived


def _zoo_sizes(stack: Stack) -> tuple[int, int] | None:
    """(d, N) of a stack of zoo blocks (as zoo.stack builds them), else None."""
    if stack.d_state is None or stack.arch not in zoo.ARCHS:
        return None
    blk = zoo.block(stack.arch, stack.d, stack.d_state, False)  # the same call (and cache entry) as zoo.stack
    return (stack.d, stack.d_state) if all(block is blk for block in stack.blocks) else None


def _sizes(formulas: StackFormulas) -> dict[str, sympy.Expr]:
    return {**{f"gates[{op}]": e for op, e in formulas.gates_by_op.items()}, "edges": formulas.edges,
            "threshold_gates": formulas.threshold_gates, "nodes": formulas.nodes}


def _equal(general: StackFormulas, numeric: StackFormulas, stack: Stack) -> bool:
    """The specialised general formulas equal the stack's numeric sizes and its measured prefix depths."""
    special, own = _sizes(specialise(general, stack)), _sizes(numeric)
    zero = sympy.Integer(0)
    if any(sympy.expand(special.get(name, zero) - own.get(name, zero)) != 0 for name in set(special) | set(own)):
        return False
    sizes = {"layers": None, "d_model": stack.d, "d_state": stack.d_state}
    for length, prefixes in read_small(stack).depth.items():
        for layers, measured in enumerate(prefixes[1:], start=1):
            values = general.at(length, 1, **{**sizes, "layers": layers})
            if (values["depth_arithmetic"], values["depth_threshold"]) != tuple(measured):
                return False
    return True


def general_for(stack: Stack, numeric: StackFormulas) -> StackFormulas | None:
    """The zoo formulas in n, L, d, N, p for this stack, or None when they do not provably apply."""
    sizes = _zoo_sizes(stack)
    if sizes is None:
        return None
    try:
        general = cached_zoo_formulas(stack.arch)[0]
    except FormulaUnsupported:
        return None
    if sizes[0] < general.minimum[0] or sizes[1] < general.minimum[1]:
        return None
    return general if _equal(general, numeric, stack) else None


def specialise(general: StackFormulas, stack: Stack) -> StackFormulas:
    """The general formulas at this stack's L, d, N: formulas in n and p only."""
    values = {L: stack.layers, d: stack.d, N: stack.d_state}

    def at_sizes(expr: sympy.Expr) -> sympy.Expr:
        return expr.xreplace(values)  # numbers times expanded terms: sympy collects them on the way

    gates = {op: at_sizes(e) for op, e in general.gates_by_op.items()}
    return StackFormulas(at_sizes(general.depth_arithmetic), at_sizes(general.depth_threshold),
                         {op: e for op, e in gates.items() if e != 0}, at_sizes(general.edges),
                         at_sizes(general.threshold_gates), at_sizes(general.nodes), stack.layers, stack.d,
                         [c for c in general.constructions for _ in range(stack.layers)],
                         f"{general.provenance}; here at L={stack.layers}, d={stack.d}, N={stack.d_state}, after "
                         "checking that they equal this stack's own formulas in n and p term by term and its measured "
                         "depth on every layer prefix at n=1,2,3")


def _derived(arch: str) -> bool:
    try:
        cached_zoo_formulas(arch)
    except FormulaUnsupported:
        return False
    return True


def warm_zoo_cache(workers: int | None = None) -> dict[str, bool]:
    """Derive (or refuse) every zoo architecture's formulas into the disk cache, one process per core;
    {arch: whether formulas were derived}. `scripts/setup.sh` runs it once, so that the first
    `tc0lab compile` of any architecture reads them instead of interpolating."""
    from tc0lab.parallel import map_in_processes
    return dict(zip(zoo.ARCHS, map_in_processes(_derived, list(zoo.ARCHS), workers)))
