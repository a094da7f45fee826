"""Check several zoo layers at once, one process per core.

Each zoo verdict is independent of the others, and the expensive ones (the witness
constructions and their 1.74M-word verifications) are single-threaded Python and numpy, so
checking the zoo in forked worker processes divides the cold `tc0lab check` time by about
the number of cores. Results come back in the order of the names asked for, and are the
same dictionaries `check_cached` returns in-process (a test compares them). Fork is used
because the workers then start with sympy and the zoo already imported; on a platform
without fork, or with one core, the check runs serially.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Callable

from tc0lab.check.verdict import check_cached


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def check_many(names: list[str], workers: int | None = None,
               on_done: Callable[[str], None] = lambda name: None) -> list[dict]:
    """`check_cached(name)` for every name, over `workers` processes (default: the cores)."""
    workers = min(workers or available_cores(), len(names))
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        documents = []
        for name in names:
            documents.append(check_cached(name))
            on_done(name)
        return documents
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = {name: pool.submit(check_cached, name) for name in names}
        documents = []
        for name in names:
            documents.append(futures[name].result())
            on_done(name)
        return documents
