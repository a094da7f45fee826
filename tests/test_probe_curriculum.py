"""The length curriculum: real tiny runs (stages, curves, checkpoints), the seed retry of a
failure that decides growth (scripted runner), the plateau stop and the growth classes."""
from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from tc0lab.probe import report
from tc0lab.probe.config import ProbeConfig, SweepSettings, TrainSettings, load_preset
from tc0lab.probe.models import ModelConfig, build_model
from tc0lab.probe.results import ResultsStore
from tc0lab.probe.run import task_pair
from tc0lab.probe.runs import RunSpec, expanded_records
from tc0lab.probe.sweep import Sweep
from tc0lab.probe.train import NOT_REACHED, REACHED, CurvePoint, evaluate, plateaued
from tiny_preset import tiny_preset

CPU = torch.device("cpu")


def _sweep(tmp_path, config, runner=None):
    store = ResultsStore(tmp_path / "out", config, warn=lambda message: None)
    sweep = Sweep(config, store, CPU, **({"runner": runner} if runner else {}))
    return sweep, sweep.run()


@pytest.fixture(scope="module")
def tiny_curriculum(tmp_path_factory):
    """A real curriculum sweep on Z2 (gru), lengths 2, 3, 4, with saved weights."""
    tmp_path = tmp_path_factory.mktemp("curriculum")
    config = load_preset(str(tiny_preset(
        tmp_path / "tiny.toml", sweep={"lengths": [2, 3, 4], "max_layers": 1},
        train={"curriculum": True, "max_steps": 200, "eval_every": 10},
        model={"d_model": 16})))
    config = dataclasses.replace(config, sweep=dataclasses.replace(
        config.sweep, save_models_dir=str(tmp_path / "models")))
    sweep, cells = _sweep(tmp_path, config)
    return config, sweep, cells


def test_a_curriculum_run_climbs_the_lengths_with_warm_starts_and_curves(tiny_curriculum):
    config, sweep, cells = tiny_curriculum
    (record,) = sweep.store.records.values()
    assert record["lengths"] == [2, 3, 4] and "n=2,3,4/L=1/seed=0" in record["run_key"]
    stages = record["stages"]
    assert [stage["length"] for stage in stages] == [2, 3, 4][:len(stages)]
    assert record["reached_length"] == max(
        (s["length"] for s in stages if s["status"] == REACHED), default=0)
    for stage in stages:                 # the learning curve of every stage
        assert stage["curve"] and stage["curve"][-1]["step"] == stage["steps"]
        assert {"loss", "seconds", "validation_full_sequence",
                "validation_token"} <= set(stage["curve"][0])
    reached = {cell.length for cell in cells if cell.status == REACHED}
    assert reached == {s["length"] for s in stages if s["status"] == REACHED}


def test_the_curves_figure_and_cells_with_extrapolation(tiny_curriculum, tmp_path):
    config, sweep, cells = tiny_curriculum
    summary = report.summarize(config, cells, expanded_records(sweep.store.records), {})
    files = report.write_outputs(tmp_path, summary)
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG" and "curves" in files
    (entry,) = summary["curves"]
    assert entry["stages"][0]["curve"]
    table = report.format_min_layers(summary)
    assert "@4" in table                 # accuracy at 2n, the extrapolation length of n=2


def test_saved_weights_reload_to_the_same_accuracy(tiny_curriculum):
    config, sweep, _ = tiny_curriculum
    (record,) = sweep.store.records.values()
    model = build_model(ModelConfig(**record["model_config"]))
    model.load_state_dict(torch.load(record["checkpoint"], weights_only=True))
    last = record["stages"][-1]
    task, _ = task_pair(record["task"], last["length"], config)
    assert evaluate(model, task.test, CPU).full_sequence == last["test"]["full_sequence"]


def _scripted(reached_by: dict[tuple[int, int], int], calls: list[RunSpec]):
    """A curriculum runner whose run (layers, seed) reaches every length up to a given one."""

    def run(spec, config, device, deadline=None, on_step=None):
        calls.append(spec)
        reached = reached_by.get((spec.layers, spec.seed), 0)
        stages = [{"length": n, "status": REACHED if n <= reached else NOT_REACHED,
                   "steps": 5, "seconds": 0.1, "curve": [],
                   "test": {"full_sequence": 1.0 if n <= reached else 0.0, "token": 1.0},
                   "extrapolation": None, "stop_reason": "target"}
                  for n in spec.lengths if n <= reached or n == min(
                      [m for m in spec.lengths if m > reached] or [n])]
        return {"run_key": spec.key, **dataclasses.asdict(spec), "params": 10,
                "status": REACHED if reached == spec.lengths[-1] else NOT_REACHED,
                "steps": 5, "seconds": 0.1, "stages": stages, "reached_length": reached,
                "test": stages[-1]["test"], "extrapolation": None}

    return run


