"""`tc0lab check` and `tc0lab prove` through click: exit codes, messages, JSON documents."""
import json
import sys
import textwrap

import pytest
from click.testing import CliRunner

from tc0lab.check.verdict import GATED_RANDOM_WORDS
from tc0lab.cli import main
from tests import zoo_cases
from tests.zoo_cases import ANSWERS, WITNESS_ORDERS


def _cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.getbasetemp() / "check-cache")  # one cache for the session's CLI tests, never the user's


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("TC0LAB_CACHE", _cache_dir(tmp_path_factory))


def run(*args):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def zoo_verdicts(tmp_path_factory) -> dict[str, dict]:
    """`tc0lab check --arch all --json`, run once: layer name -> its verdict document (every zoo arch)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TC0LAB_CACHE", _cache_dir(tmp_path_factory))
        result = run("check", "--arch", "all", "--json")
    assert result.exit_code == 0, result.output
    return zoo_cases.by_arch(json.loads(result.stdout)["verdicts"], "layer")


@pytest.mark.parametrize("case", zoo_cases.params())
def test_the_whole_zoo_agrees_with_the_published_results(zoo_verdicts, case):
    verdict = zoo_verdicts[case.arch]
    assert (verdict["verdict"], verdict["status"]) == (case.verdict, case.status)
    assert verdict["rule"] and verdict["citation"]
    assert verdict["negative_eigenvalues"] is ANSWERS[case.negative]
    assert verdict["non_real_eigenvalues"] is ANSWERS[case.non_real]
    if case.witness is not None:
        witness, order = verdict["witness"], WITNESS_ORDERS[case.witness]
        assert witness["group"] == case.witness and witness["group_order"] == order
        assert witness["verified"] and not witness["solvable"]
        random_words = GATED_RANDOM_WORDS if verdict["structure"] == "state-update" else 1000
        assert witness["words_exhaustive"] == order + order**2 + order**3 and witness["words_random"] == random_words
    if case.status == "constructed":
        assert verdict["construction"]["name"] == case.construction and verdict["construction"]["constant_depth"]


@pytest.mark.parametrize("case", zoo_cases.params())
def test_text_output_gives_the_eigenvalue_answers(zoo_verdicts, case):
    text = run("check", "--arch", case.arch).stdout  # from the cache the JSON run filled
    assert text.startswith(f"{case.arch}: {case.verdict}")
    if zoo_verdicts[case.arch]["nonlinear"] or zoo_verdicts[case.arch]["structure"] == "attention":
        assert "eigenvalue:" not in text  # the eigenvalue rules are about linear transitions
    else:
        assert f"negative real eigenvalue: {case.negative} (" in text
        assert f"non-real eigenvalue: {case.non_real} (" in text


def test_text_output_names_rule_and_citation():
    result = run("check", "--arch", "mamba")
    assert result.exit_code == 0 and "mamba: TC0" in result.output and "Thm 4.4" in result.output


def test_latex_table():
    result = run("check", "--arch", "ids4", "--latex")
    assert result.exit_code == 0 and r"\begin{longtable}" in result.output and "NC1-hard (witnessed)" in result.output
    assert "→" in result.output  # the compiled threshold depth at two n


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
    (("check", "--arch", "no-such-layer"), "unknown architecture 'no-such-layer'"),
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
