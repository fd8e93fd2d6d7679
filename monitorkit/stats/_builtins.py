"""The built-in drift methods: one declarative table, registered on ``import monitorkit.stats``.

Defaults: tests flag drift when their p-value is below 0.05; distances flag drift when
the statistic is at or above a literature-standard value (PSI 0.2; 0.1 for the bounded
distances and for Wasserstein / energy in reference-std units). The report layer builds
its overall decision rule (effect size and corrected significance) on top of these.
"""

from __future__ import annotations

import math

from monitorkit.stats import categorical, numeric
from monitorkit.stats._registry import register_method

_NUMERIC = frozenset({"numeric"})
_COUNTS = frozenset({"categorical", "boolean"})
_ALL = _NUMERIC | _COUNTS
_BINARY = frozenset({"boolean"})
INF = math.inf

_TEST = dict(default_threshold=0.05, threshold_on="p_value", drift_when="below")


def _distance(threshold: float) -> dict:
    return dict(default_threshold=threshold, threshold_on="statistic", drift_when="above")


_BUILTINS = [
    # ---- numeric ---------------------------------------------------------------------
    dict(
        name="ks",
        label="Kolmogorov–Smirnov",
        kinds=_NUMERIC,
        numeric_func=numeric.ks,
        statistic_range=(0.0, 1.0),
        **_TEST,
        description="Largest gap between the reference and current cumulative distributions "
        "(0.1 = at some value, the share of rows below it moved by 10 points); "
        "drift when its test's p-value is small.",
    ),
    dict(
        name="wasserstein",
        label="Wasserstein distance (normed)",
        kinds=_NUMERIC,
        numeric_func=numeric.wasserstein,
        statistic_range=(0.0, INF),
        **_distance(0.1),
        description="How far values moved on average, in reference standard deviations "
        "(earth mover's distance / reference std).",
    ),
    dict(
        name="energy",
        label="Energy distance (normed)",
        kinds=_NUMERIC,
        numeric_func=numeric.energy,
        statistic_range=(0.0, INF),
        **_distance(0.1),
        description="Energy distance between the samples standardised by the reference std; "
        "0 when identical, about 0.75 × the shift for a small shift in std units.",
    ),
    dict(
        name="anderson",
        label="Anderson–Darling (k-sample)",
        kinds=_NUMERIC,
        numeric_func=numeric.anderson,
        statistic_range=(-INF, INF),
        **_TEST,
        description="Tail-sensitive test that the two samples share one distribution; "
        "its p-value is capped to [0.001, 0.25].",
    ),
    dict(
        name="cramer_von_mises",
        label="Cramér–von Mises",
        kinds=_NUMERIC,
        numeric_func=numeric.cramer_von_mises,
        statistic_range=(0.0, INF),
        **_TEST,
        description="Test on the integrated squared gap between the two cumulative "
        "distributions; drift when its p-value is small.",
    ),
    dict(
        name="t_test",
        label="Welch's t-test",
        kinds=_NUMERIC,
        numeric_func=numeric.t_test,
        statistic_range=(-INF, INF),
        **_TEST,
        description="Test for a change in mean; t > 0 means the current mean is higher.",
    ),
    dict(
        name="mann_whitney",
        label="Mann–Whitney U",
        kinds=_NUMERIC,
        numeric_func=numeric.mann_whitney,
        statistic_range=(0.0, 1.0),
        **_TEST,
        description="Probability that a random current value exceeds a random reference value "
        "(0.5 = no shift); drift when the rank test's p-value is small.",
    ),
    dict(
        name="empirical_mmd",
        label="Maximum mean discrepancy",
        kinds=_NUMERIC,
        numeric_func=numeric.empirical_mmd,
        statistic_range=(0.0, 2.0),
        cost="expensive",
        **_TEST,
        description="Kernel distance (MMD², Gaussian kernel) sensitive to any change of shape; "
        "permutation-test p-value on subsamples of 1000 rows.",
    ),
    # ---- numeric (reference-quantile bins) and categorical -------------------------------
    dict(
        name="psi",
        label="Population stability index",
        kinds=_ALL,
        numeric_func=numeric.psi,
        counts_func=categorical.psi,
        statistic_range=(0.0, INF),
        **_distance(0.2),
        description="Symmetrised change in the share of each category (numeric: of each "
        "reference decile); < 0.1 stable, 0.1–0.2 moderate, >= 0.2 significant shift.",
    ),
    dict(
        name="jensen_shannon",
        label="Jensen–Shannon distance",
        kinds=_ALL,
        numeric_func=numeric.jensen_shannon,
        counts_func=categorical.jensen_shannon,
        statistic_range=(0.0, 1.0),
        **_distance(0.1),
        description="Distance between the category (numeric: reference-decile) distributions, "
        "0 = identical, 1 = nothing in common (base 2).",
    ),
    dict(
        name="hellinger",
        label="Hellinger distance",
        kinds=_ALL,
        numeric_func=numeric.hellinger,
        counts_func=categorical.hellinger,
        statistic_range=(0.0, 1.0),
        **_distance(0.1),
        description="Distance between the category (numeric: reference-decile) distributions, "
        "0 = identical, 1 = nothing in common.",
    ),
    dict(
        name="kl_div",
        label="Kullback–Leibler divergence",
        kinds=_ALL,
        numeric_func=numeric.kl_div,
        counts_func=categorical.kl_div,
        statistic_range=(0.0, INF),
        **_distance(0.1),
        description="Information lost describing current data with the reference distribution "
        "(nats); large when current has mass where the reference had little.",
    ),
    # ---- categorical and boolean --------------------------------------------------------
    dict(
        name="chi2",
        label="Chi-square test",
        kinds=_COUNTS,
        counts_func=categorical.chi2,
        statistic_range=(0.0, INF),
        **_TEST,
        description="Test that category shares are the same in reference and current "
        "(rare categories pooled); drift when its p-value is small.",
    ),
    dict(
        name="z",
        label="Two-proportion z-test",
        kinds=_BINARY,
        counts_func=categorical.z,
        statistic_range=(-INF, INF),
        **_TEST,
        description="Test for a change in the share of True; z > 0 means True became "
        "more frequent.",
    ),
    dict(
        name="fisher_exact",
        label="Fisher's exact test",
        kinds=_BINARY,
        counts_func=categorical.fisher_exact,
        statistic_range=(0.0, INF),
        **_TEST,
        description="Exact test for a change in the share of True, for small samples; the "
        "statistic is the odds ratio (1 = no change).",
    ),
    dict(
        name="tvd",
        label="Total variation distance",
        kinds=_COUNTS,
        counts_func=categorical.tvd,
        statistic_range=(0.0, 1.0),
        **_distance(0.1),
        description="Share of rows that would have to change category to match the "
        "reference (0.1 = 10 %).",
    ),
    dict(
        name="l_infinity",
        label="L-infinity distance",
        kinds=_COUNTS,
        counts_func=categorical.l_infinity,
        statistic_range=(0.0, 1.0),
        **_distance(0.1),
        description="Largest change in any single category's share (0.1 = 10 percentage points).",
    ),
]

# replace=True: re-importing this module (importlib.reload, IPython autoreload) must not fail.
for _spec in _BUILTINS:
    register_method(**_spec, replace=True)
