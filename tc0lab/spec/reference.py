"""Numpy reference forward pass: the ground truth for every other stage.

It evaluates a spec the plain way, with concrete parameter values: the recurrence as a
sequential loop over t (h_t = A(x_t) h_{t-1} + B(x_t) x_t), attention as an explicit
softmax. The compiled circuit (`tc0lab.circuit.evaluate`) and the probe's torch models are
tested against this module, so it deliberately shares none of their constructions.
"""
from __future__ import annotations

import functools

import numpy as np
import sympy

from tc0lab.spec.functions import NUMPY
from tc0lab.spec.numeric import by_name, numpy_function
from tc0lab.spec.recurrence import (AttentionLayer, Block, Recurrence, Stack, TokenMap, sinusoidal_positions,
                                    widen_sequence)
from tc0lab.spec.state_recurrence import StateRecurrence, numeric_h0


def _numeric(matrix: sympy.Matrix, values: dict) -> sympy.Matrix:
    return matrix.xreplace({s: sympy.Float(v) if not isinstance(v, complex) else sympy.sympify(v)
                            for s, v in values.items()})


@functools.lru_cache(maxsize=256)
def _compiled(inputs: tuple, exprs: tuple) -> tuple:
    """(parameter symbols, numpy function of inputs then parameters), made once per spec."""
    parameters = tuple(sorted(set().union(*(sympy.sympify(e).free_symbols for e in exprs)) - set(inputs), key=by_name))
    return parameters, numpy_function(inputs + parameters, exprs)


def _token_function(inputs: tuple, exprs, values: dict):
    """A numpy function of one token: the expressions at the given parameter values."""
    parameters, function = _compiled(tuple(inputs), tuple(exprs))
    missing = [str(s) for s in parameters if s not in values]
    if missing:
        raise ValueError(f"no value for the parameters {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    arguments = [values[s] for s in parameters]

    def evaluate(token: np.ndarray) -> np.ndarray:
        return np.array(function(*token, *arguments)).reshape(-1)  # every entry is a scalar

    return evaluate


def run_recurrence(rec: Recurrence, values: dict, x: np.ndarray) -> np.ndarray:
    """y (n, d_out) for inputs x (n, d_in), by the sequential loop of Illusion Def. 2.1."""
    if rec.reads_previous_token:
        return run_recurrence(rec.widened(), values, widen_sequence(np.asarray(x, dtype=float)))
    S, d, d_out = rec.state_size, rec.d_in, rec.d_out
    entries = tuple(rec.A) + tuple(rec.B) + tuple(rec.C) + tuple(rec.D)
    token_matrices = _token_function(rec.inputs, entries, values)
    squash = NUMPY[rec.nonlinearity] if rec.nonlinearity else None
    h0 = np.zeros(S) if rec.h0 is None else np.array(_numeric(rec.h0, values), dtype=complex).reshape(S)
    h = h0 if np.iscomplexobj(h0) and np.any(h0.imag) else h0.real
    outputs = []
    for token in np.asarray(x, dtype=float):
        flat = token_matrices(token)
        A = flat[:S * S].reshape(S, S)
        B = flat[S * S:S * S + S * d].reshape(S, d)
        C = flat[S * S + S * d:S * S + S * d + d_out * S].reshape(d_out, S)
        D = flat[S * S + S * d + d_out * S:].reshape(d_out, d)
        h = A @ h + B @ token
        if squash is not None:
            h = squash(h)
        outputs.append(C @ h + D @ token)
    return np.array(outputs)


def run_state_recurrence(mixer: StateRecurrence, values: dict, x: np.ndarray) -> np.ndarray:
    """y (n, d_out) for inputs x (n, d_in): h <- update(h, x_t), then y_t = output(h, x_t), one token at a time."""
    symbols = tuple(mixer.inputs) + tuple(mixer.state)
    update, output = _token_function(symbols, mixer.update, values), _token_function(symbols, mixer.output, values)
    h = numeric_h0(mixer, values)
    outputs = []
    for token in np.asarray(x, dtype=float):
        h = update(np.concatenate([token, h])).astype(float)
        outputs.append(output(np.concatenate([token, h])))
    return np.array(outputs)


def run_attention(layer: AttentionLayer, values: dict, x: np.ndarray) -> np.ndarray:
    """y_t = sum_{j<=t} softmax_j(scale * q_t . k_j) v_j, the explicit way."""
    d_k = layer.query.shape[0]
    qkv = _token_function(layer.inputs, tuple(layer.query) + tuple(layer.key) + tuple(layer.value), values)
    rows = np.array([qkv(token) for token in np.asarray(x, dtype=float)])
    q, k, v = rows[:, :d_k], rows[:, d_k:2 * d_k], rows[:, 2 * d_k:]
    outputs = []
    for t in range(len(x)):
        visible = t + 1 if layer.causal else len(x)
        scores = layer.scale * (k[:visible] @ q[t])
        weights = np.exp(scores - scores.max())
        outputs.append(weights @ v[:visible] / weights.sum())
    return np.array(outputs)


def run_token_map(token_map: TokenMap, values: dict, x: np.ndarray) -> np.ndarray:
    """Apply a position-wise map to every row of x."""
    function = _token_function(token_map.inputs, token_map.outputs, values)
    return np.array([function(row) for row in np.asarray(x)])


def run_mixer(mixer, values: dict, x: np.ndarray) -> np.ndarray:
    runner = (run_attention if isinstance(mixer, AttentionLayer) else
              run_state_recurrence if isinstance(mixer, StateRecurrence) else run_recurrence)
    return runner(mixer, values, x)


def run_block(blk: Block, values: dict, x: np.ndarray) -> np.ndarray:
    """One layer: pre, mixer, post (with residual), mlp."""
    z = run_token_map(blk.pre, values, x) if blk.pre is not None else x
    y = run_mixer(blk.mixer, values, z)
    out = run_token_map(blk.post, values, np.concatenate([x, y], axis=1))
    return run_token_map(blk.mlp, values, out) if blk.mlp is not None else out


def run_stack(stk: Stack, x: np.ndarray) -> np.ndarray:
    """The whole model: positions (if any), then every block in order. x is (n, d)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != stk.d:
        raise ValueError(f"inputs must have shape (n, {stk.d}), got {x.shape}")
    if stk.positions == "sinusoidal":
        x = x + sinusoidal_positions(len(x), stk.d)
    for blk, values in zip(stk.blocks, stk.values):
        x = run_block(blk, values, x)
    return x
