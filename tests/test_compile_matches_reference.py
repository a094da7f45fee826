"""Differential test: every compiled circuit computes exactly what the numpy reference computes."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tc0lab.compiler import compile_stack
from tc0lab.spec import reference, zoo


def relative_error(circuit_out: np.ndarray, reference_out: np.ndarray) -> float:
    return float(np.max(np.abs(circuit_out - reference_out)) / max(np.max(np.abs(reference_out)), 1e-300))


@settings(max_examples=80, deadline=None)
@given(arch=st.sampled_from(zoo.ARCHS), n=st.integers(1, 16), layers=st.integers(1, 3),
       seed=st.integers(0, 10_000), width=st.sampled_from([(1, 1), (2, 2), (2, 3), (3, 2)]))
def test_circuit_equals_reference(arch, n, layers, seed, width):
    d, N = width
    compiled = compile_stack(arch, layers=layers, n=n, d_model=d, d_state=N, seed=seed)
    x = np.random.default_rng(seed).normal(size=(n, d))
    assert relative_error(compiled.evaluate(x), reference.run_stack(compiled.stack, x)) < 1e-9


@pytest.mark.parametrize("arch", zoo.ARCHS)
def test_every_arch_at_every_small_length(arch):
    # the property test samples; this sweeps n = 1..16 and L = 1..3 for each arch once
    rng = np.random.default_rng(7)
    for layers in (1, 2, 3):
        for n in (1, 2, 3, 7, 16):
            compiled = compile_stack(arch, layers=layers, n=n, d_model=2, d_state=2, seed=n + 10 * layers)
            x = rng.normal(size=(n, 2))
            assert relative_error(compiled.evaluate(x), reference.run_stack(compiled.stack, x)) < 1e-9, (arch, layers, n)


def test_rms_norm_blocks_compile_exactly():
    compiled = compile_stack("mamba", layers=2, n=6, d_model=3, d_state=2, seed=3, norm=True)
    x = np.random.default_rng(0).normal(size=(6, 3))
    assert relative_error(compiled.evaluate(x), reference.run_stack(compiled.stack, x)) < 1e-9


def test_a_perturbed_circuit_is_caught():
    # the differential check can fail: change one constant and the outputs must differ
    compiled = compile_stack("s4", layers=1, n=5, d_model=2, d_state=2, seed=1)
    x = np.random.default_rng(1).normal(size=(5, 2))
    kernel_node = next(node for node, attrs in compiled.graph.nodes(data=True) if attrs.get("role") == "kernel")
    compiled.graph.nodes[kernel_node]["value"] += 0.5
    assert relative_error(compiled.evaluate(x), reference.run_stack(compiled.stack, x)) > 1e-6
