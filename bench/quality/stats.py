"""Bootstrap confidence intervals over documents, with a fixed seed so every run resamples the same way.

Every statistic of a set uses the same resampled documents (same seed, same size), so the CI of a
difference between two systems is paired: each resample compares them on the same articles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SEED = 0
RESAMPLES = 1000

Statistic = Callable[[np.ndarray], np.ndarray]  # summed counts (..., k) -> statistic (...)


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float

    def show(self, scale: float = 1.0, digits: int = 1) -> str:
        v, lo, hi = (round(x * scale, digits) for x in (self.value, self.low, self.high))
        return f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"

    def show_signed(self, scale: float = 1.0, digits: int = 1) -> str:
        v, lo, hi = (x * scale for x in (self.value, self.low, self.high))
        return f"{v:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]"


def resamples(n: int) -> np.ndarray:
    """(RESAMPLES, n) document indices drawn with replacement; the same for every call with the same n."""
    return np.random.default_rng(SEED).integers(0, n, size=(RESAMPLES, n))


def _estimate(value: float, resampled: np.ndarray) -> Estimate:
    low, high = np.percentile(resampled, [2.5, 97.5])
    return Estimate(float(value), float(low), float(high))


def mean_ci(values: np.ndarray) -> Estimate:
    """Mean of per-document values with a 95% percentile bootstrap CI."""
    values = np.asarray(values, dtype=float)
    return _estimate(values.mean(), values[resamples(len(values))].mean(axis=1))


def paired_difference(a: np.ndarray, b: np.ndarray) -> Estimate:
    """Mean of a - b with a CI from resampling the same documents for both systems."""
    return mean_ci(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))


def pooled_ci(counts: np.ndarray, statistic: Statistic) -> Estimate:
    """A statistic of counts summed over documents (micro-averaged), e.g. F1 from (tp, fp, fn) per document;
    `counts` has one row per document."""
    counts = np.asarray(counts, dtype=float)
    resampled = counts[resamples(len(counts))].sum(axis=1)
    return _estimate(statistic(counts.sum(axis=0)), statistic(resampled))


def pooled_difference(a: np.ndarray, b: np.ndarray, statistic: Statistic) -> Estimate:
    """statistic(a) - statistic(b) over the same resampled documents (both have one row per document)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    index = resamples(len(a))
    value = statistic(a.sum(axis=0)) - statistic(b.sum(axis=0))
    return _estimate(value, statistic(a[index].sum(axis=1)) - statistic(b[index].sum(axis=1)))


def ratio(hits: np.ndarray, total: np.ndarray) -> np.ndarray:
    """hits / total, 0 where total is 0 (works on scalars and arrays)."""
    hits, total = np.asarray(hits, dtype=float), np.asarray(total, dtype=float)
    return np.divide(hits, total, out=np.zeros_like(hits), where=total > 0)


def f1(hits: np.ndarray, system: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """F1 = 2PR / (P + R) with P = hits/system and R = hits/gold, i.e. 2 hits / (system + gold)."""
    return ratio(2 * np.asarray(hits, dtype=float), np.asarray(system) + np.asarray(gold))
