"""Run independent jobs in forked worker processes, one per core, results in input order.

The zoo checks (`tc0lab check`) and the per-architecture compiles (`tc0lab compile`) are
independent, single-threaded Python; on a machine with k cores they finish up to k times
sooner side by side. Fork is used so that workers start with sympy and the package already
imported. With one worker, one job, or no fork on the platform, jobs run in this process.
A job's exception is re-raised here, as if it had run in-process; if processes cannot be
started, or a worker dies (e.g. killed for memory), the remaining jobs run in this process.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Sequence, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def map_in_processes(function: Callable[[Item], Result], items: Sequence[Item], workers: int | None = None,
                     on_done: Callable[[Item], None] = lambda item: None,
                     cost: Callable[[Item], float] | None = None) -> list[Result]:
    """[function(item) for item in items], over `workers` processes (default: one per core).

    `function` must be a module-level callable (it is pickled by name); `on_done(item)` is
    called in this process as each result is collected, in input order. With `cost` (an
    estimate per item), the costliest items are started first, so that a long job does not
    start last and finish alone (longest-processing-time-first scheduling).
    """
    workers = min(workers or available_cores(), len(items))
    results: list = []
    if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        try:
            pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
        except OSError:  # no semaphores or processes in this sandbox: run in-process
            pool = None
        if pool is not None:
            with pool:
                started = sorted(range(len(items)), key=lambda i: -cost(items[i])) if cost else range(len(items))
                submitted = {i: pool.submit(function, items[i]) for i in started}
                futures = [submitted[i] for i in range(len(items))]
                try:
                    for item, future in zip(items, futures):
                        results.append(future.result())
                        on_done(item)
                except BrokenProcessPool:  # a worker died (e.g. killed for memory): finish in-process
                    pass
    for item in items[len(results):]:
        results.append(function(item))
        on_done(item)
    return results
