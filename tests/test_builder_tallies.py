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
    assert list(compiled.graph) == compiled.builder.names()  # one node set, in the same (index) order


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
    bulk_nodes = [bulk.input(1, i) for i in range(3)]  # names, then the handles add_gates returns
    names_so_far = [single.input(1, i) for i in range(3)]
    for block, ((op, stages), operand_picks) in enumerate(blocks):
        arity = 1 if op == "lookup" else (2 if op == "mul" else len(operand_picks[0]))
        picks = [(p * arity)[:arity] for p in operand_picks]
        names = [f"g{block}.{i}" for i in range(len(picks))]
        extra = {"fn": stages} if stages else None
        handles = bulk.at(1, None).add_gates(op, lambda names=names: names,
                                             [tuple(bulk_nodes[p % len(bulk_nodes)] for p in row) for row in picks],
                                             [block] * len(picks), op, extra)
        single.at(1, block)
        for name, row in zip(names, picks):
            operands = [names_so_far[p % len(names_so_far)] for p in row]
            if op == "lookup":
                single.lookup(operands[0], stages, name=name, role=op)
            elif op == "mul":
                single.mul(*operands, name=name, role=op)
            else:
                getattr(single, op)(operands, name=name, role=op)
        bulk_nodes += list(handles)
        names_so_far += names
    assert bulk.measurement(8) == single.measurement(8) == measure(single.graph(), 8) == measure(bulk.graph(), 8)
    assert bulk.graph().nodes(data=True) == single.graph().nodes(data=True)
    assert [bulk.name_of(h) for h in bulk_nodes] == names_so_far


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
    with pytest.raises(ValueError, match="does not exist|reads 99"):
        b.add_gates("add", many, [(x,)] * (len(many) - 1) + [(99,)], [1] * len(many), "add")
    with pytest.raises(ValueError, match="same length"):
        b.add_gates("add", many, [(x,)] * (len(many) - 1) + [(x, x)], [1] * len(many), "add")
    with pytest.raises(ValueError, match="one position"):
        b.add_gates("add", many, [(x,)] * len(many), [1], "add")
    assert len(b) == 1  # refused blocks add nothing
    b.add_gates("add", ["x[t=1,i=0]"] * len(many), [(x,)] * len(many), [1] * len(many), "add")
    with pytest.raises(ValueError, match="two gates are named 'x\\[t=1,i=0\\]'"):
        b.graph()  # names of bulk gates are checked when they are made


def test_has_finds_bulk_gates_by_their_names():
    b = CircuitBuilder()
    x = b.input(1, 0)
    names = [f"g{i}" for i in range(build.SMALL_BLOCK + 1)]
    b.add_gates("add", lambda: names, [(x,)] * len(names), [1] * len(names), "add")
    assert b.has("g0") and b.has(x) and not b.has("nope")
