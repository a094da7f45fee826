"""The results store of a probe output directory: `results.jsonl` plus `config.json`.

- `results.jsonl` holds one JSON object per finished run (schema `SCHEMA_VERSION`): the run
  key, the full resolved run config, seed, status, steps, seconds, accuracies, device, torch
  and tc0lab versions. A line is appended with ONE `os.write` on an O_APPEND descriptor and
  then fsync'ed, so a killed process leaves at worst one truncated last line.
- A corrupt or truncated line is reported on stderr and skipped; the file is never rewritten
  or truncated. If the file does not end in a newline (a killed write), the next append starts
  with one, in the same write, so the damage never spreads to a good line.
- `config.json` holds the resolved config of the experiment (see config.py). One directory
  holds ONE experiment hash: opening it with a config whose run-affecting part differs is
  refused with `ResultsError` naming the differences (the grid in [sweep] may differ; runs of a
  larger grid are simply added). We refuse rather than keep a hash subdirectory so that a
  directory always means one thing; pass another --out for another config.
- A results file written with another schema version is refused with `ResultsError`.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

from tc0lab import atomic_file
from tc0lab.probe.config import ProbeConfig

SCHEMA_VERSION = 1
RESULTS_FILE = "results.jsonl"
CONFIG_FILE = "config.json"

class ResultsError(ValueError):
    """An output directory that cannot be used: other config, other schema, unwritable."""


def _warn_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def config_differences(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """'key: stored -> current' for every leaf that differs."""
    old, new = _flatten(stored), _flatten(current)
    return [f"{key}: {old.get(key, '(absent)')!r} -> {new.get(key, '(absent)')!r}"
            for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]


class ResultsStore:
    """Finished runs of one experiment in one directory, keyed by run key."""

    def __init__(self, out_dir: str | Path, config: ProbeConfig,
                 warn: Callable[[str], None] = _warn_stderr) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / RESULTS_FILE
        self.experiment_hash = config.experiment_hash()
        self._warn = warn
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ResultsError(f"cannot create output directory {self.out_dir}: {error}") from None
        self._check_config(config)
        self.records: dict[str, dict[str, Any]] = self._load()
        current = {"experiment_hash": self.experiment_hash, "schema_version": SCHEMA_VERSION,
                   **config.to_dict()}
        atomic_file.write_text(self.out_dir / CONFIG_FILE,
                               json.dumps(current, indent=2, sort_keys=True) + "\n")

    def get(self, key: str) -> dict[str, Any] | None:
        return self.records.get(key)

    def append(self, record: dict[str, Any]) -> None:
        """Append one finished run: a single O_APPEND write of the whole line, then fsync."""
        record = {"schema_version": SCHEMA_VERSION, **record}
        line = (json.dumps(record, sort_keys=True, allow_nan=False) + "\n").encode()
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if _ends_without_newline(fd):
                line = b"\n" + line            # a killed write left a partial last line
            written = os.write(fd, line)
            if written != len(line):
                raise ResultsError(f"short write to {self.path}: {written} of {len(line)} bytes")
            os.fsync(fd)
        finally:
            os.close(fd)
        self.records[record["run_key"]] = record

    # -- loading ----------------------------------------------------------------------------

    def _check_config(self, config: ProbeConfig) -> None:
        config_path = self.out_dir / CONFIG_FILE
        if config_path.exists():
            try:
                stored = json.loads(config_path.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise ResultsError(f"{config_path} is not valid JSON; it is not ours or it is "
                                   f"damaged: pass another --out") from None
            self._refuse_other_experiment(stored, config)

    def _refuse_other_experiment(self, stored: dict[str, Any], config: ProbeConfig) -> None:
        if stored.get("schema_version") != SCHEMA_VERSION:
            raise ResultsError(f"{self.out_dir} was written by results schema version "
                               f"{stored.get('schema_version')}, this tc0lab writes version "
                               f"{SCHEMA_VERSION}; pass another --out")
        if stored.get("experiment_hash") != self.experiment_hash:
            stored_part = {key: stored.get(key) for key in config.experiment_dict()}
            differences = config_differences(stored_part, config.experiment_dict())
            raise ResultsError(f"--out {self.out_dir} holds results of a different config "
                               f"({'; '.join(differences[:6]) or 'hash differs'}); "
                               f"pass another --out or the same settings")

    def _load(self) -> dict[str, dict[str, Any]]:
        if not self.path.exists():
            return {}
        records: dict[str, dict[str, Any]] = {}
        with open(self.path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                record = self._parse_line(raw, number)
                if record is not None:
                    records[record["run_key"]] = record
        return records

    def _parse_line(self, raw: bytes, number: int) -> dict[str, Any] | None:
        if not raw.strip():
            return None
        try:
            record = json.loads(raw)
            if not isinstance(record, dict) or "run_key" not in record:
                raise ValueError("not a run record")
        except (ValueError, UnicodeDecodeError):
            self._warn(f"{self.path}:{number}: corrupt or truncated line skipped "
                       f"(left in place): {raw[:80]!r}")
            return None
        if record.get("schema_version") != SCHEMA_VERSION:
            raise ResultsError(f"{self.path}:{number} has results schema version "
                               f"{record.get('schema_version')!r}, this tc0lab reads version "
                               f"{SCHEMA_VERSION}; pass another --out")
        if record.get("experiment_hash") != self.experiment_hash:
            raise ResultsError(f"{self.path}:{number} holds a run of a different config "
                               f"(experiment hash {record.get('experiment_hash')!r}, current "
                               f"{self.experiment_hash}); pass another --out")
        return record


def _ends_without_newline(fd: int) -> bool:
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"
