"""A mixer with a general state-dependent update: h_t = U(h_{t-1}, x_t), y_t = V(h_t, x_t).

`Recurrence` (Illusion Def. 2.1) keeps the state update linear in h inside at most one
nonlinearity, f(A(x) h + B(x) x). Gates that read h_{t-1} (sLSTM's R_z, R_i, R_f, R_o; LSTM,
GRU) do not fit that form: the update multiplies functions of h by h. A `StateRecurrence`
is written directly as expressions:

    inputs  x = (x_0, ..., x_{d-1})      one token's symbols
    state   h = (h_0, ..., h_{S-1})      symbols standing for h_{t-1} in `update`, h_t in `output`
    update  S sympy expressions in (h, x, parameters): the new state h_t
    output  d_out sympy expressions in (h, x, parameters): y_t, read at the new state h_t
    h0      optional S expressions in the parameters (None: zero)

What the rules reason about (`affine_parts`): every application f(P) in the update whose
argument P is affine in h (a pre-activation: P = J h + p(x) with J free of h) is a "gate" or
a "unit"; the update is then G(h, x, a) with a_k = f_k(P_k). The Jacobian of the update in h
has the structural pattern `jacobian_pattern` (which coordinates read which). Nothing here
knows an architecture.
"""
from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import sympy

from tc0lab.spec.functions import SYMPY_TO_NAME
from tc0lab.spec.recurrence import ParamArrays, SpecError, _Mixer, _non_finite, _undefined_symbols


def _as_tuple(exprs) -> tuple:
    """A tuple of sympified entries (a sympy Matrix or any sequence); a bare expression is one entry."""
    if isinstance(exprs, sympy.MatrixBase):
        return tuple(exprs)
    if isinstance(exprs, (list, tuple)):
        return tuple(sympy.sympify(e) for e in exprs)
    return (sympy.sympify(exprs),)


@dataclass(frozen=True, eq=False)
class StateRecurrence(_Mixer):
    """h_t = update(h_{t-1}, x_t), y_t = output(h_t, x_t): any state-dependent update, e.g. gates reading h_{t-1}."""

    name: str
    inputs: tuple[sympy.Symbol, ...]
    state: tuple[sympy.Symbol, ...]
    update: tuple[sympy.Expr, ...]
    output: tuple[sympy.Expr, ...]
    param_arrays: ParamArrays = field(default_factory=dict)
    h0: tuple[sympy.Expr, ...] | None = None  # the state before any token (None: zero)

    kind = "state recurrence"

    def __post_init__(self) -> None:
        problems = []
        for label in ("state", "update", "output", "h0"):
            value = getattr(self, label)
            if value is None:
                continue
            try:
                object.__setattr__(self, label, _as_tuple(value))
            except (sympy.SympifyError, TypeError) as error:
                problems.append(f"{label} must be sympy expressions: {error}")
        if problems:
            raise SpecError(f"invalid {self.kind} {self.name!r}: " + "; ".join(problems))
        super().__post_init__()

    @property
    def state_size(self) -> int:
        return len(self.state)

    @property
    def d_out(self) -> int:
        return len(self.output)

    def problems(self) -> list[str]:
        """Every structural problem of the spec (empty when it is valid)."""
        if not all(isinstance(s, sympy.Symbol) for s in self.state):
            return ["state must be sympy Symbols (one per coordinate of h)"]
        problems = []
        S, d, parameters, inputs = len(self.state), len(self.inputs), self.parameters(), set(self.inputs)
        if S == 0 or d == 0 or not self.output:
            problems.append(f"the state, the input and the output need at least one coordinate, got state size {S}, "
                            f"{d} inputs and {len(self.output)} outputs")
        if len(self.update) != S:
            problems.append(f"update must give one expression per state coordinate: {S} state symbols, "
                            f"{len(self.update)} update expressions")
        repeated = sorted(str(s) for s, count in Counter(self.state).items() if count > 1)
        if repeated:
            problems.append(f"state repeats a symbol: {', '.join(repeated)}")
        both = sorted(map(str, set(self.state) & (inputs | parameters)))
        if both:
            problems.append(f"state symbols also declared as inputs or parameters: {', '.join(both)}")
        names = Counter(s.name for s in set(self.state) | inputs | parameters)
        clashes = sorted(name for name, count in names.items() if count > 1 and name not in both)
        if clashes:
            problems.append(f"different symbols share a name: {', '.join(clashes[:5])}; generated code tells symbols "
                            "apart by name")
        if self.h0 is not None and len(self.h0) != S:
            problems.append(f"h0 must have {S} entries (state size), got {len(self.h0)}")
        for label, exprs in (("update", self.update), ("output", self.output), ("h0", self.h0 or ())):
            problems += _non_finite(label, exprs)
            unknown = sorted({type(f).__name__ for e in exprs for f in e.atoms(sympy.Function)
                              if type(f) not in SYMPY_TO_NAME})
            if unknown:
                problems.append(f"{label} uses functions with no lookup gate or numpy twin: {', '.join(unknown)}")
        readable = inputs | set(self.state) | parameters
        for label, exprs in (("update", self.update), ("output", self.output)):
            undefined = _undefined_symbols(exprs, readable)
            if undefined:
                problems.append(f"{label} has undefined symbols (neither inputs, state nor declared parameters): "
                                f"{', '.join(sorted(map(str, undefined)))}")
        if self.h0 is not None:
            read = set().union(*(e.free_symbols for e in self.h0)) if self.h0 else set()
            if read & (inputs | set(self.state)):
                problems.append("h0 must not depend on the input or state symbols (it is the state before any token)")
            elif read - parameters:
                problems.append(f"h0 has undefined symbols: {', '.join(sorted(map(str, read - parameters)))}")
        return problems

    def reads_state(self) -> bool:
        """Whether some update expression mentions a state symbol (else the layer is position-wise)."""
        state = set(self.state)
        return any(e.free_symbols & state for e in self.update)

    def jacobian_pattern(self) -> list[set[int]]:
        """Per coordinate r, the coordinates s whose symbol appears in update[r] (dU_r/dh_s not structurally 0)."""
        index = {s: i for i, s in enumerate(self.state)}
        return [{index[s] for s in e.free_symbols if s in index} for e in self.update]

    def jacobian_summary(self) -> str:
        """The Jacobian dh_t/dh_{t-1}'s structural pattern in words (its blocks of mutually reading coordinates)."""
        pattern = self.jacobian_pattern()
        off_diagonal = sum(len(reads - {r}) for r, reads in enumerate(pattern))
        blocks = _blocks(pattern)
        sizes = sorted((len(b) for b in blocks), reverse=True)
        shape = "diagonal" if off_diagonal == 0 else f"{off_diagonal} off-diagonal entries"
        return (f"the Jacobian dh_t/dh_(t-1) depends on the state; structurally {shape}, "
                f"{len(blocks)} blocks of coordinates (largest {sizes[0] if sizes else 0})")


