"""Launchers: waves, process workers, submitit's local executor, Slurm dry runs, kill + resume."""
from __future__ import annotations

import dataclasses
import json
import random
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from probe_processes import kill_after_results, probe_command, result_keys
from shuffled_launcher import ShuffledLauncher
from tiny_preset import tiny_preset
from tc0lab.cli import main
from tc0lab.probe.config import ProbeConfig, SweepSettings, load_preset
from tc0lab.probe.launch.jobs import LauncherError, job_file
from tc0lab.probe.launch.local import ProcessLauncher, threads_per_worker
from tc0lab.probe.launch.slurm import SlurmLauncher, SlurmOptions
from tc0lab.probe.results import ResultsStore
from tc0lab.probe.runs import RunSpec
from tc0lab.probe.sweep import Sweep
from tc0lab.probe.train import NOT_REACHED, REACHED

CPU = torch.device("cpu")

TINY = {"sweep": {"seeds": 2, "seed_rule": "median"}, "train": {"max_steps": 30, "eval_every": 10},
        "task": {"extrapolation_factor": 0}}
# what a run computes; timing, threads and dates may differ between launchers
DETERMINISTIC_FIELDS = ("run_key", "status", "stop_reason", "steps", "final_loss", "validation",
                        "test", "params")


@pytest.fixture
def tiny(tmp_path) -> Path:
    return tiny_preset(tmp_path / "tiny.toml", **TINY)


def deterministic(records: dict) -> dict:
    return {key: {field: record[field] for field in DETERMINISTIC_FIELDS}
            for key, record in records.items()}


def sweep_with(launcher_factory, config, out):
    store = ResultsStore(out, config, warn=lambda message: None)
    sweep = Sweep(config, store, CPU, launcher=launcher_factory(config, out))
    cells = sweep.run()
    return sweep, cells, store


# ---------------------------------------------------------------------------------------------
# The wave scheduler, against a scripted launcher (no training)
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class ScriptedLauncher(ShuffledLauncher):
    """Runs reach iff layers >= needed[length] (and a seed-dependent coin); they finish in
    an order chosen by `rng`."""

    name: str = "scripted"

    def record(self, spec):
        solved = spec.layers >= self.needed[spec.length] and (spec.seed + spec.layers) % 3 != 0
        accuracy = 1.0 if solved else 0.1
        return {"run_key": spec.key, **dataclasses.asdict(spec),
                "status": REACHED if solved else NOT_REACHED, "steps": 1, "seconds": 0.0,
                "test": {"full_sequence": accuracy}}


def grid_config(lengths, max_layers, seeds, rule, models=("gru", "ids4")) -> ProbeConfig:
    return ProbeConfig(sweep=SweepSettings(tasks=("Z3",), models=models, lengths=tuple(lengths),
                                           max_layers=max_layers, seeds=seeds, seed_rule=rule))


@settings(max_examples=30, deadline=None)
@given(increments=st.lists(st.integers(0, 2), min_size=1, max_size=3),
       max_layers=st.integers(1, 4), seeds=st.integers(1, 3),
       rule=st.sampled_from(["best", "median"]), capacity=st.integers(2, 6),
       order_seed=st.integers(0, 1000))
def test_a_wave_on_many_workers_gives_the_cells_of_the_serial_search(
        tmp_path_factory, increments, max_layers, seeds, rule, capacity, order_seed):
    lengths = [2 * (i + 1) for i in range(len(increments))]
    needed = {length: 1 + sum(increments[:i + 1]) for i, length in enumerate(lengths)}
    config = grid_config(lengths, max_layers, seeds, rule)
    serial = ScriptedLauncher(needed, 1, random.Random(0))
    _, serial_cells, _ = sweep_with(lambda c, o: serial, config, tmp_path_factory.mktemp("s"))
    wave = ScriptedLauncher(needed, capacity, random.Random(order_seed))
    sweep, wave_cells, store = sweep_with(lambda c, o: wave, config,
                                          tmp_path_factory.mktemp("w"))
    assert [dataclasses.asdict(c) for c in wave_cells] == \
        [dataclasses.asdict(c) for c in serial_cells]
    assert set(serial.started) <= set(wave.started)          # the wave only adds runs
    assert serial.cancelled == [] and len(wave.started) == len(set(wave.started))
    cited = {key for cell in wave_cells for key in cell.run_keys}
    assert sweep.runs_wasted == len(set(store.records) - cited)
    assert sweep.runs_executed + sweep.runs_cancelled == len(wave.started)


