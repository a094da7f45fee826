"""A disk cache of verdicts, so that re-checking the zoo is fast.

The key hashes everything a verdict depends on: the layer's matrices and symbols (srepr),
the checker's own source code, and the options. A changed spec or a changed checker is a
different key, so a stale result is never returned; a cached verdict is the dictionary the
checker produced when it last ran (witness parameters are not stored). The directory is
$TC0LAB_CACHE or ~/.cache/tc0lab/check; TC0LAB_CACHE=off disables it.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

import sympy

from tc0lab.spec.recurrence import AttentionLayer, Mixer


@functools.lru_cache(maxsize=1)
def _checker_source_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_directory() -> Path | None:
    setting = os.environ.get("TC0LAB_CACHE", "")
    if setting.lower() == "off":
        return None
    return Path(setting) if setting else Path.home() / ".cache" / "tc0lab" / "check"


def key(mixer: Mixer, **options) -> str:
    parts = [_checker_source_hash(), type(mixer).__name__, sympy.srepr(mixer.inputs), json.dumps(options, sort_keys=True, default=str)]
    if isinstance(mixer, AttentionLayer):
        parts += [sympy.srepr(m) for m in (mixer.query, mixer.key, mixer.value)] + [repr(mixer.scale)]
    else:
        parts += [sympy.srepr(m) for m in (mixer.A, mixer.B, mixer.C, mixer.D)]
        parts += [sympy.srepr(mixer.h0), str(mixer.nonlinearity)]
    parts += [f"{name}{array.shape}" for name, array in sorted(mixer.param_arrays.items())]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def load(cache_key: str) -> dict | None:
    directory = cache_directory()
    path = directory / f"{cache_key}.json" if directory else None
    if path is None or not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def store(cache_key: str, document: dict) -> None:
    directory = cache_directory()
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{cache_key}.json").write_text(json.dumps(document, default=_plain))
    except OSError:
        pass  # a read-only home must not break a check


def _plain(value):
    return value.item() if hasattr(value, "item") else str(value)
