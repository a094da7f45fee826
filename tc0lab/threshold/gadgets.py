"""Threshold gadgets: one constant-depth threshold circuit per arithmetic op.

Everything rests on two facts about a linear form L = sum_t w_t x_t + c over bits:
  * a function of L that changes value only at the points a_1 < ... < a_m of L's range is
    a depth-2 circuit: layer 1 has the gates [L >= a_j]; an output bit is the single gate
    sum_j (bit(a_j) - bit(a_{j-1})) [L >= a_j] >= 1 - bit(base)   (`_piecewise_bits`);
  * bit J of L depends only on L mod 2^(J+1), so each weight may be reduced into
    (-2^J, 2^J] first; bit J then flips at every multiple of 2^J in the (now short) range
    of the reduced form. This is the depth-2 iterated addition of Siu & Roychowdhury
    (bit J is 1 iff the low-bit sum lies in one of ~k intervals), `sum_bits`.
A "group" is a list of (node, weight) terms of which at most one node is 1 at a time
(the minterms of one word); the range of L is summed over groups, which keeps it short.

Gadgets and their depth:
  compare      x >= y                  1   one gate, weights +-2^i
  add          sum_i c_i x_i, c = +-1  2   sum_bits
  mul          x * y (rounded)         3   AND layer, then sum_bits
  lookup       any table of x          2   minterm layer, then one OR per output bit
  div          a * R(b) (rounded)      3   gates [minterm_v(b) AND a_i], then sum_bits
  prod         log-space product       3   minterms weighted by log|x_i|, then a function of
                                           their sum (nonnegative factors);
                                       4   signed factors: a sign-parity layer joins in
  maximum      max_i x_i               3   pairwise compares, select-and-bit, OR
Word semantics (two's complement, wrap, rounding) are in `tc0lab.threshold.fixed_point`.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from tc0lab.threshold import fixed_point as fx
from tc0lab.threshold.circuit import CONST0, ThresholdCircuit, Word

Group = list[tuple[int, int]]  # (node, weight); at most one node of a group is 1


def _bit(value: int, position: int) -> int:
    return (value >> position) & 1


def _form_range(groups: list[Group]) -> tuple[int, int]:
    low = sum(min(0, *(w for _, w in group)) for group in groups)
    high = sum(max(0, *(w for _, w in group)) for group in groups)
    return low, high


def _flatten(groups: list[Group]) -> tuple[list[int], list[int]]:
    terms = [term for group in groups for term in group]
    return [node for node, _ in terms], [w for _, w in terms]


def _step_gates(circuit: ThresholdCircuit, groups: list[Group], offset: int,
                points: list[int]) -> list[int]:
    """Layer 1: the gates [L >= a] for L = form + offset, one per point a."""
    sources, weights = _flatten(groups)
    return circuit.add_gates(sources, weights, [point - offset for point in points])


def _bit_expression(gates: list[int], values: list[int], base: int,
                    position: int) -> tuple[list[int], list[int], int]:
    """(sources, weights, constant) with sum(weights * sources) + constant == bit `position`
    of the piecewise value (base below the first step, values[j] from step j on)."""
    sources, weights, previous = [], [], _bit(base, position)
    for gate, value in zip(gates, values):
        if _bit(value, position) != previous:
            sources.append(gate)
            weights.append(_bit(value, position) - previous)
            previous = _bit(value, position)
    return sources, weights, _bit(base, position)


def _piecewise_bits(circuit: ThresholdCircuit, groups: list[Group], offset: int, base: int,
                    steps: list[tuple[int, int]], width: int) -> list[int]:
    """Bits 0..width-1 of a piecewise-constant function of L = form + offset (depth 2)."""
    gates = _step_gates(circuit, groups, offset, [a for a, _ in steps])
    values = [value for _, value in steps]
    bits = []
    for position in range(width):
        sources, weights, constant = _bit_expression(gates, values, base, position)
        bits.append(circuit.add_gate(sources, weights, 1 - constant))
    return bits


def _symmetric_mod(value: int, modulus: int) -> int:
    residue = value % modulus
    return residue - modulus if 2 * residue > modulus else residue


def sum_bits(circuit: ThresholdCircuit, groups: list[Group], offset: int,
             positions: range | list[int]) -> list[int]:
    """Bit J (for each J in positions) of L = form + offset, in depth 2."""
    bits = []
    for position in positions:
        modulus, half = 1 << (position + 1), 1 << position
        reduced = [[(n, _symmetric_mod(w, modulus)) for n, w in group
                    if w % modulus] for group in groups]
        reduced = [group for group in reduced if group]
        shift = offset % modulus
        low, high = (end + shift for end in _form_range(reduced)) if reduced else (shift, shift)
        points = range((low // half + 1) * half, high + 1, half)  # where bit J flips
        steps = [(a, _bit(a, position)) for a in points]
        bits += _piecewise_bits(circuit, reduced, shift, _bit(low, position), steps, 1)
    return bits


def _patterns(word: Word) -> list[tuple[int, int]]:
    """(bit pattern u, value of the word when its bits are u) for all 2^width patterns."""
    weights = word.bit_weights()
    return [(u, sum(w for i, w in enumerate(weights) if _bit(u, i)))
            for u in range(1 << word.width)]


def _minterm(circuit: ThresholdCircuit, word: Word, pattern: int,
             extra: tuple[int, ...] = ()) -> int:
    """[word's bits == pattern AND every node in extra is 1], one threshold gate."""
    key = ("minterm", word.bits, pattern, extra)
    if key not in circuit.memo:
        circuit.memo[key] = _new_minterm(circuit, word, pattern, extra)
    return circuit.memo[key]


def _new_minterm(circuit: ThresholdCircuit, word: Word, pattern: int, extra: tuple[int, ...]) -> int:
    signs = [1 if _bit(pattern, i) else -1 for i in range(word.width)]
    return circuit.add_gate(list(word.bits) + list(extra), signs + [1] * len(extra),
                            bin(pattern).count("1") + len(extra))


# -- gadgets on words -----------------------------------------------------------------
def compare(circuit: ThresholdCircuit, x: Word, y: Word, strict: bool = False) -> int:
    """[x >= y] (or [x > y]) as one gate with weights +-2^i."""
    sources, weights = _flatten([[t] for t in x.terms(1) + y.terms(-1)])
    return circuit.add_gate(sources, weights, 1 if strict else 0)


def add(circuit: ThresholdCircuit, words: list[Word], coeffs: list[int],
        positions: range | list[int], offset: int = 0) -> list[int]:
    """Bits `positions` of sum_i coeffs[i] * words[i] + offset (depth 2)."""
    groups = [[term] for word, c in zip(words, coeffs) for term in word.terms(c)]
    return sum_bits(circuit, groups, offset, positions)


def multiply(circuit: ThresholdCircuit, x: Word, y: Word, positions: range | list[int],
             offset: int = 0) -> list[int]:
    """Bits `positions` of x * y + offset: an AND layer, then sum_bits (depth 3)."""
    groups = [[(circuit.add_gate([bx, by], [1, 1], 2), wx * wy)]
              for bx, wx in zip(x.bits, x.bit_weights())
              for by, wy in zip(y.bits, y.bit_weights())]
    return sum_bits(circuit, groups, offset, positions)


def lookup(circuit: ThresholdCircuit, x: Word, table: Callable[[int], int],
           width: int) -> list[int]:
    """Bits 0..width-1 of table(value of x): a DNF of minterm gates (depth 2)."""
    outputs = {u: table(value) for u, value in _patterns(x)}
    mask = (1 << width) - 1
    minterms = {u: _minterm(circuit, x, u) for u, out in outputs.items() if out & mask}
    return [circuit.add_gate([m for u, m in minterms.items() if _bit(outputs[u], r)],
                             [1] * sum(_bit(outputs[u], r) for u in minterms), 1)
            for r in range(width)]


def divide(circuit: ThresholdCircuit, fmt: fx.FixedPoint, a: Word, b: Word) -> list[int]:
    """Bits of fx.div(a, b): a * R(b) is linear in the gates [b == v AND a_i] (depth 3)."""
    reciprocal = fx.reciprocal_table(fmt)
    patterns = [(u, reciprocal[v]) for u, v in _patterns(b) if v != 0]
    groups = [[(_minterm(circuit, b, u, (bit,)), r * weight) for u, r in patterns]
              for bit, weight in zip(a.bits, a.bit_weights())]
    return sum_bits(circuit, groups, fmt.round_offset,
                    range(fmt.frac_bits, fmt.frac_bits + fmt.bits))


def _log_groups(circuit: ThresholdCircuit, fmt: fx.FixedPoint,
                factors: list[Word]) -> tuple[list[Group], int, int]:
    """Minterm groups whose weighted sum S is sum_i round(2^g log2|x_i|); a zero factor
    pushes S below k * min(log) (so the magnitude reads 0). Returns (groups, S_lo, S_hi)
    of the window outside which the magnitude is constant."""
    logs = fx.log_table(fmt)
    low, high, k = min(logs.values()), max(logs.values()), len(factors)
    zero_log = low - (k - 1) * (high - low) - 1
    groups = [[(_minterm(circuit, x, u), logs.get(v, zero_log)) for u, v in _patterns(x)
               if logs.get(v, zero_log) != 0] for x in factors]
    return [g for g in groups if g], k * low, k * high


def _magnitude_steps(fmt: fx.FixedPoint, window: tuple[int, int],
                     form_range: tuple[int, int]) -> tuple[int, list[tuple[int, int]]]:
    """(magnitude at the bottom of the range, [(S, new magnitude)] where it changes)."""
    sums = np.arange(window[0] - 1, window[1] + 1)
    magnitude = fx.exp_magnitude(fmt, sums)
    magnitude[0] = 0  # every S below the window comes from a zero factor
    changes = np.flatnonzero(np.diff(magnitude)) + 1
    low, high = form_range
    base = int(magnitude[np.clip(low - sums[0], 0, len(sums) - 1)])
    steps = [(int(sums[j]), int(magnitude[j])) for j in changes if low < sums[j] <= high]
    return base, steps


def product(circuit: ThresholdCircuit, fmt: fx.FixedPoint, factors: list[Word],
            nonnegative: bool = False) -> list[int]:
    """Bits of fx.prod(factors) in log space: depth 3, or 4 with signed factors.

    nonnegative: the caller guarantees every factor is >= 0 (then no sign layer).
    """
    groups, *window = _log_groups(circuit, fmt, factors)
    form_range = _form_range(groups) if groups else (0, 0)
    base, steps = _magnitude_steps(fmt, tuple(window), form_range)
    gates = _step_gates(circuit, groups, 0, [a for a, _ in steps])
    magnitudes = [m for _, m in steps]
    if nonnegative:
        return [circuit.add_gate(*_gate_from_expression(
            _bit_expression(gates, magnitudes, base, r), 1)) for r in range(fmt.bits)]
    parity, = add(circuit, [Word((x.bits[-1],), signed=False) for x in factors],
                  [1] * len(factors), [0])
    bits = []
    for r in range(fmt.bits):
        positive = _bit_expression(gates, magnitudes, base, r)
        negative = _bit_expression(gates, [-m for m in magnitudes], -base, r)
        when_even = circuit.add_gate(*_gate_from_expression(positive, 1, (parity, -1)))
        when_odd = circuit.add_gate(*_gate_from_expression(negative, 2, (parity, 1)))
        bits.append(circuit.add_gate([when_even, when_odd], [1, 1], 1))
    return bits


def _gate_from_expression(expression: tuple[list[int], list[int], int], threshold: int,
                          extra: tuple[int, int] | None = None) -> tuple[list[int], list[int], int]:
    """Gate arguments for [expression (+ extra term) >= threshold]."""
    sources, weights, constant = expression
    if extra is not None:
        sources, weights = sources + [extra[0]], weights + [extra[1]]
    return sources, weights, threshold - constant


def maximum(circuit: ThresholdCircuit, words: list[Word]) -> list[int]:
    """Bits of max_i words[i] (ties go to the first): depth 3."""
    k = len(words)
    if k == 1:
        return list(words[0].bits)
    wins = {(i, j): compare(circuit, words[i], words[j]) for i in range(k) for j in range(i + 1, k)}
    bits = []
    for r in range(words[0].width):
        selected = []
        for i, word in enumerate(words):
            # word i is the maximum iff it beats every later word and no earlier word beats it
            sources = [wins[i, j] for j in range(i + 1, k)] + [wins[j, i] for j in range(i)]
            weights = [1] * (k - 1 - i) + [-1] * i
            selected.append(circuit.add_gate(sources + [word.bits[r]], weights + [1], k - i))
        bits.append(circuit.add_gate(selected, [1] * k, 1))
    return bits


# -- fixed-point ops: the gadget behind each arithmetic gate kind ---------------------
def _cmp_word(circuit: ThresholdCircuit, fmt: fx.FixedPoint, words: list[Word],
              relation: str = ">=") -> list[int]:
    bits = [CONST0] * fmt.bits
    bits[fmt.frac_bits] = compare(circuit, *words, strict=relation == ">")  # 1.0 or 0.0
    return bits


# op -> (circuit, format, operand words, options) -> output bits; semantics: `fixed_point`
_FIXED_POINT_GADGETS: dict[str, Callable[..., list[int]]] = {
    "add": lambda c, fmt, words, coeffs=None: add(
        c, words, coeffs or [1] * len(words), range(fmt.bits)),
    "mul": lambda c, fmt, words: multiply(
        c, *words, range(fmt.frac_bits, fmt.frac_bits + fmt.bits), fmt.round_offset),
    "div": lambda c, fmt, words: divide(c, fmt, *words),
    "lookup": lambda c, fmt, words, table: lookup(c, words[0], table.__getitem__, fmt.bits),
    "prod": lambda c, fmt, words, nonnegative=False: product(c, fmt, words, nonnegative),
    "cmp": _cmp_word,
    "max": lambda c, fmt, words: maximum(c, words),
}


def fixed_point_op(circuit: ThresholdCircuit, fmt: fx.FixedPoint, op: str, words: list[Word],
                   **options) -> Word:
    """The p-bit word computed by arithmetic op `op` (semantics: `fixed_point`).

    options: 'add' coeffs, 'lookup' table (word -> word), 'prod' nonnegative, 'cmp' relation.
    """
    if op not in _FIXED_POINT_GADGETS:
        raise ValueError(f"no threshold gadget for op {op!r}")
    return Word(tuple(_FIXED_POINT_GADGETS[op](circuit, fmt, words, **options)), signed=True)


def gadget_circuit(op: str, fmt: fx.FixedPoint, fan_in: int, store_edges: bool = True,
                   **options) -> ThresholdCircuit:
    """A standalone circuit for one fixed-point op on free inputs x0..x{fan_in-1} -> 'out'."""
    circuit = ThresholdCircuit(store_edges)
    words = [circuit.add_input(f"x{i}", fmt.bits) for i in range(fan_in)]
    circuit.set_output("out", fixed_point_op(circuit, fmt, op, words, **options))
    return circuit


def integer_circuit(op: str, fan_in: int, bits: int) -> ThresholdCircuit:
    """Unsigned integer gadgets with every output bit (no wrap, no rounding):
    'cmp' [x0 >= x1] (1 bit), 'add' the (bits + ceil(log2 k))-bit sum of k words,
    'mul' the 2*bits-bit product of two words."""
    circuit = ThresholdCircuit()
    words = [circuit.add_input(f"x{i}", bits, signed=False) for i in range(fan_in)]
    if op == "cmp":
        out = [compare(circuit, *words)]
    elif op == "add":
        out = add(circuit, words, [1] * fan_in, range(bits + (fan_in - 1).bit_length()))
    elif op == "mul":
        out = multiply(circuit, *words, range(2 * bits))
    else:
        raise ValueError(f"no integer gadget for op {op!r}")
    circuit.set_output("out", Word(tuple(out), signed=False))
    return circuit


def lookup_circuit(bits: int, table: Callable[[int], int], width: int) -> ThresholdCircuit:
    """An arbitrary function table: {0..2^bits-1} -> {0..2^width-1} as a depth-2 DNF."""
    circuit = ThresholdCircuit()
    x = circuit.add_input("x", bits, signed=False)
    circuit.set_output("out", Word(tuple(lookup(circuit, x, table, width)), signed=False))
    return circuit
