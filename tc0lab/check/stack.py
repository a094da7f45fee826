"""Stack verdicts and the LaTeX table.

L layers of TC0 layers are TC0: each layer is a constant-depth threshold circuit over the
previous layer's outputs, so the depths add up. The bound reported is the compiled
circuit's threshold depth, measured (tc0lab.compiler) at a few lengths with d_model =
d_state = 1; it must not grow with n. One NC1-capable layer makes the stack NC1-capable
(the other layers can pass tokens through unchanged).
"""
from __future__ import annotations

import sympy

from tc0lab.check.verdict import DEPTH_LENGTHS, check_cached, check_recurrence
from tc0lab.spec.recurrence import Stack


def _threshold_depths(arch, layers: int, lengths) -> dict[int, int]:
    from tc0lab.compiler import compile_stack  # heavy; only needed for TC0 stacks
    return {n: compile_stack(arch, layers=layers, n=n, d_model=1, d_state=1).measure().depth_threshold
            for n in lengths}


def check_stack(arch: str | Stack, layers: int = 1, lengths=DEPTH_LENGTHS) -> dict:
    """The verdict for L stacked layers (a zoo name, or a ready `Stack`), with the depth bound."""
    if isinstance(arch, Stack):
        seen: dict = {}
        for block in arch.blocks:
            seen.setdefault(id(block.mixer), block.mixer)
        per_layer = [check_recurrence(mixer).to_dict() for mixer in seen.values()]
        layers = arch.layers
    else:
        per_layer = [check_cached(arch)]
    verdicts = {v["verdict"] for v in per_layer}
    result = {"layers": layers, "layer_verdicts": per_layer}
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
