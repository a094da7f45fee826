"""Symbolic depth and size of compiled circuits: exact formulas in n, p (and L, d, N), without building.

Where each number comes from (one source of truth each):

  counts.py       gate counts of every construction, from its loops, as functions of a *shape*
                  (how many states, bases, kernel weights ... of each kind); the compiler passes
                  build the gates, this module counts what they build
  depth.py        the growth of the deepest path with n (per construction kind), the layer-prefix
                  depths (measured with `circuit.measure.node_depths`, whose rule is
                  `circuit.cost.gate_depths`, the one depth rule) and the a + b L depth offsets
  numeric.py      `StackFormulas`; formulas in n and p for one concrete stack: shapes read off the
                  bound recurrence, per-token work measured at n = 1, 2
  fitted.py       formulas in n and p for constructions without a counting function (triangular,
                  diagonalised, memoryless): interpolated exactly in n from small circuits, with the
                  degree the construction bounds, then checked at further n
  interpolate.py  formulas in n, L, d, N, p for any zoo architecture, nothing written by hand: each
                  coefficient interpolated exactly in d and N from numeric formulas on a grid, then
                  checked at further points (split into d <= N and d > N when one polynomial fails)
  general.py      the interpolated formulas per architecture (disk-cached), and the check that a concrete zoo
                  stack is covered by them
  symbols.py      n, L, d, N, p and FormulaUnsupported

`formulas_for(stack)` answers any stack of constant-depth constructions, scan trees or chains
(refusing what is not derived, with the reason); `zoo_formulas(arch)` any zoo architecture, a
registered one included; `estimate_nodes` refuses an n that would not fit, before building.
"""
from __future__ import annotations

import functools

from tc0lab.formulas import general
from tc0lab.formulas.general import cached_zoo_formulas, zoo_formulas
from tc0lab.formulas.fitted import exact_formulas
from tc0lab.formulas.numeric import StackFormulas
from tc0lab.formulas.symbols import FormulaUnsupported, L, N, d, n, p
from tc0lab.spec.recurrence import Stack

__all__ = ["FormulaUnsupported", "StackFormulas", "cached_zoo_formulas", "estimate_nodes", "formulas_for", "zoo_formulas",
           "n", "L", "d", "N", "p"]


@functools.lru_cache(maxsize=64)
def formulas_for(stack: Stack) -> StackFormulas:
    """Exact formulas in n and p for any stack the compiler accepts (`numeric.py`, `fitted.py`).

    For a zoo stack that its architecture's formulas provably cover (`general.general_for`),
    `.general` holds the formulas in n, L, d, N, p and `as_strings()` shows those.
    """
    exact = exact_formulas(stack)
    covering = general.general_for(stack, exact)
    if covering is None:
        return exact
    formulas = general.specialise(covering, stack)
    formulas.general = covering
    return formulas


def estimate_nodes(stack: Stack, length: int) -> int:
    """Nodes of compile_circuit(stack, length), from the formula: nothing is built at that n."""
    return formulas_for(stack).nodes_at(length)
