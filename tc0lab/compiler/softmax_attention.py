"""Softmax attention (transformer): the Merrill-Sabharwal constant-depth construction.

For each query position t and visible key j: score = q_t . k_j ('mul' + 'add'),
e = exp(scale * score) (one 'lookup'), normaliser Z_t = sum_j e ('add'), numerator
sum_j e * v_j ('mul' + 'add'), and y_t = numerator / Z_t ('div'). Depth is constant in n;
size Theta(n^2 d). Exact arithmetic needs no max-subtraction, so none is compiled.
"""
from __future__ import annotations

from tc0lab.circuit.build import CircuitBuilder
from tc0lab.compiler.expr_to_gates import TokenProgram, bind
from tc0lab.spec.recurrence import AttentionLayer


def compile_attention(builder: CircuitBuilder, layer_spec: AttentionLayer, values: dict, z: list[list[str]],
                      layer: int) -> list[list[str]]:
    """Outputs (n rows of d_v nodes) of one softmax-attention layer."""
    n = len(z)
    q_exprs, k_exprs, v_exprs = (bind(list(m), values) for m in (layer_spec.query, layer_spec.key, layer_spec.value))
    q, k, v = [], [], []
    program = TokenProgram(layer_spec.inputs, q_exprs + k_exprs + v_exprs, layer)
    for compiler in program.emit_all(builder, z):
        q.append([compiler.compile(e) for e in q_exprs])
        k.append([compiler.compile(e) for e in k_exprs])
        v.append([compiler.compile(e) for e in v_exprs])
    outputs = []
    for t in range(1, n + 1):
        builder.at(layer, t)
        visible = range(1, t + 1) if layer_spec.causal else range(1, n + 1)
        weights = []
        for j in visible:
            products = [builder.mul(q[t - 1][i], k[j - 1][i], name=f"L{layer}.qk[t={t},j={j},i={i}]", role="qk")
                        for i in range(len(q_exprs))]
            score = builder.add(products, name=f"L{layer}.score[t={t},j={j}]", role="score")
            weights.append(builder.lookup(score, (("exp", float(layer_spec.scale)),), name=f"L{layer}.e[t={t},j={j}]", role="exp"))
        normaliser = builder.add(weights, name=f"L{layer}.Z[t={t}]", role="Z")
        row = []
        for c in range(len(v_exprs)):
            weighted = [builder.mul(w, v[j - 1][c], name=f"L{layer}.ev[t={t},j={j},c={c}]", role="ev")
                        for w, j in zip(weights, visible)]
            numerator = builder.add(weighted, name=f"L{layer}.num[t={t},c={c}]", role="num")
            row.append(builder.div(numerator, normaliser, name=f"L{layer}.y[t={t},o={c}]", role="y"))
        outputs.append(row)
    return outputs
