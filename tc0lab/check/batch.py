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


def check_many(names: list[str], workers: int | None = None,
               on_done: Callable[[str], None] = lambda name: None) -> list[dict]:
    """`check_cached(name)` for every name, over `workers` processes (default: one per core)."""
    return map_in_processes(check_cached, names, workers, on_done)