def _blocks(pattern: list[set[int]]) -> list[list[int]]:
    """Connected components of the undirected read graph."""
    parent = list(range(len(pattern)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r, reads in enumerate(pattern):
        for s in reads:
            parent[find(r)] = find(s)
    groups: dict[int, list[int]] = {}
    for i in range(len(pattern)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


@dataclass(frozen=True)
class Application:
    """One f(P) in the update with P affine in the state: P = sum_s coefficients[s] h_s + offset."""

    function: str  # lookup name (tanh, sigmoid, exp, ...)
    expr: sympy.Expr  # the application itself, f(P)
    coefficients: dict  # state index -> expression free of the state (structurally non-zero)
    offset: sympy.Expr  # P at h = 0
    arrays: frozenset  # names of the parameter arrays P mentions (what the checker groups gates by)


@dataclass(frozen=True)
class AffineParts:
    """The update as G(h, x, a) with a_k = f_k(P_k), P_k affine in h (see the module docstring)."""

    applications: tuple[Application, ...]
    symbols: tuple[sympy.Symbol, ...]  # a_k, one per application
    gated: tuple[sympy.Expr, ...]  # the update with each application replaced by its a_k


def _linear_term(term: sympy.Expr, state: dict) -> tuple[sympy.Symbol, sympy.Expr] | None:
    """(h, c) for a term c * h with c free of the state, read off the term's factors (no expand); else None."""
    if term in state:
        return term, sympy.Integer(1)
    if term.is_Mul:
        read = [f for f in term.args if f in state]
        rest = [f for f in term.args if f not in state]
        if len(read) == 1 and not any(f.free_symbols & state.keys() for f in rest):
            return read[0], sympy.Mul(*rest)
    return None


def _affine(argument: sympy.Expr, state: dict) -> tuple[dict, sympy.Expr] | None:
    """(coefficients by state index, offset) when `argument` is affine in the state, else None.

    Terms c * h are read off directly (a pre-activation written as a sum, like W x + R h + b);
    any other term mentioning the state is expanded and differentiated.
    """
    coefficients: dict = {}
    offset = []
    for term in sympy.Add.make_args(argument):
        if not term.free_symbols & state.keys():
            offset.append(term)
            continue
        simple = _linear_term(term, state)
        pieces = [simple] if simple is not None else None
        if pieces is None:
            pieces = []
            for piece in sympy.Add.make_args(sympy.expand(term)):
                read = piece.free_symbols & state.keys()
                if not read:
                    offset.append(piece)
                    continue
                if len(read) > 1:
                    return None
                (symbol,) = read
                coefficient = sympy.diff(piece, symbol)
                if coefficient.free_symbols & read:
                    return None
                pieces.append((symbol, coefficient))
        for symbol, coefficient in pieces:
            coefficients[state[symbol]] = coefficients.get(state[symbol], 0) + coefficient
    return {s: c for s, c in coefficients.items() if c != 0}, sympy.Add(*offset)


@functools.lru_cache(maxsize=32)
def affine_parts(mixer: StateRecurrence) -> AffineParts:
    """Every one-argument application in the update whose argument is affine in (and reads) the state."""
    state = {s: i for i, s in enumerate(mixer.state)}
    owner = {symbol: name for name, array in mixer.param_arrays.items() for symbol in array.flat}
    found: dict = {}
    for expr in mixer.update:
        for node in sympy.preorder_traversal(expr):
            if not (isinstance(node, sympy.Function) and len(node.args) == 1 and type(node) in SYMPY_TO_NAME):
                continue
            if node in found or not node.args[0].free_symbols & set(state):
                continue
            parts = _affine(node.args[0], state)
            if parts is not None:
                arrays = frozenset(owner[s] for s in node.args[0].free_symbols if s in owner)
                found[node] = Application(SYMPY_TO_NAME[type(node)], node, parts[0], parts[1], arrays)
    applications = tuple(found.values())
    symbols = tuple(sympy.Symbol(f"_a{k}", real=True) for k in range(len(applications)))
    replacement = {a.expr: s for a, s in zip(applications, symbols)}
    gated = tuple(e.xreplace(replacement) for e in mixer.update)
    return AffineParts(applications, symbols, gated)


def numeric_h0(mixer: StateRecurrence, values: dict) -> np.ndarray:
    """The initial state at the given parameter values (zeros when h0 is None)."""
    if mixer.h0 is None:
        return np.zeros(mixer.state_size)
    bound = {s: sympy.Float(v) for s, v in values.items()}
    return np.array([float(e.xreplace(bound)) for e in mixer.h0])
