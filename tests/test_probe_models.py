"""The model registry: shapes, gradients, scan modes, causality and parameter matching."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from tc0lab.probe.models import ModelConfig, build_model, count_parameters, width_for_params
from tc0lab.probe.recipes import MODEL_NAMES

VOCAB, CLASSES = 11, 7


def _model(name: str, seed: int = 0, **fields) -> torch.nn.Module:
    torch.manual_seed(seed)
    fields = {"layers": 2, "d_model": 16, "d_state": 4, **fields}
    return build_model(ModelConfig(name, VOCAB, CLASSES, **fields)).double()


def _tokens(batch: int, length: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, VOCAB, (batch, length), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_forward_backward_shapes(name):
    model = _model(name)
    logits = model(_tokens(3, 9))
    assert logits.shape == (3, 9, CLASSES)
    logits.logsumexp(-1).mean().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("name", ["mamba", "mamba-neg", "s4d", "ids4", "deltanet"])
@pytest.mark.parametrize("length", [1, 7, 20])
def test_parallel_and_sequential_scans_give_the_same_logits(name, length):
    parallel, sequential = _model(name, scan="parallel"), _model(name, scan="sequential")
    sequential.load_state_dict(parallel.state_dict())
    tokens = _tokens(2, length)
    torch.testing.assert_close(parallel(tokens), sequential(tokens), rtol=1e-9, atol=1e-9)


@settings(max_examples=4, deadline=None)
@given(length=st.integers(2, 12), data=st.data())
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_changing_a_later_token_never_changes_earlier_logits(name, length, data):
    model = _model(name, positions=data.draw(st.sampled_from(["learned", "sinusoidal"])))
    tokens = _tokens(1, length, seed=length)
    position = data.draw(st.integers(1, length - 1))
    changed = tokens.clone()
    changed[0, position] = (tokens[0, position] + data.draw(st.integers(1, VOCAB - 1))) % VOCAB
    before, after = model(tokens), model(changed)
    torch.testing.assert_close(before[:, :position], after[:, :position], rtol=0, atol=1e-12)
    assert not torch.allclose(before[:, position:], after[:, position:])


@pytest.mark.parametrize("target", [100_000, 400_000])
def test_width_for_params_matches_counts_across_models(target):
    for name in MODEL_NAMES:
        d = width_for_params(name, 2, target, vocab_size=120, n_classes=120)
        count = count_parameters(build_model(ModelConfig(name, 120, 120, 2, d)))
        assert abs(count - target) / target < 0.05, (name, d, count)


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(ValueError, match="known models: transformer, mamba"):
        ModelConfig("mamba3", VOCAB, CLASSES, 1, 8)
    with pytest.raises(ValueError, match="unknown model"):
        width_for_params("lstn", 1, 1000, VOCAB, CLASSES)


@pytest.mark.parametrize("field,value", [("layers", 0), ("d_model", -1), ("positions", "rotary"),
                                         ("scan", "fast"), ("beta_max", 0.0)])
def test_bad_config_fields_are_refused(field, value):
    fields = {"layers": 1, "d_model": 8, field: value}
    with pytest.raises(ValueError, match=field):
        ModelConfig("mamba", VOCAB, CLASSES, **fields)


def test_beta_max_reaches_the_deltanet_core():
    assert _model("deltanet", beta_max=1.5).cores()[0].beta_max == 1.5

