"""Progress of a sweep: the `SweepProgress` protocol the sweep reports to, a silent one, and
`TqdmProgress` (stderr: one bar over cells, one transient bar per in-process run, one line per
finished run). torch-free.
"""
from __future__ import annotations

import sys
from typing import Any, Protocol

from tc0lab.probe.runs import Cell, RunSpec


class SweepProgress(Protocol):
    def run_started(self, spec: RunSpec, max_steps: int) -> None: ...
    def step(self, step: int, loss: float) -> None: ...
    def run_finished(self, spec: RunSpec, record: dict[str, Any], resumed: bool) -> None: ...
    def cell_finished(self, cell: Cell) -> None: ...


class SilentProgress:
    def run_started(self, spec: RunSpec, max_steps: int) -> None: pass
    def step(self, step: int, loss: float) -> None: pass
    def run_finished(self, spec: RunSpec, record: dict[str, Any], resumed: bool) -> None: pass
    def cell_finished(self, cell: Cell) -> None: pass
    def close(self) -> None: pass


def _lengths_text(spec: RunSpec) -> str:
    if spec.lengths:
        return "curriculum n=" + ",".join(map(str, spec.lengths))
    return f"n={spec.length}"


class TqdmProgress:
    """Progress on stderr: one bar over cells, one transient bar per run, a line per run.

    Per-run step bars only in-process: runs in other processes report when they finish."""

    def __init__(self, total_cells: int, step_bars: bool = True) -> None:
        from tqdm import tqdm
        self._tqdm = tqdm
        self._step_bars = step_bars
        self._cells = tqdm(total=total_cells, desc="cells", unit="cell", file=sys.stderr,
                           position=0)
        self._run = None

    def run_started(self, spec: RunSpec, max_steps: int) -> None:
        if not self._step_bars:
            return
        if self._run is not None:        # the previous run was cut by the sweep budget
            self._run.close()
        self._run = self._tqdm(total=max_steps, desc=f"{spec.model} {_lengths_text(spec)} "
                               f"L={spec.layers} seed={spec.seed}", unit="step",
                               file=sys.stderr, leave=False, position=1, mininterval=0.5)

    def step(self, step: int, loss: float) -> None:
        if self._run is not None:
            if step == 1 and self._run.n:      # a curriculum run starts its next length
                self._run.reset()
            self._run.update(1)
            if step % 50 == 0:
                self._run.set_postfix(loss=f"{loss:.3f}", refresh=False)

    def run_finished(self, spec: RunSpec, record: dict[str, Any], resumed: bool) -> None:
        if self._run is not None:
            self._run.close()
            self._run = None
        origin = "resumed" if resumed else f"{record['seconds']:.0f}s"
        reached = (f", largest n reached {record['reached_length'] or 'none'}"
                   if "reached_length" in record else "")
        self._tqdm.write(f"{spec.task} {spec.model} {_lengths_text(spec)} L={spec.layers} "
                         f"seed={spec.seed}: {record['status']} (steps {record['steps']}, "
                         f"{origin}, test seq acc {record['test']['full_sequence']:.3f} at "
                         f"n={record['test']['length']}{reached})", file=sys.stderr)

    def cell_finished(self, cell: Cell) -> None:
        self._cells.update(1)

    def close(self) -> None:
        if self._run is not None:
            self._run.close()
        self._cells.close()
