"""What the literature claims about each published architecture, in a form comparable with a verdict.

Per architecture name: its transition A(x) in words and one or more published claims, each a
short text, its citation (tc0lab/check/citations.py) and its *class*: a key of `CLASSES`, which
says what the claim asserts on the axes a `Verdict` answers:

    complexity     'TC0' | 'NC1-hard' | 'open' (the paper decides no class)     Verdict.verdict
    negative       a transition can have a negative real eigenvalue (parity;   Verdict.negative_eigenvalues
                   Grazzi et al. 2025 Thm 1)
    non_real       a transition can have a non-real eigenvalue (counting mod 3; Verdict.non_real_eigenvalues
                   Grazzi et al. 2025 Thm 2)
    outside_unit   some eigenvalue outside [0, 1]: read as negative or non-real (tc0lab does not test
                   eigenvalues above 1)

Where a paper gives the recurrence but states no class, the class recorded is what a cited theorem
says about that recurrence (the citation names both). The comparison itself is computed in
tc0lab/check/table.py; nothing here reads a verdict. A name with no entry (a user's architecture)
is tabled with `NO_CLAIM`.
"""
from __future__ import annotations

from dataclasses import dataclass

from tc0lab.check import citations as cite

NO_CLAIM = "no published claim recorded"


@dataclass(frozen=True)
class ClaimClass:
    """What a claim asserts, axis by axis (None: the claim says nothing on that axis)."""

    name: str
    complexity: str | None = None  # 'TC0' | 'NC1-hard' | 'open'
    negative: bool | None = None
    non_real: bool | None = None
    outside_unit: bool | None = None


CLASSES: dict[str, ClaimClass] = {c.name: c for c in (
    ClaimClass("TC0", complexity="TC0"),
    ClaimClass("NC1-hard", complexity="NC1-hard"),
    ClaimClass("S5 in one layer", complexity="NC1-hard"),
    ClaimClass("no class claimed", complexity="open"),
    ClaimClass("no parity", negative=False),
    ClaimClass("parity", negative=True),
    ClaimClass("TC0, no parity", complexity="TC0", negative=False),
    ClaimClass("TC0, rotations (parity, mod-m counting)", complexity="TC0", non_real=True),
    ClaimClass("eigenvalues outside [0, 1]", outside_unit=True),
)}


@dataclass(frozen=True)
class Claim:
    text: str
    citation: str
    claimed: str  # a key of CLASSES

    def __post_init__(self) -> None:
        if self.claimed not in CLASSES:
            raise ValueError(f"unknown claim class {self.claimed!r}; known: {', '.join(CLASSES)}")

    @property
    def kind(self) -> ClaimClass:
        return CLASSES[self.claimed]


@dataclass(frozen=True)
class Entry:
    """One published architecture: A(x) in words and what is claimed about it."""

    transition: str
    claims: tuple[Claim, ...]


def _diagonal_tc0(source: str) -> str:
    """The citation for a diagonal recurrence whose class follows from Illusion Thm 4.4."""
    return f"{source}; class by {cite.DIAGONAL}"


