"""The min-depth search, seed rules, budgets and the report built on it (scripted runners)."""
from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tc0lab.probe import report
from tc0lab.probe.config import ProbeConfig, SweepSettings
from tc0lab.probe.results import ResultsStore
from tc0lab.probe.runs import NOT_RUN, RunSpec
from tc0lab.probe.sweep import Sweep
from tc0lab.probe.train import DIVERGED, NOT_REACHED, REACHED

CPU = torch.device("cpu")


def scripted_runner(needed_depth: dict[int, int], calls: list[RunSpec], lucky_seed: int = 0,
                    status_override: str | None = None):
    """A runner that 'reaches' iff layers >= needed_depth[length] and seed >= lucky_seed."""

    def run(spec, config, device, deadline=None, on_step=None):
        calls.append(spec)
        solved = spec.layers >= needed_depth[spec.length] and spec.seed >= lucky_seed
        status = status_override or (REACHED if solved else NOT_REACHED)
        accuracy = 1.0 if solved else 0.1
        return {"run_key": spec.key, **dataclasses.asdict(spec), "status": status,
                "steps": 10, "seconds": 0.01, "params": 100,
                "test": {"full_sequence": accuracy, "token": accuracy},
                "extrapolation": None}

    return run


def make_config(lengths, max_layers, seeds=1, rule="best", models=("gru",)) -> ProbeConfig:
    return ProbeConfig(sweep=SweepSettings(tasks=("Z3",), models=tuple(models),
                                           lengths=tuple(lengths), max_layers=max_layers,
                                           seeds=seeds, seed_rule=rule))


def run_sweep(tmp_path, config, runner):
    sweep = Sweep(config, ResultsStore(tmp_path, config, warn=lambda m: None), CPU,
                  runner=runner)
    return sweep, sweep.run()


@settings(max_examples=40, deadline=None)
@given(increments=st.lists(st.integers(0, 2), min_size=1, max_size=5),
       max_layers=st.integers(1, 5))
def test_search_finds_the_smallest_depth_or_reports_not_reached(tmp_path_factory, increments,
                                                                max_layers):
    lengths = [2 * (i + 1) for i in range(len(increments))]
    needed, depth = {}, 1
    for length, step in zip(lengths, increments):
        depth += step
        needed[length] = depth            # the true min depth never shrinks with n
    calls: list[RunSpec] = []
    _, cells = run_sweep(tmp_path_factory.mktemp("out"), make_config(lengths, max_layers),
                         scripted_runner(needed, calls))
    for cell in cells:
        if needed[cell.length] <= max_layers:
            assert (cell.status, cell.min_layers) == (REACHED, needed[cell.length])
        else:
            assert (cell.status, cell.min_layers) == (NOT_REACHED, None)
    keys = [spec.key for spec in calls]
    assert len(keys) == len(set(keys))                       # no run is done twice
    # upward from the previous answer: never retries a depth below it
    for previous, cell in zip(cells, cells[1:]):
        assert min(cell.tried_layers) == min(previous.min_layers or max_layers, max_layers)


def test_rerun_on_the_same_store_runs_nothing_and_gives_the_same_cells(tmp_path):
    config, needed = make_config([2, 4, 8], 3), {2: 1, 4: 2, 8: 4}
    first_calls, second_calls = [], []
    _, first = run_sweep(tmp_path, config, scripted_runner(needed, first_calls))
    sweep, second = run_sweep(tmp_path, config, scripted_runner(needed, second_calls))
    assert second_calls == [] and sweep.runs_resumed == len(first_calls)
    assert [dataclasses.asdict(c) for c in first] == [dataclasses.asdict(c) for c in second]


def test_best_of_seeds_stops_at_the_first_success_and_median_runs_all(tmp_path):
    calls = []
    _, cells = run_sweep(tmp_path / "best", make_config([2], 1, seeds=3, rule="best"),
                         scripted_runner({2: 1}, calls, lucky_seed=1))
    assert cells[0].status == REACHED and [spec.seed for spec in calls] == [0, 1]
    calls = []
    _, cells = run_sweep(tmp_path / "median", make_config([2], 1, seeds=3, rule="median"),
                         scripted_runner({2: 1}, calls, lucky_seed=1))
    assert cells[0].status == REACHED and [spec.seed for spec in calls] == [0, 1, 2]
    calls = []
    _, cells = run_sweep(tmp_path / "median2", make_config([2], 1, seeds=3, rule="median"),
                         scripted_runner({2: 1}, calls, lucky_seed=2))
    assert cells[0].status == NOT_REACHED