def _curriculum_config(max_layers=2, seeds=2) -> ProbeConfig:
    return ProbeConfig(sweep=SweepSettings(tasks=("Z3",), models=("gru",), lengths=(2, 4, 8),
                                           max_layers=max_layers, seeds=seeds),
                       train=TrainSettings(curriculum=True))


def test_a_failure_that_decides_growth_is_retried_with_a_second_seed(tmp_path):
    calls: list[RunSpec] = []
    # depth 1: seed 0 stops at n=4, seed 1 too; depth 2 (seed 0) reaches n=8
    sweep, cells = _sweep(tmp_path, _curriculum_config(),
                          _scripted({(1, 0): 2, (1, 1): 2, (2, 0): 8}, calls))
    assert [(spec.layers, spec.seed) for spec in calls] == [(1, 0), (1, 1), (2, 0)]
    assert [(cell.length, cell.min_layers) for cell in cells] == [(2, 1), (4, 2), (8, 2)]


def test_a_lucky_second_seed_keeps_one_layer(tmp_path):
    calls: list[RunSpec] = []
    sweep, cells = _sweep(tmp_path, _curriculum_config(max_layers=1),
                          _scripted({(1, 0): 2, (1, 1): 8}, calls))
    assert [(spec.layers, spec.seed) for spec in calls] == [(1, 0), (1, 1)]
    assert [cell.min_layers for cell in cells] == [1, 1, 1]


def test_deeper_failures_are_not_retried_and_unreached_cells_say_so(tmp_path):
    calls: list[RunSpec] = []
    sweep, cells = _sweep(tmp_path, _curriculum_config(),
                          _scripted({(1, 0): 2, (1, 1): 2, (2, 0): 4}, calls))
    assert (2, 1) not in [(spec.layers, spec.seed) for spec in calls]
    assert [(cell.length, cell.status) for cell in cells][-1] == (8, NOT_REACHED)


def _curve(losses, accuracies):
    return [CurvePoint(step=100 * (i + 1), seconds=float(i), loss=loss,
                       validation_full_sequence=accuracy, validation_token=accuracy)
            for i, (loss, accuracy) in enumerate(zip(losses, accuracies))]


def test_plateau_stop_sees_a_flat_window_and_not_a_falling_one():
    settings = TrainSettings(plateau_steps=200, plateau_min_drop=0.02)
    assert plateaued(_curve([2.0, 2.0, 2.0, 1.99], [0.02, 0.03, 0.02, 0.03]), settings)
    assert not plateaued(_curve([2.0, 1.9, 1.5, 1.2], [0.02, 0.03, 0.05, 0.1]), settings)
    assert not plateaued(_curve([2.0, 2.0, 2.0, 2.0], [0.0, 0.0, 0.1, 0.3]), settings)
    assert not plateaued(_curve([2.0, 2.0, 2.0], [0.0] * 3), settings)   # window not full
    assert not plateaued(_curve([2.0] * 4, [0.0] * 4), TrainSettings())   # off by default


@pytest.mark.parametrize("depths, growth", [
    ([1, 1, 1, 1], "constant"),
    ([1, 2, 3, 4], "logarithmic"),        # n = 2, 4, 8, 16: depth = log2 n
    ([1, 2, None, None], "— (2 of 3 lengths needed measured)"),
])
def test_measured_growth_uses_the_compilers_classifier(depths, growth):
    cells = [{"length": n, "status": REACHED if d else NOT_REACHED, "min_layers": d}
             for n, d in zip([2, 4, 8, 16], depths)]
    assert report.measured_growth(cells) == growth


def test_predictions_carry_the_predicted_growth_class():
    from tc0lab.check.predict import predict
    assert predict("transformer", "S5")["growth"] == "logarithmic"
    assert predict("ids4", "S5")["growth"] == "constant"
    assert predict("transformer", "Z60")["growth"] == "—"


def test_curriculum_records_are_json(tiny_curriculum):
    _, sweep, _ = tiny_curriculum
    line = (sweep.store.out_dir / "results.jsonl").read_text().splitlines()[0]
    assert json.loads(line)["stages"]
