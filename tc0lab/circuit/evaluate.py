"""Run a circuit on concrete inputs, in float64 (complex128 when constants are complex).

Every gate is evaluated in topological order from its ARGS. The result must equal
`tc0lab.spec.reference` on the same parameters and inputs: that differential check is what
makes the measured counts honest.
"""
from __future__ import annotations

import math
from typing import Callable

import networkx as nx
import numpy as np

from tc0lab.circuit import nodes as K
from tc0lab.circuit.measure import topological_order
from tc0lab.spec.functions import NUMPY


def _lookup(attrs: dict, args: list) -> complex:
    value = args[0]
    if isinstance(value, complex) and value.imag == 0:  # a real value carried as complex (a mirrored eigenbasis)
        value = value.real
    for name, scale in attrs[K.FN]:
        value = NUMPY[name](scale * value)
    return value


def _add(attrs: dict, args: list) -> complex:
    coeffs = attrs.get(K.COEFFS)
    if coeffs is None:
        return math.fsum(args) if not any(isinstance(a, complex) for a in args) else sum(args)
    return sum(c * a for c, a in zip(coeffs, args))


def _compare(attrs: dict, args: list) -> float:
    a, b = args
    return float(a >= b) if attrs[K.CMP] == ">=" else float(a > b)


_GATES: dict[str, Callable[[dict, list], complex]] = {
    "add": _add,
    "mul": lambda attrs, args: args[0] * args[1],
    "prod": lambda attrs, args: np.prod(args),
    "div": lambda attrs, args: args[0] / args[1],
    "lookup": _lookup,
    "cmp": _compare,
    "max": lambda attrs, args: max(args),
}


def evaluate(graph: nx.DiGraph, inputs: np.ndarray) -> dict[str, complex]:
    """Values of every node; inputs has shape (n, d) and feeds the 'input' nodes."""
    inputs = np.asarray(inputs)
    values: dict[str, complex] = {}
    with np.errstate(all="ignore"):
        for node in topological_order(graph):
            attrs = graph.nodes[node]
            op = attrs[K.OP]
            if op == "input":
                t, i = attrs[K.INDEX]
                values[node] = float(inputs[t - 1, i])
            elif op == "const":
                values[node] = attrs[K.VALUE]
            else:
                values[node] = _GATES[op](attrs, [values[a] for a in attrs[K.ARGS]])
    return values


def evaluate_outputs(graph: nx.DiGraph, outputs: list[list[str]], inputs: np.ndarray) -> np.ndarray:
    """The output matrix (n, d_out) of a compiled circuit, given its output node ids."""
    values = evaluate(graph, inputs)
    result = np.array([[values[node] for node in row] for row in outputs])
    return result.real if np.iscomplexobj(result) and not np.any(result.imag) else result
