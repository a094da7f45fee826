"""`--launcher slurm` on a real single-node Slurm cluster (scripts/local-slurm.sh): a sweep with
its driver SIGKILLed and restarted gives the in-process cells and runs, each run once; a job
that Slurm times out or whose run raises is recorded and does not hang the driver; the
--slurm-* options reach the submitted jobs (scontrol show job). At the end, without a
cluster: how the driver reads job states, names failures and adopts a killed driver's jobs,
against stand-in squeue/sacct/scancel commands.

The cluster tests are skipped, with the reason, where the cluster cannot start (not root,
Slurm not installed). On CI (CI=true) they must run: there a cluster that cannot start is a
failure, and the script may install the packages (apt-get), which it does not do otherwise."""
from __future__ import annotations

import concurrent.futures
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from probe_processes import probe_command, result_keys
from tiny_preset import tiny_preset
from tc0lab.probe.config import load_preset
from tc0lab.probe.launch.jobs import job_file, read_job_record, write_job_record
from tc0lab.probe.launch.slurm import (FAILURES_DIR, SLURM_JOBS_DIR, SUBMITIT_DIR, SlurmLauncher,
                                       SlurmOptions, failure_reason, slurm_ended,
                                       slurm_job_states)
from tc0lab.probe.runs import RunSpec

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "local-slurm.sh"
ON_CI = os.environ.get("CI") == "true"
SLURM = ("--launcher", "slurm", "--slurm-partition", "debug", "--slurm-gpus-per-task", "0",
         "--slurm-cpus-per-task", "1")
# 2 lengths x 3 seeds at one depth, median rule: 6 runs, none cancelled by the search
SWEEP = {"sweep": {"lengths": [2, 3], "max_layers": 1, "seeds": 3, "seed_rule": "median"},
         "train": {"max_steps": 30, "eval_every": 10}, "task": {"extrapolation_factor": 0}}
# gru finishes in a second; lstm would train for ten minutes, far past a 1-minute --slurm-time
NEVER_ENDING_LSTM = ("--set", "per_model.lstm.max_steps=100000000",
                     "--set", "per_model.lstm.max_seconds=600.0",
                     "--set", "per_model.lstm.eval_every=100000000")
DETERMINISTIC_FIELDS = ("status", "stop_reason", "steps", "final_loss", "validation", "test",
                        "params", "torch_threads")


def _script(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), command], capture_output=True, text=True,
                          env=env, timeout=600)


@pytest.fixture(scope="module")
def slurm_env():
    """The environment that points Slurm's commands at the local cluster (started if needed,
    and then stopped at the end)."""
    env = {**os.environ, "TC0LAB_SLURM_NO_INSTALL": "0" if ON_CI else "1"}
    already_up = _script("status", env).returncode == 0
    started = None if already_up else _script("start", env)
    if started is not None and started.returncode != 0:
        reason = (f"the local Slurm cluster did not start (bash scripts/local-slurm.sh start): "
                  f"{(started.stderr or started.stdout).strip()[-600:]}")
        if ON_CI:
            pytest.fail(f"on CI the Slurm integration test must run, but {reason}")
        pytest.skip(reason)
    line = _script("env", env).stdout.strip()
    env["SLURM_CONF"] = line.partition("SLURM_CONF=")[2]
    with pytest.MonkeyPatch.context() as patch:       # for launchers made in this process
        patch.setenv("SLURM_CONF", env["SLURM_CONF"])
        yield env
    if not already_up:
        _script("stop", env)


@pytest.fixture(scope="module")
def timeout_sweep(slurm_env, tmp_path_factory):
    """A gru+lstm sweep with --slurm-time 1m, started first: its lstm job runs into Slurm's
    time limit (over a minute) while the other tests use the other CPU."""
    folder = tmp_path_factory.mktemp("timeout")
    preset = tiny_preset(folder / "tiny.toml", sweep={"models": ["gru", "lstm"], "lengths": [2],
                                                      "max_layers": 1})
    command = [*probe_command("z2", preset, folder / "out"), *SLURM, "--slurm-time", "1m",
               *NEVER_ENDING_LSTM]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=slurm_env)
    yield process, started, folder / "out"
    if process.poll() is None:
        process.kill()


def noted_jobs(out: Path) -> dict[str, str]:
    """run key -> the Slurm job id the driver noted for it."""
    records = (read_job_record(path) for path in (out / SLURM_JOBS_DIR).glob("*.json"))
    return {record["run_key"]: record["job_id"] for record in records if record}


def active_jobs(out: Path) -> dict[str, str]:
    """The noted jobs that Slurm has not ended yet."""
    noted = noted_jobs(out)
    states = slurm_job_states(list(noted.values())) or {}
    return {key: job_id for key, job_id in noted.items()
            if job_id in states and not slurm_ended(states[job_id][0])}


