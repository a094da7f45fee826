"""Benchmark `tc0lab check` over the zoo (cold and warm cache) and `tc0lab prove` (all claims).

Run from the repository root:  python bench/bench_check.py [--out bench/CHECK_RESULTS.md]
Each command runs as a subprocess (so start-up and imports count): cold with the cache off,
with one process and with one per core side by side, then with a fresh cache directory
(empty, then warm). Wall-clock seconds are measured, with the machine's load noted:
the cores may be shared.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TC0LAB = [str(Path(sys.executable).with_name("tc0lab"))]  # the installed console script


def timed(args: list[str], env: dict) -> tuple[float, int, dict | None]:
    start = time.perf_counter()
    process = subprocess.run(TC0LAB + args, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    try:
        document = json.loads(process.stdout)
    except ValueError:
        document = None
    return seconds, process.returncode, document


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    return f"{model}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start; Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=None, help="write a Markdown report here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "TC0LAB_CACHE": cache}
        cold = {**os.environ, "TC0LAB_CACHE": "off"}
        for label, command in [("check, whole zoo, cold, 1 process", ["check", "--json", "--workers", "1"]),
                               ("check, whole zoo, cold, one process per core", ["check", "--json"])]:
            seconds, code, _ = timed(command, cold)
            rows.append((label, "TC0LAB_CACHE=off tc0lab " + " ".join(command), seconds, code))
            print(f"{label}: {seconds:.1f} s (exit {code})", file=sys.stderr)
        for label, command in [("check, whole zoo, empty cache", ["check", "--json"]),
                               ("check, whole zoo, warm cache", ["check", "--json"]),
                               ("prove, all claims", ["prove", "--json"])]:
            seconds, code, document = timed(command, env)
            rows.append((label, "tc0lab " + " ".join(command), seconds, code))
            print(f"{label}: {seconds:.1f} s (exit {code})", file=sys.stderr)
            if command[0] == "prove" and document:
                rows += [(f"  claim {c['name']}", "(inside the run above)", c["seconds"], 0 if c["holds"] else 3)
                         for c in document["claims"]]
    report = ["# Checker benchmark (measured)", "", f"Machine: {machine()}", "",
              "| what | command | wall-clock s | exit |", "|---|---|---|---|"]
    report += [f"| {label} | `{command}` | {seconds:.1f} | {code} |" for label, command, seconds, code in rows]
    text = "\n".join(report) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
