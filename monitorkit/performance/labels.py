"""Labels and predictions as aligned arrays, the task they describe, and late labels joined in.

Task inference (``task=None``): a prediction whose values are lists (list, tuple or array:
the items recommended, best first) is ``ranking``. Otherwise from the target's non-missing
values: a boolean column, one with exactly two distinct values, or a 0/1 column (even with
one class only) is ``binary``; other numeric columns are ``regression``; other (text /
categorical) columns are ``multiclass``.

Binary encoding: booleans and 0/1 numbers as they are (1 / True positive); text
true/yes/t/y/1 positive when every value is such a word or its opposite
(false/no/f/n/0); otherwise the larger of the two values (sorted as text) is positive.

Predicted labels: the ``prediction_label`` column when the spec has one; else, for a binary
target, a numeric ``prediction`` is a score and ``score >= threshold`` the predicted label
(a non-numeric prediction is a label, with no score); for multiclass, the prediction as text.

NaN policy: rows without a label are *unlabelled* (they count for label coverage only); rows
with a label but a missing or non-numeric prediction (or score) are *dropped* from the metrics
and counted.

Multiclass scores (``class_scores={class: column}``, from ``ColumnSpec.class_scores``): the
rows × classes matrix of the model's per-class probabilities, its columns in the order of
the prepared ``classes`` — the sorted union of the labelled target's classes and the declared
ones. Every class of the labelled target needs a column, and every column must hold numbers in
[0, 1] (else :class:`~monitorkit.errors.InputError`, naming the column). A row with a missing
score of any class keeps its predicted label (it stays *usable*) and is left out of the
score-based metrics only (``roc_auc``, ``average_precision``, ``log_loss``, ``brier``).
Declaring more than two classes makes the inferred task ``multiclass`` (a window may hold
only two of them, and classes may be numbered); with two, the task is inferred as above and
``class_scores`` is used only if it is ``multiclass``.

Ranking: the target is the clicked item, or a list of clicked items; a missing target (or an
empty list) means *no click*, which is an outcome, so every row is labelled. Rows whose
prediction is missing (not a list) are dropped. The arrays hold, per row, the position of
the first clicked item in the list and the hits among the first positions (see
:class:`~monitorkit.performance.metrics.LabelArrays`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitorkit.errors import ColumnNotFoundError, InputError
from monitorkit.performance.metrics import TASKS, LabelArrays, ranking_depth
from monitorkit.schema import list_names, numeric_values, read_frame

_TRUE_WORDS = {"true", "yes", "t", "y", "1"}
_FALSE_WORDS = {"false", "no", "f", "n", "0"}


@dataclass(frozen=True, eq=False)
class PreparedLabels:
    """Per-row arrays of a whole frame: labels, predictions, scores and which rows are usable."""

    task: str
    y_true: np.ndarray
    y_pred: np.ndarray
    y_score: np.ndarray | None
    labelled: np.ndarray  # bool per row: the target is there
    usable: np.ndarray  # bool per row: labelled and a prediction (and binary score) is there
    classes: tuple[str, ...] = ()
    # y_score of a multiclass target: None, or rows × classes (NaN where a score is missing).

    def arrays(self, rows: np.ndarray) -> LabelArrays:
        """The usable rows among ``rows`` (positions) as :class:`LabelArrays`."""
        rows = rows[self.usable[rows]]
        score = None if self.y_score is None else self.y_score[rows]
        classes = self.classes if self.task == "multiclass" else ()
        return LabelArrays(self.task, self.y_true[rows], self.y_pred[rows], score, classes)


_LIST_TYPES = (list, tuple, np.ndarray)


def _holds_lists(values: pd.Series | None, look: int = 20) -> bool:
    """Whether the first ``look`` present values are lists of items (not text)."""
    if values is None:
        return False
    if isinstance(values.dtype, pd.ArrowDtype) and "list" in str(values.dtype):
        return True
    if values.dtype != object:
        return False
    present = [v for v in values.head(10_000).tolist() if _present(v)][:look]
    return bool(present) and all(isinstance(v, _LIST_TYPES) for v in present)


def _present(value: object) -> bool:
    if isinstance(value, _LIST_TYPES):
        return True
    return not (value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA)


def infer_task(target: pd.Series, prediction: pd.Series | None = None) -> str | None:
    """``ranking`` when ``prediction`` holds lists, else ``binary``, ``multiclass`` or
    ``regression`` from the target's values (module docstring); None when there is no label
    at all."""
    if _holds_lists(prediction):
        return "ranking"
    present = target.dropna()
    if present.empty:
        return None
    if pd.api.types.is_bool_dtype(target.dtype) or present.nunique() == 2:
        return "binary"
    if pd.api.types.is_numeric_dtype(target.dtype) and set(present.unique()) <= {0, 1}:
        return "binary"  # a 0/1 column that happens to hold one class
    if pd.api.types.is_numeric_dtype(target.dtype):
        return "regression"
    return "multiclass"


def _positive_of(values: pd.Series) -> object | None:
    """The positive class of a two-valued non-boolean column (module docstring)."""
    present = values.dropna()
    if pd.api.types.is_bool_dtype(values.dtype):
        return True
    if pd.api.types.is_numeric_dtype(values.dtype):
        return 1 if set(present.unique()) <= {0, 1} else present.max()
    words = set(present.astype(str).str.strip().str.lower())
    if words <= _TRUE_WORDS | _FALSE_WORDS:
        return "__truthy__"
    return sorted(present.astype(str).unique())[-1] if len(present) else None


def _binary(values: pd.Series, positive: object) -> np.ndarray:
    """0/1 floats (NaN where missing) with ``positive`` as 1."""
    missing = values.isna().to_numpy()
    if positive == "__truthy__":
        hits = values.astype("string").str.strip().str.lower().isin(_TRUE_WORDS)
    elif pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        numbers, _ = numeric_values(values)
        hits = pd.Series(numbers == float(positive))
    else:
        hits = values.astype("string") == str(positive)
    out = hits.fillna(False).to_numpy(dtype=float)
    out[missing] = np.nan
    return out


def with_declared_classes(task: str | None, class_scores: Mapping[str, str] | None) -> str | None:
    """An inferred ``binary`` or ``regression`` task is ``multiclass`` when ``class_scores``
    declares more than two classes: a window may hold two of them, and numbered classes
    (0, 1, 2) read as a regression target. Shared by the pandas and the Dask path."""
    if task in ("binary", "regression") and class_scores and len(class_scores) > 2:
        return "multiclass"
    return task


def prepare_labels(
    frame: pd.DataFrame,
    target: str,
    prediction: str | None,
    prediction_label: str | None = None,
    *,
    task: str | None = None,
    threshold: float = 0.5,
    positive: object | None = None,
    class_scores: Mapping[str, str] | None = None,
) -> PreparedLabels | None:
    """Aligned per-row arrays of ``frame`` (module docstring); None when no row has a label
    or the task cannot be told (no prediction). ``positive``: the binary target's positive
    class when it was found on more rows than ``frame`` (one partition of a larger frame);
    found from ``frame``'s target by default. ``class_scores``: ``{class: column}`` of a
    multiclass model's per-class probabilities (module docstring); ignored for other tasks."""
    if task is not None and task not in TASKS:
        raise InputError(f"task must be one of {', '.join(TASKS)} or None; got {task!r}.")
    truth = frame[target]
    if prediction is None and prediction_label is None:
        return None
    predicted_column = prediction if prediction in frame.columns else prediction_label
    inferred = task is None
    task = task or infer_task(
        truth, frame[predicted_column] if predicted_column in frame.columns else None
    )
    if inferred:
        task = with_declared_classes(task, class_scores)
    if task is None:
        return None
    if task == "ranking":
        return _prepare_ranking(truth, frame[predicted_column])
    labelled = truth.notna().to_numpy()
    label_column = prediction_label if prediction_label in frame.columns else None
    score = None
    if task == "regression":
        y_true, _ = numeric_values(truth)
        y_pred, _ = numeric_values(frame[prediction or label_column])
        usable = np.isfinite(y_true) & np.isfinite(y_pred)
        return PreparedLabels(task, y_true, y_pred, None, labelled, usable)
    if task == "binary":
        positive = _positive_of(truth) if positive is None else positive
        y_true = _binary(truth, positive)
        if prediction is not None and prediction in frame.columns:
            scores, _ = numeric_values(frame[prediction])
            if pd.api.types.is_numeric_dtype(frame[prediction].dtype) or np.isfinite(scores).any():
                score = scores
        if label_column is not None:
            y_pred = _binary(frame[label_column], positive)
        elif score is not None:
            y_pred = np.where(np.isfinite(score), (score >= threshold).astype(float), np.nan)
        else:
            values = frame[prediction]
            known = set(truth.dropna().astype("string")) | {"True", "False", "0", "1"}
            found = set(values.dropna().astype("string").unique()[:50])
            if found and not found & known:
                raise InputError(
                    f"prediction column '{prediction}' holds neither scores nor the target's "
                    f"classes (found {', '.join(map(repr, sorted(found)[:4]))}); declare the "
                    "right column with ColumnSpec(prediction=…) or prediction_label=…."
                )
            y_pred = _binary(values, positive)
        usable = np.isfinite(y_true) & np.isfinite(y_pred)
        if score is not None:
            usable &= np.isfinite(score)
        return PreparedLabels(
            task,
            np.nan_to_num(y_true).astype(np.int64),
            np.nan_to_num(y_pred).astype(np.int64),
            score,
            labelled,
            usable,
            classes=("0", "1"),
        )
    y_true = truth.astype("string").to_numpy(dtype=object, na_value=None)
    predicted = frame[label_column or prediction].astype("string")
    y_pred = predicted.to_numpy(dtype=object, na_value=None)
    usable = labelled & predicted.notna().to_numpy()
    classes = tuple(sorted({str(v) for v in y_true[labelled]}))
    y_true = np.where(labelled, y_true, "").astype(str)
    y_pred = np.where(predicted.notna().to_numpy(), y_pred, "").astype(str)
    score = None
    if class_scores:
        classes = tuple(sorted(set(classes) | {str(c) for c in class_scores}))
        score = _class_score_matrix(frame, target, classes, class_scores)
    return PreparedLabels(task, y_true, y_pred, score, labelled, usable, classes=classes)