def test_diverged_runs_are_counted_and_never_count_as_reached(tmp_path):
    _, cells = run_sweep(tmp_path, make_config([2], 2),
                         scripted_runner({2: 1}, [], status_override=DIVERGED))
    assert (cells[0].status, cells[0].diverged_runs) == (NOT_REACHED, 2)


def test_an_exhausted_sweep_budget_leaves_cells_not_run_and_stores_nothing_cut(tmp_path):
    config = dataclasses.replace(make_config([2, 4], 2),
                                 sweep=dataclasses.replace(make_config([2, 4], 2).sweep,
                                                           time_budget_seconds=0.0))
    sweep, cells = run_sweep(tmp_path, config, scripted_runner({2: 1, 4: 1}, []))
    assert sweep.cut and {cell.status for cell in cells} == {NOT_RUN}
    assert not (tmp_path / "results.jsonl").exists()


def test_run_keys_are_stable_and_name_every_coordinate():
    spec = RunSpec("S5", "ids4", 8, 2, 1, "abc123")
    assert spec.key == "S5/ids4/n=8/L=2/seed=1/abc123"
    assert spec.key == RunSpec("S5", "ids4", 8, 2, 1, "abc123").key


def test_summary_table_figure_and_predictions_from_a_sweep(tmp_path, monkeypatch):
    config = make_config([2, 4, 8], 2, models=("gru", "transformer"))
    needed = {2: 1, 4: 2, 8: 3}

    def runner(spec, *args, **kwargs):
        depth = {"gru": {2: 1, 4: 1, 8: 1}, "transformer": needed}[spec.model]
        return scripted_runner(depth, [])(spec, *args, **kwargs)

    sweep, cells = run_sweep(tmp_path, config, runner)
    monkeypatch.setattr(report, "checker_prediction", lambda model, group: {
        "prediction": {"gru": "1 layer suffices", "transformer": "depth grows with n"}[model],
        "reason": "test", "verdict": ""})
    summary = report.summarize(config, cells, sweep.store.records, {})
    table = report.format_min_layers(summary)
    assert "n=2" in table and "not reached (0.10) [budget 60s/2000 steps]" in table
    rows = {row["model"]: row for row in summary["predictions"]}
    assert rows["gru"]["measured_kind"] == "one layer" and rows["gru"]["agreement"] == "agree"
    assert rows["transformer"]["measured_kind"] == "grows"
    assert rows["transformer"]["agreement"] == "agree"
    files = report.write_outputs(tmp_path, summary)
    assert json.loads((tmp_path / "summary.json").read_text())["cells"][0]["task"] == "Z3"
    assert (tmp_path / "figure.png").read_bytes()[:4] == b"\x89PNG"
    assert set(files) == {"results", "summary", "figure", "config"}


@pytest.mark.parametrize("depths, kind, verdict_for_growth", [
    ([1, 1, 1], "one layer", "inconclusive"),
    ([2, 2, 2], "constant", "inconclusive"),
    ([1, 2, 3], "grows", "agree"),
    ([1, None, None], "grows", "agree"),
    ([None, None, None], "none reached", "inconclusive"),
    ([None, 2, 2], "irregular", "inconclusive"),
])
def test_measured_outcome_and_agreement(depths, kind, verdict_for_growth):
    cells = [{"length": n, "status": REACHED if d else NOT_REACHED, "min_layers": d}
             for n, d in zip([2, 4, 8], depths)]
    assert report.measured_outcome(cells)[0] == kind
    assert report.agreement("depth grows with n", kind) == verdict_for_growth
    assert report.agreement("1 layer suffices", kind) == (
        "agree" if kind == "one layer" else "inconclusive")
    assert report.agreement("no prediction", kind) == "—"


def test_a_failing_checker_is_reported_and_the_results_survive(monkeypatch):
    import sys
    import types
    broken = types.ModuleType("tc0lab.check.predict")

    def predict(model, group):
        raise TypeError("checker bug")

    broken.predict = predict
    monkeypatch.setitem(sys.modules, "tc0lab.check.predict", broken)
    prediction = report.checker_prediction("ids4", "S5")
    assert prediction["prediction"] == "unavailable (checker failed: TypeError)"
    assert prediction["reason"] == "checker bug"
