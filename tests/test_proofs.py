"""Every claim in tc0lab/proofs holds, and a claim that is false is reported as failing."""
import pytest

from tc0lab import proofs
from tc0lab.proofs import mamba_depth_flat, recurrent_equals_convolutional, solvability

FAST = ["recurrent-equals-convolutional", "log-space-decay", "solvability", "ids4-solves-s5",
        "rnn-solves-s5", "deltanet-reflections-generate-s5", "mamba-never-negative"]


def test_every_claim_has_statement_citation_sketch_and_check():
    for name in proofs.CLAIMS:
        module = proofs.claim_module(name)
        assert module.STATEMENT and module.CITATION and module.SKETCH and callable(module.check)


def test_the_fast_claims_hold():
    results = proofs.run_proofs(FAST)
    assert [r["name"] for r in results if not r["holds"]] == []


def test_mamba_depth_is_flat_at_small_lengths():
    assert mamba_depth_flat.check(lengths=(8, 16, 32), layers=4)["holds"]


@pytest.mark.slow
def test_mamba_depth_is_flat_up_to_512():
    assert proofs.run_claim("mamba-depth-flat")["holds"]


def test_checks_can_fail():
    assert not solvability.check(expected={"A5": True})["holds"]
    assert recurrent_equals_convolutional.check(n=3)["holds"]


def test_a_crashing_check_is_a_failed_claim(monkeypatch):
    monkeypatch.setattr(solvability, "check", lambda: 1 / 0)
    result = proofs.run_claim("solvability")
    assert not result["holds"] and "ZeroDivisionError" in result["details"]["error"]
