"""The p-bit fixed-point number format and the exact word-level meaning of every op.

Representation (used by every gadget in the lowering):
  A value is a p-bit two's complement integer word `raw` in [-2^(p-1), 2^(p-1)) standing for
  raw / 2^f, with f fractional bits (0 <= f <= p - 2, so that 1.0 is representable).
  Arithmetic wraps modulo 2^p (no saturation), as plain two's complement hardware does.
  Rounding is round-half-up: round(z) = floor(z + 1/2).

Each function below is the reference semantics of one arithmetic op on raw words (numpy
int64 arrays). The threshold gadgets are checked bit-exactly against these functions, and
the word-level evaluator of a whole circuit (`tc0lab.threshold.lower`) is built from them:
  add     (sum_i c_i x_i) mod 2^p, c_i = +-1                                   exact
  mul     floor((x y + 2^(f-1)) / 2^f) mod 2^p                                 rounded once
  div     floor((a R(b) + 2^(f-1)) / 2^f) mod 2^p, R(b) = round(2^(2f) / b), R(0) = 0
  lookup  table[x] = quantise(F(x / 2^f)), F any function; quantise saturates
  prod    log-space: sign from the parity of negative factors, magnitude
          min(round(2^(S / 2^g) 2^f), 2^(p-1) - 1) with S = sum_i round(2^g log2|x_i / 2^f|);
          0 if a factor is 0. This is the log-space product Mamba's decays allow, exact
          against this reference, approximate w.r.t. the real product (g = LOG_BITS(p)).
  cmp     2^f if x >= y (or x > y) else 0
  max     the largest word
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class FixedPoint:
    """p-bit two's complement words with f fractional bits."""
    bits: int
    frac_bits: int

    def __post_init__(self) -> None:
        if self.bits < 2 or not 0 <= self.frac_bits <= self.bits - 2:
            raise ValueError(f"need bits >= 2 and 0 <= frac_bits <= bits - 2, got "
                             f"bits={self.bits}, frac_bits={self.frac_bits}")

    @property
    def lowest(self) -> int:
        return -(1 << (self.bits - 1))

    @property
    def highest(self) -> int:
        return (1 << (self.bits - 1)) - 1

    @property
    def log_bits(self) -> int:
        """Fractional bits g of the log2 values used by `prod` (fixed: g = p)."""
        return self.bits

    def all_words(self) -> np.ndarray:
        return np.arange(self.lowest, self.highest + 1, dtype=np.int64)

    def wrap(self, raw: np.ndarray) -> np.ndarray:
        """Reduce integers modulo 2^p into the signed range."""
        raw = np.asarray(raw, dtype=np.int64)
        return ((raw - self.lowest) & ((1 << self.bits) - 1)) + self.lowest

    def quantise(self, real: np.ndarray) -> np.ndarray:
        """Round reals to words, saturating at the range ends (nan -> 0)."""
        real = np.asarray(real, dtype=np.float64)
        scaled = np.floor(np.nan_to_num(real, nan=0.0) * (1 << self.frac_bits) + 0.5)
        return np.clip(scaled, self.lowest, self.highest).astype(np.int64)

    def to_real(self, raw: np.ndarray) -> np.ndarray:
        return np.asarray(raw, dtype=np.float64) / (1 << self.frac_bits)

    @property
    def round_offset(self) -> int:
        """2^(f-1): added before a right shift by f to round half up (0 when f = 0)."""
        return (1 << self.frac_bits) >> 1


def add(fmt: FixedPoint, words: list[np.ndarray], coeffs: list[int]) -> np.ndarray:
    return fmt.wrap(sum(c * np.asarray(w, dtype=np.int64) for c, w in zip(coeffs, words)))


def mul(fmt: FixedPoint, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    product = np.asarray(x, dtype=np.int64) * np.asarray(y, dtype=np.int64)
    return fmt.wrap((product + fmt.round_offset) >> fmt.frac_bits)


def reciprocal_table(fmt: FixedPoint) -> dict[int, int]:
    """R(b) = round(2^(2f) / b) for every nonzero word b (as an unbounded integer)."""
    scale = 1 << (2 * fmt.frac_bits)
    table = {}
    for b in fmt.all_words().tolist():
        if b != 0:
            magnitude = (2 * scale + abs(b)) // (2 * abs(b))  # floor(scale/|b| + 1/2), exact
            table[b] = magnitude if b > 0 else -magnitude
    return table


def div(fmt: FixedPoint, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    table = reciprocal_table(fmt)
    reciprocal = np.vectorize(lambda v: table.get(int(v), 0), otypes=[np.int64])(b)
    return mul(fmt, a, reciprocal)


def lookup_table(fmt: FixedPoint, function: Callable[[np.ndarray], np.ndarray]) -> dict[int, int]:
    """word -> quantise(function(real value of word)), for every word."""
    words = fmt.all_words()
    with np.errstate(all="ignore"):
        outputs = fmt.quantise(function(fmt.to_real(words)))
    return dict(zip(words.tolist(), outputs.tolist()))


def lookup(fmt: FixedPoint, x: np.ndarray, table: dict[int, int]) -> np.ndarray:
    return np.vectorize(lambda v: table[int(v)], otypes=[np.int64])(x)


def log_table(fmt: FixedPoint) -> dict[int, int]:
    """|word| -> round(2^g log2(|word| / 2^f)) for every nonzero word."""
    words = [w for w in fmt.all_words().tolist() if w != 0]
    logs = np.log2(np.abs(np.asarray(words, dtype=np.float64))) - fmt.frac_bits
    return dict(zip(words, np.floor(logs * (1 << fmt.log_bits) + 0.5).astype(np.int64).tolist()))


def exp_magnitude(fmt: FixedPoint, log_sum: np.ndarray) -> np.ndarray:
    """min(round(2^(S / 2^g) 2^f), 2^(p-1) - 1): the magnitude of a log-space product."""
    exponent = np.asarray(log_sum, dtype=np.float64) / (1 << fmt.log_bits) + fmt.frac_bits
    with np.errstate(over="ignore"):
        magnitude = np.floor(np.exp2(np.minimum(exponent, 4 * fmt.bits)) + 0.5)
    return np.minimum(magnitude, fmt.highest).astype(np.int64)


def prod(fmt: FixedPoint, words: list[np.ndarray]) -> np.ndarray:
    logs = log_table(fmt)
    stacked = np.stack([np.asarray(w, dtype=np.int64) for w in words])  # (k, B)
    log_sum = np.vectorize(lambda v: logs.get(int(v), 0), otypes=[np.int64])(stacked).sum(0)
    magnitude = np.where((stacked == 0).any(0), 0, exp_magnitude(fmt, log_sum))
    negative = (stacked < 0).sum(0) % 2 == 1
    return np.where(negative, -magnitude, magnitude)


def cmp(fmt: FixedPoint, x: np.ndarray, y: np.ndarray, relation: str = ">=") -> np.ndarray:
    holds = np.asarray(x) >= np.asarray(y) if relation == ">=" else np.asarray(x) > np.asarray(y)
    return holds.astype(np.int64) << fmt.frac_bits


def maximum(fmt: FixedPoint, words: list[np.ndarray]) -> np.ndarray:
    return np.max(np.stack([np.asarray(w, dtype=np.int64) for w in words]), axis=0)
