"""Where the runs of a sweep execute: in-process, a pool of local processes, or Slurm (submitit).

- jobs.py: a job (one `RunSpec`), its job file, the `Launcher` protocol, merging job files;
- local.py: `InProcessLauncher` (the default) and `ProcessLauncher` (--workers);
- slurm.py: `SlurmLauncher`, `SlurmOptions` (the --slurm-* options), Slurm job states;
- dry_run.py: the sbatch array script and job list of a dry run (`python -m tc0lab.probe.launch
  OUT_DIR INDEX` runs one entry).

`make_launcher` picks one from the command's choice.
"""
from __future__ import annotations

from pathlib import Path

from tc0lab.probe.config import ProbeConfig
from tc0lab.probe.launch.jobs import Launcher
from tc0lab.probe.launch.local import ProcessLauncher
from tc0lab.probe.launch.slurm import SlurmLauncher, SlurmOptions


def make_launcher(kind: str, workers: int | None, config: ProbeConfig, out_dir: Path,
                  slurm_options: SlurmOptions | None = None,
                  cluster: str | None = None) -> Launcher | None:
    """"slurm": a SlurmLauncher; "local": a ProcessLauncher with `workers`, or None (the
    sweep runs in-process) without."""
    if kind == "slurm":
        return SlurmLauncher(config, out_dir, slurm_options or SlurmOptions(), cluster=cluster)
    return ProcessLauncher(config, out_dir, workers) if workers else None
