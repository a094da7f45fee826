"""`tc0lab check` and `tc0lab prove` through click: exit codes, messages, JSON documents."""
import json
import sys
import textwrap

import pytest
from click.testing import CliRunner

from tc0lab.cli import main

ZOO_VERDICTS = {"s4": "TC0", "s4d": "TC0", "mamba": "TC0", "mamba2": "TC0", "gla": "TC0", "transformer": "TC0",
                "ids4": "NC1-hard", "deltanet": "NC1-hard", "rnn": "NC1-hard"}


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    # one cache for the session's CLI tests, never the user's
    monkeypatch.setenv("TC0LAB_CACHE", str(tmp_path_factory.getbasetemp() / "check-cache"))


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_the_whole_zoo_agrees_with_the_published_results():
    result = run("check", "--json")
    assert result.exit_code == 0, result.output
    verdicts = {v["layer"]: v for v in json.loads(result.stdout)["verdicts"]}
    assert {name: verdicts[name]["verdict"] for name in ZOO_VERDICTS} == ZOO_VERDICTS
    for name in ("ids4", "deltanet", "rnn"):
        witness = verdicts[name]["witness"]
        assert witness["verified"] and not witness["solvable"] and witness["group_order"] == 120
        assert witness["words_exhaustive"] == 1_742_520 and witness["words_random"] == 1000
    assert verdicts["mamba"]["negative_eigenvalues"] is False
    assert verdicts["mamba-neg"]["negative_eigenvalues"] is True
    assert all(v["rule"] and v["citation"] for v in verdicts.values())


def test_text_output_names_rule_and_citation():
    result = run("check", "--arch", "mamba")
    assert result.exit_code == 0 and "mamba: TC0" in result.output and "Thm 4.4" in result.output


def test_latex_table():
    result = run("check", "--arch", "ids4", "--latex")
    assert result.exit_code == 0 and r"\begin{tabular}" in result.output and r"$\mathsf{NC}^1$-hard" in result.output
    assert r"\operatorname{scan}_{units}" in result.output  # the compiled threshold depth formula


@pytest.mark.parametrize("arch,group,prediction", [("mamba", "S5", "depth grows with n"),
                                                   ("transformer", "A5", "depth grows with n"),
                                                   ("mamba", "Z60", "no prediction"),
                                                   ("rnn", "A4_x_Z5", "1 layer suffices"),
                                                   ("ids4", "S5", "1 layer suffices")])
def test_predictions_for_the_probe(arch, group, prediction):
    result = run("check", "--arch", arch, "--group", group, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["prediction"] == prediction


def test_a_stack_of_tc0_layers_reports_a_measured_constant_depth():
    document = json.loads(run("check", "--arch", "mamba", "--layers", "2", "--json").stdout)
    assert document["verdict"] == "TC0" and document["depth_constant_in_n"] is True
    assert set(document["threshold_depth"]) == {"8", "32"}


def test_a_stack_with_an_nc1_layer_is_nc1_hard():
    document = json.loads(run("check", "--arch", "rnn", "--layers", "3", "--json").stdout)
    assert document["verdict"] == "NC1-hard" and "stack" in document["rule"]


@pytest.mark.parametrize("args,message", [
    (("check", "--group", "Q9"), "Error: "),
    (("check", "--arch", "mamba", "--group", "S9"), "S9 has order 362880"),
    (("check", "--arch", "hyena"), "unknown architecture 'hyena'"),
    (("prove", "no-such-claim"), "unknown claim 'no-such-claim'"),
])
def test_bad_input_is_a_clear_error(args, message):
    result = run(*args)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_prove_passes_and_reports_json():
    result = run("prove", "solvability", "deltanet-reflections-generate-s5", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["all_hold"] and [c["name"] for c in document["claims"]] == ["solvability", "deltanet-reflections-generate-s5"]


def test_a_broken_claim_makes_prove_exit_3(tmp_path, monkeypatch):
    (tmp_path / "broken_claim.py").write_text(textwrap.dedent('''
        STATEMENT = "S5 is solvable (false on purpose)"
        CITATION = "none"
        SKETCH = "none"
        from tc0lab.proofs.solvability import check as real_check
        def check():
            return real_check(expected={"S5": True})
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    from tc0lab import proofs
    monkeypatch.setitem(proofs.CLAIMS, "broken", "broken_claim")
    result = run("prove", "broken", "solvability")
    assert result.exit_code == 3 and "[FAILED] broken" in result.output and "[ok] solvability" in result.output


def test_check_does_not_import_torch():
    assert run("check", "--arch", "s4", "--json").exit_code == 0
    assert "torch" not in sys.modules or pytest.skip("torch was imported by another test in this session")


def test_workers_must_be_positive():
    result = run("check", "--arch", "s4", "--workers", "0")
    assert result.exit_code == 2 and "Invalid value for '--workers'" in result.output
