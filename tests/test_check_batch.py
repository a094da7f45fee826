"""Checking the zoo over worker processes gives exactly the in-process verdicts, in order."""
from __future__ import annotations

from tc0lab.check.batch import check_many


def test_parallel_check_equals_serial(monkeypatch):
    monkeypatch.setenv("TC0LAB_CACHE", "off")  # both sides compute; nothing is read from disk
    names = ["ids4", "s4", "mamba-neg", "transformer", "gla"]
    finished: list[str] = []
    parallel = check_many(names, workers=2, on_done=finished.append)
    serial = check_many(names, workers=1)
    assert [d["layer"] for d in parallel] == names == finished
    assert parallel == serial
    assert parallel[0]["verdict"] == "NC1-hard" and parallel[0]["witness"]["verified"]
