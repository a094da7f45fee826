"""One row per zoo architecture: what the compiler, the checker and the CLI must say about it.

The compile, check and CLI tests are parametrised over `CASES` (through `params`) instead of
retyping these expectations; `tests/test_zoo_cases.py` fails when an architecture of
`tc0lab.spec.zoo.ARCHS` has no row, or a row names no architecture of the zoo. A new
architecture is one more `ZooCase(...)` line below.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from tc0lab.spec import zoo

VERDICTS = ("TC0", "NC1-hard", "open")
STATUSES = ("constructed", "cited", "witnessed", "undecided")  # tc0lab.check.verdict.Verdict.status
GROWTHS = ("constant", "logarithmic", "linear")  # tc0lab.circuit.measure.classify_growth of the threshold depth
ANSWERS = {"yes": True, "no": False, "undecided": None}  # the checker's text answer -> its JSON value
WITNESS_ORDERS = {"S5": 120, "A5": 60}
FORMULAS = ("general", "at-size")


@dataclass(frozen=True)
class ZooCase:
    """What is expected of one zoo architecture (`arch`, a name in zoo.ARCHS)."""

    arch: str
    construction: str  # compile_stack(arch).constructions[0], a name in tc0lab.compiler.CONSTRUCTIONS
    verdict: str  # `tc0lab check --arch arch`: one of VERDICTS
    status: str  # how the verdict is backed: one of STATUSES
    growth: str  # of the compiled threshold depth in n: one of GROWTHS
    negative: str  # can a transition have a negative real eigenvalue: 'yes', 'no' or 'undecided'
    non_real: str  # can it have a non-real eigenvalue: 'yes', 'no' or 'undecided'
    witness: str | None = None  # the group of the NC1-hardness witness (a key of WITNESS_ORDERS)
    illusion: bool = False  # in the Illusion paper's zoo (zoo.ILLUSION_ARCHS, compile's default table)
    # 'general': formulas in n, L, d, N, p (tc0lab.formulas.interpolate); 'at-size': those are refused
    # (with the reason), and the formulas hold in n and p at a given d, N, L (formulas_for)
    formulas: str = "general"

    def __post_init__(self) -> None:
        if (self.verdict not in VERDICTS or self.status not in STATUSES or self.growth not in GROWTHS
                or self.negative not in ANSWERS or self.non_real not in ANSWERS
                or (self.witness is not None) != (self.verdict == "NC1-hard")
                or (self.witness is not None and self.witness not in WITNESS_ORDERS)
                or self.formulas not in FORMULAS):
            raise ValueError(f"malformed row {self}")


CASES: tuple[ZooCase, ...] = (
    ZooCase("s4", "lti-kernel", "TC0", "constructed", "constant", "yes", "yes", illusion=True),
    ZooCase("s4d", "lti-kernel", "TC0", "constructed", "constant", "no", "no", illusion=True),
    ZooCase("mamba", "diagonal-decay", "TC0", "constructed", "constant", "no", "no", illusion=True),
    ZooCase("mamba-neg", "diagonal-decay", "TC0", "constructed", "constant", "yes", "no"),
    ZooCase("mamba2", "diagonal-decay", "TC0", "constructed", "constant", "no", "no", illusion=True),
    ZooCase("gla", "diagonal-decay", "TC0", "constructed", "constant", "no", "no", illusion=True),
    ZooCase("ids4", "scan-tree", "NC1-hard", "witnessed", "logarithmic", "yes", "yes", "S5", illusion=True),
    ZooCase("deltanet", "scan-tree", "NC1-hard", "witnessed", "logarithmic", "yes", "no", "S5", illusion=True),
    ZooCase("rnn", "sequential-chain", "NC1-hard", "witnessed", "linear", "undecided", "undecided", "S5",
            illusion=True),
    ZooCase("transformer", "softmax-attention", "TC0", "constructed", "constant", "undecided", "undecided",
            illusion=True),
    ZooCase("ssm-fnn", "lti-kernel", "TC0", "constructed", "constant", "no", "no"),
    # published architectures (tc0lab/spec/architectures/), checked against docs/ARCHITECTURES.md's claims
    ZooCase("rwkv6", "diagonal-decay", "TC0", "constructed", "constant", "no", "no"),
    ZooCase("rg-lru", "diagonal-decay", "TC0", "constructed", "constant", "no", "no"),
    ZooCase("hgrn2", "diagonal-decay", "TC0", "constructed", "constant", "no", "no"),
    ZooCase("mingru", "diagonal-decay", "TC0", "constructed", "constant", "no", "no"),
    ZooCase("mlstm", "diagonal-decay", "TC0", "constructed", "constant", "no", "no"),
    ZooCase("longhorn", "diagonal-decay", "TC0", "constructed", "constant", "no", "no"),
    ZooCase("gated-deltanet", "scan-tree", "open", "undecided", "logarithmic", "no", "no"),
    ZooCase("gated-deltanet-neg", "scan-tree", "NC1-hard", "witnessed", "logarithmic", "yes", "no", "S5"),
    ZooCase("deltaproduct", "scan-tree", "NC1-hard", "witnessed", "logarithmic", "yes", "yes", "S5"),
    ZooCase("kda", "scan-tree", "open", "undecided", "logarithmic", "no", "no"),
    ZooCase("rwkv7", "scan-tree", "open", "undecided", "logarithmic", "yes", "undecided"),
    ZooCase("lru", "lti-kernel", "TC0", "constructed", "constant", "yes", "yes"),
    ZooCase("gateloop", "diagonalised", "TC0", "constructed", "constant", "undecided", "yes"),
    ZooCase("retnet", "lti-kernel", "TC0", "constructed", "constant", "undecided", "yes"),
    ZooCase("mamba3", "diagonalised", "TC0", "constructed", "constant", "undecided", "yes"),
    ZooCase("pd-ssm", "scan-tree", "NC1-hard", "witnessed", "logarithmic", "undecided", "yes", "S5", formulas="at-size"),
    ZooCase("hyena", "lti-kernel", "TC0", "constructed", "constant", "no", "no", formulas="at-size"),
    ZooCase("lrcssm", "state-chain", "open", "undecided", "linear", "undecided", "undecided"),
    ZooCase("slstm", "state-chain", "NC1-hard", "witnessed", "linear", "undecided", "undecided", "S5"),
)

BY_ARCH: dict[str, ZooCase] = {case.arch: case for case in CASES}


def params(select=lambda case: True) -> list:
    """pytest parameters for the selected rows, named by arch; a row whose architecture is not
    (yet) in the zoo is skipped here and reported by tests/test_zoo_cases.py."""
    return [pytest.param(case, id=case.arch,
                         marks=pytest.mark.skipif(case.arch not in zoo.ARCHS, reason=f"{case.arch} is not in zoo.ARCHS"))
            for case in CASES if select(case)]


def by_arch(documents: list[dict], key: str) -> dict[str, dict]:
    """What an `--arch all` command printed, one document per architecture, by name (document[key]);
    `all` must be every zoo architecture, in the zoo's order."""
    named = {document[key]: document for document in documents}
    assert list(named) == list(zoo.ARCHS), "--arch all is zoo.ARCHS"
    return named
