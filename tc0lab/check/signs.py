"""Sign proofs the eigenvalue rules use: sympy proves an expression >= 0, or a positive one <= 1.

Every proof is sympy's own sign rules on the expression (symbols are real; spec functions carry
their ranges: sigmoid and exp are positive, ...). These readings are tried, each sound where
A(x) is defined:

  as written;
  with every rsqrt(z) a positive symbol (where A(x) is defined, z > 0, so rsqrt(z) is positive
  and finite);
  normalised: z^m rsqrt(z)^(2m) q as q, found by exact polynomial division (a unit key k / |k|
  has |k|^2 rsqrt(|k|^2)^2 = 1), then read again;
  over a common denominator, the numerator expanded with squares of sums kept whole, and the
  denominator as written (Longhorn's 1 - decay = beta k_s^2 / (1 + beta |k|^2));
  the same after writing rsqrt(z) as z^(-1/2) and sigmoid(z) as 1 / (1 + e^(-z)) (1 - sigmoid(z)
  = e^(-z) / (1 + e^(-z))).

No reading factors or cancels polynomials (a gcd over the many weights of a wide layer can take
minutes); a proof not found is an undecided answer, never a wrong one.

A positive product is <= 1 when each factor is: sigmoid(z) always, exp(u) when -u >= 0, any
other factor when 1 - factor >= 0.
"""
from __future__ import annotations

import sympy

from tc0lab.spec.functions import rsqrt, sigmoid


def _defined(expr: sympy.Expr) -> sympy.Expr:
    return expr.xreplace({call: sympy.Dummy("rsqrt", positive=True) for call in expr.atoms(rsqrt)})


def _rewritten(expr: sympy.Expr) -> sympy.Expr:
    return expr.replace(rsqrt, lambda z: z ** sympy.Rational(-1, 2)).replace(sigmoid, lambda z: 1 / (1 + sympy.exp(-z)))


def _fraction_nonnegative(expr: sympy.Expr) -> bool:
    """Over a common denominator: the numerator expanded, squares of sums kept whole, is >= 0 and the denominator
    as written is > 0 (what a difference of quotients leaves cancels; the denominator keeps its sums of squares)."""
    numerator, denominator = sympy.fraction(sympy.together(expr))
    return denominator.is_positive is True and sympy.expand(numerator, multinomial=False).is_nonnegative is True


def _normalised(expr: sympy.Expr) -> sympy.Expr:
    """expr with each rsqrt(z)^(2m) term whose coefficient is z^m times q replaced by q (z rsqrt(z)^2 = 1), found by
    exact polynomial division: a normalised key's |k|^2 rsqrt(|k|^2)^2 cancels without a polynomial gcd."""
    for call in expr.atoms(rsqrt):
        r, z = sympy.Dummy("r"), sympy.expand(call.args[0])
        terms = sympy.expand(expr.xreplace({call: r})).as_poly(r)
        if terms is None:
            continue
        rebuilt = sympy.Integer(0)
        for (power,), coefficient in terms.terms():
            quotient, remainder = (sympy.div(coefficient, z ** (power // 2)) if power % 2 == 0 and power
                                   else (None, 1))
            rebuilt += quotient if remainder == 0 else coefficient * call ** power
        expr = rebuilt
    return expr


def proven_nonnegative(expr: sympy.Expr) -> bool:
    """sympy proves expr >= 0 wherever A(x) is defined (see the module docstring)."""
    if any(form.is_nonnegative is True for form in (expr, _defined(expr))):
        return True
    if expr.atoms(rsqrt):
        normalised = _normalised(expr)
        if normalised != expr and proven_nonnegative(normalised):
            return True
    return _fraction_nonnegative(_defined(expr)) or _fraction_nonnegative(_rewritten(expr))


def _factor_at_most_one(factor: sympy.Expr) -> bool:
    if isinstance(factor, sigmoid):
        return True
    if isinstance(factor, sympy.exp):
        return proven_nonnegative(-factor.args[0])
    return proven_nonnegative(1 - factor)


def proven_in_unit_interval(expr: sympy.Expr) -> bool:
    """sympy proves 0 <= expr <= 1: expr >= 0, and expr is a product of positive factors each <= 1 (or 1 - expr >= 0)."""
    if not proven_nonnegative(expr):
        return False
    factors = sympy.Mul.make_args(expr)
    if all(f.is_positive is True and _factor_at_most_one(f) for f in factors):
        return True
    return proven_nonnegative(1 - expr)
