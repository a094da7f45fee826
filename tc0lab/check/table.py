"""The classification table: every architecture's verdict beside what the literature claims about it.

One row per architecture: A(x) in words (claims.py), the verdict with its status, rule and
citation, the witness (its group and the words it was verified on) or what was searched, the two
eigenvalue answers, the threshold depth of one compiled layer at n = 8 and 32 with its growth, the
published claims and, per claim, the agreement. The agreement is computed from the verdict's
evidence, never typed:

    agrees                 tc0lab answers every axis the claim asserts (claims.CLASSES), the same way
    tc0lab confirms more   it does, and tc0lab also decides a class the claim leaves open
    tc0lab cannot confirm  an axis the claim asserts is open or undecided for tc0lab
    disagrees              tc0lab's evidence contradicts an asserted axis: a verified witness against a
                           claimed TC0, a TC0 circuit (or rule) against a claimed NC1-hardness, a proven or
                           exhibited eigenvalue answer against the opposite claim

The depth is the verdict's own construction where it has one; otherwise the layer is compiled here
the same way (`verdict.build_construction`, the checker's width, disk-cached like the verdicts).
Rendered as Markdown (the whole of docs/ARCHITECTURES.md: `tc0lab check --arch all --markdown`;
`python -m tc0lab.check.table` writes the file) and as LaTeX (`tc0lab check --latex`). The
output holds no timings and only rounded numbers, so regenerating it reproduces the file.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from tc0lab import disk_cache
from tc0lab.check.claims import NO_CLAIM, Claim, Entry, entry_for
from tc0lab.check.verdict import (DEPTH_LENGTHS, MAX_COMPILED_STATE, WITNESS_WIDTH, Verdict,
                                  build_construction)
from tc0lab.spec import zoo
from tc0lab.spec.recurrence import Recurrence, SpecError

OUTCOMES = ("agrees", "tc0lab confirms more", "tc0lab cannot confirm", "disagrees")  # by severity
DEPTH_NAMESPACE = "table-depth"
DOCUMENT = "docs/ARCHITECTURES.md"
REGENERATE = "bash scripts/architectures-doc.sh"


@dataclass(frozen=True)
class Agreement:
    outcome: str  # one of OUTCOMES
    reason: str  # one line, built from the verdict's evidence


@dataclass(frozen=True)
class Row:
    name: str
    transition: str
    verdict: str
    rule: str
    rule_citation: str
    witness: str
    negative: str
    non_real: str
    depth: str
    claims: tuple[Claim, ...]
    agreements: tuple[Agreement, ...]


def _document(verdict: Verdict | dict) -> dict:
    return verdict.to_dict() if isinstance(verdict, Verdict) else verdict


# ---- evidence, in words -------------------------------------------------------------------------

def _depths(construction: dict) -> list[int]:
    return [construction["threshold_depths"][str(n)] for n in DEPTH_LENGTHS]


def _construction_words(construction: dict) -> str:
    first, last = _depths(construction)
    at = f"{first} at n = {DEPTH_LENGTHS[0]} and {last} at n = {DEPTH_LENGTHS[-1]}"
    return f"{construction['name']} circuit built and equal to the reference, threshold depth {at}"


def _verified_on(witness: dict) -> str:
    check = witness["verification"]
    return (f"on all {witness['words_exhaustive']:,} words up to length {check['exhaustive_max_length']} and "
            f"{witness['words_random']:,} random words of length {check['random_length']}")


def _witness_words(witness: dict) -> str:
    return (f"{witness['group']} witness (order {witness['group_order']}) decoded from "
            f"{witness['verification']['decoded']} {_verified_on(witness)}")


def _verdict_words(v: dict) -> str:
    """What backs the verdict, in one clause."""
    if v["verdict"] == "NC1-hard" and v.get("witness"):
        return f"NC1-hard: verified {_witness_words(v['witness'])}"
    if v["verdict"] == "TC0":
        if v.get("status") == "constructed" and v.get("construction"):
            return f"TC0: {_construction_words(v['construction'])}"
        return f"TC0 ({v.get('status', 'cited')}): {v['rule']}"
    searched = v.get("searched") or []
    return f"open: {v['rule']}" + (f" ({len(searched)} search steps, none verified)" if searched else "")


def _answer(value: bool | None, evidence: str) -> str:
    """An eigenvalue answer as 'yes/no/unknown/n/a: why'."""
    if value is True:
        return "yes: " + evidence.split(" (inputs and parameters")[0]
    if value is False:
        return f"no: {evidence}"
    for prefix, label in (("not applicable: ", "n/a"), ("undecided: ", "unknown")):
        if evidence.startswith(prefix):
            return f"{label}: {evidence[len(prefix):]}"
    return f"unknown: {evidence}"


def _eigen_answers(v: dict) -> tuple[str, str]:
    return (_answer(v.get("negative_eigenvalues"), v.get("eigenvalue_evidence", "not computed")),
            _answer(v.get("non_real_eigenvalues"), v.get("non_real_evidence", "not computed")))


# ---- agreement ----------------------------------------------------------------------------------

_MATCHING = {("TC0", "TC0"), ("NC1-hard", "NC1-hard")}
_CONTRADICTING = {("TC0", "NC1-hard"), ("NC1-hard", "TC0")}


def _complexity_finding(v: dict, claimed: str | None) -> tuple[str, str] | None:
    verdict, evidence = v["verdict"], _verdict_words(v)
    if claimed is None or claimed == "open":
        if verdict in ("TC0", "NC1-hard"):
            return "tc0lab confirms more", f"tc0lab also decides the class: {evidence}"
        return ("agrees", f"neither decides the class ({evidence})") if claimed == "open" else None
    if (claimed, verdict) in _MATCHING:
        return "agrees", evidence
    if (claimed, verdict) in _CONTRADICTING:
        return "disagrees", f"claimed {claimed}, but {evidence}"
    return "tc0lab cannot confirm", f"claimed {claimed}, but tc0lab's verdict is {evidence}"


def _eigen_finding(value: bool | None, claimed: bool, label: str, answer: str) -> tuple[str, str]:
    said = f"{label}: claimed {'possible' if claimed else 'impossible'}, tc0lab {answer}"
    if value is None:
        return "tc0lab cannot confirm", said
    return ("agrees" if value == claimed else "disagrees"), said


def _outside_finding(v: dict, negative: str, non_real: str) -> tuple[str, str]:
    """'Some eigenvalue outside [0, 1]': found as a negative or non-real one, or refuted by a proof that every
    eigenvalue lies in [0, 1] (values above 1 are not searched for)."""
    values = (v.get("negative_eigenvalues"), v.get("non_real_eigenvalues"))
    said = f"negative real: {negative}; non-real: {non_real}"
    if True in values:
        return "agrees", f"a transition has an eigenvalue outside [0, 1] ({said})"
    if v.get("unit_interval") is True:
        return "disagrees", f"every eigenvalue of every transition lies in [0, 1] ({v['unit_interval_evidence']})"
    return "tc0lab cannot confirm", f"no eigenvalue outside [0, 1] decided ({said}; values above 1 not decided)"


def compare(verdict: Verdict | dict, claim: Claim) -> Agreement:
    """How tc0lab's verdict stands to one published claim, with the evidence that decides it."""
    v, kind = _document(verdict), claim.kind
    negative, non_real = _eigen_answers(v)
    findings = []
    complexity = _complexity_finding(v, kind.complexity)
    if complexity is not None:
        findings.append(complexity)
    if kind.negative is not None:
        findings.append(_eigen_finding(v.get("negative_eigenvalues"), kind.negative, "negative real eigenvalue",
                                       negative))
    if kind.non_real is not None:
        findings.append(_eigen_finding(v.get("non_real_eigenvalues"), kind.non_real, "non-real eigenvalue",
                                       non_real))
    if kind.outside_unit:
        findings.append(_outside_finding(v, negative, non_real))
    if not findings:
        raise ValueError(f"the claim class {claim.claimed!r} asserts nothing tc0lab can compare")
    outcome = max((outcome for outcome, _ in findings), key=OUTCOMES.index)
    ordered = [r for o, r in findings if o == outcome] + [r for o, r in findings if o != outcome]
    return Agreement(outcome, "; ".join(ordered))


