"""The zoo's per-layer structure as polynomials in d (d_model) and N (d_state), derived by hand.

For each zoo architecture this module writes down, from its definition in `tc0lab.spec.zoo`
and the compiler's rules, what one layer costs:

  per token   the gates the spec's own expressions compile to (`expr_to_gates`): a sum of
              k terms is one 'add' of fan-in k, w * x is a 'const' w and a 'mul', a product
              of k factors is k - 1 'mul', a one-argument function (folded compositions
              included) is one 'lookup', and a number is one 'const' per distinct value per
              layer (shared by every token); plus the projection x + W_out silu(y) after the
              mixer (the transformer: x + W_out y, then the MLP x + W2 relu(W1 x + b1));
  mixer       the construction's shape (`formula_counts`): how many states, bases, kernel
              weights, composition rows, ... of each kind, as multiplicities in d and N.

Glossary: d = d_model, N = d_state, S = state size (d N for the channel-wise cores, N for
s4, ids4 and rnn). The derivation assumes d and N at least `min_sizes(arch)` (see there)
and generic parameter values (no two random values equal). `general.py` checks, for a concrete
stack, that every layer's measured token gates, constants and numeric mixer shape equal
these at its (d, N) before it shows the symbolic formulas.
"""
from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field

import sympy

from tc0lab.formulas import counts
from tc0lab.formulas.symbols import FormulaUnsupported, N, d
# smallest (d, N) each derivation covers. At d = 1 a projection w x is one 'mul' and no 'add',
# which changes every core with input-dependent projections (s4 and s4d have none); at N = 1
# the transitions of IDS4 and DeltaNet are 1 x 1, hence diagonal: another construction.
_MIN_SIZES = {"s4": (1, 1), "s4d": (1, 1), "ssm-fnn": (1, 1), "ids4": (2, 2), "deltanet": (2, 2)}
DEFAULT_MIN_SIZES = (2, 1)


def min_sizes(arch: str) -> tuple[int, int]:
    """(smallest d, smallest N) for which the arch's derivation holds."""
    return _MIN_SIZES.get(arch, DEFAULT_MIN_SIZES)


def covers(arch: str, d_model: int, d_state: int) -> bool:
    low_d, low_n = min_sizes(arch)
    return d_model >= low_d and d_state >= low_n


@dataclass
class TokenSheet:
    """Per-token gates (op, count, fan-in, edges each) and per-layer shared constants."""

    gates: list = field(default_factory=list)
    constants: sympy.Expr = sympy.Integer(0)

    def gate(self, op: str, count, fan_in=None, edges=None) -> "TokenSheet":
        """count gates of kind op; fan-in defaults to 2 for 'mul' and 1 for 'lookup'."""
        fan_in = (2 if op == "mul" else 1) if fan_in is None else fan_in
        self.gates.append((op, sympy.sympify(count), sympy.sympify(fan_in), sympy.sympify(fan_in if edges is None else edges)))
        return self

    def const(self, count) -> "TokenSheet":
        self.constants += count
        return self

    def linear(self, rows, width, extra=0, bias=False) -> "TokenSheet":
        """rows sums of `width` weighted inputs (+ `extra` plain operands, + a bias const)."""
        self.gate("mul", rows * width, 2)
        self.gate("add", rows, width + extra + int(bias))
        return self.const(rows * width + rows * int(bias))

    def add_to(self, tally: counts.Tally, times: sympy.Expr) -> None:
        for op, count, fan_in, edges in self.gates:
            tally.add(op, count * times, fan_in, edges)

    def histogram(self, sizes: dict) -> tuple[Counter, int]:
        """(Counter of (op, fan-in), edges) at concrete sizes, as numeric.py measures them."""
        histogram: Counter = Counter()
        edges = 0
        for op, count, fan_in, each in self.gates:
            number = int(count.xreplace(sizes))
            if number:
                histogram[op, int(fan_in.xreplace(sizes))] += number
                edges += number * int(each.xreplace(sizes))
        return histogram, edges


@dataclass
class ZooLayer:
    """One layer of a zoo architecture: construction, per-token sheet, mixer shape."""

    construction: str
    token: TokenSheet
    shape: object
    state_size: sympy.Expr


def _projection(sheet: TokenSheet) -> TokenSheet:
    """x + W_out silu(y) after a recurrent mixer: d silu lookups, d sums of d products + x."""
    return sheet.gate("lookup", d).linear(d, d, extra=1)


