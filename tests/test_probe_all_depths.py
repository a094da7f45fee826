"""`sweep.all_depths` / `--all-depths`: every depth runs, the min-depth cells stay the same,
the wave scheduler and resume handle it, and the length figure has a curve per (model, layers)."""
from __future__ import annotations

import dataclasses
import json
import random

import pytest
import torch
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from shuffled_launcher import ShuffledLauncher
from tiny_preset import tiny_preset
from tc0lab.cli import main
from tc0lab.probe import figures, report
from tc0lab.probe.config import ConfigError, ProbeConfig, SweepSettings, override
from tc0lab.probe.results import ResultsStore
from tc0lab.probe.runs import RunSpec
from tc0lab.probe.sweep import Sweep, grid
from tc0lab.probe.train import NOT_REACHED, REACHED

CPU = torch.device("cpu")
BINS = {"17-28": 0.5, "29-40": 0.25}


def record_for(spec: RunSpec, needed: dict[int, int], lucky_seed: int = 0) -> dict:
    """Reached iff layers >= needed[length] and seed >= lucky_seed; binned extrapolation."""
    solved = spec.layers >= needed[spec.length] and spec.seed >= lucky_seed
    accuracy = 1.0 if solved else 0.1
    return {"run_key": spec.key, **dataclasses.asdict(spec),
            "status": REACHED if solved else NOT_REACHED, "steps": 1, "seconds": 0.0,
            "params": 10 * spec.layers, "test": {"full_sequence": accuracy, "token": accuracy},
            "extrapolation": {"length": 4 * spec.length, "full_sequence": accuracy / 2,
                              "by_length": {key: value * accuracy for key, value in
                                            BINS.items()}}}


def scripted_runner(needed, calls, lucky_seed=0):
    def run(spec, config, device, deadline=None, on_step=None):
        calls.append(spec)
        return record_for(spec, needed, lucky_seed)
    return run


class RecordingLauncher(ShuffledLauncher):
    """Runs reach iff layers >= needed[length]; binned extrapolation records."""

    def record(self, spec):
        return record_for(spec, self.needed)


def make_config(lengths, max_layers, seeds=1, rule="best", all_depths=True,
                models=("gru", "mamba")) -> ProbeConfig:
    return ProbeConfig(sweep=SweepSettings(tasks=("Z3",), models=tuple(models),
                                           lengths=tuple(lengths), max_layers=max_layers,
                                           seeds=seeds, seed_rule=rule,
                                           all_depths=all_depths))


def run_sweep(out, config, runner=None, launcher=None):
    sweep = Sweep(config, ResultsStore(out, config, warn=lambda m: None), CPU, runner=runner,
                  launcher=launcher)
    return sweep, sweep.run()


def answers(cells):
    return [(c.task, c.model, c.length, c.status, c.min_layers) for c in cells]


@settings(max_examples=30, deadline=None)
@given(increments=st.lists(st.integers(0, 2), min_size=1, max_size=3),
       max_layers=st.integers(1, 3), seeds=st.integers(1, 2),
       rule=st.sampled_from(["best", "median"]), lucky_seed=st.integers(0, 1))
def test_every_depth_and_seed_runs_and_the_cells_match_the_upward_search(
        tmp_path_factory, increments, max_layers, seeds, rule, lucky_seed):
    lengths = [4 * (i + 1) for i in range(len(increments))]
    needed, depth = {}, 1
    for length, step in zip(lengths, increments):
        depth += step
        needed[length] = depth
    upward_calls, all_calls = [], []
    _, upward = run_sweep(tmp_path_factory.mktemp("up"),
                          make_config(lengths, max_layers, seeds, rule, all_depths=False),
                          scripted_runner(needed, upward_calls, lucky_seed))
    config = make_config(lengths, max_layers, seeds, rule)
    sweep, cells = run_sweep(tmp_path_factory.mktemp("all"), config,
                             scripted_runner(needed, all_calls, lucky_seed))
    assert answers(cells) == answers(upward)
    grid_keys = {spec.key for spec in grid(config, sweep.store.experiment_hash)}
    assert [spec.key for spec in all_calls] == list(dict.fromkeys(s.key for s in all_calls))
    assert {spec.key for spec in all_calls} == grid_keys           # the whole grid, once each
    assert {key for cell in cells for key in cell.run_keys} == grid_keys   # all cited
    assert sweep.runs_wasted == 0
    assert all(cell.tried_layers == list(range(1, max_layers + 1)) for cell in cells)


