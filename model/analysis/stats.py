"""Interval estimates for ensembles: Wilson intervals, quantile bands, paired differences, Kaplan-Meier.

All functions are pure numpy on arrays of replicate values; they are what the tests check
against hand-computed answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

Z95 = 1.959963984540054


def wilson(successes: float, n: int, z: float = Z95) -> tuple[float, float, float]:
    """Proportion with its Wilson score interval (well-behaved at 0 and 1)."""
    if n <= 0:
        return float("nan"), float("nan"), float("nan")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return float(p), float(max(0.0, centre - half)), float(min(1.0, centre + half))


def bands(matrix: np.ndarray, qs: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)) -> dict[float, np.ndarray]:
    """Quantiles across replicates (axis 1) at each step (axis 0), ignoring NaN."""
    values = np.nanquantile(matrix, qs, axis=1)
    return {q: values[i] for i, q in enumerate(qs)}


@dataclass(frozen=True)
class Difference:
    """Mean difference (scenario minus reference) with its 95% interval."""

    mean: float
    low: float
    high: float
    unpaired_low: float
    unpaired_high: float
    n: int

    @property
    def distinguishable(self) -> bool:
        """True when the interval excludes zero (the difference is not Monte Carlo noise)."""
        return bool(self.low > 0 or self.high < 0)

    @property
    def narrowing(self) -> float:
        """Unpaired interval width over paired width (how much pairing helped)."""
        paired = self.high - self.low
        unpaired = self.unpaired_high - self.unpaired_low
        if paired <= 0:
            return float("inf") if unpaired > 0 else 1.0
        return unpaired / paired


def paired_difference(a: np.ndarray, b: np.ndarray, z: float = Z95) -> Difference:
    """Difference of means of paired observations b - a (common random numbers).

    Replicates where either value is NaN (an event that never happened) are dropped
    from both. The unpaired interval treats the samples as independent, to show how
    much narrower pairing makes the estimate.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    n = len(a)
    if n < 2:
        return Difference(float("nan"), float("nan"), float("nan"), float("nan"), float("nan"), n)
    d = b - a
    mean = float(d.mean())
    se = float(d.std(ddof=1) / np.sqrt(n))
    se_u = float(np.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n))
    return Difference(mean, mean - z * se, mean + z * se, mean - z * se_u, mean + z * se_u, n)


def unpaired_difference(a: np.ndarray, b: np.ndarray, z: float = Z95) -> Difference:
    """Difference of means b - a of two independent samples (sizes may differ), normal interval.

    Used when runs do not share their random numbers (different master seeds), so no
    replicate pairs exist; the paired fields then repeat the unpaired interval.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        nan = float("nan")
        return Difference(nan, nan, nan, nan, nan, min(len(a), len(b)))
    mean = float(b.mean() - a.mean())
    se = float(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)))
    lo, hi = mean - z * se, mean + z * se
    return Difference(mean, lo, hi, lo, hi, min(len(a), len(b)))


def _margins_phi(both: int, first: int, second: int, neither: int) -> float:
    """Newcombe's correlation estimate for a paired 2x2 table, with his correction toward zero.

    phi = (ad - bc) / sqrt(product of the four margins), where ad - bc is reduced by n/2 when it
    exceeds n/2, set to 0 when it lies in [0, n/2] and kept when negative (Newcombe 1998, method 10;
    Fagerland, Lydersen and Laake 2014 call it the square-and-add interval). 0 when a margin is empty.
    """
    n = both + first + second + neither
    margins = [both + first, second + neither, both + second, first + neither]
    if min(margins) == 0:
        return 0.0
    a = both * neither - first * second
    root = float(np.sqrt(np.prod(np.asarray(margins, dtype=float))))
    if a > n / 2:
        return (a - n / 2) / root
    if a >= 0:
        return 0.0
    return a / root


def newcombe_paired(a: np.ndarray, b: np.ndarray, z: float = Z95) -> tuple[float, float, float]:
    """Difference of two paired proportions, P(b) - P(a), with Newcombe's hybrid score interval.

    ``a`` and ``b`` hold 0/1 per replicate (the reference and the scenario, replicate r of each
    driven by the same random numbers). Newcombe (1998, "Improved confidence intervals for the
    difference between binomial proportions based on paired data", method 10) combines the two
    Wilson intervals at ``z`` with the pairs' correlation. Unlike the normal interval of a mean
    difference it never leaves [-1, 1] (a change from 0% to 100% reads [+98.7, +100] points,
    never +100.1) and behaves at 0 and 100%. ``z`` carries the multiple-comparison correction.
    Replicates where either value is NaN are dropped.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok] > 0.5, b[ok] > 0.5
    n = int(len(a))
    if n == 0:
        nan = float("nan")
        return nan, nan, nan
    both = int(np.sum(a & b))
    scen_only = int(np.sum(b & ~a))
    ref_only = int(np.sum(a & ~b))
    neither = n - both - scen_only - ref_only
    p1, l1, u1 = wilson(both + scen_only, n, z)  # the scenario
    p2, l2, u2 = wilson(both + ref_only, n, z)  # the reference
    phi = _margins_phi(both, scen_only, ref_only, neither)
    d = p1 - p2
    dl1, du1, dl2, du2 = p1 - l1, u1 - p1, p2 - l2, u2 - p2
    low = d - float(np.sqrt(max(0.0, dl1**2 + du2**2 - 2 * phi * dl1 * du2)))
    high = d + float(np.sqrt(max(0.0, dl2**2 + du1**2 - 2 * phi * dl2 * du1)))
    return float(d), max(-1.0, low), min(1.0, high)


