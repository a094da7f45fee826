"""Claim: a hand-set two-layer LTI SSM + token-wise FNN solves multi-query associative recall exactly.

The weights are set by hand (no training) and the network is run on random instances of the
probe's `recall` task; every graded query must be answered exactly. Both SSM layers are
linear time-invariant recurrences h_t = A h_{t-1} + B x_t, y_t = C h_t + D x_t with constant
matrices (convolutions), as in Nishikawa & Suzuki's SSM+FNN; all input dependence is in the
token-wise ReLU FNNs.
"""
from __future__ import annotations

import numpy as np

STATEMENT = ("A two-layer network, each layer an LTI SSM followed by a token-wise ReLU FNN, with "
             "hand-set weights, answers every query of multi-query associative recall "
             "(k_1 v_1 .. k_K v_K then queries) exactly, on random instances.")
CITATION = ("Nishikawa & Suzuki, State Space Models are Provably Comparable to Transformers in "
            "Dynamic Token Selection, ICLR 2025, Thm 3.2 / Lemma 3.3 (key-query matching by an "
            "FNN after SSM aggregation); this construction is our own instance of that mechanism")
SKETCH = ("Layer 1: the SSM is a one-step delay (nilpotent shift A), so each position sees "
          "(previous token, current token); its FNN writes relu(prev_key[a] + cur_value[b] - 1) "
          "= [key a then value b], the outer product e_k e_v^T, non-zero only at value "
          "positions. Layer 2: the SSM is a running sum (A = I), giving the memory "
          "M = sum_i e_{k_i} e_{v_i}^T; its FNN reads row q of M at a query q as "
          "sum_a relu(M[a, b] + q[a] - 1) = M[q, b] (entries are 0/1 since keys are distinct). "
          "argmax_b is the value. Checked exactly on random instances of the recall task.")


def lti_ssm(A: np.ndarray, B: np.ndarray, C: np.ndarray, D: np.ndarray,
            x: np.ndarray) -> np.ndarray:
    """Run h_t = A h_{t-1} + B x_t, y_t = C h_t + D x_t on x (batch, T, d_in) from h_0 = 0."""
    h = np.zeros((x.shape[0], A.shape[0]))
    outputs = []
    for t in range(x.shape[1]):
        h = h @ A.T + x[:, t] @ B.T
        outputs.append(h @ C.T + x[:, t] @ D.T)
    return np.stack(outputs, axis=1)


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def delay_ssm(d: int) -> tuple[np.ndarray, ...]:
    """Layer 1's SSM: y_t = (x_{t-1}, x_t): state (x_t, x_{t-1}), A shifts the first half down."""
    A = np.zeros((2 * d, 2 * d))
    A[d:, :d] = np.eye(d)
    B = np.vstack([np.eye(d), np.zeros((d, d))])
    C = np.hstack([np.zeros((d, d)), np.eye(d)])                    # previous token
    return A, B, np.vstack([C, np.zeros((d, 2 * d))]), np.vstack([np.zeros((d, d)), np.eye(d)])


def pair_fnn(previous: np.ndarray, current: np.ndarray, keys: int) -> np.ndarray:
    """relu(prev_key[a] + cur_value[b] - 1) for every (a, b): e_k e_v^T at value positions."""
    prev_key, cur_value = previous[..., :keys], current[..., keys:]
    outer = relu(prev_key[..., :, None] + cur_value[..., None, :] - 1.0)   # (B, T, K, V)
    return outer.reshape(*outer.shape[:2], -1)


def recall_network(tokens: np.ndarray, keys: int, values: int) -> np.ndarray:
    """Value logits (B, T, values) of the hand-set two-layer SSM+FNN on token ids (B, T)."""
    d = keys + values
    x = np.eye(d)[tokens]                                            # one-hot (B, T, d)
    shifted = lti_ssm(*delay_ssm(d), x)                              # (B, T, 2d)
    pairs = pair_fnn(shifted[..., :d], shifted[..., d:], keys)       # (B, T, K*V)
    width = keys * values
    memory = lti_ssm(np.eye(width), np.eye(width), np.eye(width), np.zeros((width, width)),
                     pairs).reshape(*tokens.shape, keys, values)     # running sum: M_t
    query = x[..., :keys]                                            # the current key, if any
    return relu(memory + query[..., :, None] - 1.0).sum(axis=-2)     # row q of M_t


def check(instances: int = 200, length: int = 24, pairs: int = 6, vocab: int = 16,
          seed: int = 0) -> dict:
    from tc0lab.probe.tasks import make_task
    task = make_task(f"recall:pairs={pairs}:vocab={vocab}", length, eval_size=instances,
                     seed=seed)
    batch = task.test
    logits = recall_network(batch.inputs, task.keys, task.n_classes)
    predicted = logits.argmax(axis=-1)
    right = (predicted == batch.targets) | ~batch.mask
    graded = int(batch.mask.sum())
    # exactness: the right value's logit is 1 and every other is 0 at each graded query
    exact = bool(np.all(logits[batch.mask].max(axis=-1) == 1.0)
                 and np.all(logits[batch.mask].sum(axis=-1) == 1.0))
    return {"holds": bool(right.all()) and exact and graded > 0, "instances": instances,
            "graded_queries": graded, "wrong_queries": int((~right).sum()),
            "one_hot_logits": exact, "length": length, "pairs": pairs, "vocab": vocab}
