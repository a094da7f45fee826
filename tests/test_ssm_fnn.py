"""ssm-fnn (Nishikawa & Suzuki's SSM+FNN): the model's shape, its LTI core against the zoo spec,
the checker's verdict, and the hand-set two-layer recall network of tc0lab/proofs."""
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from tc0lab.cli import main as cli
from tc0lab.probe.cores import core_arrays, run_core
from tc0lab.probe.models import ModelConfig, build_model, count_parameters
from tc0lab.proofs import run_claim, ssm_fnn_recall
from tc0lab.probe.tasks import make_task
from tc0lab.spec import reference, zoo


def _model(layers: int = 2, depth: int = 1, width: int = 0, d: int = 8) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(ModelConfig("ssm-fnn", vocab_size=6, n_classes=4, layers=layers,
                                   d_model=d, d_state=4, fnn_depth=depth, fnn_width=width))


def test_ssm_fnn_has_an_fnn_before_and_after_each_ssm_and_is_causal():
    model = _model()
    tokens = torch.randint(0, 6, (3, 9))
    changed = tokens.clone()
    changed[:, 5:] = (changed[:, 5:] + 1) % 6
    assert model(tokens).shape == (3, 9, 4)
    torch.testing.assert_close(model(tokens)[:, :5], model(changed)[:, :5])
    assert all(block.pre_mlp is not None for block in model.blocks)
    assert len(model.cores()) == 2


def test_fnn_depth_and_width_change_the_parameter_count_as_computed():
    d, width = 8, 12
    base = count_parameters(_model(depth=1, width=width, d=d))
    deeper = count_parameters(_model(depth=2, width=width, d=d))
    # one more hidden width x width layer in each of the 2 FNNs of each of the 2 layers
    assert deeper - base == 2 * 2 * (width * width + width)


def test_other_models_ignore_fnn_options():
    plain = ModelConfig("mamba", 6, 4, 1, 8)
    deep = ModelConfig("mamba", 6, 4, 1, 8, fnn_depth=3, fnn_width=5)
    assert count_parameters(build_model(plain)) == count_parameters(build_model(deep))


def test_bad_fnn_options_are_refused():
    with pytest.raises(ValueError, match="fnn_depth"):
        ModelConfig("ssm-fnn", 6, 4, 1, 8, fnn_depth=0)
    with pytest.raises(ValueError, match="fnn_width"):
        ModelConfig("ssm-fnn", 6, 4, 1, 8, fnn_width=-1)


def test_presets_set_fnn_depth_and_width_and_they_are_in_the_experiment_hash():
    from tc0lab.probe.config import load_preset, override
    from tc0lab.probe.run import build_run_model
    from tc0lab.probe.runs import RunSpec
    config = load_preset("recall")
    wide = override(override(config, "per_model.ssm-fnn.fnn_width", 24),
                    "per_model.ssm-fnn.fnn_depth", 2)
    assert wide.experiment_hash() != config.experiment_hash()
    assert override(config, "model.fnn_width", 24).experiment_hash() != config.experiment_hash()
    spec = RunSpec("recall", "ssm-fnn", 24, 2, 0, wide.experiment_hash())
    built = build_run_model(spec, wide, vocab_size=16, n_classes=8, max_len=96)
    _, settings_ = wide.settings_for("ssm-fnn")
    expected = build_model(ModelConfig("ssm-fnn", 16, 8, 2, settings_.d_model,
                                       settings_.d_state, max_len=96, fnn_depth=2,
                                       fnn_width=24))
    assert count_parameters(built) == count_parameters(expected)
    assert built.blocks[0].mlp[0].out_features == 24 and len(built.blocks[0].mlp) == 5


@pytest.mark.parametrize("key, value, message", [
    ("model.fnn_depth", 0, "model.fnn_depth must be >= 1"),
    ("model.fnn_width", -2, "model.fnn_width must be >= 0"),
    ("per_model.ssm-fnn.fnn_depth", -1, "per_model.ssm-fnn.fnn_depth must be >= 1"),
    ("model.fnn_width", 1.5, "model.fnn_width must be of type int"),
])
def test_bad_fnn_settings_are_config_errors(key, value, message):
    from tc0lab.probe.config import ConfigError, load_preset, override
    with pytest.raises(ConfigError, match=message):
        override(load_preset("copy"), key, value)


