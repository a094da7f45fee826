"""An on-disk cache for derived results that are slow to recompute (verdicts, zoo formulas).

Every key hashes the inputs together with the source of the whole tc0lab package, so a
changed spec, compiler or checker never reuses a stale entry. The directory is
$TC0LAB_CACHE or ~/.cache/tc0lab; TC0LAB_CACHE=off disables caching. Writes are atomic
(tc0lab.atomic_file), and an unreadable or corrupt entry is simply a miss, so
concurrent runs and interrupted writes cannot break anything. A read-only home disables
storing, never the computation.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import Any, Callable

from tc0lab import atomic_file

PACKAGE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=1)
def source_hash() -> str:
    """sha256 over every .py file of the package (path and content)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(*parts: str) -> str:
    """A key for `parts` under the current package source."""
    return hashlib.sha256("\n".join((source_hash(), *parts)).encode()).hexdigest()


def directory(namespace: str) -> Path | None:
    setting = os.environ.get("TC0LAB_CACHE", "")
    if setting.lower() == "off":
        return None
    return (Path(setting) if setting else Path.home() / ".cache" / "tc0lab") / namespace


_FORMATS: dict[str, tuple[str, Callable[[Any], bytes], Callable[[bytes], Any]]] = {
    "json": (".json", lambda value: json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)).encode(),
             lambda data: json.loads(data)),
    "pickle": (".pickle", pickle.dumps, pickle.loads),
}


def load(namespace: str, key: str, fmt: str = "json") -> Any | None:
    """The stored value, or None when absent, disabled or unreadable."""
    folder = directory(namespace)
    if folder is None:
        return None
    suffix, _, decode = _FORMATS[fmt]
    try:
        return decode((folder / f"{key}{suffix}").read_bytes())
    except Exception:  # absent, truncated, corrupt or from an incompatible version: a miss
        return None


def store(namespace: str, key: str, value: Any, fmt: str = "json") -> None:
    """Store atomically; failures to write are ignored (the caller already has the value)."""
    folder = directory(namespace)
    if folder is None:
        return
    suffix, encode, _ = _FORMATS[fmt]
    try:
        atomic_file.write_bytes(folder / f"{key}{suffix}", encode(value))
    except OSError:
        pass


def cached(namespace: str, key: str, compute: Callable[[], Any], fmt: str = "json") -> Any:
    """load(...) or compute() and store it."""
    value = load(namespace, key, fmt)
    if value is None:
        value = compute()
        store(namespace, key, value, fmt)
    return value
