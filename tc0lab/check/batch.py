"""Check several zoo layers at once, one process per core.

Each zoo verdict is independent of the others, and the expensive ones (witness constructions
and their 1.74M-word verifications) are single-threaded Python and numpy, so the zoo is
checked over `tc0lab.parallel`. Results come back in the order of the names asked for and are
the same dictionaries `check_cached` returns in-process (a test compares them).
"""
from __future__ import annotations

from typing import Callable

from tc0lab.check.verdict import check_cached
from tc0lab.parallel import map_in_processes
from tc0lab.spec import zoo
from tc0lab.spec.state_recurrence import StateRecurrence


ESTIMATE_WIDTH = (2, 2)  # the layer is built this small for the estimate (0.25 s for the zoo, 2.4 s at the checked width)


def expected_cost(name: str) -> float:
    """A rough cost of checking a zoo layer, to start the long ones first: a nonlinear state update (its witness is
    constructed and verified through the unrolled update) before a linear layer, larger states first."""
    mixer = zoo.core(name, *ESTIMATE_WIDTH)
    return (100.0 if isinstance(mixer, StateRecurrence) else 1.0) * getattr(mixer, "state_size", 0)


def check_many(names: list[str], workers: int | None = None,
               on_done: Callable[[str], None] = lambda name: None) -> list[dict]:
    """`check_cached(name)` for every name, over `workers` processes (default: one per core)."""
    return map_in_processes(check_cached, names, workers, on_done, cost=expected_cost)