# ---- depth --------------------------------------------------------------------------------------

def compiled_depth(name: str, seed: int = 0) -> dict:
    """One layer of `name` compiled at every DEPTH_LENGTHS n at the checker's width:
    `Construction.to_dict()`, or {'error': why} when it cannot be built."""
    mixer = zoo.core(name, *WITNESS_WIDTH)
    size = mixer.state_size if isinstance(mixer, Recurrence) else mixer.d_out
    if size > MAX_COMPILED_STATE:
        return {"error": f"not compiled: the state has {size} coordinates (limit {MAX_COMPILED_STATE})"}
    try:
        return build_construction(mixer, seed).to_dict()
    except (SpecError, ValueError, ArithmeticError, TypeError, MemoryError, np.linalg.LinAlgError) as error:
        return {"error": f"not compiled: {type(error).__name__}: {error}"}


def depth_for(name: str, verdict: Verdict | dict) -> dict:
    """The verdict's own construction, or the layer compiled for the table (disk-cached for the zoo)."""
    v = _document(verdict)
    if v.get("construction"):
        return v["construction"]
    if not zoo.is_builtin(name):
        return compiled_depth(name)
    key = disk_cache.cache_key("depth", name, *map(str, WITNESS_WIDTH), *map(str, DEPTH_LENGTHS))
    return disk_cache.cached(DEPTH_NAMESPACE, key, lambda: compiled_depth(name))


