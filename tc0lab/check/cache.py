"""Cache keys for verdicts: everything a verdict depends on, hashed (storage: tc0lab.disk_cache).

The key covers the layer's matrices and symbols (srepr) and the options; `disk_cache` adds the
package's source, so a changed spec or checker is a different key and a stale verdict is never
returned. A cached verdict is the dictionary the checker produced when it last ran (witness
parameters are not stored). TC0LAB_CACHE=off disables it.
"""
from __future__ import annotations

import json

import sympy

from tc0lab import disk_cache
from tc0lab.spec.recurrence import AttentionLayer, Mixer

NAMESPACE = "check"


def key(mixer: Mixer, **options) -> str:
    parts = [type(mixer).__name__, sympy.srepr(mixer.inputs), json.dumps(options, sort_keys=True, default=str)]
    if isinstance(mixer, AttentionLayer):
        parts += [sympy.srepr(m) for m in (mixer.query, mixer.key, mixer.value)] + [repr(mixer.scale)]
    else:
        parts += [sympy.srepr(m) for m in (mixer.A, mixer.B, mixer.C, mixer.D)]
        parts += [sympy.srepr(mixer.h0), str(mixer.nonlinearity)]
    parts += [f"{name}{array.shape}" for name, array in sorted(mixer.param_arrays.items())]
    return disk_cache.cache_key(*parts)


def load(cache_key: str) -> dict | None:
    return disk_cache.load(NAMESPACE, cache_key)


def store(cache_key: str, document: dict) -> None:
    disk_cache.store(NAMESPACE, cache_key, document)
