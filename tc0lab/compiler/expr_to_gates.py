"""Translate per-token sympy expressions into arithmetic gates.

Rules (each is a small theorem about constant-depth arithmetic):
    symbol              -> the node bound to it (an input coordinate or an earlier value)
    number              -> 'const' (one per distinct value per layer)
    a + b - c           -> one 'add' with +1/-1 weights; other coefficients become a 'mul'
    a * b * c           -> a balanced tree of binary 'mul' (a constant number of factors)
    x**k, k a positive integer -> a 'mul' tree;  x**-1, x**(1/2), x**(-1/2) -> 'lookup'
    f(g(c * z))         -> ONE 'lookup' of z with stages [(g, c), (f, 1)]: any function of one
                           value is a depth-2 threshold circuit, so compositions fold
Results are memoised by expression within one (layer, position), so shared
subexpressions (e.g. Mamba's Delta, used in A and in B) become shared gates.
"""
from __future__ import annotations

from typing import Sequence

import sympy

from tc0lab.circuit.build import CircuitBuilder, gate_extra, Stage
from tc0lab.spec.functions import SYMPY_TO_NAME
from tc0lab.spec.numeric import numpy_function
from tc0lab.spec.recurrence import SpecError

_POWER_LOOKUPS = {sympy.Integer(-1): "reciprocal", sympy.Rational(1, 2): "sqrt", sympy.Rational(-1, 2): "rsqrt"}


def _constant_value(expr: sympy.Expr) -> complex | float:
    """A closed expression's value; a custom function of a number (softplus(-4.2)) by its numpy twin."""
    try:
        return float(expr) if expr.is_real else complex(expr)
    except TypeError:
        value = complex(numpy_function((), (expr,))()[0])
        return value.real if value.imag == 0 else value


class ExpressionCompiler:
    """Compiles expressions of one token at one (layer, t) into gates of `builder`."""

    def __init__(self, builder: CircuitBuilder, layer: int, t: int | None, env: dict) -> None:
        self.builder = builder
        self.layer = layer
        self.t = t
        self.memo: dict = dict(env)  # sympy expression -> node id

    def const(self, value: complex) -> str:
        value = complex(value) if isinstance(value, complex) or getattr(value, "is_real", True) is False else float(value)
        return self.builder.at(self.layer, None).const(value, name=f"L{self.layer}.c[{value!r}]")

    def compile(self, expr: sympy.Expr) -> str:
        """The node computing expr (compiled once, then memoised)."""
        if expr in self.memo:
            return self.memo[expr]
        if expr.is_Number or (expr.is_number and not expr.free_symbols):
            node = self.const(_constant_value(expr))
        else:
            self.builder.at(self.layer, self.t)
            node = self._compile_compound(expr)
        self.memo[expr] = node
        return node

    def _compile_compound(self, expr: sympy.Expr) -> str:
        if expr.is_Symbol:
            raise SpecError(f"symbol {expr} has no value: it is neither an input nor a bound parameter")
        if expr.is_Add:
            return self._sum(expr.args)
        if expr.is_Mul:
            return self._product(expr)
        if expr.is_Pow:
            return self._power(expr)
        if _unary_name(expr) is not None:
            base, stages = self._lookup_chain(expr)
            return self.builder.lookup(base, stages, role="f")
        raise SpecError(f"cannot compile {expr} ({type(expr).__name__}) into arithmetic gates")

    def _sum(self, terms: Sequence[sympy.Expr]) -> str:
        operands, coeffs = [], []
        for term in terms:
            coefficient, rest = term.as_coeff_Mul()
            if coefficient in (1, -1) and not rest.is_Number:
                operands.append(self.compile(rest))
                coeffs.append(int(coefficient))
            else:
                operands.append(self.compile(term))
                coeffs.append(1)
        return self.builder.at(self.layer, self.t).add(operands, coeffs, role="sum")

    def _product(self, expr: sympy.Expr) -> str:
        factors = [self.compile(f) for f in _mul_factors(expr)]
        while len(factors) > 1:  # balanced binary tree: depth ceil(log2 k) for k factors
            paired = [self.builder.at(self.layer, self.t).mul(a, b, role="mul")
                      for a, b in zip(factors[0::2], factors[1::2])]
            factors = paired + ([factors[-1]] if len(factors) % 2 else [])
        return factors[0]

    def _power(self, expr: sympy.Pow) -> str:
        base, exponent = expr.args
        if exponent in _POWER_LOOKUPS:
            node, stages = self._lookup_chain(expr)
            return self.builder.lookup(node, stages, role="f")
        if exponent.is_Integer and exponent > 1:
            return self._product(sympy.Mul(*([base] * int(exponent)), evaluate=False))
        if exponent.is_Integer and exponent < -1:
            return self.compile(sympy.Pow(sympy.Pow(base, -exponent), -1, evaluate=False))
        raise SpecError(f"cannot compile the power {expr}: only integer, 1/2 and -1/2 exponents are supported")

    def _lookup_chain(self, expr: sympy.Expr) -> tuple[str, tuple[Stage, ...]]:
        """(operand node, stages) for nested one-argument functions, folding constant scales."""
        name = _unary_name(expr)
        if name is None:
            return self.compile(expr), ()
        argument = expr.args[0]
        scale, inner = argument.as_coeff_Mul() if argument.is_Mul else (sympy.Integer(1), argument)
        if _unary_name(inner) is not None and not scale.free_symbols:
            node, stages = self._lookup_chain(inner)
        else:
            node, stages, scale = self.compile(argument), (), sympy.Integer(1)
        return node, stages + ((name, complex(scale) if not scale.is_real else float(scale)),)