def _class_score_matrix(
    frame: pd.DataFrame,
    target: str,
    classes: tuple[str, ...],
    class_scores: Mapping[str, str],
) -> np.ndarray:
    """The rows × ``classes`` probability matrix of ``class_scores`` (module docstring),
    checked: every class has a column, each numeric, within [0, 1]."""
    class_scores = {str(c): column for c, column in class_scores.items()}
    lacking = [c for c in classes if c not in class_scores]
    if lacking:
        shown = ", ".join(repr(c) for c in lacking[:5])
        raise InputError(
            f"target '{target}' has class(es) {shown} without a score column in "
            f"class_scores (declared for: {', '.join(map(repr, sorted(class_scores)))}); add "
            f"each, e.g. ColumnSpec(class_scores={{..., {lacking[0]!r}: '<its probability "
            "column>'}), or leave class_scores out for label-only metrics."
        )
    matrix = np.empty((len(frame), len(classes)))
    for k, cls in enumerate(classes):
        column = class_scores[cls]
        if column not in frame.columns:
            raise ColumnNotFoundError(
                f"class_scores names '{column}' as the probability of class '{cls}', but the "
                f"data has no such column (it has: {list_names(frame.columns, near=column)}); "
                "fix the name in ColumnSpec(class_scores=…)."
            )
        values = frame[column]
        numbers, invalid = numeric_values(values)
        if not pd.api.types.is_numeric_dtype(values.dtype) or invalid:
            examples = values[values.notna() & ~np.isfinite(numbers)].astype(str).unique()[:3]
            raise InputError(
                f"class score column '{column}' (class '{cls}') must hold probabilities "
                f"(numbers in [0, 1]); it is {values.dtype} with values such as "
                f"{', '.join(map(repr, examples)) or 'none that are numbers'}; convert it "
                "(e.g. pd.to_numeric) or fix ColumnSpec(class_scores=…)."
            )
        outside = np.isfinite(numbers) & ((numbers < 0) | (numbers > 1))
        if outside.any():
            raise InputError(
                f"class score column '{column}' (class '{cls}') has {int(outside.sum()):,} "
                f"value(s) outside [0, 1] (e.g. {numbers[outside][0]:g}); class scores must "
                "be probabilities — pass the model's predict_proba output, not logits or "
                "decision values."
            )
        matrix[:, k] = numbers
    return matrix


