"""Claim: a 4-layer Mamba's compiled threshold depth does not grow from n = 8 to 512."""
from __future__ import annotations

from tc0lab.compiler import compile_stack

STATEMENT = "The compiled 4-layer Mamba (d_model = d_state = 1) has the same threshold and arithmetic depth at n = 8 ... 512."
CITATION = "Illusion of State Thm 4.4 / Cor 4.5"
SKETCH = "Each decay product is one prod (or lookup(add)) gate over <= n inputs: unbounded fan-in, constant depth."

LENGTHS = (8, 32, 128, 512)


def check(lengths: tuple[int, ...] = LENGTHS, layers: int = 4) -> dict:
    depths = {}
    for n in lengths:
        measurement = compile_stack("mamba", layers=layers, n=n, d_model=1, d_state=1).measure()
        depths[n] = (measurement.depth_threshold, measurement.depth_arithmetic)
    holds = len(set(depths.values())) == 1
    return {"holds": holds, "depths": {str(n): {"threshold": t, "arithmetic": a} for n, (t, a) in depths.items()},
            "precision": "default c * ceil(log2 n) per n (tc0lab.circuit.measure.default_precision)"}