def _diagonal(log_bases=None, products=None, rows=None) -> counts.DiagonalShape:
    """A zoo diagonal core: d N states, each with an input term, no h0."""
    return counts.DiagonalShape({(1, 0): d * N}, log_bases, products or {}, rows or {(N, 1): d})


def _mamba_tokens(negative: bool) -> TokenSheet:
    sheet = TokenSheet().linear(d, d, bias=True).gate("lookup", d)  # Delta_c = softplus(W_delta x + b)
    sheet.linear(2 * N, d)  # B_t, C_t
    sheet.gate("mul", 2 * d * N)  # u = Delta_c * B_t[s] * x_c: three factors
    sheet.gate("mul", d).const(d)  # D x
    if negative:  # a = 2 exp(A Delta) - 1: one lookup exp(softplus(.)), a 'mul' by 2, an 'add' of -1
        sheet.gate("lookup", d * N).gate("mul", d * N).gate("add", d * N, 2).const(2)
    return _projection(sheet)


def _mamba(negative: bool) -> ZooLayer:
    if negative:  # not provably positive: one 'prod' gate per (c, s, t, j)
        shape = _diagonal(products={(True, 1, 0): d * N})
        return ZooLayer("diagonal-decay", _mamba_tokens(True), shape, d * N)
    keys = (((1, 0), N),)  # N distinct coefficients -exp(A_log[c, s]) per base Delta_c
    return ZooLayer("diagonal-decay", _mamba_tokens(False), _diagonal(log_bases={(False, 1, 0, keys): d}), d * N)


def _mamba2() -> ZooLayer:
    sheet = TokenSheet().linear(1, d, bias=True).gate("lookup", 1)  # the scalar Delta_t
    sheet.linear(2 * N, d).gate("mul", 2 * d * N).gate("mul", d).const(d)  # B_t, C_t, u, D x
    shape = _diagonal(log_bases={(False, 1, 0, (((1, 0), 1),)): 1})  # one base, one coefficient
    return ZooLayer("diagonal-decay", _projection(sheet), shape, d * N)


def _gla() -> ZooLayer:
    sheet = TokenSheet().linear(N, d, bias=True).gate("lookup", N)  # log(sigmoid(W_alpha x + b)): the bases
    sheet.linear(2 * N, d).gate("mul", d * N)  # k_t, q_t, u = k_s x_c
    shape = _diagonal(log_bases={(False, 1, 0, (((1, 0), 1),)): N}, rows={(N, 0): d})  # no D
    return ZooLayer("diagonal-decay", _projection(sheet), shape, d * N)


def _kernel(weights_per_output) -> counts.KernelShape:
    """No h0 and one zero pattern for every lag: settle = 1, the least `_kernel_shape` gives."""
    return counts.KernelShape(1, {((weights_per_output, weights_per_output), (0, 0), 1): d})


def _s4d() -> ZooLayer:
    sheet = TokenSheet().gate("mul", d).const(d)  # D x; B folds into the kernel (d <= d N)
    return ZooLayer("lti-kernel", _projection(sheet), _kernel(1), d * N)  # K_k = C A^k B is diagonal


def _s4(folded: bool) -> ZooLayer:
    sheet = TokenSheet().gate("mul", d).const(d)  # D x
    if folded:  # d <= N: K_k = C A^k B, dense d x d, applied to x
        return ZooLayer("lti-kernel", _projection(sheet), _kernel(d), N)
    sheet.linear(N, d)  # d > N: u = B x per token, kernel C A^k dense d x N
    return ZooLayer("lti-kernel", _projection(sheet), _kernel(N), N)


def _ids4() -> ZooLayer:
    sheet = TokenSheet().linear(N * N, d, bias=True)  # A(x) = A0 + sum_i x_i A_in[i]
    sheet.linear(N, d).const(d * N).gate("mul", d).const(d)  # u = B x, C constants, D x
    dense = counts.ComposeShape({(N, 1): N}, None)
    shape = counts.ScanShape(counts.ComposeShape({(N, 1): N}, {N: N * N}), dense, dense, {(N, 1): d}, N)
    return ZooLayer("scan-tree", _projection(sheet), shape, N)


