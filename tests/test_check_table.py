"""The classification table: agreement computed from synthetic verdicts, the claims, both renderings, the CLI."""
import dataclasses
import re

import pytest
from click.testing import CliRunner

from tc0lab.check import citations, claims
from tc0lab.check.claims import CLASSES, NO_CLAIM, Claim, Entry
from tc0lab.check.table import OUTCOMES, build_row, compare, latex, markdown
from tc0lab.cli import main
from tc0lab.spec import zoo

CONSTRUCTION = {"name": "diagonal-decay", "threshold_depths": {"8": 30, "32": 30}, "constant_depth": True,
                "max_relative_error": 1e-16}
WITNESS = {"group": "S5", "group_order": 120, "solvable": False, "generators": ["[[0, 1]]", "[[0, 1, 2, 3, 4]]"],
           "action_on": "coordinates", "method": "solved A(e_i)[R, R] = T (details)", "verified": True,
           "words_exhaustive": 1742520, "words_random": 1000,
           "verification": {"decoded": "the layer's output y = C(x) h + D x", "exhaustive_max_length": 3,
                            "random_length": 64}}
PROVEN_NO = "sympy proves every diagonal entry >= 0"
UNDECIDED = "undecided: no proof, and no eigenvalue of that kind beyond its error bound in 192 random samples"


def verdict(kind: str, negative=False, non_real=False) -> dict:
    """A synthetic verdict document of the given kind: 'tc0' (constructed), 'nc1' (witnessed) or 'open'."""
    base = {"layer": "synthetic", "structure": "diagonal", "nonlinear": False, "evidence": "",
            "negative_eigenvalues": negative,
            "eigenvalue_evidence": {False: PROVEN_NO, None: UNDECIDED}.get(negative, "real eigenvalue -0.5 at a random "
                                                                                    "point (inputs and parameters ~ ...)"),
            "non_real_eigenvalues": non_real,
            "non_real_evidence": {False: PROVEN_NO, None: UNDECIDED}.get(non_real, "eigenvalue 0.1+0.5j at a random point"),
            "construction": None, "witness": None, "searched": [], "notes": []}
    if kind == "tc0":
        return {**base, "verdict": "TC0", "rule": "A(x) diagonal", "citation": citations.DIAGONAL,
                "status": "constructed", "construction": CONSTRUCTION}
    if kind == "nc1":
        return {**base, "verdict": "NC1-hard", "rule": "non-commuting A(x) with a verified non-solvable witness",
                "citation": citations.WITNESS, "status": "witnessed", "witness": WITNESS}
    return {**base, "verdict": "open", "rule": "non-commuting A(x), no verified witness",
            "citation": "none: the checker could not decide", "status": "undecided",
            "searched": ["block of 5 coordinates", "direct: no finite group"]}


def claim(kind: str) -> Claim:
    return Claim(f"a claim of class {kind}", citations.ILLUSION, kind)


@pytest.mark.parametrize("kind,claimed,outcome,evidence", [
    ("tc0", "TC0", "agrees", "diagonal-decay circuit"),
    ("nc1", "S5 in one layer", "agrees", "1,742,520 words up to length 3"),
    ("open", "no class claimed", "agrees", "neither decides"),
    ("tc0", "no class claimed", "tc0lab confirms more", "also decides the class"),
    ("nc1", "no parity", "tc0lab confirms more", "S5 witness"),
    ("open", "TC0", "tc0lab cannot confirm", "2 search steps"),
    ("open", "NC1-hard", "tc0lab cannot confirm", "no verified witness"),
    ("nc1", "TC0", "disagrees", "claimed TC0, but NC1-hard: verified S5 witness"),
    ("tc0", "NC1-hard", "disagrees", "claimed NC1-hard, but TC0: diagonal-decay circuit"),
])
def test_complexity_outcomes(kind, claimed, outcome, evidence):
    agreement = compare(verdict(kind), claim(claimed))
    assert agreement.outcome == outcome and evidence in agreement.reason, agreement