def test_a_wave_cancels_deeper_depths_once_a_shallower_one_solves(tmp_path):
    config = grid_config([2], 4, 1, "best", models=("gru",))
    launcher = ScriptedLauncher({2: 1}, 4, random.Random(0))
    launcher._record = lambda spec: {      # every depth reaches; depth 1 finishes first
        "run_key": spec.key, **dataclasses.asdict(spec), "status": REACHED, "steps": 1,
        "seconds": 0.0, "test": {"full_sequence": 1.0}}
    launcher.wait = lambda jobs: [jobs[0]]
    sweep, cells, _ = sweep_with(lambda c, o: launcher, config, tmp_path)
    assert cells[0].min_layers == 1 and len(launcher.started) == 4
    assert [key.split("/")[3] for key in launcher.cancelled] == ["L=2", "L=3", "L=4"]
    assert sweep.runs_cancelled == 3 and sweep.runs_wasted == 0


@pytest.mark.parametrize("workers, configured, cores, expected", [
    (1, 0, 8, 8), (2, 0, 8, 4), (3, 0, 8, 2), (16, 0, 8, 1), (2, 1, 8, 1), (1, 3, 8, 3),
    (2, 8, 2, 1)])
def test_threads_per_worker_never_oversubscribe_the_cores(workers, configured, cores, expected):
    threads = threads_per_worker(workers, configured, cores)
    assert threads == expected and threads * workers <= max(cores, workers)


# ---------------------------------------------------------------------------------------------
# Real runs: workers, submitit's local executor, determinism
# ---------------------------------------------------------------------------------------------

def test_one_and_two_workers_give_identical_per_run_results_and_cells(tiny, tmp_path):
    config = load_preset(str(tiny))
    one = sweep_with(lambda c, o: ProcessLauncher(c, o, 1), config, tmp_path / "w1")
    two = sweep_with(lambda c, o: ProcessLauncher(c, o, 2), config, tmp_path / "w2")
    reference = deterministic(one[2].records)
    assert len(reference) >= 4
    assert deterministic(two[2].records) == reference
    assert [dataclasses.asdict(c) for c in two[1]] == [dataclasses.asdict(c) for c in one[1]]
    assert all(path.exists() for path in (job_file(tmp_path / "w2", key) for key in reference))


def test_a_crashing_worker_job_is_a_launcher_error_naming_the_run(tiny, tmp_path):
    config = load_preset(str(tiny))
    launcher = ProcessLauncher(config, tmp_path, 1)
    broken = RunSpec("Z2", "no-such-model", 2, 1, 0, config.experiment_hash())
    with pytest.raises(LauncherError, match="the job of Z2/no-such-model/n=2.*failed"):
        launcher.wait(launcher.submit([broken], None))
    assert not job_file(tmp_path, broken.key).exists()


def test_submitit_local_executor_runs_each_job_as_a_subprocess_with_in_process_results(
        tiny, tmp_path):
    config = dataclasses.replace(load_preset(str(tiny)),
                                 sweep=dataclasses.replace(load_preset(str(tiny)).sweep,
                                                           lengths=(2,), seeds=1))
    options = SlurmOptions(cpus_per_task=1, array_parallelism=2)
    slurm = sweep_with(lambda c, o: SlurmLauncher(c, o, options, cluster="local"), config,
                       tmp_path / "slurm")
    serial = sweep_with(lambda c, o: None, config, tmp_path / "serial")
    assert deterministic(slurm[2].records) == deterministic(serial[2].records)
    assert len(slurm[2].records) == 2                       # L=1 and L=2 ran as one wave
    assert list((tmp_path / "slurm" / "submitit").glob("*_log.out"))


# ---------------------------------------------------------------------------------------------
# Slurm dry run, cost, bad input
# ---------------------------------------------------------------------------------------------

def probe(*args: str):
    return CliRunner().invoke(main, ["probe", *args])


def sbatch_header(script: str) -> dict[str, str]:
    assert script.startswith("#!/bin/bash\n")
    header = {}
    for line in script.splitlines():
        if line.startswith("#SBATCH "):
            key, _, value = line[len("#SBATCH "):].partition("=")
            assert re.fullmatch(r"--[a-z-]+", key), line
            header[key] = value
    return header


