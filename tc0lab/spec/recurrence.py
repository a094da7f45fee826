"""The source language: layer recurrences and attention layers as sympy objects.

A recurrent mixer is Definition 2.1 of Merrill, Petty & Sabharwal (2024):

    h_t = A(x_t) h_{t-1} + B(x_t) x_t          (optionally h_t = sigma(...), the RNN-SSM)
    y_t = C(x_t) h_t + D x_t

A recurrence may also read the previous token (RWKV's token shift, Mamba-3's trapezoidal
term): `previous_inputs` are symbols for x_{t-1} (zero before the first token) that A, B, C
and D may read, and `B_previous` adds B'(x_t, x_{t-1}) x_{t-1} to the update. The previous
token is an input, not state: `widened()` is the same layer over the token pair (x_t, x_{t-1}),
so a commuting family stays commuting, and `widen_sequence` feeds it.

where A, B, C and D are sympy matrices over the input symbols x (one token) and parameter
symbols. A softmax-attention mixer is its own kind: queries, keys and values are sympy
vectors over the input symbols. A `Block` is a mixer wrapped by position-wise maps
(`TokenMap`: normalisation before, projection + nonlinearity + residual after, an optional
MLP), and a `Stack` is L blocks with concrete parameter values per layer.

Everything downstream (reference, compiler, checker) reads these matrices; nothing keys on
a layer's name. Parameter symbols are grouped into named arrays (`param_arrays`) so that
weights from numpy or torch bind by name.
"""
from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import sympy

from tc0lab.spec.functions import NAME_TO_SYMPY

ParamArrays = Mapping[str, np.ndarray]  # name -> numpy array of sympy Symbols


class SpecError(ValueError):
    """A malformed spec: the message lists every problem found, not just the first."""


