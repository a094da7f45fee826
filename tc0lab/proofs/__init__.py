"""Executable claims: one claim per module, each with a statement, a citation, a proof sketch
and `check(**small) -> dict` that really verifies it (a sympy identity, an exhaustive search,
a constructed model run on words, or a compiled circuit's measured depth).

The claims live inside the package (not in a top-level `proofs/` directory) so that
`tc0lab prove` works from an installed package, whatever the working directory; the
repository's `proofs/README.md` points here. `run_proofs` runs them; `tc0lab prove` wraps it
and exits with code 3 when a checked claim fails.
"""
from __future__ import annotations

import importlib
import time
from types import ModuleType

CLAIMS: dict[str, str] = {
    "recurrent-equals-convolutional": "tc0lab.proofs.recurrent_equals_convolutional",
    "log-space-decay": "tc0lab.proofs.log_space_decay",
    "solvability": "tc0lab.proofs.solvability",
    "ids4-solves-s5": "tc0lab.proofs.ids4_solves_s5",
    "rnn-solves-s5": "tc0lab.proofs.rnn_solves_s5",
    "deltanet-reflections-generate-s5": "tc0lab.proofs.deltanet_reflections",
    "mamba-never-negative": "tc0lab.proofs.mamba_never_negative",
    "mamba-depth-flat": "tc0lab.proofs.mamba_depth_flat",
    "ssm-fnn-recall": "tc0lab.proofs.ssm_fnn_recall",
}


def claim_module(name: str) -> ModuleType:
    if name not in CLAIMS:
        raise ValueError(f"unknown claim {name!r}; known: {', '.join(CLAIMS)}")
    return importlib.import_module(CLAIMS[name])


def run_claim(name: str) -> dict:
    """Run one claim's check; an exception counts as a failure, with its message."""
    module = claim_module(name)
    start = time.perf_counter()
    try:
        details = module.check()
        holds = bool(details.pop("holds"))
    except Exception as error:  # a crashing check is a failed claim, reported, not a traceback
        details, holds = {"error": f"{type(error).__name__}: {error}"}, False
    return {"name": name, "holds": holds, "statement": module.STATEMENT, "citation": module.CITATION,
            "sketch": module.SKETCH, "seconds": round(time.perf_counter() - start, 3), "details": details}


def run_proofs(names: list[str] | None = None) -> list[dict]:
    """Run the named claims (all by default), in registry order."""
    selected = list(CLAIMS) if not names else names
    for name in selected:
        claim_module(name)  # unknown names fail before anything runs
    return [run_claim(name) for name in selected]
