"""Paired bootstrap over evaluation items: how sure are we that model A differs from model B?

    paired_bootstrap(a_items, b_items, iters=1000, seed=42) -> {"delta", "lower", "upper"}

Both models answered the same items, so we resample item indices (with replacement) and recompute
metric(A) - metric(B) on each resample: the pairing removes the item-difficulty variance that two
independent intervals would double count. `lower` is the one-sided 95% lower bound (5th percentile),
`upper` the 95th percentile. `aggregate` turns a list of per-item units into the metric (default:
the mean; macro-F1 passes its own). Same inputs and seed -> the same bounds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def paired_bootstrap(
    a: Sequence[Any],
    b: Sequence[Any],
    iters: int = 1000,
    seed: int = 42,
    aggregate: Callable[[list], float] | None = None,
    alpha: float = 0.05,
) -> dict[str, float]:
    if len(a) != len(b):
        raise ValueError(f"paired bootstrap needs the same items for both models ({len(a)} != {len(b)})")
    if not a:
        return {"delta": float("nan"), "lower": float("nan"), "upper": float("nan")}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(iters, len(a)))
    if aggregate is None:
        diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
        delta, samples = float(diff.mean()), diff[idx].mean(axis=1)
    else:
        delta = aggregate(list(a)) - aggregate(list(b))
        samples = np.array([aggregate([a[i] for i in row]) - aggregate([b[i] for i in row]) for row in idx])
    lower, upper = np.quantile(samples, [alpha, 1 - alpha])
    return {"delta": delta, "lower": float(lower), "upper": float(upper)}
