"""`tc0lab compile`: output contract, bad input, export, and no torch at startup."""
import json
import subprocess
import sys

import networkx as nx
import pytest
from click.testing import CliRunner

from tc0lab.cli import main
from tc0lab.spec import zoo
from tests import zoo_cases

CIRCUIT_KEYS = {"arch", "layers", "n", "d_model", "d_state", "precision_bits", "depth_arithmetic", "depth_threshold",
                "gates_by_op", "threshold_gates", "edges"}


def run(*args):
    return CliRunner().invoke(main, ["compile", *args])


def test_json_document_has_the_documented_keys():
    result = run("--arch", "mamba,ids4", "--layers", "2", "--n", "4,8,16", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert len(report["circuits"]) == 6 and all(CIRCUIT_KEYS <= set(c) for c in report["circuits"])
    growth = {a["arch"]: a["growth"] for a in report["architectures"]}
    assert growth == {"mamba": "constant", "ids4": "logarithmic"}
    assert all(isinstance(a["formulas"], dict) and a["formulas"] for a in report["architectures"])
    assert {e["status"] for e in report["cost_model"]} <= {"cited", "constructed"}


def test_text_table_lists_every_default_arch():
    result = run("--layers", "1", "--n", "4,8")
    assert result.exit_code == 0, result.output
    for case in zoo_cases.CASES:
        if case.arch in zoo.ARCHS:  # the default is the Illusion paper's zoo, --arch illusion
            assert (f"\n{case.arch} " in result.output) == case.illusion, case.arch
    assert "precision" in result.output and "cost model" in result.output


@pytest.fixture(scope="module")
def every_arch() -> dict[str, dict]:
    """`tc0lab compile --arch all` (built, one layer), run once: arch -> its summary (every zoo arch, as in check)."""
    result = run("--arch", "all", "--layers", "1", "--n", "8,16,32", "--json")
    assert result.exit_code == 0, result.output
    return zoo_cases.by_arch(json.loads(result.output)["architectures"], "arch")


@pytest.mark.parametrize("case", zoo_cases.params())
def test_every_arch_gets_its_construction_and_depth_growth(every_arch, case):
    assert (every_arch[case.arch]["construction"], every_arch[case.arch]["growth"]) == (case.construction, case.growth)


def test_formula_mode_answers_huge_n_without_building():
    result = run("--arch", "mamba", "--layers", "4", "--n", "1000000", "--formula", "--json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)["circuits"][0]
    assert row["source"] == "formula" and row["n"] == 10**6 and row["nodes"] > 10**12


@pytest.mark.parametrize("args, code, message", [
    (["--arch", "lstm9"], 1, "unknown architecture"),
    (["--layers", "0"], 2, "--layers"),
    (["--layers", "-3"], 2, "--layers"),
    (["--n", "0"], 2, "--n"),
    (["--n", "8,x,16"], 2, "comma-separated integers"),
    (["--n", ""], 2, "--n"),
    (["--precision", "abc"], 2, "--precision"),
    (["--n", "10000000000000"], 2, "absurd"),
])
def test_bad_input_is_a_clear_error(args, code, message):
    result = run(*args)
    assert result.exit_code == code, result.output
    assert message in result.output and "Traceback" not in result.output


def test_circuit_too_large_for_memory_is_refused_before_building():
    result = run("--arch", "mamba", "--layers", "4", "--n", "100000")
    assert result.exit_code == 1
    assert "Error:" in result.output and "--formula" in result.output


def test_unwritable_export_path_is_an_error(tmp_path):
    result = run("--arch", "s4", "--layers", "1", "--n", "4", "--export", str(tmp_path / "missing" / "c.graphml"))
    assert result.exit_code == 1 and "Error:" in result.output and "does not exist" in result.output
    result = run("--arch", "s4", "--layers", "1", "--n", "4", "--export", str(tmp_path / "c.xyz"))
    assert result.exit_code == 1 and "format" in result.output


def test_export_formats_round_trip(tmp_path):
    for suffix in ("graphml", "json", "dot"):
        target = tmp_path / f"circuit.{suffix}"
        result = run("--arch", "ids4", "--layers", "1", "--n", "4", "--export", str(target))
        assert result.exit_code == 0, result.output
        assert target.exists()
    graph = nx.read_graphml(tmp_path / "circuit.graphml")
    document = json.loads((tmp_path / "circuit.json").read_text())
    assert graph.number_of_nodes() == len(document["nodes"]) > 0
    assert (tmp_path / "circuit.dot").read_text().startswith("digraph")


def test_several_circuits_export_to_one_file_each(tmp_path):
    result = run("--arch", "s4,rnn", "--layers", "1", "--n", "4,8", "--export", str(tmp_path / "c.json"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c-rnn-n4.json", "c-rnn-n8.json", "c-s4-n4.json", "c-s4-n8.json"]


def test_compile_never_imports_torch():
    code = ("import sys\nfrom tc0lab.cli import main\n"
            "try:\n    main(['compile', '--arch', 'mamba', '--layers', '1', '--n', '4'])\nexcept SystemExit:\n    pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip().endswith("NO-TORCH")


def test_lower_threshold_verifies_and_reports_beside_the_model(tmp_path):
    target = tmp_path / "lowered.graphml"
    result = run("--arch", "mamba", "--layers", "1", "--n", "4,8", "--precision", "6", "--lower", "threshold",
                 "--export", str(target), "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["lowered"]
    assert [r["verified"] for r in rows] == [True, True]
    assert rows[0]["measured_depth"] == rows[1]["measured_depth"] <= rows[0]["model_depth"]
    assert all(0 < r["ratio"] <= 1 for r in rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lowered-mamba-n4.graphml", "lowered-mamba-n8.graphml"]


def test_export_has_the_lower_graph_limit(tmp_path):
    # ~5.3 million gates: within the build limit (20 million), beyond the graph limit (2.5 million)
    result = run("--arch", "mamba", "--layers", "4", "--n", "512", "--export", str(tmp_path / "c.json"))
    assert result.exit_code == 1 and "turn into a graph" in result.output and "2,500,000-node limit" in result.output
    assert not (tmp_path / "c.json").exists()
