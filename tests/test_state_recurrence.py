"""StateRecurrence (a general update h_t = U(h_{t-1}, x_t)) and the sLSTM: spec, reference, circuit, verdicts."""
import json

import numpy as np
import pytest
import sympy
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from tc0lab.check.verdict import check_recurrence
from tc0lab.cli import main
from tc0lab.compiler.compiling import compile_circuit
from tc0lab.spec import zoo
from tc0lab.spec.architectures.slstm import slstm
from tc0lab.spec.recurrence import SpecError, input_symbols, symbol_array
from tc0lab.spec.reference import run_stack
from tc0lab.spec.state_recurrence import StateRecurrence


@pytest.fixture
def registered_slstm(monkeypatch, tmp_path):
    """The zoo's sLSTM, checked and compiled with an empty private cache (so cold, every run)."""
    monkeypatch.setenv("TC0LAB_CACHE", str(tmp_path))
    return "slstm"


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 7), seed=st.integers(0, 1000), forget=st.sampled_from(["sigmoid", "exp"]))
def test_circuit_equals_reference(n, seed, forget):
    mixer = slstm(2, 2, heads=2, forget=forget)
    stack = zoo.custom_stack(mixer, layers=2, seed=seed)
    x = np.random.default_rng(seed).normal(size=(n, 2))
    expected = run_stack(stack, x)
    assert np.allclose(compile_circuit(stack, n).evaluate(x), expected, rtol=1e-9, atol=1e-9)


def test_depth_grows_with_n():
    stack = zoo.custom_stack(slstm(2, 1, heads=2), layers=1)
    depths = [compile_circuit(stack, n).measure().depth_threshold for n in (4, 8, 16)]
    assert depths[0] < depths[1] < depths[2] and depths[2] - depths[1] == 2 * (depths[1] - depths[0])
    assert compile_circuit(stack, 4).constructions == ["state-chain"]


def _small(**changes):
    x, h = input_symbols(1), (sympy.Symbol("h0", real=True),)
    w = symbol_array("w", (1,))
    spec = dict(name="toy", inputs=x, state=h, update=(sympy.tanh(w[0] * h[0] + x[0]),), output=(h[0],),
                param_arrays={"w": w})
    spec.update(changes)
    return StateRecurrence(**spec)


@pytest.mark.parametrize("changes, message", [
    ({"update": ()}, "one expression per state coordinate"),
    ({"update": (sympy.Symbol("q") * sympy.Symbol("h0", real=True),)}, "undefined symbols"),
    ({"update": (sympy.oo,)}, "non-finite"),
    ({"h0": (input_symbols(1)[0],)}, "h0 must not depend on the input"),
    ({"h0": (0, 0)}, "h0 must have 1 entries"),
    ({"state": (input_symbols(1)[0],)}, "also declared as inputs"),
    ({"output": ()}, "at least one coordinate"),
    ({"update": (sympy.Function("g")(input_symbols(1)[0]),)}, "no lookup gate"),
])
def test_spec_errors(changes, message):
    with pytest.raises(SpecError, match=message):
        _small(**changes)


def test_memoryless_update_is_tc0_by_construction():
    x = input_symbols(2)
    mixer = StateRecurrence("pointwise", x, (sympy.Symbol("h0", real=True),), (sympy.tanh(x[0] * x[1]),),
                            (sympy.Symbol("h0", real=True),))
    verdict = check_recurrence(mixer)
    assert verdict.verdict == "TC0" and verdict.status == "constructed"


def test_diagonal_jacobian_is_not_nc1_hard():
    """An element-wise update (LrcSSM-like: each coordinate reads only itself) does not meet Thm 5.1's hypothesis."""
    d, S = 3, 80
    x, h = input_symbols(d), tuple(sympy.Symbol(f"h{r}", real=True) for r in range(S))
    a, W, b = symbol_array("a", (S,)), symbol_array("W", (S, d)), symbol_array("b", (S,))
    update = tuple(sympy.tanh(a[r] * h[r] + sum(W[r, j] * x[j] for j in range(d)) + b[r]) for r in range(S))
    mixer = StateRecurrence("elementwise", x, h, update, h, {"a": a, "W": W, "b": b})
    verdict = check_recurrence(mixer)
    assert verdict.verdict == "open" and verdict.witness is None
    assert "dense-update hypothesis" in verdict.searched[0] and "diagonal" in verdict.evidence


def test_compile_cli(registered_slstm):
    result = CliRunner().invoke(main, ["compile", "--arch", registered_slstm, "--layers", "1", "--n", "4,8", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["circuits"]
    assert rows[0]["depth_threshold"] < rows[1]["depth_threshold"]


def test_check_cli_is_backed_by_a_witness_through_the_output(registered_slstm):
    result = CliRunner().invoke(main, ["check", "--arch", registered_slstm, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    verdict = document["layer_verdicts"][0] if "layer_verdicts" in document else document
    assert verdict["verdict"] == "NC1-hard" and verdict["status"] == "witnessed"
    witness = verdict["witness"]
    assert witness["group"] == "S5" and witness["verified"] and not witness["solvable"]
    assert witness["verification"]["decoded"].startswith("the layer's output")
    assert witness["words_exhaustive"] == 120 + 120**2 + 120**3 and witness["words_random"] > 0
    assert verdict["negative_eigenvalues"] is None and verdict["eigenvalue_evidence"].startswith("not applicable")