def test_dry_run_writes_a_valid_array_script_and_runnable_jobs(tiny, tmp_path):
    out = tmp_path / "out"
    result = probe("z2", "--preset", str(tiny), "--out", str(out), "--launcher", "slurm",
                   "--dry-run", "--slurm-partition", "gpu", "--slurm-account", "lab",
                   "--slurm-time", "1h30m", "--slurm-array-parallelism", "3",
                   "--slurm-cpus-per-task", "1", "--slurm-gpus-per-task", "0", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    jobs = json.loads(Path(plan["files"]["job_list"]).read_text())["jobs"]
    assert plan["jobs"] == len(jobs) == 2 * 2 * 2 and plan["submitted"] is False
    assert plan["estimated_gpu_hours"] > 0 and plan["search_run_bound"] == 6
    header = sbatch_header(Path(plan["files"]["script"]).read_text())
    assert header["--array"] == f"0-{len(jobs) - 1}%3" and header["--time"] == "01:30:00"
    assert (header["--partition"], header["--account"], header["--cpus-per-task"],
            header["--gpus-per-task"]) == ("gpu", "lab", "1", "0")
    assert len({job["run_key"] for job in jobs}) == len(jobs)
    subprocess.run(jobs[0]["command"], check=True, timeout=120)        # what sbatch runs
    assert job_file(out, jobs[0]["run_key"]).exists()
    resumed = probe("z2", "--preset", str(tiny), "--out", str(out), "--json")
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["sweep"]["runs_merged_from_job_files"] == 1


def test_paper_dry_run_prints_the_job_count_and_cost(tmp_path):
    result = probe("a5", "--preset", "paper", "--launcher", "slurm", "--dry-run",
                   "--out", str(tmp_path / "paper"))
    assert result.exit_code == 0, result.output
    paper = load_preset("paper").sweep
    jobs = len(paper.models) * len(paper.lengths) * paper.max_layers * paper.seeds
    assert re.search(rf"Dry run: {jobs} jobs .* estimated [\d.]+ GPU-hours", result.stdout)
    assert "submit with: sbatch" in result.stdout
    assert not (tmp_path / "paper" / "results.jsonl").exists()
    script = (tmp_path / "paper" / "slurm-dry-run" / "submit.sbatch").read_text()
    # no --slurm-time: the per-run budget (23.5 h) plus a 30 min margin
    assert sbatch_header(script)["--time"] == "24:00:00"


@pytest.mark.parametrize("args, code, message", [
    (["--launcher", "slurm", "--slurm-qos", "high"], 2, "Error: No such option '--slurm-qos'"),
    (["--workers", "0"], 2, "Invalid value for '--workers'"),
    (["--slurm-partition", "gpu"], 1, "Error: --slurm-partition: only with --launcher slurm"),
    (["--launcher", "slurm", "--workers", "2"], 1, "Error: --workers is for --launcher local"),
    (["--dry-run"], 1, "Error: --dry-run needs --launcher slurm"),
    (["--launcher", "slurm", "--slurm-time", "soon", "--dry-run"], 1,
     "Error: cannot parse duration 'soon'"),
    (["--launcher", "pbs"], 2, "Invalid value for '--launcher'"),
])
def test_bad_launcher_input_is_an_error_without_traceback(tmp_path, args, code, message):
    result = probe("z2", *args, "--out", str(tmp_path / "out"))
    assert result.exit_code == code, result.output
    assert message in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("extra", [[], ["--dry-run"]])
def test_slurm_without_submitit_names_the_install_command(tiny, tmp_path, monkeypatch, extra):
    monkeypatch.setitem(sys.modules, "submitit", None)          # `import submitit` fails
    result = probe("z2", "--preset", str(tiny), "--launcher", "slurm", *extra,
                   "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "Error: the slurm launcher needs submitit" in result.stderr
    assert "pip install 'tc0lab[slurm]'" in result.stderr and "Traceback" not in result.output


# ---------------------------------------------------------------------------------------------
# Kill the driver, resume under another launcher
# ---------------------------------------------------------------------------------------------

def test_killed_worker_driver_resumes_in_process_without_losing_or_repeating_runs(tiny,
                                                                                 tmp_path):
    tiny_preset(tiny, sweep={**TINY["sweep"], "lengths": [2, 3, 4], "max_layers": 1, "seeds": 3},
                train=TINY["train"], task=TINY["task"])
    out = tmp_path / "out"
    command = probe_command("z2", tiny, out)
    victim = subprocess.Popen([*command, "--workers", "2"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    before_kill = kill_after_results(victim, out)
    assert victim.returncode == -signal.SIGKILL and 2 <= len(before_kill) < 9, before_kill
    rerun = subprocess.run(command, capture_output=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
    summary = json.loads(rerun.stdout)
    keys = result_keys(out)
    assert len(keys) == len(set(keys)) == 9                    # 3 lengths x 3 seeds, once each
    assert keys[:len(before_kill)] == before_kill              # nothing lost or rewritten
    sweep = summary["sweep"]
    assert sweep["launcher"] == "local"
    assert sweep["runs_resumed"] + sweep["runs_executed"] == 9
    assert sweep["runs_resumed"] >= len(before_kill)           # + jobs finished after the kill
