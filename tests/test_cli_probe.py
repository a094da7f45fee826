"""`tc0lab probe`: end to end on a tiny preset, strict config, and every bad input."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner, Result

from tc0lab.cli import main
from tiny_preset import tiny_preset
from tc0lab.probe.config import (ConfigError, ProbeConfig, load_preset, override,
                                 parse_duration)



@pytest.fixture
def tiny(tmp_path):
    return tiny_preset(tmp_path / "tiny.toml")


def probe(*args: str) -> Result:
    return CliRunner().invoke(main, ["probe", *args])


def test_tiny_sweep_writes_every_output_and_prints_both_tables(tiny, tmp_path):
    out = tmp_path / "out"
    result = probe("z2", "--preset", str(tiny), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Z2: min layers reaching 90%" in result.stdout
    assert "Predictions vs measured" in result.stdout
    for name in ("results.jsonl", "summary.json", "figure.png", "config.json"):
        assert (out / name).exists()
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    first = lines[0]
    for key in ("config", "seed", "steps", "seconds", "test", "validation", "extrapolation",
                "device", "torch_version", "tc0lab_version", "schema_version", "params"):
        assert key in first
    assert first["extrapolation"]["length"] == 2 * first["length"]
    assert first["config"]["model"]["d_model"] == 8


def test_json_is_one_document_and_s5_and_S5_are_the_same_task(tiny, tmp_path):
    documents = []
    for spelling in ("s5", "S5"):
        result = probe(spelling, "--preset", str(tiny), "--lengths", "2", "--max-layers", "1",
                       "--set", "train.max_steps=2", "--out", str(tmp_path / spelling),
                       "--json")
        assert result.exit_code == 0, result.output
        documents.append(json.loads(result.stdout))
    assert documents[0]["cells"][0]["task"] == documents[1]["cells"][0]["task"] == "S5"
    assert documents[0]["experiment_hash"] == documents[1]["experiment_hash"]


def test_rerun_resumes_and_an_out_of_another_config_is_refused(tiny, tmp_path):
    out = str(tmp_path / "out")
    assert probe("z2", "--preset", str(tiny), "--out", out).exit_code == 0
    again = probe("z2", "--preset", str(tiny), "--out", out, "--json")
    assert json.loads(again.stdout)["sweep"]["runs_executed"] == 0
    refused = probe("z2", "--preset", str(tiny), "--out", out, "--set", "train.lr=0.5")
    assert refused.exit_code == 1
    assert "Error: --out" in refused.stderr and "different config" in refused.stderr
    assert "train.lr" in refused.stderr and "Traceback" not in refused.output


def test_corrupt_results_line_is_reported_and_skipped(tiny, tmp_path):
    out = tmp_path / "out"
    assert probe("z2", "--preset", str(tiny), "--out", str(out)).exit_code == 0
    with open(out / "results.jsonl", "a") as handle:
        handle.write("garbage that is not json\n")
    result = probe("z2", "--preset", str(tiny), "--out", str(out), "--json")
    assert result.exit_code == 0
    assert "corrupt or truncated line skipped" in result.stderr
    assert "garbage that is not json" in (out / "results.jsonl").read_text()


@pytest.mark.parametrize("args, code, message", [
    (["nonsense"], 1, "Error: cannot parse group name 'nonsense'"),
    (["z2", "--models", "gru,perceptron"], 1, "Error: unknown model 'perceptron'"),
    (["z2", "--lengths", "2,0"], 2, "every value must be >= 1"),
    (["z2", "--lengths", "2,x"], 2, "expected comma-separated integers"),
    (["z2", "--max-layers", "0"], 2, "Invalid value for '--max-layers'"),
    (["z2", "--seeds", "0"], 2, "Invalid value for '--seeds'"),
    (["z2", "--time-budget", "1s"], 1, "Error: a time budget of 1s is too small to train"),
    (["z2", "--time-budget", "soon"], 1, "Error: cannot parse duration 'soon'"),
    (["z2", "--set", "train.lrr=1"], 1, "Error: unknown key train.lrr"),
    (["z2", "--set", "train.max_steps=fast"], 1, "train.max_steps must be of type int"),
    (["z2", "--set", "train.max_steps=0"], 1, "too small to train anything"),
    (["z2", "--preset", "nope"], 1, "Error: unknown preset 'nope'"),
    (["z2", "--device", "tpu"], 1, "Error: unknown device 'tpu'"),
])
def test_bad_input_is_an_error_without_traceback(tmp_path, args, code, message):
    result = probe(*args, "--out", str(tmp_path / "out"))
    assert result.exit_code == code, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_a_budget_too_small_to_finish_any_run_is_an_error(tiny, tmp_path):
    # lr 0: the run cannot reach the target, so the 10 s sweep budget cuts it
    result = probe("z2", "--preset", str(tiny), "--time-budget", "10s", "--lengths", "4",
                   "--out", str(tmp_path / "out"), "--set", "train.max_steps=100000000",
                   "--set", "train.lr=0", "--set", "train.max_seconds=1000")
    assert result.exit_code == 1
    assert "too small to finish any run" in result.stderr


def test_presets_are_strict_and_durations_parse():
    quick = load_preset("quick")
    assert quick.preset == "quick" and load_preset("paper").train.batch_size == 512
    assert override(quick, "per_model.gru.lr", 0.1).settings_for("gru")[0].lr == 0.1
    assert override(quick, "train.lr", 1).train.lr == 1.0           # int -> float is fine
    for key, value in [("train.lr", "fast"), ("sweep.lengths", [2, "x"]),
                       ("sweep.max_layers", True), ("per_model.gru.colour", 1),
                       ("nosuch.key", 1)]:
        with pytest.raises(ConfigError):
            override(quick, key, value)
    assert ProbeConfig().experiment_hash() == ProbeConfig().experiment_hash()
    assert [parse_duration(text) for text in ("20m", "90s", "1h", "1h30m", "45")] == \
        [1200.0, 90.0, 3600.0, 5400.0, 45.0]


def test_importing_the_command_does_not_import_torch():
    code = ("import sys, tc0lab.cli.probe_cmd; from tc0lab.cli import main; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_params_matches_model_sizes(tiny, tmp_path):
    result = probe("z2", "--preset", str(tiny), "--models", "gru,transformer", "--lengths", "2",
                   "--max-layers", "1", "--params", "3000", "--set", "train.max_steps=2",
                   "--out", str(tmp_path / "out"), "--json")
    assert result.exit_code == 0, result.output
    params = [cell["runs"][0]["params"] for cell in json.loads(result.stdout)["cells"]]
    assert all(abs(count - 3000) < 600 for count in params), params


BLOCK_TORCH = """
import sys
class BlockTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError("No module named 'torch'", name="torch")
        return None
sys.meta_path.insert(0, BlockTorch())
from tc0lab.cli import main
main()
"""


def test_probe_without_torch_names_the_extra(tmp_path):
    result = subprocess.run([sys.executable, "-c", BLOCK_TORCH, "probe", "s5", "--out",
                             str(tmp_path / "out")], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1
    assert "Error:" in result.stderr and "tc0lab[probe]" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("option, value, expected", [
    ("--lengths", "100000", "n=100000 is too long for ids4"),
    ("--params", "1000000000000", "ids4 at 1 layer(s) is too large: 1,000,000,000,000"),
    ("--max-layers", "100000000", "at 100000000 layer(s)"),
])
def test_absurd_sizes_are_an_error_naming_model_length_and_reason(tmp_path, option, value,
                                                                 expected):
    result = probe("s5", option, value, "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "Error:" in result.output and expected in result.output
    assert "this machine's" in result.output and "Traceback" not in result.output
