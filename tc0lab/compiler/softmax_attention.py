"""Softmax attention (transformer): the Merrill-Sabharwal constant-depth construction.

For each query position t and visible key j: score = q_t . k_j ('mul' + 'add'),
e = exp(scale * score) (one 'lookup'), normaliser Z_t = sum_j e ('add'), numerator
sum_j e * v_j ('mul' + 'add'), and y_t = numerator / Z_t ('div'). Depth is constant in n;
size Theta(n^2 d). Exact arithmetic needs no max-subtraction, so none is compiled.
"""
from __future__ import annotations

from tc0lab.circuit.build import CircuitBuilder, gate_extra
from tc0lab.compiler.expr_to_gates import TokenProgram, bind
from tc0lab.spec.recurrence import AttentionLayer


def compile_attention(builder: CircuitBuilder, layer_spec: AttentionLayer, values: dict, z: list[list[str]],
                      layer: int) -> list[list[str]]:
    """Outputs (n rows of d_v nodes) of one softmax-attention layer."""
    n = len(z)
    q_exprs, k_exprs, v_exprs = (bind(list(m), values) for m in (layer_spec.query, layer_spec.key, layer_spec.value))
    columns = TokenProgram(layer_spec.inputs, q_exprs + k_exprs + v_exprs, layer).emit_all(builder, z)
    q, k, v = columns.rows(q_exprs), columns.rows(k_exprs), columns.rows(v_exprs)
    d_k, d_v = len(q_exprs), len(v_exprs)
    visible = [list(range(1, t + 1)) if layer_spec.causal else list(range(1, n + 1)) for t in range(n + 1)]
    pairs = [(t, j) for t in range(1, n + 1) for j in visible[t]]
    ts = [t for t, _ in pairs]
    builder.at(layer, None)
    # Theta(n^2) gates in bulk (named only if the graph is built): q_t[i] k_j[i], their sums
    # (scores), exp(scale * score), e * v_j[c]

    def names(label: str):
        return lambda: [label.format(t, j) for t, j in pairs]

    products = [builder.add_gates("mul", names(f"L{layer}.qk[t={{}},j={{}},i={i}]"),
                                  [(q[t - 1][i], k[j - 1][i]) for t, j in pairs], ts, "qk") for i in range(d_k)]
    scores = builder.add_gates("add", names(f"L{layer}.score[t={{}},j={{}}]"), list(zip(*products)), ts, "score")
    weights = builder.add_gates("lookup", names(f"L{layer}.e[t={{}},j={{}}]"), [(s,) for s in scores], ts, "exp",
                                gate_extra("lookup", stages=(("exp", float(layer_spec.scale)),)))
    weighted = [builder.add_gates("mul", names(f"L{layer}.ev[t={{}},j={{}},c={c}]"),
                                  [(w, v[j - 1][c]) for w, (_, j) in zip(weights, pairs)], ts, "ev") for c in range(d_v)]
    outputs = []
    start = 0
    for t in range(1, n + 1):
        builder.at(layer, t)
        end = start + len(visible[t])
        normaliser = builder.add(weights[start:end], name=f"L{layer}.Z[t={t}]", role="Z")
        row = []
        for c in range(d_v):
            numerator = builder.add(weighted[c][start:end], name=f"L{layer}.num[t={t},c={c}]", role="num")
            row.append(builder.div(numerator, normaliser, name=f"L{layer}.y[t={t},o={c}]", role="y"))
        outputs.append(row)
        start = end
    return outputs
