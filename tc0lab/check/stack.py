"""Stack verdicts and the LaTeX table.

L layers of TC0 layers are TC0: each layer is a constant-depth threshold circuit over the
previous layer's outputs, so the depths add up. The bound reported is the compiled
circuit's threshold depth, measured (tc0lab.compiler) at a few lengths with d_model =
d_state = 1; it must not grow with n. One NC1-capable layer makes the stack NC1-capable
(the other layers can pass tokens through unchanged).

For a user's `Stack`, the witness of an NC1-hard layer is verified once more through the
block it sits in: the decoded value is the block's output post(x_t, y_t) (projection,
nonlinearity, residual) at the stack's own values for the block's maps. A block whose map
erases what the mixer tracks does not carry the witness, and the stack's verdict says so.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import sympy

from tc0lab.check.verdict import DEPTH_LENGTHS, Verdict, check_cached, check_recurrence
from tc0lab.check.verify import verify_machine
from tc0lab.spec.numeric import numpy_function
from tc0lab.spec.recurrence import Block, Stack, TokenMap


def token_map_rows(token_map: TokenMap, values: dict):
    """rows (B, d_in) -> (B, d_out): a position-wise map evaluated on many rows at once."""
    parameters = sorted(token_map.parameters(), key=lambda s: s.name)
    function = numpy_function(list(token_map.inputs) + parameters, list(token_map.outputs))
    arguments = [values[s] for s in parameters]

    def apply(rows: np.ndarray) -> np.ndarray:
        outputs = function(*rows.T, *arguments)
        return np.stack(np.broadcast_arrays(*[np.asarray(o) for o in outputs], rows[:, 0]), axis=1)[:, :-1]

    return apply


def witness_through_block(verdict: Verdict, block: Block, values: dict) -> dict:
    """Re-run an NC1-hard layer's witness, decoding the block's output instead of the mixer's."""
    witness = verdict.witness
    if block.pre is not None:
        return {"verified": None, "note": "not run: the block has a pre map (the witness tokens would need its "
                                          "pre-image); verified through the mixer's output only"}
    post = token_map_rows(block.post, values)
    machine = dataclasses.replace(witness.machine, post=lambda x, y: post(np.concatenate([x, y], axis=1).real))
    permutations = [np.array(m) for m in witness.maps]
    check = verify_machine(machine, permutations)
    return {"verified": check.verified, "decoded": check.decoded, "failure": check.failure,
            "words_exhaustive": check.words_exhaustive, "words_random": check.words_random}


def _threshold_depths(arch, layers: int, lengths) -> dict[int, int]:
    from tc0lab.compiler import compile_stack  # heavy; only needed for TC0 stacks
    return {n: compile_stack(arch, layers=layers, n=n, d_model=1, d_state=1).measure().depth_threshold
            for n in lengths}


def check_stack(arch: str | Stack, layers: int = 1, lengths=DEPTH_LENGTHS) -> dict:
    """The verdict for L stacked layers (a zoo name, or a ready `Stack`), with the depth bound."""
    through_block = []
    if isinstance(arch, Stack):
        seen: dict = {}
        for block, values in zip(arch.blocks, arch.values):
            seen.setdefault(id(block.mixer), (block, values))
        verdicts_found = [(check_recurrence(block.mixer), block, values) for block, values in seen.values()]
        per_layer = [verdict.to_dict() for verdict, _, _ in verdicts_found]
        through_block = [witness_through_block(verdict, block, values) for verdict, block, values in verdicts_found
                         if verdict.witness is not None]
        layers = arch.layers
    else:
        per_layer = [check_cached(arch)]
    verdicts = {v["verdict"] for v in per_layer}
    result = {"layers": layers, "layer_verdicts": per_layer}
    if through_block:
        result["witness_through_block"] = through_block
        if not any(run["verified"] is not False for run in through_block):
            verdicts = verdicts - {"NC1-hard"} | {"open"}
            result["note"] = "the NC1-hard layers' witnesses do not survive the blocks' maps at the stack's values"
    if "NC1-hard" in verdicts:
        result.update(verdict="NC1-hard", rule="a stack with an NC1-hard layer is NC1-hard",
                      citation=next(v["citation"] for v in per_layer if v["verdict"] == "NC1-hard"))
    elif "open" in verdicts:
        result.update(verdict="open", rule="a layer's verdict is open", citation="none")
    else:
        depths = _threshold_depths(arch, layers, lengths)
        result.update(verdict="TC0", rule=f"{layers} layers of TC0 layers: depths add up",
                      citation="; ".join(sorted({v["citation"] for v in per_layer})),
                      threshold_depth={str(n): d for n, d in depths.items()},
                      threshold_depth_status="measured on the compiled circuit (d_model = d_state = 1)",
                      depth_constant_in_n=len(set(depths.values())) == 1)
    return result


def _latex_escape(text: str) -> str:
    return text.replace("&", r"\&").replace("_", r"\_").replace("#", r"\#").replace("%", r"\%")


def latex_table(verdicts: list[dict], depth_formulas: dict[str, sympy.Expr] | None = None) -> str:
    """A booktabs table: layer, structure, verdict, rule, witness, negative eigenvalues, and the
    compiled threshold depth as a formula (given per layer name, e.g. from the zoo's formulas)."""
    depth_formulas = depth_formulas or {}
    lines = [r"\begin{tabular}{lllllcl}", r"\toprule",
             r"Layer & $A(x)$ & Verdict & Rule & Witness & $\lambda<0$ & Threshold depth \\", r"\midrule"]
    for v in verdicts:
        verdict = {"TC0": r"$\mathsf{TC}^0$", "NC1-hard": r"$\mathsf{NC}^1$-hard"}.get(v["verdict"], "open")
        witness = v.get("witness")
        shown = (f"{witness['group']}, {witness['words_exhaustive'] + witness['words_random']:,} words"
                 if witness and witness.get("verified") else "--")
        sign = {True: "yes", False: "no"}.get(v.get("negative_eigenvalues"), "--")
        lines.append(" & ".join([_latex_escape(v["layer"]), v["structure"], verdict, _latex_escape(v["rule"]),
                                 _latex_escape(shown).replace(",", "{,}"), sign,
                                 f"${sympy.latex(depth_formulas[v['layer']])}$" if v["layer"] in depth_formulas else "--"])
                     + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines)