def _depth_words(construction: dict) -> str:
    if "error" in construction:
        return construction["error"]
    depths = _depths(construction)
    growth = "constant" if len(set(depths)) == 1 else "grows"
    return f"{' → '.join(map(str, depths))}, {growth} ({construction['name']})"


# ---- rows ---------------------------------------------------------------------------------------

def _witness_cell(v: dict) -> str:
    witness = v.get("witness")
    if witness:
        how = witness["method"].split(" (")[0]
        return (f"{witness['group']} (order {witness['group_order']}, solvable: {'yes' if witness['solvable'] else 'no'}); "
                f"tokens induce the cycles {', '.join(witness['generators'])} on the {witness['action_on']}; {how}; "
                f"verified {_verified_on(witness)}")
    if v.get("searched"):
        return "none found; searched: " + " / ".join(v["searched"])
    return "not needed (TC0 rule)" if v["verdict"] == "TC0" else "none"


def build_row(name: str, verdict: Verdict | dict, entry: Entry | None, depth: dict | None = None) -> Row:
    """One table row; `depth` defaults to `depth_for(name, verdict)`."""
    v = _document(verdict)
    negative, non_real = _eigen_answers(v)
    claims = entry.claims if entry is not None else ()
    return Row(name=name,
               transition=entry.transition if entry is not None else f"not recorded (structure: {v['structure']})",
               verdict=f"{v['verdict']} ({v.get('status', 'undecided')})", rule=v["rule"],
               rule_citation=v["citation"], witness=_witness_cell(v), negative=negative, non_real=non_real,
               depth=_depth_words(depth if depth is not None else depth_for(name, v)),
               claims=claims, agreements=tuple(compare(v, claim) for claim in claims))


def table_rows(names: list[str], workers: int | None = None,
               on_done: Callable[[str], None] = lambda name: None) -> list[Row]:
    """Check every name (disk-cached, one process per core) and build its row."""
    from tc0lab.check.batch import check_many
    verdicts = check_many(names, workers, on_done)
    return [build_row(name, v, entry_for(name)) for name, v in zip(names, verdicts)]


# ---- rendering ----------------------------------------------------------------------------------

HEADERS = ("Architecture", "A(x)", "Verdict (status)", "Rule [citation]", "Witness, or what was searched",
           "Negative real eigenvalue?", "Non-real eigenvalue?",
           f"Threshold depth, n = {' → '.join(map(str, DEPTH_LENGTHS))}", "Published claim [citation]",
           "Agreement: reason")


class _References:
    """Citations numbered in order of first use; 'none: ...' citations are shown as text."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}

    def cite(self, citation: str) -> str:
        if citation.startswith("none"):
            return f"({citation})"
        return f"[{self.numbers.setdefault(citation, len(self.numbers) + 1)}]"


def _cells(row: Row, references: _References) -> list[list[str]]:
    """Each column of a row as a list of lines."""
    claims = [f"{claim.claimed}: {claim.text} {references.cite(claim.citation)}" for claim in row.claims]
    agreements = [f"{a.outcome}: {a.reason}" for a in row.agreements]
    return [[row.name], [row.transition], [row.verdict], [f"{row.rule} {references.cite(row.rule_citation)}"],
            [row.witness], [row.negative], [row.non_real], [row.depth], claims or [NO_CLAIM], agreements or [NO_CLAIM]]


def _markdown_escape(text: str) -> str:
    return text.replace("|", r"\|").replace("\n", " ")


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def disagreements(rows: list[Row]) -> list[tuple[str, Claim, Agreement]]:
    """Every (architecture, claim, agreement) whose outcome is 'disagrees'."""
    return [(row.name, claim, a) for row in rows for claim, a in zip(row.claims, row.agreements)
            if a.outcome == "disagrees"]


_INTRODUCTION = """\
# Published recurrent architectures: tc0lab's verdicts beside the literature

Generated by `{regenerate}` (equivalently `tc0lab check --arch all --markdown --output {document}`);
do not edit by hand: `tests/test_architectures_doc.py` fails when this file differs from what the
code generates. Every architecture is checked from its matrices (the Illusion paper's zoo in
`tc0lab/spec/zoo.py`, the published architectures in `tc0lab/spec/architectures/`, each module citing
its paper) at d_model = d_state = {width} (the checker never reads the name); the claims and A(x) in
words are recorded in `tc0lab/check/claims.py`.

Columns:

