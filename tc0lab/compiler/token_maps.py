"""Position-wise maps (normalisation, projection + nonlinearity + residual, MLP) to gates.

A `TokenMap` is a vector of sympy expressions; each position compiles it on its own, so
its cost is a constant per token and its depth is constant in n.
"""
from __future__ import annotations

import functools

from tc0lab.circuit.build import CircuitBuilder
from tc0lab.compiler.expr_to_gates import TokenProgram, bind
from tc0lab.spec.recurrence import TokenMap


@functools.lru_cache(maxsize=256)
def _program(token_map: TokenMap, value_items: tuple, layer: int) -> tuple[list, TokenProgram]:
    outputs = bind(list(token_map.outputs), dict(value_items))
    return outputs, TokenProgram(token_map.inputs, outputs, layer)


def compile_token_map(builder: CircuitBuilder, token_map: TokenMap, values: dict, rows: list[list[str]],
                      layer: int) -> list[list[str]]:
    """Apply the map at every position; rows[t - 1] are the nodes bound to token_map.inputs."""
    outputs, program = _program(token_map, tuple(values.items()), layer)
    columns = program.emit_all(builder, rows)
    return [[node if node is not None else columns.const(0.0) for node in row] for row in columns.rows(outputs)]
