"""Shared by the probe's kill-and-resume tests: run `tc0lab probe` as a real process, read the
run keys it has written, and SIGKILL it once some runs are on disk."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def probe_command(task: str, preset: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", "from tc0lab.cli import main; main()", "probe", task,
            "--preset", str(preset), "--out", str(out), "--json", *extra]


def result_keys(out: Path) -> list[str]:
    """run_key of every line of OUT/results.jsonl, in file order."""
    path = out / "results.jsonl"
    return [json.loads(line)["run_key"] for line in path.read_text().splitlines()
            if line] if path.exists() else []


def kill_after_results(victim: subprocess.Popen, out: Path, count: int = 2, timeout: float = 120) -> list[str]:
    """Wait until `count` runs are written (or the process ends), SIGKILL it, return the keys."""
    deadline = time.monotonic() + timeout
    while len(result_keys(out)) < count and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    return result_keys(out)
