"""The node-attribute schema of a tc0lab circuit, defined once.

A circuit is an `nx.DiGraph`. Every node is one arithmetic gate whose value is a
log-precision number. Edges run from operands to the gate that uses them; because a
DiGraph cannot hold parallel edges (x*x) and most ops care about operand order, the
ordered operand list is stored on the node itself under ARGS, and the edges mirror it.

Keys set by the compiler (`tc0lab.compiler`) on every node:
    OP      one of OPS
    ARGS    tuple of operand node ids, in order ('input' and 'const' have none)
    LAYER   0 for embeddings/positions, 1..L for the layer that made the node
    T       sequence position 1..n, or None for position-independent constants
    ROLE    short readable tag of what the node computes ('h', 'y', 'decay', ...)
Keys that only some ops carry:
    COEFFS  'add' only: tuple of +1/-1 weights aligned with ARGS (absent: all +1)
    FN      'lookup' only: tuple of (function name, scale) stages, applied in order,
            each computing f(scale * value); names index `tc0lab.spec.functions.NUMPY`
    VALUE   'const' only: the float (or complex) constant
    INDEX   'input' only: (t, i), read from inputs[t - 1, i]
    CMP     'cmp' only: the relation, '>=' or '>'
"""
from __future__ import annotations

OP = "op"
ARGS = "args"
LAYER = "layer"
T = "t"
ROLE = "role"
COEFFS = "coeffs"
FN = "fn"
VALUE = "value"
INDEX = "index"
CMP = "cmp"

# graph attribute set by the builder: node insertion order is a topological order
TOPOLOGICAL = "topologically_ordered"

# arithmetic gate kinds; 'input' and 'const' are the sources
OPS = ("input", "const", "add", "mul", "prod", "div", "lookup", "cmp", "max")
SOURCE_OPS = ("input", "const")
