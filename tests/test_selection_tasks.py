"""Selection tasks (copy, recall, parity, flip-flop): targets against per-example reference
implementations, length extrapolation bins, per-bin accuracy, and the input errors."""
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from tc0lab.cli import main as cli
from tc0lab.probe.config import load_preset, override
from tc0lab.probe.models import ModelConfig, build_model
from tc0lab.probe.batches import Batch
from tc0lab.probe.tasks import canonical_task_name, make_task
from tc0lab.probe.train import accuracy_by_length, evaluate, train

TASKS = ["copy", "recall", "parity", "parity:grade=end", "flipflop:vocab=3"]


def _reference(name: str, tokens: list[int], task) -> list[int | None]:
    """Expected target per position of one example (None: not graded), written plainly."""
    if name == "copy":
        half = tokens.index(task.vocab)
        return [None] * (half + 1) + tokens[:half]
    if name == "recall":
        memory = {tokens[i]: tokens[i + 1] - task.keys for i in range(0, 2 * task.pairs, 2)}
        return [None] * (2 * task.pairs) + [memory[key] for key in tokens[2 * task.pairs:]]
    if name.startswith("parity"):
        prefix = [sum(tokens[:t + 1]) % 2 for t in range(len(tokens))]
        if name.endswith("end"):
            return [None] * (len(tokens) - 1) + prefix[-1:]
        return prefix
    expected, last = [], None                     # flip-flop
    for instruction, symbol in zip(tokens[::2], tokens[1::2]):
        if instruction == task.vocab + 2:
            expected += [last, None]
        else:
            last = symbol if instruction == task.vocab else last
            expected += [None, None]
    return expected


@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(TASKS), length=st.integers(12, 30), seed=st.integers(0, 999))
def test_targets_and_masks_match_the_reference(name, length, seed):
    task = make_task(name, length, eval_size=8, seed=seed)
    batch = task.sample_train(16, np.random.default_rng(seed))
    base = name.split(":")[0]
    for row in range(len(batch)):
        size = int(batch.lengths[row])
        assert task.min_length <= size <= length
        assert not batch.mask[row, size:].any()
        expected = _reference(base if base != "parity" else name,
                              batch.inputs[row, :size].tolist(), task)
        graded = [t for t, value in enumerate(expected) if value is not None]
        assert np.flatnonzero(batch.mask[row]).tolist() == graded
        assert [int(batch.targets[row, t]) for t in graded] == [expected[t] for t in graded]


def test_vocabulary_and_classes_follow_the_options():
    assert (make_task("copy:vocab=5", 9).vocab_size, make_task("copy:vocab=5", 9).n_classes) == (7, 5)
    recall = make_task("recall:vocab=10:pairs=3", 9)
    assert (recall.vocab_size, recall.keys, recall.n_classes) == (10, 5, 5)
    assert make_task("flipflop", 8).vocab_size == 5
    assert canonical_task_name("Recall:vocab=10") == "recall:vocab=10"


def test_fixed_eval_sets_are_reproducible_and_split():
    first, second = make_task("recall", 20, eval_size=32), make_task("recall", 20, eval_size=32)
    assert np.array_equal(first.test.inputs, second.test.inputs)
    assert not np.array_equal(first.test.inputs, first.validation.inputs)


def test_extrapolation_test_holds_only_longer_lengths_in_bins():
    task = make_task("parity:min=3", 10, eval_size=64)
    longer = task.at_length(40)
    lengths = longer.test.lengths
    assert lengths.min() > 10 and lengths.max() <= 40
    assert longer.test.bin_edges[0] == 11 and longer.test.bin_edges[-1] == 41
    assert (longer.vocab_size, longer.n_classes) == (task.vocab_size, task.n_classes)
    assert task.validation.bin_edges == ()
    assert make_task("parity:test=25", 10).at_length(40).test.lengths.max() <= 25


def test_accuracy_by_length_counts_each_bin():
    lengths = np.array([11, 12, 20, 21, 30])
    batch = Batch(np.zeros((5, 30), np.int64), np.zeros((5, 30), np.int64),
                  np.ones((5, 30), bool), lengths=lengths, bin_edges=(11, 21, 31))
    right = np.array([True, False, True, True, True])
    assert accuracy_by_length(batch, right) == {"11-20": 2 / 3, "21-30": 1.0}


@pytest.mark.parametrize("name,length,message", [
    ("copy:vocab=1", 9, "too small"),
    ("flipflop:vocab=1", 8, "too small"),
    ("recall:vocab=6:pairs=4", 12, "too few for 4 distinct keys"),
    ("recall:pairs=5", 10, "do not fit in length 10"),
    ("parity:test=8", 16, "shorter than"),
    ("parity:grade=middle", 8, "grade"),
    ("copy:pairs=2", 9, "bad option"),
])
def test_bad_input_is_a_value_error(name, length, message):
    with pytest.raises(ValueError, match=message):
        make_task(name, length)


