"""The parallel scans agree with their sequential references, in value and in gradient."""
from unittest import mock

import pytest
import torch
from hypothesis import given, settings, strategies as st

from tc0lab.probe import scan as scan_module
from tc0lab.probe.scan import diagonal_scan, matrix_chunks, matrix_scan

FAST = settings(max_examples=30, deadline=None)


def _values_and_grads(scan, inputs: list[torch.Tensor], mode: str):
    leaves = [t.detach().clone().requires_grad_() for t in inputs]
    states = scan(*leaves, mode)
    weights = torch.linspace(-1, 1, states.numel(), dtype=states.dtype).view_as(states)
    grads = torch.autograd.grad((states * weights).sum(), leaves)
    return states, grads


def _assert_modes_agree(scan, inputs: list[torch.Tensor]) -> None:
    fast, fast_grads = _values_and_grads(scan, inputs, "parallel")
    slow, slow_grads = _values_and_grads(scan, inputs, "sequential")
    torch.testing.assert_close(fast, slow, rtol=1e-10, atol=1e-10)
    for fast_grad, slow_grad in zip(fast_grads, slow_grads):
        torch.testing.assert_close(fast_grad, slow_grad, rtol=1e-9, atol=1e-9)


@FAST
@given(batch=st.integers(1, 3), length=st.integers(1, 40), channels=st.integers(1, 4),
       seed=st.integers(0, 2**16), low=st.sampled_from([-1.0, 0.0]), fused=st.booleans())
def test_diagonal_scan_parallel_matches_sequential(batch, length, channels, seed, low, fused):
    # fused: force the one-chunk path that large steps take (small steps use sqrt(T) chunks)
    small_step = 0 if fused else scan_module._SMALL_STEP_ELEMENTS
    generator = torch.Generator().manual_seed(seed)
    shape = (batch, length, channels, 2)
    decay = low + (1 - low) * torch.rand(shape, generator=generator, dtype=torch.float64)
    inputs = torch.randn(shape, generator=generator, dtype=torch.float64)
    with mock.patch.object(scan_module, "_SMALL_STEP_ELEMENTS", small_step):
        _assert_modes_agree(lambda a, b, mode: diagonal_scan(a, b, mode=mode), [decay, inputs])


def test_diagonal_scan_broadcasts_a_time_invariant_decay():
    decay = torch.tensor([0.5, -0.5], dtype=torch.float64)
    inputs = torch.ones(1, 3, 2, dtype=torch.float64)
    expected = torch.tensor([[[1.0, 1.0], [1.5, 0.5], [1.75, 0.75]]], dtype=torch.float64)
    for mode in ("parallel", "sequential"):
        torch.testing.assert_close(diagonal_scan(decay, inputs, mode=mode), expected)


@FAST
@given(batch=st.integers(1, 3), length=st.integers(1, 40), n=st.integers(1, 4),
       columns=st.sampled_from([None, 1, 3]), with_h0=st.booleans(),
       n_chunks=st.sampled_from([None, 1, 2, 3, 64]), seed=st.integers(0, 2**16))
def test_matrix_scan_parallel_matches_sequential(batch, length, n, columns, with_h0, n_chunks, seed):
    generator = torch.Generator().manual_seed(seed)
    transitions = torch.randn(batch, length, n, n, generator=generator, dtype=torch.float64) / n
    state_shape = (batch, length, n) if columns is None else (batch, length, n, columns)
    inputs = torch.randn(state_shape, generator=generator, dtype=torch.float64)
    tensors = [transitions, inputs]
    if with_h0:
        tensors.append(torch.randn(state_shape[2:], generator=generator, dtype=torch.float64))

    def scan(A, b, *rest):
        *h0, mode = rest
        return matrix_scan(A, b, h0[0] if h0 else None, mode=mode, n_chunks=n_chunks)
    _assert_modes_agree(scan, tensors)


def test_matrix_scan_applies_products_in_time_order():
    swap = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    scale = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    A = torch.stack([swap, scale, swap]).unsqueeze(0)  # (1, 3, 2, 2)
    b = torch.zeros(1, 3, 2)
    h0 = torch.tensor([1.0, 0.0])
    for mode in ("parallel", "sequential"):
        states = matrix_scan(A, b, h0, mode=mode, n_chunks=2)
        torch.testing.assert_close(states[0], torch.tensor([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]))


def test_matrix_chunks_uses_time_parallelism_only_for_small_steps():
    assert matrix_chunks(batch=1, length=256, n=16, m=1) == 16
    assert matrix_chunks(batch=512, length=256, n=32, m=1) == 1


@pytest.mark.parametrize("scan", [diagonal_scan, matrix_scan])
def test_unknown_scan_mode_is_refused(scan):
    with pytest.raises(ValueError, match="unknown scan mode"):
        scan(torch.ones(1, 2, 1, 1), torch.ones(1, 2, 1, 1), mode="fast")