def _unary_name(expr: sympy.Expr) -> str | None:
    """The lookup name of a one-argument function application, or None."""
    if isinstance(expr, sympy.Pow):
        return _POWER_LOOKUPS.get(expr.args[1])
    if isinstance(expr, sympy.Function) and len(expr.args) == 1:
        name = SYMPY_TO_NAME.get(type(expr))
        if name is None:
            raise SpecError(f"no lookup is known for the function {type(expr).__name__}")
        return name
    return None


def _mul_factors(expr: sympy.Expr) -> list[sympy.Expr]:
    factors = []
    for factor in expr.args:
        if factor.is_Pow and factor.args[1].is_Integer and factor.args[1] > 1:
            factors.extend([factor.args[0]] * int(factor.args[1]))
        else:
            factors.append(factor)
    return factors


def bind(exprs: Sequence[sympy.Expr], values: dict) -> list[sympy.Expr]:
    """Substitute parameter values (floats) into expressions, and fold what became a number into one."""
    replacement = {s: (sympy.Float(v) if not isinstance(v, complex) else sympy.sympify(v)) for s, v in values.items()}
    return [_numbers_folded(_substituted(sympy.sympify(e), replacement)) for e in exprs]


def _substituted(expr: sympy.Expr, replacement: dict) -> sympy.Expr:
    """expr.xreplace(replacement), except that a function application is rebuilt as it is written: sympy would
    otherwise turn tanh(-0.3 x) into -tanh(0.3 x) whenever the drawn values make the argument look negative, and
    the layer would compile to other gates for other random values."""
    if expr in replacement:
        return replacement[expr]
    if not expr.args:
        return expr
    arguments = [_substituted(argument, replacement) for argument in expr.args]
    if isinstance(expr, sympy.Function) and any(argument.free_symbols for argument in arguments):
        return expr.func(*arguments, evaluate=False)
    return expr.func(*arguments)  # a function of numbers is evaluated (folded) as before


def _numbers_folded(expr: sympy.Expr) -> sympy.Expr:
    """Every subexpression without symbols evaluated to a number: sympy keeps 0.3*sqrt(3) or pi/4 as a product
    (a Rational, by contrast, it multiplies in, and even distributes over a sum), so a constant would compile
    to other gates depending on how it is written, e.g. a scale 1/sqrt(N) at N = 3 and at N = 4."""
    def evaluated(number: sympy.Expr) -> sympy.Expr:
        value = number.evalf()
        return number if value.atoms(sympy.Function) else value  # a spec function without a numeric value: kept

    return expr.replace(lambda e: e.is_number and not e.is_Number and e != sympy.I, evaluated)