def symbol_array(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A numpy object array of real sympy symbols named like 'W[0,1]'."""
    array = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        label = f"{name}[{','.join(map(str, index))}]" if shape else name
        array[index] = sympy.Symbol(label, real=True)
    return array


def input_symbols(d: int, prefix: str = "x") -> tuple[sympy.Symbol, ...]:
    """The d real input symbols of one token: x0 .. x{d-1}."""
    return tuple(sympy.Symbol(f"{prefix}{i}", real=True) for i in range(d))


def _bind(param_arrays: ParamArrays, arrays: Mapping[str, np.ndarray]) -> dict:
    """Map each parameter symbol to the matching entry of arrays[name]."""
    values: dict = {}
    missing = sorted(set(param_arrays) - set(arrays))
    if missing:
        raise SpecError(f"missing parameter arrays: {', '.join(missing)}")
    for name, symbols in param_arrays.items():
        array = np.asarray(arrays[name])
        if array.shape != symbols.shape:
            raise SpecError(f"parameter {name!r} has shape {array.shape}, expected {symbols.shape}")
        for index in np.ndindex(*symbols.shape):
            values[symbols[index]] = array[index].item()
    return values


NON_FINITE = (sympy.nan, sympy.oo, -sympy.oo, sympy.zoo)


FLOAT_LIMIT = 1e300  # a constant beyond this overflows float64 arithmetic


def _non_finite(label: str, exprs) -> list[str]:
    """Problems for entries of `label` that hold NaN, an infinity, a float64-overflowing constant or a Boolean."""
    exprs = [sympy.sympify(e) for e in exprs]
    problems = []
    bad = [str(e) for e in exprs if e.has(*NON_FINITE)]
    if bad:
        problems.append(f"{label} has non-finite entries (NaN or infinity), e.g. {bad[0]}")
    huge = [str(n)[:20] for e in exprs for n in e.atoms(sympy.Number) if n.is_finite and abs(n) > FLOAT_LIMIT]
    if huge:
        problems.append(f"{label} has a constant too large for float64 arithmetic: {huge[0]}...")
    logical = (sympy.logic.boolalg.BooleanAtom, sympy.logic.boolalg.BooleanFunction, sympy.core.relational.Relational)
    if any(isinstance(e, logical) for e in exprs):
        problems.append(f"{label} has a Boolean entry (True/False or a relation), not a number")
    return problems


def _input_problems(inputs, parameters: set) -> list[str]:
    """Inputs must be distinct sympy Symbols, none of them also a parameter."""
    if not all(isinstance(s, sympy.Symbol) for s in inputs):
        return ["inputs must be sympy Symbols"]
    problems = []
    if len(set(inputs)) != len(inputs):
        repeated = sorted({str(s) for s, n in Counter(inputs).items() if n > 1})
        problems.append(f"inputs repeat a symbol: {', '.join(repeated)}")
    both = sorted(map(str, set(inputs) & parameters))
    if both:
        problems.append(f"symbols declared both as inputs and as parameters: {', '.join(both)}")
    counts = Counter([s.name for s in inputs] + [s.name for s in parameters])
    repeated_inputs = {str(s) for s, n in Counter(inputs).items() if n > 1}
    clashes = sorted({name for name, n in counts.items() if n > 1} - set(both) - repeated_inputs)
    if clashes:
        problems.append(f"different symbols share a name (e.g. with other assumptions): {', '.join(clashes[:5])}; "
                        "generated code tells symbols apart by name")
    return problems


def param_array_problems(param_arrays) -> list[str]:
    """`param_arrays` must map names to numpy object arrays of sympy Symbols."""
    if not isinstance(param_arrays, Mapping):
        return [f"param_arrays must be a dict of name -> numpy array of symbols, got {type(param_arrays).__name__}"]
    problems = []
    for name, array in param_arrays.items():
        if not isinstance(array, np.ndarray):
            problems.append(f"param_arrays[{name!r}] must be a numpy array of symbols (e.g. symbol_array), "
                            f"got {type(array).__name__}")
        elif not all(isinstance(s, sympy.Symbol) for s in array.flat):
            problems.append(f"param_arrays[{name!r}] must hold sympy Symbols only")
    return problems


def _undefined_symbols(exprs, allowed: set) -> set:
    free: set = set()
    for expr in exprs:
        free |= sympy.sympify(expr).free_symbols
    return free - allowed


class _Mixer:
    """What every mixer shares: validation on construction, named parameter arrays, binding."""

    kind = "mixer"

    def __post_init__(self) -> None:
        if isinstance(self.inputs, list):
            object.__setattr__(self, "inputs", tuple(self.inputs))
        problems = param_array_problems(self.param_arrays)
        problems = problems or _input_problems(self.inputs, self.parameters()) + self.problems()
        if problems:
            raise SpecError(f"invalid {self.kind} {self.name!r}: " + "; ".join(problems))

    @property
    def d_in(self) -> int:
        return len(self.inputs)

    @property
    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        return {name: array.shape for name, array in self.param_arrays.items()}

    def parameters(self) -> set:
        return {s for array in self.param_arrays.values() for s in array.flat}

    def bind(self, arrays: Mapping[str, np.ndarray]) -> dict:
        """Parameter values {Symbol: float} from named numpy arrays."""
        return _bind(self.param_arrays, arrays)


@dataclass(frozen=True, eq=False)
class Recurrence(_Mixer):
    """A recurrent mixer h_t = A(x) h_{t-1} + B(x) x, y_t = C(x) h_t + D x (Illusion Def. 2.1)."""

    name: str
    inputs: tuple[sympy.Symbol, ...]
    A: sympy.Matrix
    B: sympy.Matrix
    C: sympy.Matrix
    D: sympy.Matrix
    param_arrays: ParamArrays = field(default_factory=dict)
    nonlinearity: str | None = None  # wraps the state update: h_t = f(A h + B x)
    h0: sympy.Matrix | None = None  # initial state (None: zero)
    previous_inputs: tuple[sympy.Symbol, ...] = ()  # symbols for x_{t-1} (token shift); () : none
    B_previous: sympy.Matrix | None = None  # S x d: adds B_previous(x_t, x_{t-1}) x_{t-1}

    kind = "recurrence"

    def __post_init__(self) -> None:
        if isinstance(self.previous_inputs, list):
            object.__setattr__(self, "previous_inputs", tuple(self.previous_inputs))
        super().__post_init__()

    @property
    def reads_previous_token(self) -> bool:
        return bool(self.previous_inputs)

    def token_symbols(self) -> tuple[sympy.Symbol, ...]:
        """The symbols one step reads: x_t, then x_{t-1} when the layer shifts tokens."""
        return tuple(self.inputs) + tuple(self.previous_inputs)

    def widened(self) -> "Recurrence":
        """The same layer over the token pair z_t = (x_t, x_{t-1}); itself when it reads no previous token.

        Every (x_t, x_{t-1}) pair occurs in some input sequence, so the widened layer's transitions
        are exactly this layer's; run it on `widen_sequence(x)`.
        """
        return _widened(self)

    def stationary(self) -> "Recurrence":
        """The layer on constant sequences: x_{t-1} := x_t (what a repeated token sees from its second step)."""
        return _stationary(self)

    def _widened(self) -> "Recurrence":
        if not self.previous_inputs:
            return self
        S, d = self.state_size, self.d_in
        B_previous = self.B_previous if self.B_previous is not None else sympy.zeros(S, d)
        return Recurrence(self.name, self.token_symbols(), self.A, self.B.row_join(B_previous), self.C,
                          self.D.row_join(sympy.zeros(self.d_out, d)), self.param_arrays, self.nonlinearity, self.h0)

    def _stationary(self) -> "Recurrence":
        if not self.previous_inputs:
            return self
        same = dict(zip(self.previous_inputs, self.inputs))
        B = self.B + (self.B_previous if self.B_previous is not None else sympy.zeros(*self.B.shape))
        return Recurrence(self.name, self.inputs, self.A.xreplace(same), B.xreplace(same), self.C.xreplace(same),
                          self.D.xreplace(same), self.param_arrays, self.nonlinearity, self.h0)

    @property
    def state_size(self) -> int:
        return self.A.shape[0]

    @property
    def d_out(self) -> int:
        return self.C.shape[0]

    def problems(self) -> list[str]:
        """Every structural problem of the spec (empty when it is valid)."""
        problems = []
        labelled = (("A", self.A), ("B", self.B), ("C", self.C), ("D", self.D))
        for label, matrix in labelled + ((("h0", self.h0),) if self.h0 is not None else ()):
            if not isinstance(matrix, sympy.MatrixBase):
                problems.append(f"{label} must be a sympy Matrix, got {type(matrix).__name__}")
        if problems:
            return problems
        S, d = self.A.shape[0], len(self.inputs)
        if S == 0 or d == 0 or self.C.shape[0] == 0:
            problems.append(f"the state, the input and the output need at least one coordinate, got state size {S}, "
                            f"{d} inputs and {self.C.shape[0]} outputs")
        if self.A.shape[0] != self.A.shape[1]:
            problems.append(f"A must be square, got {self.A.shape[0]}x{self.A.shape[1]}")
        if self.B.shape != (S, d):
            problems.append(f"B must be {S}x{d} (state x input), got {self.B.shape[0]}x{self.B.shape[1]}")
        if self.C.shape[1] != S:
            problems.append(f"C must have {S} columns (state size), got {self.C.shape[1]}")
        if self.D.shape != (self.C.shape[0], d):
            problems.append(f"D must be {self.C.shape[0]}x{d} (output x input), got {self.D.shape[0]}x{self.D.shape[1]}")
        if self.h0 is not None and self.h0.shape != (S, 1):
            problems.append(f"h0 must be {S}x1, got {self.h0.shape[0]}x{self.h0.shape[1]}")
        if self.h0 is not None and self.h0.free_symbols & set(self.inputs):
            problems.append("h0 must not depend on the input symbols (it is the state before any token)")
        problems += self._previous_token_problems()
        if self.nonlinearity == "identity":
            problems.append("nonlinearity 'identity' is not a nonlinearity: leave nonlinearity=None for a linear update")
        elif self.nonlinearity is not None and self.nonlinearity not in NAME_TO_SYMPY:
            problems.append(f"unknown nonlinearity {self.nonlinearity!r}; known: "
                            f"{', '.join(sorted(set(NAME_TO_SYMPY) - {'identity'}))}")
        labelled = [("A", self.A), ("B", self.B), ("C", self.C), ("D", self.D), ("h0", self.h0)]
        for label, matrix in labelled:
            if matrix is not None:
                problems += _non_finite(label, matrix)
        matrices = [self.A, self.B, self.C, self.D] + [m for m in (self.h0, self.B_previous) if m is not None]
        undefined = _undefined_symbols([e for m in matrices for e in m], set(self.token_symbols()) | self.parameters())
        if undefined:
            names = ", ".join(sorted(map(str, undefined)))
            problems.append(f"undefined symbols (neither inputs nor declared parameters): {names}")
        return problems

    def _previous_token_problems(self) -> list[str]:
        previous, d = self.previous_inputs, len(self.inputs)
        problems = []
        if self.B_previous is not None and not previous:
            problems.append("B_previous multiplies x_{t-1}: declare previous_inputs (its symbols) too")
        if not previous:
            return problems
        if not all(isinstance(s, sympy.Symbol) for s in previous):
            return problems + ["previous_inputs must be sympy Symbols"]
        if len(previous) != d:
            problems.append(f"previous_inputs must have one symbol per input ({d}), got {len(previous)}")
        if len(set(previous)) != len(previous) or set(previous) & (set(self.inputs) | self.parameters()):
            problems.append("previous_inputs must be distinct symbols, none of them an input or a parameter")
        if self.B_previous is not None:
            if not isinstance(self.B_previous, sympy.MatrixBase):
                problems.append(f"B_previous must be a sympy Matrix, got {type(self.B_previous).__name__}")
            else:
                if self.B_previous.shape != (self.A.shape[0], d):
                    problems.append(f"B_previous must be {self.A.shape[0]}x{d} (state x input), "
                                    f"got {self.B_previous.shape[0]}x{self.B_previous.shape[1]}")
                problems += _non_finite("B_previous", self.B_previous)
        if self.h0 is not None and self.h0.free_symbols & set(previous):
            problems.append("h0 must not depend on the previous-token symbols")
        return problems


@functools.lru_cache(maxsize=64)
def _widened(rec: Recurrence) -> Recurrence:  # made once per layer (validating a layer costs seconds)
    return rec._widened()


@functools.lru_cache(maxsize=64)
def _stationary(rec: Recurrence) -> Recurrence:
    return rec._stationary()


def widen_sequence(x: np.ndarray) -> np.ndarray:
    """Rows z_t = (x_t, x_{t-1}) with x_0 = 0: the input of `Recurrence.widened()`."""
    x = np.asarray(x)
    previous = np.concatenate([np.zeros_like(x[:1]), x[:-1]], axis=0)
    return np.concatenate([x, previous], axis=1)


@dataclass(frozen=True, eq=False)
class AttentionLayer(_Mixer):
    """Softmax attention: y_t = sum_{j<=t} softmax_j(q_t . k_j * scale) v_j (causal)."""

    name: str
    inputs: tuple[sympy.Symbol, ...]
    query: sympy.Matrix  # (d_k, 1) over inputs and parameters
    key: sympy.Matrix  # (d_k, 1)
    value: sympy.Matrix  # (d_v, 1)
    scale: float
    param_arrays: ParamArrays = field(default_factory=dict)
    causal: bool = True

    kind = "attention layer"

    @property
    def d_out(self) -> int:
        return self.value.shape[0]

    def problems(self) -> list[str]:
        problems = []
        for label, vector in (("query", self.query), ("key", self.key), ("value", self.value)):
            if not isinstance(vector, sympy.MatrixBase):
                return [f"{label} must be a sympy Matrix, got {type(vector).__name__}"]
            problems += _non_finite(label, vector)
        if not (isinstance(self.scale, (int, float)) and np.isfinite(self.scale)):
            problems.append(f"scale must be a finite number, got {self.scale!r}")
        if self.query.shape != self.key.shape or self.query.shape[1] != 1:
            problems.append(f"query and key must be column vectors of one size, got "
                            f"{self.query.shape} and {self.key.shape}")
        if self.value.shape[1] != 1:
            problems.append(f"value must be a column vector, got {self.value.shape}")
        exprs = list(self.query) + list(self.key) + list(self.value)
        undefined = _undefined_symbols(exprs, set(self.inputs) | self.parameters())
        if undefined:
            problems.append("undefined symbols: " + ", ".join(sorted(map(str, undefined))))
        return problems



# the union of the mixer kinds (this module's two and spec.state_recurrence's) is tc0lab.spec.mixers.Mixer


@dataclass(frozen=True, eq=False)
class TokenMap:
    """A position-wise map: `outputs` are sympy expressions in `inputs` and parameters."""

    inputs: tuple[sympy.Symbol, ...]
    outputs: tuple[sympy.Expr, ...]
    param_arrays: ParamArrays = field(default_factory=dict)

    def parameters(self) -> set:
        return {s for array in self.param_arrays.values() for s in array.flat}

    def problems(self) -> list[str]:
        undefined = _undefined_symbols(self.outputs, set(self.inputs) | self.parameters())
        return ["undefined symbols: " + ", ".join(sorted(map(str, undefined)))] if undefined else []


@dataclass(frozen=True, eq=False)
class Block:
    """One layer: x -> pre (e.g. norm) -> mixer -> post(x, y) -> optional mlp.

    `post.inputs` is the tuple (x symbols..., y symbols...): it sees the block's input for
    the residual and the mixer's output.
    """

    mixer: _Mixer  # a Recurrence, AttentionLayer or StateRecurrence (tc0lab.spec.mixers.Mixer)
    post: TokenMap
    pre: TokenMap | None = None
    mlp: TokenMap | None = None

    @property
    def d(self) -> int:
        return self.mixer.d_in

    def token_maps(self) -> list[TokenMap]:
        return [m for m in (self.pre, self.post, self.mlp) if m is not None]

    def param_arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {}
        for part in [self.mixer, *self.token_maps()]:
            for name, symbols in part.param_arrays.items():
                if name in arrays and arrays[name] is not symbols:
                    raise SpecError(f"parameter array {name!r} is declared twice in one block")
                arrays[name] = symbols
        return arrays

    def problems(self) -> list[str]:
        problems = [p for m in self.token_maps() for p in m.problems()]
        d = self.mixer.d_in
        if self.pre is not None and len(self.pre.outputs) != d:
            problems.append(f"pre map must output {d} values, got {len(self.pre.outputs)}")
        if len(self.post.inputs) != d + self.mixer.d_out:
            problems.append(f"post map must read {d} + {self.mixer.d_out} values (x then y)")
        if len(self.post.outputs) != d:
            problems.append(f"post map must output {d} values, got {len(self.post.outputs)}")
        if self.mlp is not None and len(self.mlp.outputs) != d:
            problems.append(f"mlp must output {d} values, got {len(self.mlp.outputs)}")
        return problems


def _value_problems(values: Mapping) -> list[str]:
    """Parameter values must be finite numbers."""
    bad = []
    for symbol, value in values.items():
        try:
            finite = bool(np.isfinite(complex(value)))
        except (TypeError, ValueError):
            finite = False
        if not finite:
            bad.append(f"{symbol} = {value!r}")
    return [f"parameter values must be finite numbers: {', '.join(bad[:3])}"] if bad else []


@dataclass(frozen=True, eq=False)
class Stack:
    """L blocks with concrete parameter values per layer, plus optional positions.

    `positions` is None or 'sinusoidal': fixed encodings added to the inputs (layer 0),
    see `sinusoidal_positions`.
    """

    blocks: tuple[Block, ...]
    values: tuple[dict, ...]  # per layer: {Symbol: float}
    positions: str | None = None
    arch: str = "custom"
    d_state: int | None = None  # N of a zoo stack (None for user stacks)

    def __post_init__(self) -> None:
        problems = []
        if not self.blocks:
            problems.append("a stack needs at least one block")
        if len(self.values) != len(self.blocks):
            problems.append(f"{len(self.blocks)} blocks but {len(self.values)} value sets")
        for index, block in enumerate(self.blocks):
            problems += [f"layer {index + 1}: {p}" for p in block.problems()]
            needed = set().union(*(a.flat for a in block.param_arrays().values())) if block.param_arrays() else set()
            unbound = needed - set(self.values[index]) if index < len(self.values) else set()
            if unbound:
                problems.append(f"layer {index + 1}: {len(unbound)} parameters have no value, e.g. {sorted(map(str, unbound))[0]}")
            if index < len(self.values):
                problems += [f"layer {index + 1}: {p}" for p in _value_problems(self.values[index])]
        if problems:
            raise SpecError("invalid stack: " + "; ".join(problems))

    @property
    def layers(self) -> int:
        return len(self.blocks)

    @property
    def d(self) -> int:
        return self.blocks[0].d


def sinusoidal_positions(n: int, d: int) -> np.ndarray:
    """Fixed sinusoidal position encodings, shape (n, d), positions 1..n (Vaswani et al. 2017)."""
    positions = np.arange(1, n + 1)[:, None]
    frequencies = 1.0 / (10000.0 ** (2 * (np.arange(d) // 2) / max(d, 1)))
    angles = positions * frequencies[None, :]
    return np.where(np.arange(d)[None, :] % 2 == 0, np.sin(angles), np.cos(angles))
