"""Tiny probe presets for tests: one base (a Z2 sweep of a small GRU that trains in seconds) and
the few keys each test changes, written as a strict TOML preset."""
from __future__ import annotations

import json
from pathlib import Path

BASE: dict[str, dict] = {
    "sweep": {"tasks": ["Z2"], "models": ["gru"], "lengths": [2, 3], "max_layers": 2, "time_budget_seconds": 300.0,
              "device": "cpu", "threads": 1},
    "train": {"max_steps": 40, "max_seconds": 60.0, "batch_size": 16, "eval_every": 20, "lr": 1e-2},
    "model": {"d_model": 8},
    "task": {"eval_size": 8, "extrapolation_factor": 2},
}


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml, value)) + "]"
    return json.dumps(value) if isinstance(value, str) else repr(value)


def tiny_preset(path: Path, **changes: dict) -> Path:
    """Write BASE with `changes` per table (a value of None drops that key) to `path`."""
    lines = []
    for table, entries in BASE.items():
        merged = {**entries, **changes.get(table, {})}
        lines.append(f"[{table}]")
        lines += [f"{key} = {_toml(value)}" for key, value in merged.items() if value is not None]
    path.write_text("\n".join(lines) + "\n")
    return path
