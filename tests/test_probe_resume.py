"""Results store and resume: atomic appends, corrupt lines, foreign configs, a real SIGKILL."""
from __future__ import annotations

import dataclasses
import json
import signal
import subprocess

import pytest

from probe_processes import kill_after_results, probe_command, result_keys
from tiny_preset import tiny_preset
from tc0lab.probe.config import ProbeConfig, SweepSettings, TrainSettings
from tc0lab.probe.results import ResultsError, ResultsStore

CONFIG = ProbeConfig()


def record(key: str, store: ResultsStore) -> dict:
    return {"run_key": key, "experiment_hash": store.experiment_hash, "status": "reached"}


def open_store(path, config=CONFIG, warnings=None):
    return ResultsStore(path, config, warn=(warnings.append if warnings is not None
                                            else lambda message: None))


def test_appended_runs_are_read_back_with_schema_version(tmp_path):
    store = open_store(tmp_path)
    store.append(record("a", store))
    store.append(record("b", store))
    again = open_store(tmp_path)
    assert set(again.records) == {"a", "b"}
    assert again.records["a"]["schema_version"] == 1
    assert json.loads((tmp_path / "config.json").read_text())["experiment_hash"] == \
        CONFIG.experiment_hash()


def test_a_corrupt_line_is_reported_skipped_and_left_in_place(tmp_path):
    store = open_store(tmp_path)
    store.append(record("a", store))
    with open(tmp_path / "results.jsonl", "a") as handle:
        handle.write("{not json\n")
    store.append(record("b", store))
    before = (tmp_path / "results.jsonl").read_bytes()
    warnings: list[str] = []
    again = open_store(tmp_path, warnings=warnings)
    assert set(again.records) == {"a", "b"}
    assert len(warnings) == 1 and "results.jsonl:2" in warnings[0]
    assert (tmp_path / "results.jsonl").read_bytes() == before


def test_a_truncated_last_line_never_swallows_the_next_append(tmp_path):
    store = open_store(tmp_path)
    store.append(record("a", store))
    with open(tmp_path / "results.jsonl", "a") as handle:
        handle.write('{"run_key": "half", "sta')            # a write killed halfway
    store = open_store(tmp_path)
    store.append(record("b", store))
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[2])["run_key"] == "b"
    assert set(open_store(tmp_path).records) == {"a", "b"}


def test_an_out_dir_of_a_different_config_is_refused_naming_the_difference(tmp_path):
    open_store(tmp_path).append(record("a", open_store(tmp_path)))
    other = dataclasses.replace(CONFIG, train=TrainSettings(lr=1e-5))
    with pytest.raises(ResultsError, match="different config.*train.lr"):
        open_store(tmp_path, other)
    # the grid may change: more lengths are more runs of the same experiment
    wider = dataclasses.replace(CONFIG, sweep=SweepSettings(lengths=(2, 4, 8, 16)))
    assert set(open_store(tmp_path, wider).records) == {"a"}


def test_lines_of_another_experiment_or_schema_are_refused(tmp_path):
    store = open_store(tmp_path)
    (tmp_path / "config.json").unlink()
    store.append({"run_key": "x", "experiment_hash": "someone-else"})
    with pytest.raises(ResultsError, match="different config"):
        open_store(tmp_path)
    (tmp_path / "results.jsonl").write_text(json.dumps(
        {"schema_version": 99, "run_key": "y", "experiment_hash": CONFIG.experiment_hash()})
        + "\n")
    with pytest.raises(ResultsError, match="schema version 99"):
        open_store(tmp_path)



def probe_process(preset, out) -> subprocess.Popen:
    return subprocess.Popen(probe_command("z3", preset, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_sigkill_mid_sweep_then_rerun_completes_without_redoing_or_losing_runs(tmp_path):
    preset = tiny_preset(tmp_path / "tiny.toml",
                         sweep={"tasks": ["Z3"], "lengths": [2, 3, 4], "max_layers": 1, "seeds": 3, "seed_rule": "median",
                                "time_budget_seconds": 600.0},
                         train={"max_steps": 150, "max_seconds": 600.0, "eval_every": 1000, "lr": None},
                         task={"eval_size": 16, "extrapolation_factor": 0})
    out = tmp_path / "out"
    victim = probe_process(preset, out)
    before_kill = kill_after_results(victim, out)
    assert victim.returncode == -signal.SIGKILL and 2 <= len(before_kill) < 9, before_kill
    rerun = probe_process(preset, out)
    stdout, stderr = rerun.communicate(timeout=180)
    assert rerun.returncode == 0, stderr.decode()[-2000:]
    summary = json.loads(stdout)
    keys = result_keys(out)
    assert len(keys) == len(set(keys)) == 9                    # 3 lengths x 3 seeds, once each
    assert keys[:len(before_kill)] == before_kill              # nothing lost or rewritten
    assert summary["sweep"]["runs_resumed"] == len(before_kill)
    assert summary["sweep"]["runs_executed"] == 9 - len(before_kill)
