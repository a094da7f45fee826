"""Numeric steps of a `StateRecurrence` for the verifier: the whole state of many words at once.

The verifier (`verify.py`) runs a witness by feeding batches of states one token at a time and
decoding the layer's output. For a general update h <- U(h, x) this module evaluates U the
way the rules read it (`state_recurrence.affine_parts`): the pre-activations P_k = J_k(x) h +
p_k(x) of the update's applications f_k(P_k) are one matrix product per token, then f_k
elementwise, then the rest of the update G(h, x, a) in generated numpy code; the output
V(h_t, x_t) likewise. Before anything runs, the float64 values of J and p at the witness's
tokens, and of G and V at the states one token from the start, are compared with a
40-digit evaluation (a spec whose float evaluation cancels is refused, as for `Recurrence`).
"""
from __future__ import annotations

import numpy as np
import sympy

from tc0lab.compiler.expr_to_gates import bind
from tc0lab.spec.codegen import mpmath_source_function
from tc0lab.spec.functions import NUMPY
from tc0lab.spec.numeric import ACCURATE_DIGITS, SparseMatrixFunction, accurate_matrix, by_name, numpy_function
from tc0lab.spec.state_recurrence import StateRecurrence, affine_parts, numeric_h0


def _columns(function, rows: np.ndarray, count: int) -> np.ndarray:
    """(B, count) from a generated function's list of per-expression values (scalars broadcast)."""
    out = np.empty((len(rows), count))
    for i, value in enumerate(function(*rows.T)):
        out[:, i] = value
    return out


class UpdateSteps:
    """The verifier's per-token runner for a StateRecurrence (same interface as verify._Steps)."""

    dtype = float

    def __init__(self, machine) -> None:
        mixer: StateRecurrence = machine.rec
        self.post = machine.post
        self.token_vectors = np.concatenate([machine.tokens, machine.start]).reshape(-1, mixer.d_in)
        parts = affine_parts(mixer)
        S, K = mixer.state_size, len(parts.applications)
        parameters = sorted(mixer.parameters(), key=by_name)
        at = [list(x) + [machine.values[s] for s in parameters] for x in self.token_vectors]
        symbols = tuple(mixer.inputs) + tuple(parameters)
        self.read = sorted({s for a in parts.applications for s in a.coefficients})  # the coordinates gates read
        column = {s: i for i, s in enumerate(self.read)}
        places = [(k, column[s], c) for k, a in enumerate(parts.applications) for s, c in a.coefficients.items()]
        places += [(k, len(self.read), a.offset) for k, a in enumerate(parts.applications)]
        entries = sympy.Matrix([e for _, _, e in places]) if places else sympy.zeros(1, 1)
        function = SparseMatrixFunction(entries, symbols)
        rounded = [np.real(function(p)).reshape(-1) for p in at]
        self.float_error = max(_relative(accurate_matrix(entries, symbols, p, r.reshape(-1, 1)), r.reshape(-1, 1))
                               for p, r in zip(at, rounded))
        rows, cols = np.array([k for k, _, _ in places], dtype=int), np.array([c for _, c, _ in places], dtype=int)
        linear = np.zeros((len(at), K, len(self.read) + 1))
        for token, r in enumerate(rounded):
            linear[token, rows, cols] = r[:len(places)]
        self.J, self.p = linear[:, :, :-1], linear[:, :, -1]  # (tokens, K, read coordinates), (tokens, K)
        self.functions = {}
        for k, application in enumerate(parts.applications):
            self.functions.setdefault(application.function, []).append(k)
        self.K = K
        state_inputs = tuple(mixer.state) + tuple(parts.symbols) + tuple(mixer.inputs)
        self.gated_exprs = bind(parts.gated, machine.values)
        self.output_exprs = bind(mixer.output, machine.values)
        self.gated = numpy_function(state_inputs, self.gated_exprs)
        self.emit = numpy_function(tuple(mixer.state) + tuple(mixer.inputs), self.output_exprs)
        self.S, self.d_out = S, mixer.d_out
        self.h0 = numeric_h0(mixer, machine.values)
        self.float_error = max(self.float_error, self._float_error(state_inputs, mixer))

    def _gates(self, states: np.ndarray, token: int) -> np.ndarray:
        pre = states[:, self.read] @ self.J[token].T + self.p[token]
        out = np.empty_like(pre)
        for name, columns in self.functions.items():
            out[:, columns] = NUMPY[name](pre[:, columns])
        return out

    def apply_one(self, states: np.ndarray, token: int) -> np.ndarray:
        """Every row reads the same token: h <- U(h, x_token)."""
        x = np.broadcast_to(self.token_vectors[token], (len(states), self.token_vectors.shape[1]))
        return _columns(self.gated, np.concatenate([states, self._gates(states, token), x], axis=1), self.S)

    def apply(self, states: np.ndarray, token_ids: np.ndarray) -> np.ndarray:
        """One token per row."""
        updated = np.empty_like(states)
        for token in np.unique(token_ids):
            rows = token_ids == token
            updated[rows] = self.apply_one(states[rows], token)
        return updated

    def mixer_output(self, states: np.ndarray, last_tokens: np.ndarray) -> np.ndarray:
        """y = V(h, x) after each row's last token (the mixer's own output)."""
        y = np.empty((len(states), self.d_out))
        for token in np.unique(last_tokens):
            rows = last_tokens == token
            x = np.broadcast_to(self.token_vectors[token], (int(rows.sum()), self.token_vectors.shape[1]))
            y[rows] = _columns(self.emit, np.concatenate([states[rows], x], axis=1), self.d_out)
        return y

    def output(self, states: np.ndarray, last_tokens: np.ndarray) -> np.ndarray:
        """What the layer emits (then the block's map, if any)."""
        y = self.mixer_output(states, last_tokens)
        return y if self.post is None else self.post(self.token_vectors[last_tokens], y)

    def _float_error(self, state_inputs: tuple, mixer: StateRecurrence) -> float:
        """G and V in float64 against 40 digits, at the start state after each token."""
        import mpmath
        tokens = np.arange(len(self.token_vectors))
        states = np.tile(self.h0, (len(tokens), 1))
        gates = np.array([self._gates(states[i:i + 1], i)[0] for i in tokens])
        rows = np.concatenate([states, gates, self.token_vectors], axis=1)
        pairs = [(self.gated_exprs, state_inputs, rows),
                 (self.output_exprs, tuple(mixer.state) + tuple(mixer.inputs),
                  np.concatenate([self.apply(states, tokens), self.token_vectors], axis=1))]
        worst = 0.0
        for exprs, symbols, points in pairs:
            fast, accurate = numpy_function(symbols, exprs), mpmath_source_function(symbols, exprs)
            for row in points:
                with mpmath.workdps(ACCURATE_DIGITS):
                    exact = np.array([float(v) for v in accurate(*[mpmath.mpf(float(v)) for v in row])])
                worst = max(worst, _relative(exact, np.array(fast(*row), dtype=float)))
        return worst


def _relative(accurate: np.ndarray, rounded: np.ndarray) -> float:
    accurate, rounded = np.asarray(accurate), np.asarray(rounded)
    if not accurate.size:
        return 0.0
    scale = max(1.0, float(np.max(np.abs(accurate))))
    return float(np.max(np.abs(accurate - rounded))) / scale