class _Recorder:
    """Stands in for a CircuitBuilder while an expression is compiled once per layer.

    Every gate call is recorded with operands referring to earlier slots; `TokenProgram.emit`
    replays the recording per position. This keeps sympy out of the O(n) loop.
    """

    def __init__(self) -> None:
        self.steps: list[tuple[str, tuple, dict]] = []

    def at(self, layer: int, t: int | None) -> "_Recorder":
        return self

    def _record(self, method: str, operands: tuple, **options) -> str:
        self.steps.append((method, operands, options))
        return f"$s{len(self.steps) - 1}"

    def add(self, args, coeffs=None, name=None, role="add"):
        return self._record("add", tuple(args), coeffs=coeffs, role=role)

    def mul(self, a, b, name=None, role="mul"):
        return self._record("mul", (a, b), role=role)

    def prod(self, args, name=None, role="prod"):
        return self._record("prod", tuple(args), role=role)

    def div(self, a, b, name=None, role="div"):
        return self._record("div", (a, b), role=role)

    def lookup(self, arg, stages, name=None, role="lookup"):
        return self._record("lookup", (arg,), stages=tuple(stages), role=role)

    def const(self, value, name=None, role="const"):
        return self._record("const", (), value=value, name=name, role=role)


class TokenColumns:
    """A token program's expressions at every position: `column(expr)[t - 1]` is expr's node at t.

    Indexing gives one position's `TokenNodes`. Constructions read whole columns (`column`,
    `rows`): each sympy expression is then hashed once per layer rather than once per
    position, which matters because hashing a sympy Float is slow.
    """

    def __init__(self, builder: CircuitBuilder, layer: int, columns: dict, n: int) -> None:
        self.builder, self.layer, self.columns, self.n = builder, layer, columns, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> "TokenNodes":
        if not -self.n <= index < self.n:
            raise IndexError(index)
        return TokenNodes(self, index % self.n)

    def __iter__(self):
        return (TokenNodes(self, index) for index in range(self.n))

    def column(self, expr: sympy.Expr) -> list[str]:
        return self.columns[expr]

    def rows(self, exprs: Sequence[sympy.Expr]) -> list[list[str | None]]:
        """Per position, the nodes of `exprs` (None for a structural zero)."""
        columns = [[None] * self.n if e == 0 else self.columns[e] for e in exprs]
        return [list(row) for row in zip(*columns)] if columns else [[] for _ in range(self.n)]

    def const(self, value: float) -> str:
        return self.builder.at(self.layer, None).const(float(value), name=f"L{self.layer}.c[{float(value)!r}]")


class TokenNodes:
    """The nodes of one position's expressions: `compile(expr)` looks them up."""

    def __init__(self, columns: TokenColumns, index: int) -> None:
        self.columns, self.index = columns, index

    def compile(self, expr: sympy.Expr) -> str:
        return self.columns.columns[expr][self.index]

    def const(self, value: float) -> str:
        return self.columns.const(value)


class TokenProgram:
    """Expressions of one token compiled once, emitted at every position.

    `emit_all(builder, rows)` creates the same gates as compiling each expression at every
    position directly (same ops, operands, sharing and constant names).
    """

    def __init__(self, inputs: Sequence[sympy.Symbol], exprs: Sequence[sympy.Expr], layer: int) -> None:
        self.inputs = tuple(inputs)
        self.layer = layer
        self.exprs = list(dict.fromkeys(e for e in exprs if e is not None and e != 0))
        recorder = _Recorder()
        env = {symbol: f"$in{i}" for i, symbol in enumerate(self.inputs)}
        compiler = ExpressionCompiler(recorder, layer, None, env)  # type: ignore[arg-type]
        self.outputs = {expr: compiler.compile(expr) for expr in self.exprs}
        self.steps = recorder.steps

    def emit_all(self, builder: CircuitBuilder, rows: Sequence[Sequence[str]], first: int = 1) -> TokenColumns:
        """The program at every position t = first..first + len(rows) - 1 (rows[t - first]: the input nodes at t).

        Each recorded step becomes one `add_gates` block over all positions (the step's
        operands at position t are earlier steps' nodes at t, so every block reads only
        earlier blocks): the same gates as compiling each expression at every position.
        """
        n = len(rows)
        ts = list(range(first, first + n))
        slots: dict[str, list[str]] = {f"$in{i}": [row[i] for row in rows] for i in range(len(self.inputs))}
        for index, (method, operands, options) in enumerate(self.steps):
            if method == "const":
                node = builder.at(self.layer, None).const(options["value"], name=options["name"], role=options["role"])
                slots[f"$s{index}"] = [node] * n
                continue
            builder.at(self.layer, None)
            names = builder.fresh_names(options["role"], ts)
            args = list(zip(*(slots[o] for o in operands)))
            slots[f"$s{index}"] = builder.add_gates(method, names, args, ts, options["role"],
                                                    gate_extra(method, options.get("coeffs"), options.get("stages")))
        return TokenColumns(builder, self.layer, {expr: slots[slot] for expr, slot in self.outputs.items()}, n)
