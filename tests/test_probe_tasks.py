"""Word-problem tasks: targets are prefix products, eval sets are fixed and held out."""
from __future__ import annotations

import csv

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tc0lab.groups import GroupError, parse_group
from tc0lab.probe.tasks import canonical_task_name, make_task
from tc0lab.probe.word_problems import WordProblem, _word_keys

S3 = parse_group("S3")


def fold_product(group, word) -> list[int]:
    """Reference: the running product, one table lookup per position."""
    running, out = 0, []
    for element in word:
        running = int(group.table[running, element])
        out.append(running)
    return out


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), length=st.integers(3, 9))
def test_training_targets_are_prefix_products_and_short_words_are_padded(seed, length):
    task = WordProblem(S3, length, eval_size=8, short_words_fraction=0.25)
    batch = task.sample_train(16, np.random.default_rng(seed))
    assert batch.inputs.shape == batch.targets.shape == batch.mask.shape == (16, length)
    for word, target, mask in zip(batch.inputs, batch.targets, batch.mask):
        assert list(target) == fold_product(S3, word)
        graded = int(mask.sum())
        assert graded in (2, length)
        assert mask[:graded].all()
        if graded == 2:      # a length-2 word padded with the identity
            assert (word[2:] == 0).all()
    assert int((batch.mask.sum(axis=1) == 2).sum()) == 4     # 25% of 16


def test_identity_is_element_zero_and_composition_is_a_then_b():
    # with a then b = apply a first, the word (a, b) has product table[a, b]
    task = WordProblem(S3, 2, eval_size=4)
    word = np.array([[3, 5]])
    assert task.label(word).targets.tolist() == [[3, int(S3.table[3, 5])]]
    assert (S3.table[0] == np.arange(S3.order)).all()


def test_eval_sets_are_fixed_by_seed_disjoint_and_never_sampled_for_training():
    first, again = WordProblem(S3, 6, eval_size=64), WordProblem(S3, 6, eval_size=64)
    assert first.disjoint
    assert np.array_equal(first.test.inputs, again.test.inputs)
    val_keys = set(_word_keys(first.validation.inputs, 6).tolist())
    test_keys = set(_word_keys(first.test.inputs, 6).tolist())
    assert len(val_keys) == len(test_keys) == 64 and not val_keys & test_keys
    rng = np.random.default_rng(0)
    sampled = np.concatenate([first.sample_train(4096, rng).inputs for _ in range(5)])
    assert not set(_word_keys(sampled, 6).tolist()) & (val_keys | test_keys)
    other_seed = WordProblem(S3, 6, eval_size=64, seed=1)
    assert not np.array_equal(first.test.inputs, other_seed.test.inputs)


def test_small_spaces_evaluate_every_word_and_length_two_keeps_every_word_in_training():
    tiny = WordProblem(parse_group("Z2"), 3, eval_size=16)
    assert not tiny.disjoint and len(tiny.test) == 8
    assert len({tuple(word) for word in tiny.test.inputs}) == 8
    two = WordProblem(S3, 2, eval_size=4)    # 36 words >= 4*2*4: sampled, but not held out
    assert not two.disjoint
    seen = {tuple(word) for word in two.sample_train(2000, np.random.default_rng(0)).inputs}
    assert len(seen) == 36


def test_extrapolation_task_has_longer_words_of_the_same_group():
    long_task = WordProblem(S3, 4, eval_size=16).at_length(16)
    assert long_task.test.inputs.shape == (16, 16)
    assert long_task.test.targets[0].tolist() == fold_product(S3, long_task.test.inputs[0])


def test_csv_export_is_space_separated_ids(tmp_path):
    task = WordProblem(S3, 4, eval_size=8)
    path = tmp_path / "test.csv"
    task.to_csv(path)
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["input", "target"] and len(rows) == 9
    assert [int(x) for x in rows[1][0].split(" ")] == task.test.inputs[0].tolist()
    assert [int(x) for x in rows[1][1].split(" ")] == task.test.targets[0].tolist()


def test_task_names_are_case_insensitive_and_unknown_groups_are_errors():
    assert canonical_task_name("s5") == canonical_task_name("S5") == "S5"
    assert canonical_task_name("a4_x_z5") == "A4xZ5"
    assert make_task("z3", 3, eval_size=4).n_classes == 3
    with pytest.raises(GroupError):
        canonical_task_name("nonsense")


def test_the_papers_strict_length_split_and_epochs():
    from tc0lab.probe.config import TrainSettings
    from tc0lab.probe.word_problems import StrictSplit, WordProblem
    from tc0lab.probe.train import step_budget
    from tc0lab.groups import parse_group
    group = parse_group("S3")
    task = WordProblem(group, 3, split=StrictSplit(dataset_size=100, exhaustive_max_length=3))
    # every length-3 word (216): 80% train plus all 36 length-2 words, 20% validation
    assert len(task.validation) == 216 - round(0.8 * 216) and task.test is task.validation
    train = task._fixed_train
    assert len(train) == round(0.8 * 216) + 36 and task.disjoint
    keys = {tuple(word) for word in train.inputs[train.mask.all(axis=1)]}
    assert not keys & {tuple(word) for word in task.validation.inputs}
    assert task.steps_per_epoch(64) == -(-len(train) // 64)
    assert step_budget(task, TrainSettings(max_epochs=3, max_steps=10**6, batch_size=64)) == (
        3 * task.steps_per_epoch(64), task.steps_per_epoch(64))
    rng = np.random.default_rng(0)
    epoch = [task.sample_train(64, rng) for _ in range(task.steps_per_epoch(64))]
    assert sum(len(batch) for batch in epoch) == len(train)    # one pass, every word once
    sampled = WordProblem(group, 4, split=StrictSplit(dataset_size=100, exhaustive_max_length=3))
    assert len(sampled.validation) == 20                       # k >= 4: dataset_size words


def test_the_paper_dry_run_counts_epochs():
    from tc0lab.probe.config import load_preset
    from tc0lab.probe.gpu_hours import run_steps
    from tc0lab.probe.runs import RunSpec
    config = load_preset("paper")
    spec = RunSpec("A5", "rnn", 4, 1, 0, "h")
    assert run_steps(spec, config) == 500 * -(-(800_000 + 3600) // 512)
    short = RunSpec("A5", "rnn", 2, 1, 0, "h")                 # every length-2 word: 3,600
    assert run_steps(short, config) == 500 * -(-(2880 + 3600) // 512)
