"""The domain-classifier drift check (opt-in; needs scikit-learn: ``monitorkit[ml]``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from monitorkit.errors import require
from monitorkit.schema import ResolvedSpec
from monitorkit.severity import Severity

AUC_THRESHOLD = 0.55
MAX_ROWS_PER_SIDE = 20_000


def domain_classifier_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: list[str],
    resolved: ResolvedSpec,
    *,
    max_rows: int = MAX_ROWS_PER_SIDE,
    seed: int = 0,
):
    """Train a classifier to tell reference rows from current rows; see DomainClassifierDrift."""
    from monitorkit.drift.results import DomainClassifierDrift

    require("sklearn", "ml", "The domain-classifier drift check")
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(seed)
    sides = []
    for frame in (reference, current):
        rows = rng.choice(len(frame), size=min(len(frame), max_rows), replace=False)
        sides.append(frame.iloc[np.sort(rows)][features])
    pooled = pd.concat(sides, ignore_index=True)
    matrix = pd.DataFrame(index=pooled.index)
    categorical = []
    for column in features:
        kind = resolved[column].kind
        if kind == "numeric":
            matrix[column] = pd.to_numeric(pooled[column], errors="coerce")
        else:
            codes, _ = pd.factorize(pooled[column].astype("string"), use_na_sentinel=True)
            matrix[column] = np.where(codes < 0, np.nan, codes)
            categorical.append(column)
    labels = np.r_[np.zeros(len(sides[0])), np.ones(len(sides[1]))]
    x_train, x_test, y_train, y_test = train_test_split(
        matrix.to_numpy(dtype=float), labels, test_size=1 / 3, random_state=seed, stratify=labels
    )
    classifier = HistGradientBoostingClassifier(
        max_iter=100,
        random_state=seed,
        categorical_features=[features.index(c) for c in categorical] or None,
    )
    classifier.fit(x_train, y_train)
    auc = float(roc_auc_score(y_test, classifier.predict_proba(x_test)[:, 1]))
    se = _hanley_mcneil_se(auc, int((y_test == 1).sum()), int((y_test == 0).sum()))
    importance = permutation_importance(
        classifier, x_test, y_test, scoring="roc_auc", n_repeats=3, random_state=seed
    ).importances_mean
    drifted = auc - 1.96 * se > AUC_THRESHOLD
    severity = Severity.OK
    if drifted:
        severity = Severity.CRITICAL if auc >= 0.75 else Severity.WARNING
    order = np.argsort(-importance)
    return DomainClassifierDrift(
        auc=auc,
        auc_se=se,
        auc_threshold=AUC_THRESHOLD,
        drifted=bool(drifted),
        severity=severity,
        columns=tuple(features[i] for i in order),
        importance=tuple(float(importance[i]) for i in order),
    )


def _hanley_mcneil_se(auc: float, positives: int, negatives: int) -> float:
    """Standard error of an ROC AUC (Hanley & McNeil 1982)."""
    q1 = auc / (2 - auc)
    q2 = 2 * auc**2 / (1 + auc)
    variance = (
        auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)
    ) / (positives * negatives)
    return math.sqrt(max(variance, 0.0))
