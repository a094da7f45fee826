"""Pause Python's cyclic garbage collector while building or measuring large graphs.

A circuit is millions of small dicts and tuples, none of them in reference cycles; the
collector's generation scans over them cost about half the build time (measured: 2.2 s vs
1.2 s to materialise a 351k-node graph). On exit the objects made meanwhile are frozen
(gc.freeze) so the first collection after re-enabling does not rescan them all; frozen
objects are still freed by reference counting as soon as the circuit is dropped.
"""
from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