def test_a_test_length_shorter_than_training_is_refused():
    with pytest.raises(ValueError, match="not longer than the training length"):
        make_task("copy", 21).at_length(15)


@pytest.mark.parametrize("task,lengths,message", [
    ("recall:vocab=4:pairs=3", "12", "Error: recall: a vocabulary of 4 symbols"),
    ("recall:pairs=6", "8", "Error: recall: 6 key-value pairs do not fit in length 8"),
    ("parity:test=6", "12", "Error: parity: test length 6 is shorter"),
    ("copy:vocab=x", "9", "Error: option vocab must be an integer"),
])
def test_cli_reports_bad_task_input(tmp_path, task, lengths, message):
    result = CliRunner().invoke(cli, ["probe", task, "--preset", "parity", "--lengths", lengths,
                                      "--models", "mamba", "--time-budget", "30s",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert message in result.output


def test_training_reports_extrapolation_accuracy_per_length_bin():
    torch.set_num_threads(1)
    task = make_task("flipflop", 12, eval_size=32)
    config = load_preset("parity")
    settings_ = override(override(config, "train.max_steps", 5), "train.eval_every", 5).train
    torch.manual_seed(0)
    model = build_model(ModelConfig("ssm-fnn", task.vocab_size, task.n_classes, 1, 16,
                                    d_state=4, max_len=48))
    result = train(model, task, settings_, seed=0, extrapolation_task=task.at_length(48))
    assert result.steps == 5
    bins = result.extrapolation.by_length
    assert list(bins) == ["13-21", "22-30", "31-39", "40-48"]
    assert all(0.0 <= value <= 1.0 for value in bins.values())
    assert result.test.by_length == {}
    assert evaluate(model, task.test, torch.device("cpu")).count == 32


def test_length_figure_is_written_for_binned_runs(tmp_path):
    from tc0lab.probe.figures import length_curves
    from tc0lab.probe.report import write_outputs
    run = {"layers": 2, "seed": 0, "test_full_sequence": 1.0,
           "extrapolation_by_length": {"21-35": 0.5, "36-50": 0.25}}
    summary = {"cells": [{"task": "parity", "model": "mamba-neg", "length": 20, "status": "reached",
                          "min_layers": 2, "runs": [run]}],
               "max_layers": 2, "target_accuracy": 0.9, "preset": "parity", "seed_rule": "best",
               "seeds": 1, "per_run_budget": {"mamba-neg": {"max_seconds": 1, "max_steps": 1}}}
    assert length_curves(summary) == {"parity mamba-neg L=2 seed=0":
                                      [(20.0, 1.0), (28.0, 0.5), (43.0, 0.25)]}
    files = write_outputs(tmp_path, summary)
    assert (tmp_path / "accuracy_by_length.png").stat().st_size > 0
    assert files["length_figure"].endswith("accuracy_by_length.png")


def test_cli_probe_parity_writes_binned_extrapolation_and_resumes(tmp_path):
    import json
    arguments = ["probe", "parity:min=3", "--preset", "parity", "--lengths", "6",
                 "--models", "mamba-neg", "--time-budget", "60s", "--set", "train.max_steps=3",
                 "--set", "task.eval_size=16", "--out", str(tmp_path / "out"), "--json"]
    first = CliRunner().invoke(cli, arguments)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    run = summary["cells"][0]["runs"][0]
    assert run["steps"] == 3
    assert set(run["extrapolation_by_length"]) <= {"7-11", "12-15", "16-19", "20-24"}
    assert run["extrapolation_by_length"]
    assert summary["files"]["length_figure"].endswith("accuracy_by_length.png")
    second = json.loads(CliRunner().invoke(cli, arguments).stdout)
    assert second["sweep"]["runs_resumed"] == 1 and second["sweep"]["runs_executed"] == 0


def test_selection_tasks_get_no_depth_prediction_with_a_reason():
    from tc0lab.probe.report import checker_prediction
    prediction = checker_prediction("mamba-neg", "parity:min=3")
    assert prediction["prediction"] == "no prediction"
    assert "tc0lab check --arch mamba-neg" in prediction["reason"]


@pytest.mark.parametrize("name,length,parity", [("copy", 16, 1), ("copy", 15, 1),
                                                ("flipflop", 16, 0), ("flipflop", 15, 0)])
def test_extrapolation_lengths_are_valid_and_strictly_longer(name, length, parity):
    task = make_task(name, length, eval_size=64)
    longer = task.at_length(3 * length).test.lengths
    assert longer.min() > length and (longer % 2 == parity).all()
    assert (task.sample_train(64, np.random.default_rng(0)).lengths % 2 == parity).all()