def test_bad_fnn_setting_is_an_error_on_the_command_line(tmp_path):
    result = CliRunner().invoke(cli, ["probe", "copy", "--set", "model.fnn_width=-1",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "Error: model.fnn_width must be >= 0" in result.stderr


def _impulse_response(core: torch.nn.Module, lags: int = 4) -> torch.Tensor:
    """Each channel's response at lags 0..lags-1 to a unit impulse at time 0: (lags, d)."""
    d = core.D.shape[0]
    impulse = torch.zeros(1, lags, d)
    impulse[0, 0] = 1.0
    with torch.no_grad():
        return core(impulse)[0]


def test_first_layer_starts_with_shift_channels_and_later_layers_keep_the_s4d_init():
    from tc0lab.probe.cores import SHIFT_SHARE
    first, second = _model(layers=2, d=8).cores()
    response = _impulse_response(first)
    shifts = int(8 * SHIFT_SHARE)
    torch.testing.assert_close(response[0, :shifts], torch.zeros(shifts), atol=1e-4, rtol=0)
    torch.testing.assert_close(response[1, :shifts], torch.ones(shifts))
    assert response[2:, :shifts].abs().max() < 0.01        # a shift, not a blur
    # no channel of the S4D init responds to lag 1 like a shift (its lag-1 gain is <= ~0.1)
    assert _impulse_response(second)[1].abs().max() < 0.2
    assert response[1, shifts:].abs().max() < 0.2


def test_ssm_fnn_core_computes_the_zoo_spec():
    core = _model(d=3).double().cores()[-1]
    x = np.random.default_rng(1).normal(size=(6, 3))
    recurrence = zoo.core("ssm-fnn", d=3, N=4)
    expected = reference.run_recurrence(recurrence, recurrence.bind(core_arrays(core)), x)
    np.testing.assert_allclose(run_core(core, x), expected, rtol=1e-9, atol=1e-12)


def test_checker_gives_ssm_fnn_a_tc0_lti_verdict():
    # its verdict, status and eigenvalue answers are ssm-fnn's row in tests/zoo_cases.py (tests/test_cli_check.py)
    result = CliRunner().invoke(cli, ["check", "--arch", "ssm-fnn", "--json"])
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.stdout)
    assert "TC0" in json.dumps(verdict) and "independent of the input" in json.dumps(verdict)


def test_constructive_recall_claim_holds():
    result = run_claim("ssm-fnn-recall")
    assert result["holds"], result
    assert result["details"]["wrong_queries"] == 0 and result["details"]["graded_queries"] > 0


@settings(max_examples=15, deadline=None)
@given(pairs=st.integers(1, 5), extra_keys=st.integers(0, 3), seed=st.integers(0, 10**6))
def test_hand_set_network_answers_every_query(pairs, extra_keys, seed):
    vocab = 2 * (pairs + extra_keys)
    task = make_task(f"recall:pairs={pairs}:vocab={vocab}", 2 * pairs + 6, eval_size=20,
                     seed=seed)
    logits = ssm_fnn_recall.recall_network(task.test.inputs, task.keys, task.n_classes)
    mask = task.test.mask
    assert np.array_equal(logits.argmax(-1)[mask], task.test.targets[mask])


def test_without_the_delay_the_network_fails():
    """Negative control: the first SSM's shift is what pairs a key with its value."""
    task = make_task("recall:pairs=4:vocab=16", 16, eval_size=50)
    original = ssm_fnn_recall.delay_ssm

    def no_delay(width):
        A, B, C, D = original(width)
        return np.zeros_like(A), B, C, D      # state forgets: "previous token" is always 0
    ssm_fnn_recall.delay_ssm = no_delay
    try:
        logits = ssm_fnn_recall.recall_network(task.test.inputs, task.keys, task.n_classes)
    finally:
        ssm_fnn_recall.delay_ssm = original
    assert not np.array_equal(logits.argmax(-1)[task.test.mask], task.test.targets[task.test.mask])
