"""Cache keys for zoo verdicts: everything a verdict depends on, hashed (storage: tc0lab.disk_cache).

A zoo layer's matrices are a pure function of the package source, its name and its sizes, so
the key is (name, d_model, d_state, options); `disk_cache` adds the package's source, so a
changed spec or checker is a different key and a stale verdict is never returned. Keying on the
name rather than on srepr of the matrices is what keeps a cold check fast: srepr of the zoo's
matrices took ~2 s of a ~7 s cold `tc0lab check`. A cached verdict is the dictionary the checker
produced when it last ran (witness parameters are not stored). TC0LAB_CACHE=off disables it.
"""
from __future__ import annotations

import json

from tc0lab import disk_cache

NAMESPACE = "check"


def zoo_key(name: str, d_model: int, d_state: int, **options) -> str:
    return disk_cache.cache_key("zoo", name, str(d_model), str(d_state), json.dumps(options, sort_keys=True, default=str))


def load(cache_key: str) -> dict | None:
    return disk_cache.load(NAMESPACE, cache_key)


def store(cache_key: str, document: dict) -> None:
    disk_cache.store(NAMESPACE, cache_key, document)
