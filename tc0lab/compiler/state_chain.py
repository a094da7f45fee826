"""A general state-dependent update (`StateRecurrence`): the unrolled loop, depth Theta(n).

h_t = U(h_{t-1}, x_t) with gates that read h_{t-1} cannot be reassociated, so the circuit is
the sequential chain: at each step the update's expressions are compiled over the previous
step's state nodes and the token's nodes (`expr_to_gates.TokenProgram`, recorded once per
layer with the state symbols as extra inputs, replayed per step); the outputs
y_t = V(h_t, x_t) are emitted for all positions at once. An update that reads no state
symbol compiles to the same gates, which then form a position-wise map (constant depth).
"""
from __future__ import annotations

from tc0lab.circuit.build import CircuitBuilder
from tc0lab.compiler.expr_to_gates import TokenProgram, bind
from tc0lab.spec.state_recurrence import StateRecurrence, numeric_h0


def _nodes(columns, exprs, zero) -> list[str]:
    """The node of each expression at the columns' only position (a structural 0 is the constant 0)."""
    return [zero() if e == 0 else columns.column(e)[0] for e in exprs]


def compile_state_chain(builder: CircuitBuilder, mixer: StateRecurrence, values: dict, z: list[list[str]],
                        layer: int) -> list[list[str]]:
    """Outputs (n rows of d_out nodes) of h_t = update(h_{t-1}, x_t), y_t = output(h_t, x_t)."""
    symbols = tuple(mixer.inputs) + tuple(mixer.state)
    update, output = bind(mixer.update, values), bind(mixer.output, values)
    step, emit = TokenProgram(symbols, update, layer), TokenProgram(symbols, output, layer)
    zero = lambda: builder.at(layer, None).const(0.0, name=f"L{layer}.c[0.0]")
    builder.at(layer, None)
    h = [builder.const(float(v), name=f"L{layer}.h0[r={r}]", role="h0") for r, v in enumerate(numeric_h0(mixer, values))]
    states = []
    for t, token in enumerate(z, start=1):
        h = _nodes(step.emit_all(builder, [list(token) + h], first=t), update, zero)
        states.append(h)
    columns = emit.emit_all(builder, [list(token) + h for token, h in zip(z, states)])
    return [list(row) for row in zip(*[[zero()] * len(z) if e == 0 else columns.column(e) for e in output])]