- **Verdict (status)**: `TC0` only when a flat circuit was built and checked against the reference
  (`constructed`) or a cited theorem covers the proven structure (`cited`); `NC1-hard` only with a
  witness verified through the layer's output (`witnessed`); otherwise `open` (`undecided`).
- **Rule [citation]**: the checker's rule (`tc0lab/check/verdict.py`): *A independent of the input*
  (Illusion Thm 4.2), *A(x) diagonal* (Thm 4.4), *triangular after a permutation* (back-substitution),
  *pairwise commuting* (Thm 4.6, or simultaneous triangularisation), *softmax attention* (Merrill &
  Sabharwal), *A = 0* (a position-wise map), *update wrapped in a nonlinearity* (Thm 5.1 machine
  realised), *non-commuting A(x) with a verified non-solvable witness* (Barrington), and the `open`
  forms of these (not constructed, not realised, no witness).
- **Witness, or what was searched**: the group, the permutations the witness tokens induce, how it
  was found, and the words it was verified on; for an `open` verdict every step of the search.
- **Negative real / non-real eigenvalue?**: can a transition have one (parity needs a negative one,
  Grazzi et al. 2025 Thm 1; counting modulo 3 a non-real one, Thm 2). `no` is a sympy proof, `yes`
  a point whose eigenvalue clears its error bound, `unknown` neither.
- **Threshold depth**: one compiled layer (the verdict's own circuit where it has one), measured at
  the two lengths, with the construction: {constructions}.
- **Published claim**: the claim's class (what it asserts, in `tc0lab/check/claims.py`), its text and citation.
- **Agreement**: computed from the verdict's evidence: `agrees`; `tc0lab confirms more` (it also
  decides a class the claim leaves open); `tc0lab cannot confirm` (an asserted axis is open or
  undecided for tc0lab); `disagrees` (tc0lab's evidence contradicts the claim).
"""


def _construction_legend() -> str:
    from tc0lab.compiler.compiling import CONSTANT_DEPTH_CONSTRUCTIONS, CONSTRUCTIONS
    return "; ".join(f"`{name}` ({'constant in n' if name in CONSTANT_DEPTH_CONSTRUCTIONS else 'grows with n'})"
                     for name in CONSTRUCTIONS)


def markdown(rows: list[Row]) -> str:
    """The whole document: introduction, table, disagreements, references."""
    references = _References()
    body = [" | ".join(_markdown_escape("<br>".join(lines)) for lines in _cells(row, references)) for row in rows]
    lines = [_INTRODUCTION.format(regenerate=REGENERATE, document=DOCUMENT, width=WITNESS_WIDTH[0],
                                  constructions=_construction_legend()),
             "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += [f"| {line} |" for line in body]
    found = disagreements(rows)
    lines += ["", "## Disagreements with the literature", ""]
    lines += [f"- **{name}** vs. {references.cite(claim.citation)} ({claim.claimed}): {a.reason}"
              for name, claim, a in found] or ["None."]
    lines += ["", "## References", ""]
    lines += [f"{number}. {citation}" for citation, number in references.numbers.items()]
    return "\n".join(lines) + "\n"


def latex(rows: list[Row]) -> str:
    """A longtable with the same rows and columns, then the numbered references (needs the longtable and
    booktabs packages and a UTF-8 engine such as LuaLaTeX or XeLaTeX: A(x) is written in Unicode)."""
    references = _References()
    widths = ("1.4cm", "2.2cm", "1.4cm", "2.2cm", "3.2cm", "2.2cm", "2.2cm", "1.8cm", "3cm", "3.4cm")
    lines = [r"{\scriptsize", r"\begin{longtable}{" + "".join(f"p{{{w}}}" for w in widths) + "}", r"\toprule",
             " & ".join(_latex_escape(h) for h in HEADERS) + r" \\", r"\midrule", r"\endhead"]
    for row in rows:
        lines.append(" & ".join(r" \newline ".join(_latex_escape(line) for line in cell)
                                for cell in _cells(row, references)) + r" \\")
    lines += [r"\bottomrule", r"\end{longtable}", "}", r"\begin{enumerate}"]
    lines += [rf"\item[{{[{number}]}}] {_latex_escape(citation)}" for citation, number in references.numbers.items()]
    lines.append(r"\end{enumerate}")
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[list[Row]], str]] = {"markdown": markdown, "latex": latex}


def main() -> None:
    """`python -m tc0lab.check.table` (run from the repository root): regenerate docs/ARCHITECTURES.md,
    exactly `tc0lab check --arch all --markdown --output docs/ARCHITECTURES.md`."""
    from tc0lab.cli import main as cli
    cli(["check", "--arch", "all", "--markdown", "--output", DOCUMENT])


if __name__ == "__main__":
    main()
