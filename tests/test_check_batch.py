"""Checking the zoo, and compiling it, over worker processes gives exactly the in-process results, in order."""
from __future__ import annotations

import multiprocessing
import os

from tc0lab.check.batch import check_many
from tc0lab.cli.compile_report import CompileRequest, scaling_report
from tc0lab.parallel import map_in_processes


def test_parallel_check_equals_serial(monkeypatch):
    monkeypatch.setenv("TC0LAB_CACHE", "off")  # both sides compute; nothing is read from disk
    names = ["ids4", "s4", "mamba-neg", "transformer", "gla"]
    finished: list[str] = []
    parallel = check_many(names, workers=2, on_done=finished.append)
    serial = check_many(names, workers=1)
    assert [d["layer"] for d in parallel] == names == finished
    assert parallel == serial
    assert parallel[0]["verdict"] == "NC1-hard" and parallel[0]["witness"]["verified"]


def test_parallel_compile_report_equals_serial():
    request = CompileRequest(2, (4, 8, 12), 2, 2)
    archs = ["mamba", "ids4", "rnn"]
    parallel, serial = (scaling_report(archs, request, workers=w) for w in (2, 1))
    for document in (parallel, serial):
        for row in document["circuits"]:
            row.pop("seconds")
    assert parallel == serial
    assert [s["arch"] for s in parallel["architectures"]] == archs


def _square_or_die(item: int) -> int:
    if item == 3 and multiprocessing.parent_process() is not None:
        os._exit(1)  # a worker killed mid-job (as the OOM killer would)
    return item * item


def test_a_dead_worker_is_replaced_by_in_process_runs():
    done: list[int] = []
    assert map_in_processes(_square_or_die, [1, 2, 3, 4, 5], workers=2, on_done=done.append) == [1, 4, 9, 16, 25]
    assert done == [1, 2, 3, 4, 5]
