"""Threshold cost model: what each arithmetic gate costs as a threshold circuit.

For every op, `COST_MODEL[op]` gives the threshold depth (a constant) and the number of
threshold gates THR(w, theta) as a sympy expression in k (the gate's fan-in) and p (the
precision in bits), with the construction it assumes and where that comes from.

Status of an entry:
  cited        the number is taken from (or derived from a construction in) the literature;
  constructed  tc0lab builds the gadget from real threshold gates (`tc0lab.threshold`)
               and verifies it bit-exactly; measured depth equals the model and the
               measured size is at most the model.
Reports always show the status, so a cited number is never presented as measured.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy

from tc0lab.circuit.nodes import SOURCE_OPS

k, p = sympy.symbols("k p", positive=True, integer=True)


@dataclass(frozen=True)
class CostEntry:
    op: str
    depth: int
    size: sympy.Expr  # threshold gates, in k (fan-in) and p (bits)
    construction: str
    source: str
    status: str  # 'cited' or 'constructed'


def _entries() -> dict[str, CostEntry]:
    built = "tc0lab.threshold.gadgets, verified bit-exactly (tests/test_threshold_gadgets.py)"
    lookup_size = 2**p + p
    add_size = p * (2 * k + 1)
    mul_size = p**2 + p * (2 * p + 1)
    entries = [
        CostEntry("input", 0, sympy.Integer(0), "a token coordinate", "-", "constructed"),
        CostEntry("const", 0, sympy.Integer(0), "a parameter or precomputed constant", "-",
                  "constructed"),
        CostEntry("add", 2, add_size,
                  "iterated sum of k p-bit words with coefficients +-1, mod 2^p: for output "
                  "bit j, reduce every weight mod 2^(j+1) into (-2^j, 2^j]; the reduced sum "
                  "spans < 2k 2^j, so bit j flips at <= 2k points; layer 1 = one gate per "
                  "flip point, layer 2 = one gate per bit (2k+1 per bit, an upper bound)",
                  f"Siu & Roychowdhury 1994 (depth 2); {built}", "constructed"),
        CostEntry("mul", 3, mul_size,
                  "product of 2 p-bit words, rounded to p bits: an AND layer of p^2 partial "
                  "products, then the depth-2 sum for each of the p output bits (the reduced "
                  "sum spans < 2p 2^j, so <= 2p+1 gates per bit; an upper bound)",
                  f"Siu & Roychowdhury 1994 (depth 3); {built}", "constructed"),
        CostEntry("lookup", 2, lookup_size,
                  "any function of one p-bit value: <= 2^p minterm gates, then one OR gate "
                  "per output bit (a DNF of threshold gates)", f"truth table as a DNF; {built}",
                  "constructed"),
        CostEntry("prod", 4, k * 2**p + 2**(p - 1) + k + 3 * p,
                  "log-space iterated product of k p-bit words (rounded, not the exact real "
                  "product): minterm gates weighted by round(2^p log2|x_i|) (layer 1); gates "
                  "[S >= a] where the rounded magnitude 2^(S/2^p) changes (layer 2, <= "
                  "2^(p-1)); the sign parity of the factors joins in layers 3-4. Depth 3 when "
                  "the factors are known to be >= 0. The exact iterated product is depth 4 by "
                  "Siu & Roychowdhury 1994 (P-uniform) and constant depth by Hesse-Allender-"
                  "Barrington 2002 (uniform); that construction is not built here",
                  f"log-space construction; {built}", "constructed"),
        CostEntry("div", 3, p * 2**p + p * (2 * p + 1),
                  "quotient a * R(b), R(b) = round(2^(2f)/b) held as weights: gates "
                  "[b == v AND a_i] (p (2^p - 1), layer 1), then the depth-2 sum for the p "
                  "output bits (<= 2p+1 gates each). Exact division is depth 3 by Siu & "
                  "Roychowdhury 1994 with polynomial size; this table-based gadget is "
                  "exponential in p and meant for small p",
                  f"reciprocal table folded into the sum; {built}", "constructed"),
        CostEntry("cmp", 1, sympy.Integer(1),
                  "one threshold gate with weights +-2^i on the bits of both operands",
                  f"Alon & Bruck 1994; {built}", "constructed"),
        CostEntry("max", 3, k * (k - 1) / 2 + k * p + p,
                  "k(k-1)/2 pairwise comparisons (layer 1); per candidate and bit, one gate "
                  "'candidate wins every comparison AND its bit is 1' (layer 2); one OR per "
                  "output bit (layer 3)", f"Alon & Bruck 1994 (comparison); {built}",
                  "constructed"),
    ]
    return {entry.op: entry for entry in entries}


COST_MODEL: dict[str, CostEntry] = _entries()


# threshold depth of one gate of each kind, the weight of every depth computation
GATE_DEPTH: dict[str, int] = {op: entry.depth for op, entry in COST_MODEL.items()}


def gate_depths(op: str, deepest: tuple | None):
    """(arithmetic, threshold) depth of a gate of kind `op`: THE depth rule of tc0lab.

    deepest is (arithmetic, threshold) of its deepest operands, or None when it has none.
    A gate adds 1 (arithmetic) and its cost-model depth (threshold) to its deepest operand;
    with no operands, a source ('input', 'const') has arithmetic depth 0 and any other gate 1.
    The two depths may be numpy arrays (one entry per gate of a block).
    """
    if deepest is None:
        return (0 if op in SOURCE_OPS else 1), GATE_DEPTH[op]
    return deepest[0] + 1, deepest[1] + GATE_DEPTH[op]


def threshold_depth(op: str) -> int:
    """Threshold depth of one gate of kind `op` under the cost model."""
    return GATE_DEPTH[op]


def threshold_size(op: str, fan_in: int | sympy.Expr, bits: int | sympy.Expr) -> sympy.Expr:
    """Threshold gates for one gate of kind `op` with `fan_in` operands at `bits` precision."""
    return COST_MODEL[op].size.subs({k: fan_in, p: bits})
