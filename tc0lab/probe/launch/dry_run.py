"""The sbatch dry run: an array script and a job list for the whole grid, nothing submitted.

`plan_dry_run` writes `OUT/slurm-dry-run/submit.sbatch` and `jobs.json` (atomically) and
returns the plan: how many jobs, their estimated GPU-hours (gpu_hours.py, an upper bound) and
the most runs the adaptive search can need. Each array task runs
`python -m tc0lab.probe.launch OUT_DIR INDEX`, i.e. `run_listed_job`: entry INDEX of the job
list, as an ordinary job (jobs.py).
"""
from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from tc0lab import atomic_file
from tc0lab.probe.config import ProbeConfig
from tc0lab.probe.gpu_hours import run_gpu_hours, search_run_bound
from tc0lab.probe.launch.jobs import config_payload, execute_job
from tc0lab.probe.launch.slurm import SlurmOptions, import_submitit
from tc0lab.probe.runs import RunSpec
from tc0lab.probe.sweep import grid

DRY_RUN_DIR = "slurm-dry-run"
ENTRY_MODULE = "tc0lab.probe.launch"      # python -m tc0lab.probe.launch OUT_DIR INDEX
COST_MODEL = ("constructed: 6*params*tokens at 10 TFLOP/s + 5 ms per step and layer, whole "
              "budget (max_steps, or max_epochs over the fixed dataset; no early stop); see "
              "tc0lab/probe/gpu_hours.py")


def plan_dry_run(config: ProbeConfig, options: SlurmOptions, out_dir: Path,
                 experiment_hash: str) -> dict[str, Any]:
    """Write the sbatch array of the whole grid; return the jobs, their cost and the files."""
    import_submitit()                   # a dry run is a plan for submitit's cluster
    options = options.with_time_for(config)
    specs = grid(config, experiment_hash)
    costs = [run_gpu_hours(spec, config) for spec in specs]
    files = write_dry_run(specs, config, options, out_dir, costs)
    # with all_depths the search runs the whole grid
    bound = len(specs) if config.sweep.all_depths else search_run_bound(config)
    mean = sum(costs) / len(costs)
    return {"jobs": len(specs), "estimated_gpu_hours": round(sum(costs), 3),
            "search_run_bound": bound,
            "search_estimated_gpu_hours": round(bound * mean, 3),
            "cost_model": COST_MODEL, "files": files, "submitted": False}


def sbatch_script(job_count: int, options: SlurmOptions, out_dir: Path) -> str:
    """The sbatch array script: entry $SLURM_ARRAY_TASK_ID of the job list per array task."""
    hours, minutes = divmod(options.time_minutes, 60)
    lines = ["#!/bin/bash", "#SBATCH --job-name=tc0lab-probe",
             f"#SBATCH --array=0-{job_count - 1}%{options.array_parallelism}",
             f"#SBATCH --time={hours:02d}:{minutes:02d}:00", "#SBATCH --ntasks=1",
             f"#SBATCH --gpus-per-task={options.gpus_per_task}",
             f"#SBATCH --cpus-per-task={options.cpus_per_task}",
             f"#SBATCH --output={out_dir.resolve() / DRY_RUN_DIR / 'logs' / '%A_%a.out'}"]
    if options.partition:
        lines.append(f"#SBATCH --partition={options.partition}")
    if options.account:
        lines.append(f"#SBATCH --account={options.account}")
    command = (f"{sys.executable} -m {ENTRY_MODULE} {out_dir.resolve()} "
               f"$SLURM_ARRAY_TASK_ID")
    return "\n".join([*lines, "", "set -euo pipefail", command, ""])


def write_dry_run(specs: list[RunSpec], config: ProbeConfig, options: SlurmOptions,
                  out_dir: Path, costs: list[float]) -> dict[str, Any]:
    """Write submit.sbatch and jobs.json under OUT/slurm-dry-run; return what was written."""
    folder = Path(out_dir) / DRY_RUN_DIR
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    jobs = [{"index": index, "run_key": spec.key, "spec": dataclasses.asdict(spec),
             "estimated_gpu_hours": round(cost, 4),
             "command": [sys.executable, "-m", ENTRY_MODULE,
                         str(Path(out_dir).resolve()), str(index)]}
            for index, (spec, cost) in enumerate(zip(specs, costs))]
    document = {"config": config_payload(config), "threads": options.cpus_per_task,
                "jobs": jobs}
    atomic_file.write_text(folder / "jobs.json", json.dumps(document, indent=1) + "\n")
    atomic_file.write_text(folder / "submit.sbatch", sbatch_script(len(jobs), options, Path(out_dir)))
    return {"script": str(folder / "submit.sbatch"), "job_list": str(folder / "jobs.json")}


def run_listed_job(out_dir: Path, index: int) -> str | None:
    """Run entry `index` of OUT/slurm-dry-run/jobs.json (the body of the sbatch array)."""
    document = json.loads((Path(out_dir) / DRY_RUN_DIR / "jobs.json").read_text())
    entry = document["jobs"][index]
    return execute_job(RunSpec(**entry["spec"]), document["config"], str(out_dir),
                       document["threads"])