def test_eigenvalue_outcomes():
    assert compare(verdict("open", negative=False), claim("no parity")).outcome == "agrees"
    refuted = compare(verdict("tc0", negative=False), claim("parity"))
    assert refuted.outcome == "disagrees" and PROVEN_NO in refuted.reason
    assert compare(verdict("tc0", negative=None), claim("parity")).outcome == "tc0lab cannot confirm"
    more = compare(verdict("tc0", negative=True), claim("parity"))
    assert more.outcome == "tc0lab confirms more" and "-0.5" in more.reason
    assert compare(verdict("tc0", non_real=True), claim("TC0, rotations (parity, mod-m counting)")).outcome == "agrees"
    # 'outside [0, 1]' is read as negative or non-real
    assert compare(verdict("open", negative=False, non_real=True), claim("eigenvalues outside [0, 1]")).outcome == "agrees"
    # no negative and no non-real one is not yet [0, 1]: values above 1 are not searched for
    outside = compare(verdict("open"), claim("eigenvalues outside [0, 1]"))
    assert outside.outcome == "tc0lab cannot confirm" and "above 1 not decided" in outside.reason
    proven = {**verdict("open"), "unit_interval": True, "unit_interval_evidence": "D <= 1 proven"}
    refuted = compare(proven, claim("eigenvalues outside [0, 1]"))
    assert refuted.outcome == "disagrees" and "D <= 1 proven" in refuted.reason
    assert compare(verdict("open", negative=None), claim("eigenvalues outside [0, 1]")).outcome == "tc0lab cannot confirm"


def test_the_worst_axis_decides():
    both = compare(verdict("nc1", negative=False), claim("TC0, no parity"))
    assert both.outcome == "disagrees" and both.reason.startswith("claimed TC0")
    assert OUTCOMES[-1] == "disagrees"


def test_a_name_without_a_claim_is_still_tabled():
    row = build_row("held-out", verdict("tc0"), None, CONSTRUCTION)
    assert row.claims == () and row.agreements == () and "not recorded" in row.transition
    text = markdown([row])
    assert text.count(NO_CLAIM) == 2 and "| held-out |" in text
    assert claims.entry_for("held-out") is None


def _markdown_rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("| ")][1:]  # skip the header
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]


def _latex_rows(text: str) -> list[list[str]]:
    body = text.split(r"\endhead")[1].split(r"\bottomrule")[0]
    return [[cell.strip() for cell in line[:-len(r" \\")].split(" & ")] for line in body.strip().splitlines()]


def test_markdown_and_latex_have_the_same_rows():
    entry = Entry("diag(a_x)", (claim("TC0"), claim("parity")))
    rows = [build_row("mamba_like", verdict("tc0"), entry, CONSTRUCTION),
            build_row("ids4-like", verdict("nc1", negative=True), entry, CONSTRUCTION),
            build_row("open-one", verdict("open", negative=None), None, {"error": "not compiled: too big"})]
    md, tex = _markdown_rows(markdown(rows)), _latex_rows(latex(rows))
    assert len(md) == len(tex) == 3 and all(len(r) == 10 for r in md + tex)
    unescape = {r"\_": "_", r"\&": "&", r"\{": "{", r"\}": "}", r"\textasciicircum{}": "^", r" \newline ": "<br>"}
    for m, t in zip(md, tex):
        for old, new in unescape.items():
            t = [cell.replace(old, new) for cell in t]
        assert m == t
    assert [r[2] for r in md] == ["TC0 (constructed)", "NC1-hard (witnessed)", "open (undecided)"]


def test_claims_cover_the_published_architectures():
    published = {"s4", "s4d", "mamba", "mamba-neg", "mamba2", "gla", "ids4", "deltanet", "rnn", "transformer",
                 "ssm-fnn", "rwkv6", "rwkv7", "gated-deltanet", "gated-deltanet-neg", "deltaproduct", "kda", "mlstm",
                 "slstm", "rg-lru", "hgrn2", "mingru", "retnet", "lru", "gateloop", "mamba3", "pd-ssm", "longhorn",
                 "hyena", "lrcssm"}
    assert set(claims.ENTRIES) == published and set(zoo.ARCHS) <= published
    for entry in claims.ENTRIES.values():
        assert entry.transition and entry.claims
        assert all(c.text and c.citation and c.claimed in CLASSES for c in entry.claims)
    with pytest.raises(ValueError, match="unknown claim class"):
        Claim("x", "y", "TC1")


def run(*args):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("args,message", [
    (("--markdown", "--latex"), "choose one"),
    (("--markdown", "--json"), "cannot be combined with --json"),
    (("--latex", "--layers", "2"), "--layers"),
    (("--output", "x.md"), "add --markdown or --latex"),
    (("--markdown", "--output", "/no/such/folder/x.md"), "does not exist"),
    (("--arch", "mamba,nope", "--markdown"), "unknown architecture 'nope'"),
])
def test_bad_input_is_an_error(args, message):
    result = run("check", *args)
    assert result.exit_code == 1 and "Error:" in result.output and message in result.output, result.output


def test_arch_all_means_every_zoo_architecture():
    from tc0lab.cli.check_cmd import _arch_names
    s4d_again = lambda d, N: dataclasses.replace(zoo.core("s4d", d, N), name="s4d-again")  # noqa: E731
    with zoo.registered("s4d-again", s4d_again, lambda d, N: {}):
        assert _arch_names("all") == list(zoo.ARCHS) and "s4d-again" in _arch_names("all")
