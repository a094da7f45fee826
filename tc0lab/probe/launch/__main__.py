"""`python -m tc0lab.probe.launch OUT_DIR INDEX`: run entry INDEX of a dry run's job list
(what each task of the sbatch array written by dry_run.py calls)."""
import sys
from pathlib import Path

from tc0lab.probe.launch.dry_run import run_listed_job

run_listed_job(Path(sys.argv[1]), int(sys.argv[2]))