ENTRIES: dict[str, Entry] = {
    "s4": Entry("a fixed dense matrix A (linear time-invariant)",
                (Claim("S4 is a linear time-invariant SSM, in TC0 at log precision", cite.FIXED, "TC0"),)),
    "s4d": Entry("a fixed diagonal diag(exp(-Δ·exp(A_log))), entries in (0, 1)",
                 (Claim("S4D is a linear time-invariant SSM, in TC0 at log precision", cite.FIXED, "TC0"),)),
    "mamba": Entry("diag(exp(Δ(x)·A)), Δ = softplus(·), entries in (0, 1)",
                   (Claim("Mamba (S6) has diagonal input-dependent transitions: in TC0", cite.DIAGONAL, "TC0"),)),
    "mamba-neg": Entry("diag(2·exp(Δ(x)·A) − 1), entries in (−1, 1)",
                       (Claim("with the eigenvalue range extended to [−1, 1], Mamba solves parity", cite.GRAZZI,
                              "parity"),)),
    "mamba2": Entry("a(x)·I, one scalar decay exp(Δ(x)·A) per token",
                    (Claim("Mamba-2 (SSD) is a scalar-times-identity SSM: in TC0", cite.DIAGONAL, "TC0"),)),
    "gla": Entry("diag(σ(W_α x + b_α)), sigmoid gates in (0, 1)",
                 (Claim("gated linear attention has diagonal transitions: in TC0", cite.DIAGONAL, "TC0"),)),
    "ids4": Entry("A0 + Σᵢ xᵢ·Aᵢ, a dense matrix affine in the input",
                  (Claim("IDS4 solves the S5 word problem in one layer: NC1-hard (Sec. 5)", cite.WITNESS,
                         "S5 in one layer"),)),
    "deltanet": Entry("I − β(x)·k kᵀ per value channel, ‖k‖ = 1, β ∈ (0, 2)",
                      (Claim("Titans Thm 4.1: unlike Titans, DeltaNet (like transformers and diagonal linear RNNs) "
                             "is limited to TC0", cite.TITANS, "TC0"),
                       Claim("with β ∈ [0, 2] (generalized Householder transitions, eigenvalues in [−1, 1]) DeltaNet "
                             "solves parity, and products of such transitions recognise every regular language",
                             cite.GRAZZI, "NC1-hard"))),
    "rnn": Entry("h_t = tanh(A h_{t−1} + B x_t), A fixed dense (nonlinear update)",
                 (Claim("a nonlinear RNN recognises every regular language (Thm 5.1): NC1-hard", cite.NONLINEAR,
                        "NC1-hard"),)),
    "transformer": Entry("no recurrence: one head of causal softmax attention",
                         (Claim("log-precision transformers are in (uniform) TC0", cite.ATTENTION, "TC0"),)),
    "ssm-fnn": Entry("the S4D core (fixed diagonal) between token-wise FNNs",
                     (Claim("SSM+FNN matches transformers on dynamic token selection (copy, associative recall); "
                            "no circuit class is stated", cite.NISHIKAWA_SUZUKI, "no class claimed"),)),
    "rwkv6": Entry("diag(w_t), w_t = exp(−exp(·)) ∈ (0, 1), data-dependent",
                   (Claim("RWKV-6 (Finch) has a diagonal data-dependent decay in (0, 1): a diagonal linear RNN with "
                          "non-negative eigenvalues, in TC0 and without parity",
                          f"{cite.RWKV6}; {cite.DIAGONAL}; {cite.GRAZZI}, Thm 1", "TC0, no parity"),)),
    "rwkv7": Entry("diag(w_t) − κ̂ (a ⊙ κ̂)ᵀ, w ∈ (e^{−e^{−0.5}}, 1), a ∈ (0, 1), ‖κ̂‖ = 1",
                   (Claim("RWKV-7 tracks S5 in one layer and recognises every regular language", cite.RWKV7,
                          "S5 in one layer"),)),
    "gated-deltanet": Entry("α(x)·(I − β(x)·k kᵀ), α, β ∈ (0, 1), ‖k‖ = 1",
                            (Claim("transitions with only non-negative eigenvalues cannot solve parity at finite "
                                   "precision (Thm 1); here the eigenvalues are α and α(1 − β), in (0, 1)",
                                   f"{cite.GATED_DELTANET}; {cite.GRAZZI}, Thm 1", "no parity"),
                             Claim("the RWKV-7 paper's comparison table marks Gated DeltaNet's transition as having "
                                   "eigenvalues outside [0, 1]", cite.RWKV7, "eigenvalues outside [0, 1]"))),
    "gated-deltanet-neg": Entry("α(x)·(I − β(x)·k kᵀ), α ∈ (0, 1), β ∈ (0, 2), ‖k‖ = 1",
                                (Claim("with β ∈ (0, 2) the eigenvalue range reaches (−1, 1]: negative eigenvalues "
                                       "unlock state tracking (Householder products: every regular language)",
                                       cite.GRAZZI, "NC1-hard"),)),
    "deltaproduct": Entry("α(x)·∏_{j=1}^{2} (I − β_j(x)·k_j k_jᵀ), β_j ∈ [0, 2], ‖k_j‖ = 1",
                          (Claim("products of generalized Householder transitions track permutation groups "
                                 "(state tracking beyond DeltaNet)", cite.DELTAPRODUCT, "NC1-hard"),)),
    "kda": Entry("(I − β(x)·k kᵀ)·diag(α(x)), β ∈ (0, 1), channel-wise gates α ∈ (0, 1)",
                 (Claim("Kimi Delta Attention refines Gated DeltaNet with channel-wise gates; no circuit class "
                        "is stated", cite.KIMI_LINEAR, "no class claimed"),)),
    "mlstm": Entry("f_t·I, one scalar forget gate per token (matrix memory)",
                   (Claim("mLSTM has no memory mixing and is parallelisable like linear attention: "
                          "scalar-times-identity transitions, in TC0", _diagonal_tc0(cite.XLSTM), "TC0"),)),
    "slstm": Entry("gates and cell input read h_{t−1} (nonlinear update with memory mixing)",
                   (Claim("sLSTM's memory mixing enables state tracking; a nonlinear RNN recognises every regular "
                          "language (Thm 5.1)", f"{cite.XLSTM}; {cite.NONLINEAR}", "NC1-hard"),)),
    "rg-lru": Entry("diag(a^{c·r_t}), a = σ(Λ), c = 8, recurrence gate r_t ∈ (0, 1)",
                    (Claim("the RG-LRU (Griffin, Hawk) is a diagonal gated linear recurrence: in TC0",
                           _diagonal_tc0(cite.GRIFFIN), "TC0"),)),
    "hgrn2": Entry("diag(f_t), forget gates in (0, 1) (outer-product state expansion)",
                   (Claim("HGRN2 is a diagonal gated linear RNN: in TC0", _diagonal_tc0(cite.HGRN2), "TC0"),)),
    "mingru": Entry("diag(1 − z_t), update gate z_t = σ(·) ∈ (0, 1)",
                    (Claim("minGRU drops the hidden-state dependence of the gates: a diagonal linear recurrence, "
                           "in TC0", _diagonal_tc0(cite.MINGRU), "TC0"),)),
    "retnet": Entry("γ·e^{iθ}: one fixed decay γ ∈ (0, 1) per head, with the xPos rotation folded in (fixed)",
                    (Claim("retention is a fixed-decay linear recurrence: in TC0", f"{cite.RETNET}; class by "
                           f"{cite.FIXED}", "TC0"),)),
    "lru": Entry("a fixed complex diagonal diag(λ), |λ| < 1",
                 (Claim("the LRU is a linear time-invariant complex diagonal recurrence: in TC0",
                        f"{cite.LRU}; class by {cite.FIXED}", "TC0"),)),
    "gateloop": Entry("diag(a_t·e^{iθ(x_t)}), data-controlled complex diagonal",
                      (Claim("GateLoop is a data-controlled diagonal linear recurrence: in TC0",
                             _diagonal_tc0(cite.GATELOOP), "TC0"),)),
    "mamba3": Entry("e^{Δ(x)A}·blockdiag R(Δ(x)θ(x)), with a trapezoidal x_{t−1} term",
                    (Claim("complex-valued (rotating) transitions give parity and modular counting while the "
                           "recurrence stays diagonalisable (TC0)", f"{cite.MAMBA3}; {cite.COMMUTING}",
                           "TC0, rotations (parity, mod-m counting)"),)),
    "pd-ssm": Entry("P(x)·D(x): P column one-hot (hardmax), D complex diagonal",
                    (Claim("one PD-SSM layer of dimension N emulates any N-state finite automaton", cite.PD_SSM,
                           "NC1-hard"),)),
    "longhorn": Entry("diag(1 − ε_t ⊙ k_t²), ε_t = β_t / (1 + β_t‖k_t‖²): an element-wise decay from one "
                      "online-learning step",
                      (Claim("Longhorn's state update is diagonal: in TC0", _diagonal_tc0(cite.LONGHORN), "TC0"),)),
    "hyena": Entry("no input-dependent transition: a long fixed convolution (LTI) with data-controlled gating",
                   (Claim("Hyena's long convolutions are linear time-invariant: in TC0",
                          f"{cite.HYENA}; class by {cite.FIXED}", "TC0"),)),
    "lrcssm": Entry("element-wise nonlinear update with a diagonal Jacobian (one prefix scan)",
                    (Claim("a nonlinear recurrence solved in parallel with O(log T) sequential depth; no circuit "
                           "class is stated, and Thm 5.1 needs a dense update", cite.LRCSSM, "no class claimed"),)),
}


def entry_for(name: str) -> Entry | None:
    """The recorded entry for an architecture name, or None (the table then says `NO_CLAIM`)."""
    return ENTRIES.get(name.strip().lower())
