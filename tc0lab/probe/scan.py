"""Scans for linear recurrences: a fast parallel path and a slow sequential reference beside it.

Two recurrences appear in the probe's models (h_0 = 0 unless an initial state is given):

- diagonal:  h_t = a_t * h_{t-1} + b_t            (elementwise; Mamba/S6, mamba-neg, S4D)
- matrix:    h_t = A_t @ h_{t-1} + b_t            (dense; IDS4, DeltaNet)

Both are prefix "sums" under the associative composition of affine maps
    (a2, b2) o (a1, b1) = (a2 * a1, a2 * b1 + b2),
so they can be evaluated with O(log T) or O(sqrt T) sequential steps instead of T.

Glossary (code name -> symbol):
    a, A   the transition (decay a_t, or matrix A_t);  b  the input term b_t;  h  the state h_t;
    T      sequence length;  B  batch;  N  state size;  M  columns of a matrix-valued state;
    chunk  C, the block length of the chunked scan (about sqrt(T)).

The parallel path is a *chunked* scan (the two-level form of a parallel prefix): fold every
chunk of length C at once (C steps, batched over all T/C chunks), carry the state across the
T/C chunk boundaries, then write every state from its chunk's carried start. That is about
2C + T/C sequential steps of large tensor ops instead of T small ones, and it takes no
logarithms, so negative decays (mamba-neg, DeltaNet with beta > 1) are exact.

Time-parallelism costs extra passes over memory (and, for the matrix recurrence, n x n
products: N times the work of the loop's matrix-vector products). On a CPU it pays only while
one step is too small to keep the core busy; with a large batch the batch already is the
parallelism. So both scans pick their chunk count from the size of one step
(`_SMALL_STEP_ELEMENTS`, `matrix_chunks`): sqrt(T) chunks for small steps, else one chunk,
which is a fused loop without an autograd graph. On a GPU more chunks would pay; that is not
tuned here.

Gradients: both parallel scans are `torch.autograd.Function`s whose backward pass is itself
one reverse scan (the adjoint recurrence g_t = dL/dh_t + a_{t+1} g_{t+1}), so no per-step
autograd graph is stored. The sequential references are plain loops differentiated by autograd;
tests check that the two agree in value and gradient.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

SCAN_MODES = ("parallel", "sequential")


def _check_mode(mode: str) -> None:
    if mode not in SCAN_MODES:
        raise ValueError(f"unknown scan mode {mode!r}; expected one of {SCAN_MODES}")


# at 65k elements per step one chunk was faster than sqrt(T) chunks on the 2-core CPU of
# bench/PROBE_MODEL_RESULTS.md; the threshold sits below that, not tuned finely
_SMALL_STEP_ELEMENTS = 2 ** 14


def _chunk_length(length: int) -> int:
    return max(1, math.isqrt(length - 1) + 1) if length > 1 else 1


# ----------------------------------------------------------------------------- diagonal


def diagonal_scan(a: Tensor, b: Tensor, mode: str = "parallel") -> Tensor:
    """h_t = a_t * h_{t-1} + b_t with h_0 = 0, elementwise.

    a: broadcastable to b; b: (B, T, ...). Returns h with b's shape.
    a may be negative (no logarithms are taken).
    """
    _check_mode(mode)
    a = a.expand_as(b)
    if mode == "sequential":
        return diagonal_scan_sequential(a, b)
    return _DiagonalScan.apply(a, b)


def diagonal_scan_sequential(a: Tensor, b: Tensor) -> Tensor:
    """Reference: the plain loop over t, differentiated by autograd."""
    state = torch.zeros_like(b[:, 0])
    states = []
    for a_t, b_t in zip(a.unbind(1), b.unbind(1)):  # unbind keeps backward linear in T
        state = a_t * state + b_t
        states.append(state)
    return torch.stack(states, dim=1)


def _diagonal_chunked(a: Tensor, b: Tensor, reverse: bool = False) -> Tensor:
    """Chunked parallel scan without autograd. a, b: (B, T, ...) of equal shape.

    reverse=False: h_t = a_t h_{t-1} + b_t.  reverse=True: the adjoint g_t = a_{t+1} g_{t+1} + b_t.
    Two passes over the chunks: the first only folds each chunk to its end value and total decay
    (nothing T-sized is written), the second writes every state from the carried start.
    """
    batch, length = b.shape[:2]
    rest = b.shape[2:]
    # time-parallelism only pays while one step is too small to keep the CPU busy; beyond that
    # every extra pass over memory costs more than the Python steps it saves
    overhead_bound = b[:, 0].numel() <= _SMALL_STEP_ELEMENTS
    chunk = _chunk_length(length) if overhead_bound else length
    n_chunks = -(-length // chunk)
    pad = n_chunks * chunk - length
    if pad:  # identity maps (a = 1, b = 0) after the end change no state in either direction
        a = torch.cat([a, a.new_ones((batch, pad, *rest))], dim=1)
        b = torch.cat([b, b.new_zeros((batch, pad, *rest))], dim=1)
    a = a.reshape(batch, n_chunks, chunk, *rest)  # (B, K, C, ...)
    b = b.reshape(batch, n_chunks, chunk, *rest)
    # within a chunk, the step into position j uses a_j (forward) or a_{j+1} (reverse)
    order = range(chunk - 1, -1, -1) if reverse else range(chunk)
    steps = [(j, j + 1 if reverse else j) for j in order]
    first, later_steps = steps[0][0], steps[1:]
    states = torch.empty_like(b)
    states[:, :, first] = b[:, :, first]
    if n_chunks > 1:
        folded, total = b[:, :, first], None  # (B, K, ...): chunk value from a zero start, decay
        for j, decay_index in later_steps:
            folded = torch.addcmul(b[:, :, j], a[:, :, decay_index], folded)
            total = a[:, :, decay_index] if total is None else total * a[:, :, decay_index]
        states[:, :, first] += _carry_across_chunks(a, folded, total, reverse)  # (B, K, ...)
    previous = first
    for j, decay_index in later_steps:
        torch.addcmul(b[:, :, j], a[:, :, decay_index], states[:, :, previous], out=states[:, :, j])
        previous = j
    return states.reshape(batch, n_chunks * chunk, *rest)[:, :length]


def _carry_across_chunks(a: Tensor, folded: Tensor, total: Tensor | None, reverse: bool) -> Tensor:
    """What enters each chunk's first position from the chunks before it (after it, reversed).

    a: (B, K, C, ...); folded, total: (B, K, ...) from the first pass (total None when C = 1).
    """
    n_chunks = folded.shape[1]
    starts = torch.zeros_like(folded)
    chunks = range(n_chunks - 1, 0, -1) if reverse else range(n_chunks - 1)
    for k in chunks:
        last = folded[:, k] if total is None else torch.addcmul(folded[:, k], total[:, k], starts[:, k])
        if reverse:  # into chunk k-1 through a at chunk k's first position
            starts[:, k - 1] = a[:, k, 0] * last
        else:  # into chunk k+1 through a at its first position
            starts[:, k + 1] = a[:, k + 1, 0] * last
    return starts


def _shift_left(x: Tensor, fill: float) -> Tensor:
    """x_{t+1} along dim 1, with `fill` after the end."""
    return torch.cat([x[:, 1:], torch.full_like(x[:, :1], fill)], dim=1)


def _shift_right(x: Tensor) -> Tensor:
    """x_{t-1} along dim 1, with 0 before the start."""
    return torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)


class _DiagonalScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor) -> Tensor:
        states = _diagonal_chunked(a, b)
        ctx.save_for_backward(a, states)
        return states

    @staticmethod
    def backward(ctx, grad_states: Tensor):
        a, states = ctx.saved_tensors
        # adjoint: g_t = dL/dh_t + a_{t+1} g_{t+1}; dL/da_t = g_t h_{t-1}, with h_0 = 0
        adjoint = _diagonal_chunked(a, grad_states, reverse=True)
        grad_a = torch.empty_like(adjoint)
        grad_a[:, 0] = 0
        torch.mul(adjoint[:, 1:], states[:, :-1], out=grad_a[:, 1:])
        return grad_a, adjoint


# ----------------------------------------------------------------------------- matrix


def matrix_scan(A: Tensor, b: Tensor, h0: Tensor | None = None, mode: str = "parallel",
                n_chunks: int | None = None) -> Tensor:
    """h_t = A_t @ h_{t-1} + b_t with h_0 = h0 (default 0).

    A: (B, T, N, N); b: (B, T, N) for a vector state or (B, T, N, M) for a matrix state;
    h0: broadcastable to b[:, 0]. Returns h with b's shape.
    n_chunks: how many chunks the parallel scan splits T into (default: `matrix_chunks`).
    """
    _check_mode(mode)
    vector_state = b.dim() == 3
    if vector_state:
        b = b.unsqueeze(-1)  # (B, T, N, 1)
        h0 = None if h0 is None else h0.unsqueeze(-1)
    if h0 is not None:  # fold the initial state into the first input: b_1 += A_1 h0
        first = b[:, :1] + A[:, :1] @ h0.expand_as(b[:, 0]).unsqueeze(1)
        b = torch.cat([first, b[:, 1:]], dim=1)
    if mode == "sequential":
        states = matrix_scan_sequential(A, b)
    else:
        states = _MatrixScan.apply(A, b, n_chunks or matrix_chunks(*b.shape))
    return states.squeeze(-1) if vector_state else states


def matrix_scan_sequential(A: Tensor, b: Tensor) -> Tensor:
    """Reference: the plain product loop over t, differentiated by autograd. b: (B, T, N, M)."""
    state = torch.zeros_like(b[:, 0])
    states = []
    # unbind, not A[:, t]: indexing inside the loop would make backward quadratic in T
    for A_t, b_t in zip(A.unbind(1), b.unbind(1)):
        state = A_t @ state + b_t
        states.append(state)
    return torch.stack(states, dim=1)


def _matrix_chunked(A: Tensor, b: Tensor, n_chunks: int) -> Tensor:
    """Chunked parallel prefix of affine maps without autograd. A: (B, T, N, N), b: (B, T, N, M)."""
    batch, length, n, m = b.shape
    chunk = -(-length // n_chunks)
    n_chunks = -(-length // chunk)
    pad = n_chunks * chunk - length
    if pad:  # identity maps at the end
        eye = torch.eye(n, dtype=A.dtype, device=A.device).expand(batch, pad, n, n)
        A = torch.cat([A, eye], dim=1)
        b = torch.cat([b, b.new_zeros((batch, pad, n, m))], dim=1)
    # position-in-chunk first, so that every step below works on one contiguous block
    A = A.reshape(batch * n_chunks, chunk, n, n).transpose(0, 1).contiguous()  # (C, B*K, N, N)
    b = b.reshape(batch * n_chunks, chunk, n, m).transpose(0, 1)  # (C, B*K, N, M)
    local = torch.empty((chunk, batch * n_chunks, n, m), dtype=b.dtype, device=b.device)
    local[0] = b[0]
    for j in range(1, chunk):  # states inside each chunk, starting from 0
        _affine_step(A[j], local[j - 1], b[j], out=local[j])
    if n_chunks > 1:
        local += _carry_into_chunks(A, local, batch, n_chunks)
    return local.transpose(0, 1).reshape(batch, n_chunks * chunk, n, m)[:, :length]


def _carry_into_chunks(A: Tensor, local: Tensor, batch: int, n_chunks: int) -> Tensor:
    """What the state entering each chunk adds to every position of it. A: (C, B*K, N, N)."""
    chunk, _, n, m = local.shape
    products = torch.empty_like(A)  # A_j ... A_1 inside each chunk
    products[0] = A[0]
    for j in range(1, chunk):
        torch.bmm(A[j], products[j - 1], out=products[j])
    ends = products[-1].view(batch, n_chunks, n, n)  # whole-chunk transitions
    local_ends = local[-1].view(batch, n_chunks, n, m)
    starts = torch.empty_like(local_ends)  # (B, K, N, M): state entering each chunk
    carry = torch.zeros_like(local_ends[:, 0])
    for k in range(n_chunks):
        starts[:, k] = carry
        carry = torch.baddbmm(local_ends[:, k], ends[:, k], carry)
    return products @ starts.view(1, batch * n_chunks, n, m)  # (C, B*K, N, M)


def _matrix_loop(A: Tensor, b: Tensor, reverse: bool = False) -> Tensor:
    """One fused loop over t without autograd and without copying A. A: (B, T, N, N), b: (B, T, N, M).

    reverse=False: h_t = A_t h_{t-1} + b_t.  reverse=True: the adjoint g_t = A_{t+1}^T g_{t+1} + b_t.
    """
    length = b.shape[1]
    states = torch.empty((length, *b[:, 0].shape), dtype=b.dtype, device=b.device)  # (T, B, N, M)
    times = range(length - 1, -1, -1) if reverse else range(length)
    previous = None
    for t in times:
        if previous is None:
            states[t] = b[:, t]
        else:
            transition = A[:, previous].mT if reverse else A[:, t]
            _affine_step(transition, states[previous], b[:, t], out=states[t])
        previous = t
    return states.transpose(0, 1)  # (B, T, N, M)


def _affine_step(A: Tensor, state: Tensor, b: Tensor, out: Tensor) -> None:
    """out = A @ state + b for A: (B, N, N), state, b: (B, N, M)."""
    if state.shape[-1] == 1:  # matrix-vector: a broadcast multiply-sum beat bmm ~2x on CPU
        torch.sum(A * state.mT, dim=-1, keepdim=True, out=out)
        out += b
    else:
        torch.baddbmm(b, A, state, out=out)


class _MatrixScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, A: Tensor, b: Tensor, n_chunks: int) -> Tensor:
        ctx.n_chunks = n_chunks
        states = _matrix_loop(A, b) if n_chunks == 1 else _matrix_chunked(A, b, n_chunks)
        ctx.save_for_backward(A, states)
        return states

    @staticmethod
    def backward(ctx, grad_states: Tensor):
        A, states = ctx.saved_tensors
        # adjoint: g_t = dL/dh_t + A_{t+1}^T g_{t+1}; dL/dA_t = g_t h_{t-1}^T
        if ctx.n_chunks == 1:
            adjoint = _matrix_loop(A, grad_states, reverse=True)
        else:
            A_next_t = _shift_left(A.mT, 0.0)
            adjoint = _matrix_chunked(A_next_t.flip(1), grad_states.flip(1), ctx.n_chunks).flip(1)
        previous_states = _shift_right(states)  # (B, T, N, M)
        if states.shape[-1] == 1:  # outer products of vectors: elementwise beats T*B tiny matmuls
            grad_A = adjoint * previous_states.mT
        else:
            grad_A = adjoint @ previous_states.mT
        return grad_A, adjoint, None


def matrix_chunks(batch: int, length: int, n: int, m: int) -> int:
    """How many chunks the parallel matrix scan uses for A: (batch, length, n, n), b: (..., n, m).

    More chunks buy fewer sequential steps (C + T/C instead of T) with about T extra n x n
    matrix products. On a CPU those products only pay while each step is too small to keep the
    core busy; with a large batch the batch is the parallelism and one chunk (a fused loop with
    an adjoint backward) is fastest. The threshold comes from bench/bench_probe_models.py on a
    shared 2-core CPU (batch 1: 16 chunks faster; batch 8 and 64: one chunk), not tuned finely.
    """
    overhead_bound = batch * n * n * max(n, m) <= _SMALL_STEP_FLOPS
    return _chunk_length(length) if overhead_bound else 1


_SMALL_STEP_FLOPS = 2 ** 17
