"""The builder's running measurements and bulk adds against networkx and one-gate-at-a-time adds."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from unittest import mock

from tc0lab.circuit import build
from tc0lab.circuit.build import CircuitBuilder
from tc0lab.circuit.measure import measure
from tc0lab.compiler import compile_stack
from tc0lab.spec import zoo


@pytest.mark.parametrize("arch", zoo.ARCHS)
@pytest.mark.parametrize("n", [1, 5, 12])
def test_tallies_equal_networkx_measurement(arch, n):
    compiled = compile_stack(arch, layers=2, n=n, d_model=2, d_state=3)
    tallied = compiled.measure()
    assert tallied == measure(compiled.graph, tallied.precision_bits)
    assert list(compiled.graph) == list(compiled.builder.ids)  # one node set, in the same order


_OPS = st.sampled_from([("add", None), ("mul", None), ("max", None), ("lookup", (("exp", 1.0),))])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_OPS, st.lists(st.lists(st.integers(0, 10**6), min_size=1, max_size=3), min_size=1, max_size=6)),
                min_size=1, max_size=8))
def test_bulk_adds_equal_one_gate_adds(blocks):
    """Random layered circuits, built with add_gates (numpy path and small-block path) and with the
    one-gate methods: same graph, same tallies."""
    for small_block in (1, 10**9):
        with mock.patch.object(build, "SMALL_BLOCK", small_block):
            _compare_bulk_with_single(blocks)


def _compare_bulk_with_single(blocks):
    bulk, single = CircuitBuilder(), CircuitBuilder()
    nodes = [b.input(1, i) for b in (bulk, single) for i in range(3)][:3]
    for block, ((op, stages), operand_picks) in enumerate(blocks):
        arity = 1 if op == "lookup" else (2 if op == "mul" else len(operand_picks[0]))
        args = [tuple(nodes[p % len(nodes)] for p in (picks * arity)[:arity]) for picks in operand_picks]
        names = [f"g{block}.{i}" for i in range(len(args))]
        extra = {"fn": stages} if stages else None
        bulk.at(1, None).add_gates(op, names, args, [block] * len(args), op, extra)
        single.at(1, block)
        for name, operands in zip(names, args):
            if op == "lookup":
                single.lookup(operands[0], stages, name=name, role=op)
            elif op == "mul":
                single.mul(*operands, name=name, role=op)
            else:
                getattr(single, op)(list(operands), name=name, role=op)
        nodes += names
    assert bulk.measurement(8) == single.measurement(8) == measure(single.graph(), 8) == measure(bulk.graph(), 8)
    assert bulk.graph().nodes(data=True) == single.graph().nodes(data=True)


def test_bulk_add_errors():
    b = CircuitBuilder()
    x = b.input(1, 0)
    with pytest.raises(ValueError, match="reads 'nope'"):
        b.add_gates("add", ["a"], [("nope",)], [1], "add")
    with pytest.raises(ValueError, match="already exists"):
        b.add_gates("add", [x], [(x,)], [1], "add")
    with pytest.raises(ValueError, match="same length"):
        b.add_gates("add", ["a", "b"], [(x,), (x, x)], [1, 1], "add")
    many = [f"g{i}" for i in range(build.SMALL_BLOCK + 16)]  # the numpy path
    with pytest.raises(ValueError, match="reads 'nope'"):
        b.add_gates("add", many, [(x,)] * (len(many) - 1) + [("nope",)], [1] * len(many), "add")
    with pytest.raises(ValueError, match="same length"):
        b.add_gates("add", many, [(x,)] * (len(many) - 1) + [(x, x)], [1] * len(many), "add")
    with pytest.raises(ValueError, match="one position per name"):
        b.add_gates("add", many, [(x,)] * len(many), [1], "add")
    assert not b.has("g0")  # a refused block adds nothing