def _prepare_ranking(truth: pd.Series, shown: pd.Series) -> PreparedLabels:
    """Ranking arrays (module docstring): first-hit positions and cumulative hits."""
    depth = ranking_depth()
    lists = shown.to_numpy(dtype=object)
    n = lists.size
    is_list = np.fromiter((isinstance(v, _LIST_TYPES) for v in lists), bool, n)
    if not is_list.any() and n:
        raise InputError(
            f"prediction column '{shown.name}' holds no lists, but the task is 'ranking': "
            "each row's prediction must be the list of items shown, best first."
        )
    lengths = np.fromiter((len(v) if ok else 0 for v, ok in zip(lists, is_list)), np.int64, n)
    row_of = np.repeat(np.arange(n), lengths)
    starts = np.cumsum(lengths) - lengths
    position = np.arange(int(lengths.sum())) - np.repeat(starts, lengths)  # 0-based
    items = np.empty(int(lengths.sum()), dtype=object)
    items[:] = [item for v, ok in zip(lists, is_list) if ok for item in v]
    clicks = truth.to_numpy(dtype=object)
    if any(isinstance(v, (*_LIST_TYPES, set, frozenset)) for v in clicks):
        clicked = [
            set(v)
            if isinstance(v, (*_LIST_TYPES, set, frozenset))
            else {v}
            if _present(v)
            else set()
            for v in clicks
        ]
        hit = np.fromiter(
            (item in clicked[row] for item, row in zip(items, row_of)), bool, items.size
        )
    else:
        present = np.fromiter((_present(v) for v in clicks), bool, n)
        hit = np.zeros(items.size, dtype=bool)
        keep = present[row_of]
        hit[keep] = np.asarray(items[keep] == clicks[row_of[keep]], dtype=bool)
    hits = np.flatnonzero(hit)
    first = np.zeros(n, dtype=np.int64)
    rows_hit, first_of_row = np.unique(row_of[hits], return_index=True)
    first[rows_hit] = position[hits[first_of_row]] + 1
    within = hits[position[hits] < depth]
    cumulative = np.zeros((n, depth), dtype=np.int64)
    np.add.at(cumulative, (row_of[within], position[within]), 1)
    cumulative = np.cumsum(cumulative, axis=1)
    labelled = np.ones(n, dtype=bool)  # no click is an outcome too
    return PreparedLabels("ranking", first, cumulative, None, labelled, is_list)


