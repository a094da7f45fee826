"""Claim: Mamba's transitions exp(Delta A) are always positive, so one layer has no parity."""
from __future__ import annotations

import numpy as np

from tc0lab.spec.numeric import point, random_values, transition_function
from tc0lab.spec import zoo

STATEMENT = ("Every diagonal entry of the zoo Mamba's A(x), exp(-exp(A_log) softplus(W_delta x + b)), is positive "
             "for all real inputs and parameters; the 2 exp(Delta A) - 1 variant reaches negative values.")
CITATION = "Grazzi et al. 2025; Sarrof et al. 2024"
SKETCH = "exp of a real number is positive (sympy's assumptions prove it); a search finds a negative entry of the variant."


def check(d_model: int = 2, d_state: int = 2, samples: int = 200) -> dict:
    mamba, variant = zoo.core("mamba", d_model, d_state), zoo.core("mamba-neg", d_model, d_state)
    proved = all(mamba.A[i, i].is_positive is True for i in range(mamba.state_size))
    rng = np.random.default_rng(0)
    A_mamba, A_variant = transition_function(mamba), transition_function(variant)
    smallest_mamba, smallest_variant = np.inf, np.inf
    for _ in range(samples):
        x, values = rng.normal(0, 3, size=d_model), random_values(mamba, rng, 3.0)
        smallest_mamba = min(smallest_mamba, float(np.min(np.diag(A_mamba(point(mamba, x, values))))))
        smallest_variant = min(smallest_variant, float(np.min(np.diag(A_variant(point(variant, x, values))))))
    holds = proved and smallest_mamba >= 0 and smallest_variant < 0
    return {"holds": holds, "sympy_proves_positive": proved, "min_sampled_mamba": smallest_mamba,
            "min_sampled_variant": smallest_variant}