def _deltanet() -> ZooLayer:
    sheet = TokenSheet().linear(N, d)  # k_raw = W_k x
    sheet.gate("mul", N, 2, edges=1).gate("add", 1, N).gate("lookup", 1)  # rsqrt(sum k_raw^2); x*x is one edge
    sheet.linear(1, d, bias=True).gate("lookup", 1)  # sigmoid(w_beta x + b_beta)
    sheet.linear(N, d)  # q
    # A = I - beta k k^T per channel (d equal blocks, memoised once): -2 sigmoid k_i k_j rsqrt^2 is 6 factors;
    # diagonal entries add 1; k k^T is symmetric, so N (N - 1) / 2 distinct off-diagonal entries
    sheet.gate("mul", 5 * N).gate("add", N, 2).gate("mul", 5 * N * (N - 1) / 2)
    sheet.gate("mul", 4 * d * N)  # u = 2 sigmoid k_raw_s rsqrt x_c: five factors
    sheet.gate("mul", d).const(d).const(3)  # D x; the numbers 1, -2 and 2
    rows = {(N, 1): d * N}
    shape = counts.ScanShape(counts.ComposeShape(rows, {N: d * N * N}), counts.ComposeShape(rows, None), None,
                             {(N, 1): d}, sympy.Integer(0))
    return ZooLayer("scan-tree", _projection(sheet), shape, d * N)


def _rnn() -> ZooLayer:
    sheet = TokenSheet().linear(N, d).const(N * N + d * N).gate("mul", d).const(d)  # u = B x; A, C constants; D x
    shape = counts.ChainShape({(N, 1): N}, False, True, {(N, 1): d}, sympy.Integer(0))
    return ZooLayer("sequential-chain", _projection(sheet), shape, N)


def _transformer() -> ZooLayer:
    sheet = TokenSheet().linear(3 * d, d)  # q, k, v
    sheet.linear(d, d, extra=1)  # x + W_out y (identity activation)
    sheet.linear(2 * d, d, bias=True).gate("lookup", 2 * d).linear(d, 2 * d, extra=1)  # MLP
    return ZooLayer("softmax-attention", sheet, counts.AttentionShape(d, d, 0, True), d)


_LAYERS = {
    "s4": lambda: [(d <= N, _s4(True)), (d > N, _s4(False))],
    "s4d": lambda: [(sympy.true, _s4d())],
    "ssm-fnn": lambda: [(sympy.true, _s4d())],  # its SSM core is the S4D recurrence (zoo._ssm_fnn)
    "mamba": lambda: [(sympy.true, _mamba(False))],
    "mamba-neg": lambda: [(sympy.true, _mamba(True))],
    "mamba2": lambda: [(sympy.true, _mamba2())],
    "gla": lambda: [(sympy.true, _gla())],
    "ids4": lambda: [(sympy.true, _ids4())],
    "deltanet": lambda: [(sympy.true, _deltanet())],
    "rnn": lambda: [(sympy.true, _rnn())],
    "transformer": lambda: [(sympy.true, _transformer())],
}
ARCHS = tuple(_LAYERS)


@functools.lru_cache(maxsize=None)
def zoo_layers(arch: str) -> tuple[tuple[sympy.Basic, ZooLayer], ...]:
    """(condition on d and N, derived layer) pieces for a zoo architecture."""
    if arch not in _LAYERS:
        raise FormulaUnsupported(f"no derived d/N structure for {arch!r}")
    return tuple(_LAYERS[arch]())


def layer_at(arch: str, d_model: int, d_state: int) -> ZooLayer:
    """The piece that applies at (d_model, d_state)."""
    sizes = {d: d_model, N: d_state}
    for condition, layer in zoo_layers(arch):
        if condition is sympy.true or bool(condition.xreplace(sizes)):
            return layer
    raise FormulaUnsupported(f"no piece of {arch} covers d={d_model}, N={d_state}")


def evaluate(obj, sizes: dict):
    """A shape with every multiplicity evaluated at concrete sizes (zero entries dropped)."""
    if isinstance(obj, sympy.Basic):
        return int(obj.xreplace(sizes))
    if isinstance(obj, dict):
        result: dict = {}
        for key, value in obj.items():
            number = evaluate(value, sizes)
            if number:
                key = evaluate(key, sizes)
                result[key] = result.get(key, 0) + number
        return result
    if isinstance(obj, tuple):
        return tuple(evaluate(item, sizes) for item in obj)
    if hasattr(obj, "__dataclass_fields__"):
        return type(obj)(**{name: evaluate(getattr(obj, name), sizes) for name in obj.__dataclass_fields__})
    return obj