def confusion_counts(arrays: LabelArrays, classes: tuple[str, ...]) -> tuple[tuple[int, ...], ...]:
    """Counts of (true class row, predicted class column) over ``classes`` (binary: 0, 1)."""
    if arrays.task in ("regression", "ranking") or not classes:
        return ()
    if arrays.task == "binary":
        y_true, y_pred = arrays.y_true, arrays.y_pred
        return tuple(
            tuple(int(((y_true == t) & (y_pred == p)).sum()) for p in (0, 1)) for t in (0, 1)
        )
    return tuple(
        tuple(int(((arrays.y_true == t) & (arrays.y_pred == p)).sum()) for p in classes)
        for t in classes
    )


def join_labels(
    predictions: pd.DataFrame,
    labels: pd.DataFrame,
    on: str = "request_id",
) -> pd.DataFrame:
    """Left-join ``labels`` that arrived later onto ``predictions`` by the key ``on``.

    Every prediction row is kept, in its order; rows without a label get missing values in
    the label columns (so the performance report counts them as unlabelled). Columns of
    ``labels`` that ``predictions`` already has (other than the key) replace them where the
    label is there and keep the prediction's value elsewhere — so a target column that is
    empty at prediction time is filled in.

    Parameters
    ----------
    predictions
        The prediction log (anything :func:`monitorkit.read_frame` reads).
    labels
        The labels, one row per key.
    on
        The key column, in both.

    Raises
    ------
    ColumnNotFoundError
        ``on`` is missing from either side.
    InputError
        ``labels`` has the same key more than once (the duplicates are named).

    Examples
    --------
    >>> import pandas as pd
    >>> predictions = pd.DataFrame({"request_id": ["a", "b", "c"], "score": [0.9, 0.2, 0.7]})
    >>> labels = pd.DataFrame({"request_id": ["c", "a"], "label": [0, 1]})
    >>> join_labels(predictions, labels)["label"].tolist()
    [1.0, nan, 0.0]
    """
    predictions = read_frame(predictions, name="predictions")
    labels = read_frame(labels, name="labels")
    for frame, name in ((predictions, "predictions"), (labels, "labels")):
        if on not in frame.columns:
            shown = ", ".join(repr(str(c)) for c in list(frame.columns)[:8])
            raise ColumnNotFoundError(
                f"key column '{on}' is not in {name} ({name} has: {shown}); pass on=… with "
                "the column that identifies a prediction in both frames."
            )
    duplicated = labels[on][labels[on].duplicated(keep=False)]
    if len(duplicated):
        examples = ", ".join(repr(v) for v in pd.unique(duplicated)[:5])
        raise InputError(
            f"labels has {duplicated.nunique():,} key(s) in '{on}' more than once (e.g. "
            f"{examples}); keep one label per key (e.g. labels.drop_duplicates('{on}', "
            "keep='last')) before joining."
        )
    overlap = [c for c in labels.columns if c != on and c in predictions.columns]
    try:
        joined = predictions.merge(
            labels, on=on, how="left", suffixes=("", "__label"), validate="many_to_one", sort=False
        )
    except ValueError as exc:  # keys of kinds that cannot be compared (text and numbers)
        raise InputError(
            f"the key '{on}' is {predictions[on].dtype} in predictions but {labels[on].dtype} "
            f"in labels, so no key can match ({exc}); convert one side, e.g. "
            f"labels['{on}'] = labels['{on}'].astype(str)."
        ) from None
    if len(labels) and len(predictions) and not predictions[on].isin(labels[on]).any():
        warnings.warn(
            f"none of the {len(labels):,} labels' keys in '{on}' matches a prediction (e.g. "
            f"labels {labels[on].iloc[0]!r}, predictions {predictions[on].iloc[0]!r}): every "
            "row stays unlabelled. Are they keys of the same requests, of the same type?",
            UserWarning,
            stacklevel=2,
        )
    for column in overlap:
        arrived = joined[f"{column}__label"]
        joined[column] = arrived.where(arrived.notna(), joined[column])
        joined = joined.drop(columns=f"{column}__label")
    joined.index = predictions.index
    return joined