def test_waves_of_several_runs_give_the_same_cells_and_cancel_nothing(tmp_path):
    needed = {4: 1, 8: 2}
    serial_calls = []
    _, serial = run_sweep(tmp_path / "serial", make_config([4, 8], 3, seeds=2),
                          scripted_runner(needed, serial_calls))
    for seed in range(5):
        launcher = RecordingLauncher(needed, capacity=3, rng=random.Random(seed))
        sweep, cells = run_sweep(tmp_path / f"wave{seed}", make_config([4, 8], 3, seeds=2),
                                 launcher=launcher)
        assert [dataclasses.asdict(c) for c in cells] == \
            [dataclasses.asdict(c) for c in serial]
        assert launcher.cancelled == [] and sweep.runs_cancelled == 0
        assert sorted(launcher.started) == sorted(spec.key for spec in serial_calls)


def test_resume_runs_nothing_and_an_upward_out_is_extended_with_the_missing_depths(tmp_path):
    needed = {4: 1, 8: 1}
    upward_calls, all_calls, again_calls = [], [], []
    run_sweep(tmp_path, make_config([4, 8], 2, all_depths=False),
              scripted_runner(needed, upward_calls))
    assert {spec.layers for spec in upward_calls} == {1}
    # all_depths is not in the experiment hash: the same --out gains only the deeper runs
    _, cells = run_sweep(tmp_path, make_config([4, 8], 2), scripted_runner(needed, all_calls))
    assert {spec.layers for spec in all_calls} == {2} and len(all_calls) == 4
    sweep, again = run_sweep(tmp_path, make_config([4, 8], 2),
                             scripted_runner(needed, again_calls))
    assert again_calls == [] and sweep.runs_resumed == 8
    assert [dataclasses.asdict(c) for c in again] == [dataclasses.asdict(c) for c in cells]


def test_length_figure_has_one_curve_per_model_and_depth_even_when_one_layer_solves(tmp_path):
    config = make_config([16], 2, seeds=2, rule="median")
    sweep, cells = run_sweep(tmp_path, config, scripted_runner({16: 1}, []))
    records = {key: sweep.store.get(key) for cell in cells for key in cell.run_keys}
    summary = report.summarize(config, cells, records, {})
    assert [cell["min_layers"] for cell in summary["cells"]] == [1, 1]
    curves = figures.depth_curves(summary)
    assert [(c.model, c.layers, c.seeds) for c in curves] == \
        [("gru", 1, 2), ("gru", 2, 2), ("mamba", 1, 2), ("mamba", 2, 2)]
    assert curves[0].points == [(16.0, 1.0), (22.5, 0.5), (34.5, 0.25)]
    report.write_outputs(tmp_path, summary)
    assert (tmp_path / "accuracy_by_length.png").stat().st_size > 0


def test_depth_curves_average_seeds_point_by_point():
    runs = [{"layers": 2, "seed": seed, "test_full_sequence": accuracy,
             "extrapolation_by_length": {"21-35": accuracy / 2}}
            for seed, accuracy in ((0, 1.0), (1, 0.5))]
    summary = {"cells": [{"task": "copy", "model": "ssm-fnn", "length": 20, "runs": runs}]}
    [curve] = figures.depth_curves(summary)
    assert (curve.layers, curve.seeds, curve.points) == (2, 2, [(20.0, 0.75), (28.0, 0.375)])


def test_all_depths_is_a_strict_sweep_key_outside_the_experiment_hash():
    config = ProbeConfig()
    assert override(config, "sweep.all_depths", True).sweep.all_depths is True
    assert override(config, "sweep.all_depths", True).experiment_hash() == \
        config.experiment_hash()
    with pytest.raises(ConfigError, match="sweep.all_depths must be of type bool"):
        override(config, "sweep.all_depths", 1)



@pytest.mark.parametrize("flag, expected", [([], False), (["--all-depths"], True)])
def test_cli_flag_sets_all_depths(tmp_path, flag, expected):
    preset = tiny_preset(tmp_path / "tiny.toml", sweep={"lengths": [2]},
                         train={"max_steps": 2, "max_seconds": None, "batch_size": 8, "eval_every": 1, "lr": None},
                         task={"extrapolation_factor": 0})
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["probe", "z2", "--preset", str(preset), "--out",
                                       str(out), "--json", *flag])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "config.json").read_text())["sweep"]["all_depths"] is expected


def test_cli_rejects_a_non_boolean_all_depths_setting(tmp_path):
    result = CliRunner().invoke(main, ["probe", "z2", "--set", "sweep.all_depths=maybe",
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "Error: sweep.all_depths must be of type bool" in result.stderr