def newcombe_unpaired(a: np.ndarray, b: np.ndarray, z: float = Z95) -> tuple[float, float, float]:
    """Difference of two independent proportions, P(b) - P(a), with Newcombe's hybrid score interval.

    Newcombe (1998, "Interval estimation for the difference between independent proportions",
    method 10): the square-and-add of the two Wilson intervals; inside [-1, 1] like the paired one.
    Used when the runs share no random numbers (different master seeds) and for the appendix.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)] > 0.5, b[np.isfinite(b)] > 0.5
    if len(a) == 0 or len(b) == 0:
        nan = float("nan")
        return nan, nan, nan
    p1, l1, u1 = wilson(float(b.sum()), len(b), z)
    p2, l2, u2 = wilson(float(a.sum()), len(a), z)
    d = p1 - p2
    low = d - float(np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2))
    high = d + float(np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2))
    return float(d), max(-1.0, low), min(1.0, high)


def mean_interval(values: np.ndarray, z: float = Z95) -> tuple[float, float, float]:
    """Mean of the finite values with its normal interval (the statistic reports give continuous outcomes)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        nan = float("nan")
        return nan, nan, nan
    m = float(v.mean())
    if len(v) < 2:
        return m, float("nan"), float("nan")
    half = z * float(v.std(ddof=1)) / float(np.sqrt(len(v)))
    return m, m - half, m + half


def bonferroni_z(tests: int, level: float = 0.95) -> float:
    """Normal quantile of two-sided intervals that hold simultaneously over ``tests`` comparisons.

    Bonferroni: each interval is built at level 1 - (1 - level) / tests, so the chance that
    any of them misses its true difference is at most 1 - level. A report that tests 54
    outcome-scenario differences at once uses z = 3.31 instead of 1.96; with one test it is
    the ordinary 1.96.
    """
    if tests < 1:
        raise ValueError("tests must be at least 1")
    alpha = (1.0 - level) / tests
    return float(NormalDist().inv_cdf(1.0 - alpha / 2.0))


def kaplan_meier(times: np.ndarray, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """Share of replicates in which the event has NOT happened by each time.

    ``times`` holds the event week per replicate, NaN where it did not happen by the
    horizon (right-censored there). Every replicate is followed to the same horizon, so
    the estimator reduces to one minus the empirical CDF; returned as a step function
    (time points, survival just after each).
    """
    t = np.asarray(times, dtype=float)
    n = len(t)
    events = np.sort(t[np.isfinite(t) & (t <= horizon)])
    xs = [0.0]
    ys = [1.0]
    at_risk = n
    for u in np.unique(events):
        d = int(np.sum(events == u))
        ys.append(ys[-1] * (1 - d / at_risk) if at_risk else ys[-1])
        xs.append(float(u))
        at_risk -= d
    xs.append(float(horizon))
    ys.append(ys[-1])
    return np.array(xs), np.array(ys)


VERDICTS = ("meaningful", "detectable but small", "noise")


def verdict(low: float, high: float, smallest: float) -> str:
    """Classify a difference's 95% interval against the outcome's smallest meaningful difference.

    Three words, shared by the compare report, sweeps and the app, so a reader meets one scale:
    "meaningful" when the whole interval lies beyond +/- ``smallest`` (the catalog's declared
    smallest difference an analyst would act on), "detectable but small" when it excludes zero
    but not that threshold, and "noise" when it contains zero (or is undefined).
    """
    if not (np.isfinite(low) and np.isfinite(high)):
        return "noise"
    if low >= smallest or high <= -smallest:
        return "meaningful"
    if low > 0 or high < 0:
        return "detectable but small"
    return "noise"
