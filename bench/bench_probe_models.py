"""Benchmark the probe's models and scans on this machine, side by side, in one run.

1. train-step time (forward + backward + AdamW step) of our `mamba` against the PyPI package
   `mambapy` (a pure-PyTorch Mamba) at the same d_model, d_state, layers, batch and length;
   also against our mamba widened to mambapy's parameter count;
2. the ids4 parallel matrix scan against the sequential product loop at n = 256, forward and
   forward + backward, at several batch sizes;
3. training tokens per second for every model at one common small config.

Prints one Markdown report on stdout. Needs `pip install mambapy` for part 1 (skipped if absent).

    python bench/bench_probe_models.py [--threads 1] [--repeats 5]
"""
from __future__ import annotations

import argparse
import math
import platform
import time
from typing import Callable

import torch
from torch import nn

from tc0lab.probe.models import ModelConfig, build_model, count_parameters, width_for_params
from tc0lab.probe.recipes import MODEL_NAMES
from tc0lab.probe.scan import matrix_scan

VOCAB = 120  # |S5|


def best_ms(step: Callable[[], None], repeats: int, warmup: int = 2) -> float:
    """Fastest of `repeats` timed calls: on a machine shared with other jobs the minimum is the
    estimate least inflated by them."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def train_step(model: nn.Module, batch: int, length: int) -> Callable[[], None]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    tokens = torch.randint(0, VOCAB, (batch, length))
    targets = torch.randint(0, VOCAB, (batch, length))

    def step() -> None:
        logits = model(tokens)
        loss = nn.functional.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return step


class MambapyTagger(nn.Module):
    """mambapy's Mamba stack between the same embedding and readout as ours."""

    def __init__(self, d_model: int, d_state: int, layers: int):
        super().__init__()
        from mambapy.mamba import Mamba, MambaConfig
        self.embedding = nn.Embedding(VOCAB, d_model)
        self.mamba = Mamba(MambaConfig(d_model=d_model, n_layers=layers, d_state=d_state))
        self.readout = nn.Linear(d_model, VOCAB)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.readout(self.mamba(self.embedding(tokens)))


def ours(name: str, d_model: int, d_state: int, layers: int) -> nn.Module:
    return build_model(ModelConfig(name, VOCAB, VOCAB, layers, d_model, d_state))


def bench_mamba_vs_mambapy(args) -> list[str]:
    rows = ["| model | d_model | params | train step (ms) | mambapy / this |", "|---|---|---|---|---|"]
    try:
        reference = MambapyTagger(args.d_model, args.d_state, args.layers)
    except ImportError:
        return ["mambapy is not installed: `pip install mambapy` to run this part."]
    shape = (args.batch, args.length)
    reference_ms = best_ms(train_step(reference, *shape), args.repeats)
    matched_d = width_for_params("mamba", args.layers, count_parameters(reference), VOCAB, VOCAB, args.d_state)
    candidates = [("mambapy (pscan)", args.d_model, reference, reference_ms)]
    for label, d in [("ours, same d_model", args.d_model), ("ours, same params", matched_d)]:
        model = ours("mamba", d, args.d_state, args.layers)
        candidates.append((label, d, model, best_ms(train_step(model, *shape), args.repeats)))
    for label, d, model, ms in candidates:
        rows.append(f"| {label} | {d} | {count_parameters(model):,} | {ms:.1f} | {reference_ms / ms:.2f}x |")
    return [f"d_state={args.d_state}, layers={args.layers}, batch={args.batch}, length={args.length}", "",
            *rows]


def random_rotations(batch: int, length: int, n: int) -> torch.Tensor:
    """Orthogonal transitions: products neither blow up nor vanish over n = 256 steps."""
    q, _ = torch.linalg.qr(torch.randn(batch, length, n, n))
    return q


def bench_matrix_scan(args) -> list[str]:
    rows = ["| batch | N | mode | forward (ms) | forward+backward (ms) |", "|---|---|---|---|---|"]
    sqrt_chunks = math.isqrt(args.scan_length)
    variants = {"parallel (default chunks)": ("parallel", None),
                f"parallel ({sqrt_chunks} chunks)": ("parallel", sqrt_chunks),
                "sequential (reference loop)": ("sequential", None)}
    speedups = []
    for batch in args.scan_batches:
        A = random_rotations(batch, args.scan_length, args.scan_state).requires_grad_()
        b = torch.randn(batch, args.scan_length, args.scan_state, requires_grad=True)
        h0 = torch.randn(args.scan_state, requires_grad=True)
        times = {}
        for label, (mode, n_chunks) in variants.items():
            def forward() -> None:
                with torch.no_grad():
                    matrix_scan(A, b, h0, mode=mode, n_chunks=n_chunks)

            def forward_backward() -> None:
                matrix_scan(A, b, h0, mode=mode, n_chunks=n_chunks).square().sum().backward()
            times[label] = (best_ms(forward, args.repeats), best_ms(forward_backward, args.repeats))
            rows.append(f"| {batch} | {args.scan_state} | {label} | {times[label][0]:.1f} | {times[label][1]:.1f} |")
        default, reference = times["parallel (default chunks)"], times["sequential (reference loop)"]
        speedups.append(f"batch {batch}: forward {reference[0] / default[0]:.1f}x, "
                        f"forward+backward {reference[1] / default[1]:.1f}x")
    return [f"n = {args.scan_length}; speed-up of the default parallel scan over the sequential loop: "
            + "; ".join(speedups), "", *rows]


def bench_throughput(args) -> list[str]:
    rows = ["| model | params | train step (ms) | train tokens/s |", "|---|---|---|---|"]
    for name in MODEL_NAMES:
        model = ours(name, args.d_model, args.d_state, args.layers)
        ms = best_ms(train_step(model, args.batch, args.length), args.repeats)
        rows.append(f"| {name} | {count_parameters(model):,} | {ms:.1f} | {args.batch * args.length / ms * 1e3:,.0f} |")
    return [f"d_model={args.d_model}, d_state={args.d_state}, layers={args.layers}, "
            f"batch={args.batch}, length={args.length}", "", *rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--d-state", type=int, default=16)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--scan-length", type=int, default=256)
    parser.add_argument("--scan-state", type=int, default=32)
    parser.add_argument("--scan-batches", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--parts", nargs="+", default=["mamba", "scan", "throughput"],
                        choices=["mamba", "scan", "throughput"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"threads={args.threads}, best of {args.repeats} after 2 warm-up steps\n")
    parts = {"mamba": ("mamba vs mambapy: train step", bench_mamba_vs_mambapy),
             "scan": ("ids4 matrix scan: parallel vs sequential", bench_matrix_scan),
             "throughput": ("throughput of every model", bench_throughput)}
    for title, part in (parts[name] for name in args.parts):
        print(f"### {title}\n")
        print("\n".join(part(args)), "\n", flush=True)


if __name__ == "__main__":
    main()
