"""The probe's recurrent cores compute the zoo spec's function (its numpy reference), given the
same weights, so the checker's verdict is about the model the probe trains."""
import numpy as np
import pytest
import torch

from tc0lab.probe.cores import core_arrays, load_core_arrays, run_core
from tc0lab.probe.models import ModelConfig, build_model
from tc0lab.spec import reference, zoo

CORE_MODELS = ["mamba", "mamba-neg", "s4d", "ids4", "deltanet"]


def _reference(name: str, N: int, arrays: dict, x: np.ndarray) -> np.ndarray:
    recurrence = zoo.core(name, d=x.shape[1], N=N)
    return reference.run_recurrence(recurrence, recurrence.bind(arrays), x)


def _probe_core(name: str, d: int, N: int, seed: int, layer: int = -1) -> torch.nn.Module:
    """A core of a 2-layer model; its input width is d (ids4's first layer: vocab_size = d + 1)."""
    torch.manual_seed(seed)
    config = ModelConfig(name, vocab_size=d + 1, n_classes=5, layers=2, d_model=d, d_state=N)
    return build_model(config).double().cores()[layer]  # float64, so loaded arrays stay exact


def _input_width(core: torch.nn.Module) -> int:
    return core.D.shape[0]  # every zoo core here has the skip vector D of length d


@pytest.mark.parametrize("name", CORE_MODELS)
@pytest.mark.parametrize("d,N,n,layer", [(2, 3, 6, -1), (3, 2, 4, 0)])
def test_core_with_its_own_init_matches_the_spec(name, d, N, n, layer):
    core = _probe_core(name, d, N, seed=d + N, layer=layer)
    x = np.random.default_rng(n).normal(size=(n, _input_width(core)))
    np.testing.assert_allclose(run_core(core, x), _reference(name, N, core_arrays(core), x),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", CORE_MODELS)
def test_core_with_the_spec_init_matches_the_spec(name):
    d, N, n = 3, 2, 5
    arrays = zoo.init_arrays(name, d, N, np.random.default_rng(7))
    core = _probe_core(name, d, N, seed=0)
    load_core_arrays(core, arrays)
    x = np.random.default_rng(8).normal(size=(n, d))
    np.testing.assert_allclose(run_core(core, x), _reference(name, N, arrays, x), rtol=1e-9, atol=1e-12)


def test_core_arrays_have_the_spec_names_and_shapes():
    for name in CORE_MODELS:
        arrays = core_arrays(_probe_core(name, 3, 2, seed=0))
        shapes = {key: value.shape for key, value in arrays.items()}
        assert shapes == dict(zoo.core(name, d=3, N=2).param_shapes), name


def test_a_changed_weight_breaks_the_match():
    # guards the comparison itself: one perturbed entry must be detected
    core = _probe_core("ids4", 2, 2, seed=1)
    arrays = core_arrays(core)
    arrays["A0"][0, 1] += 0.1
    x = np.random.default_rng(0).normal(size=(4, 2))
    assert not np.allclose(run_core(core, x), _reference("ids4", 2, arrays, x))