def kill_when_running(victim: subprocess.Popen, out: Path, results: int,
                      timeout: float = 120) -> dict[str, str]:
    """SIGKILL the driver once `results` runs are stored and some of its other jobs are pending
    or running in Slurm; return those jobs (run key -> job id)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and victim.poll() is None:
        stored = result_keys(out)
        active = {key: job_id for key, job_id in active_jobs(out).items()
                  if key not in stored} if len(stored) >= results else {}
        if active:
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait()
            return active
        time.sleep(0.2)
    victim.kill()
    pytest.fail(f"the driver never had {results} runs stored with jobs still in Slurm")


def scontrol_job(job_id: str, env: dict[str, str]) -> dict[str, str]:
    shown = subprocess.run(["scontrol", "show", "job", "--oneliner", job_id],
                           capture_output=True, text=True, env=env, check=True)
    return dict(re.findall(r"(\S+?)=(\S*)", shown.stdout))


def deterministic(out: Path) -> dict[str, dict]:
    lines = (json.loads(line) for line in (out / "results.jsonl").read_text().splitlines())
    return {record["run_key"]: {field: record[field] for field in DETERMINISTIC_FIELDS}
            for record in lines}


def test_a_killed_slurm_driver_resumes_to_the_in_process_results_running_each_job_once(
        slurm_env, timeout_sweep, tmp_path):
    preset = tiny_preset(tmp_path / "tiny.toml", **SWEEP)
    local, out = tmp_path / "in-process", tmp_path / "slurm"
    reference = subprocess.run(probe_command("z2", preset, local), capture_output=True,
                               timeout=300)
    assert reference.returncode == 0, reference.stderr.decode()[-2000:]
    command = [*probe_command("z2", preset, out), *SLURM, "--slurm-array-parallelism", "2"]
    victim = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=slurm_env)
    in_slurm_at_kill = kill_when_running(victim, out, results=2)
    stored_at_kill = result_keys(out)
    rerun = subprocess.run(command, capture_output=True, timeout=300, env=slurm_env)
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
    summary = json.loads(rerun.stdout)                      # stdout is the JSON alone
    keys = result_keys(out)
    # 0 lost, 0 duplicated: 6 runs once each, the ones stored before the kill untouched
    assert len(keys) == len(set(keys)) == 6 and keys[:len(stored_at_kill)] == stored_at_kill
    # the dead driver's jobs were waited for or merged, never submitted again
    noted = noted_jobs(out)
    assert {key: noted[key] for key in in_slurm_at_kill} == in_slurm_at_kill
    assert len(list((out / SUBMITIT_DIR).glob("*_result.pkl"))) == 6   # 6 jobs ran to the end
    sweep = summary["sweep"]
    assert sweep["runs_failed"] == 0 and sweep["slurm_jobs_orphans_cancelled"] == 0
    assert sweep["slurm_jobs_adopted"] + sweep["runs_merged_from_job_files"] >= len(
        in_slurm_at_kill)
    # cell by cell and run by run what the in-process sweep measured
    cells = json.loads((local / "summary.json").read_text())["cells"]
    assert [(c["length"], c["status"], c["min_layers"]) for c in summary["cells"]] == \
        [(c["length"], c["status"], c["min_layers"]) for c in cells]
    assert deterministic(out) == deterministic(local)
    # the options reached the jobs: 1 CPU each, waves submitted as arrays of at most 2 at once
    shown = [scontrol_job(job_id, slurm_env) for job_id in noted.values()]
    assert {(job["NumCPUs"], job["CPUs/Task"]) for job in shown} == {("1", "1")}
    arrays = [job for job in shown if "ArrayTaskThrottle" in job]
    assert arrays and {job["ArrayTaskThrottle"] for job in arrays} == {"2"}


def test_a_run_that_raises_inside_slurm_is_a_failure_record_with_slurms_state(slurm_env,
                                                                               tmp_path):
    config = load_preset(str(tiny_preset(tmp_path / "tiny.toml", **SWEEP)))
    launcher = SlurmLauncher(config, tmp_path, SlurmOptions(
        partition="debug", time_minutes=5, gpus_per_task=0, cpus_per_task=1), cluster="slurm")
    broken = RunSpec("Z2", "no-such-model", 2, 1, 0, config.experiment_hash())
    jobs = launcher.submit([broken], None)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:     # a hang fails, not blocks
        done = pool.submit(launcher.wait, jobs).result(timeout=180)
    failure = done[0].failure
    assert done[0].record is None and failure is not None
    assert failure["slurm_state"] == "FAILED" and failure["slurm_job_id"] == jobs[0].handle.job_id
    assert failure["reason"].startswith("ValueError: unknown model 'no-such-model'")
    assert Path(failure["log"]).exists()
    written = job_file(tmp_path, broken.key, FAILURES_DIR, f".{failure['slurm_job_id']}")
    assert json.loads(written.read_text()) == failure
    assert not job_file(tmp_path, broken.key).exists()


def test_a_too_short_slurm_time_is_recorded_as_timeout_and_the_driver_finishes(timeout_sweep):
    process, started, out = timeout_sweep
    stdout, stderr = process.communicate(timeout=240)
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert time.monotonic() - started < 200             # the limit (60 s) plus Slurm's checks
    summary = json.loads(stdout)
    (failure,) = summary["sweep"]["failed_runs"]
    assert failure["model"] == "lstm" and failure["slurm_state"] == "TIMEOUT"
    assert "time limit (1 min, --slurm-time)" in failure["reason"]
    assert failure["slurm_reason"] == "TimeLimit"
    assert list((out / FAILURES_DIR).glob("*lstm*.json"))
    statuses = {cell["model"]: cell["status"] for cell in summary["cells"]}
    assert statuses["lstm"] == "not run" and statuses["gru"] != "not run"
    assert [key.split("/")[1] for key in result_keys(out)] == ["gru"]   # failures not stored


# ---------------------------------------------------------------------------------------------
# Without a cluster: the driver's reading of Slurm, against stand-in client commands
# ---------------------------------------------------------------------------------------------

FAKE_COMMAND = """#!/bin/sh
echo "$0 $*" >> "{folder}/calls"
[ -e "{folder}/$(basename "$0").fails" ] && exit 1
cat "{folder}/$(basename "$0").out" 2>/dev/null
exit 0
"""


@pytest.fixture
def fake_slurm(tmp_path, monkeypatch):
    """squeue, sacct, scancel, sbatch and srun that print OUT/<name>.out and log their calls;
    a file <name>.fails makes one fail. Returns (folder, calls)."""
    folder = tmp_path / "fake-slurm"
    folder.mkdir()
    for name in ("squeue", "sacct", "scancel", "sbatch", "srun"):
        (folder / name).write_text(FAKE_COMMAND.format(folder=folder))
        (folder / name).chmod(0o755)
    (folder / "sbatch.fails").touch()                       # nothing may be submitted
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return folder, lambda: (folder / "calls").read_text().splitlines() if (
        folder / "calls").exists() else []


def test_job_states_come_from_squeue_then_sacct_and_unknown_jobs_are_ended(fake_slurm):
    folder, calls = fake_slurm
    (folder / "squeue.out").write_text(
        "5|RUNNING|None\n6_1|TIMEOUT|TimeLimit\n9|PENDING|Priority\n")
    (folder / "sacct.out").write_text("7|CANCELLED by 0\n")
    states = slurm_job_states(["5", "6_1", "7", "8"])
    assert states == {"5": ("RUNNING", "None"), "6_1": ("TIMEOUT", "TimeLimit"),
                      "7": ("CANCELLED", ""), "8": ("UNKNOWN", "neither squeue nor sacct knows it")}
    assert [slurm_ended(state) for state, _ in states.values()] == [False, True, True, True]
    assert calls()[-1].endswith("--jobs=7,8")              # sacct only for what squeue lacks
    (folder / "squeue.fails").touch()
    assert slurm_job_states(["5"]) is None                 # no controller: conclude nothing


@pytest.mark.parametrize("state, reason, trace, expected", [
    ("FAILED", "NonZeroExitCode", "Traceback ...\n  File x\nValueError: bad\n\n",
     "ValueError: bad"),
    ("TIMEOUT", "TimeLimit", None, "Slurm's time limit (7 min, --slurm-time) ended the run"),
    ("OUT_OF_MEMORY", "OutOfMemory", None, "the job ran out of memory"),
    ("NODE_FAIL", "NodeDown", None, "Slurm ended the job (NODE_FAIL, NodeDown) without a result"),
])
def test_a_failure_reason_names_the_exception_or_slurms_verdict(state, reason, trace, expected):
    assert failure_reason(state, reason, trace, 7).startswith(expected)


def test_a_restarted_driver_adopts_live_jobs_and_cancels_the_ones_it_does_not_need(
        fake_slurm, tmp_path):
    folder, calls = fake_slurm
    config = load_preset(str(tiny_preset(tmp_path / "tiny.toml", **SWEEP)))
    specs = [RunSpec("Z2", "gru", 2, 1, seed, config.experiment_hash()) for seed in range(3)]
    for spec, job_id in zip(specs, ["41_0", "41_1", "42"]):   # noted by a killed driver
        write_job_record(job_file(tmp_path, spec.key, SLURM_JOBS_DIR),
                         {"run_key": spec.key, "job_id": job_id})
    (folder / "squeue.out").write_text(
        "41_0|RUNNING|None\n41_1|PENDING|Resources\n42|RUNNING|None\n")
    launcher = SlurmLauncher(config, tmp_path, SlurmOptions(time_minutes=5), cluster="slurm")
    jobs = launcher.submit(specs[:2], None)                 # sbatch would fail: none submitted
    assert [job.handle.job_id for job in jobs] == ["41_0", "41_1"] and launcher.adopted == 2
    launcher.close()                                        # 42 was not needed: cancelled
    assert launcher.orphans_cancelled == 1
    assert [call.split("/")[-1] for call in calls() if "scancel" in call] == ["scancel 42"]
