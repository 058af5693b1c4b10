"""The label format table: one row per kind of `y`, and every row of `HEADS` covered by it.

Walks `HEADS` x label formats, so a new head row or a new loss with a new label format fails
here until its format row exists and each field of it works on that head's labels.
"""

from typing import get_args

import numpy as np
import pytest

from kerasact.data import DATASETS, LabelCodec, Problem
from kerasact.inputs import LABEL_FORMATS, Expect, label_formats
from kerasact.problems import HEADS, LabelFormat
from kerasact.testing import make_dataset

COUNT = {"regression": 2, "binary": 2, "multiclass": 3, "multilabel": 3}
HEAD_FORMATS = sorted({(problem, option.labels) for problem, head in HEADS.items()
                       for option in head.losses.values()})


def test_every_label_format_has_one_row_and_every_row_is_used_by_a_head():
    used = {fmt for _, fmt in HEAD_FORMATS}
    assert set(LABEL_FORMATS) == set(get_args(LabelFormat)) == used
    assert all(row.name == name for name, row in LABEL_FORMATS.items())


def test_the_datasets_problem_type_lists_every_head():
    # data sits below the head table in the import order, so it keeps its own Literal
    assert set(get_args(Problem)) == set(HEADS)
    assert {info.problem for info in DATASETS.values()} <= set(HEADS)


@pytest.mark.parametrize(("problem", "fmt"), HEAD_FORMATS)
def test_each_field_of_the_row_works_on_that_heads_labels(problem, fmt):
    head, row = HEADS[problem], LABEL_FORMATS[fmt]
    units = head.units(COUNT[problem])
    X, y = make_dataset(problem, count=COUNT[problem], labels=fmt, n=48)
    scores = X @ np.random.default_rng(0).standard_normal((X.shape[1], units))
    # the fixture's labels are already in the format, so conversion keeps them as they are
    converted, codec = row.convert(np.asarray(y), Expect(head, fmt, units, encode=True))
    np.testing.assert_array_equal(np.asarray(converted, np.float64).reshape(len(y), -1),
                                  np.asarray(y, np.float64).reshape(len(y), -1))
    # one class per sample exactly when a codec names the classes
    assert (row.classes is None) == (codec is None)
    if row.classes is not None:
        ids = row.classes(converted)
        assert ids.shape == (len(y),) and set(ids.tolist()) == set(range(codec.n_classes))
    dense = row.as_outputs(converted, units)
    assert dense.shape == (len(y), units)
    probs = 1 / (1 + np.exp(-scores)) if row.family == "binary" else scores
    if row.family == "categorical":
        probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    metrics, figures = row.score(converted, probs.astype(np.float32), codec)
    assert all(np.isfinite(v) for v in metrics.values())
    assert all(hasattr(draw(), "savefig") for draw in figures.values())  # drawn only when asked


@pytest.mark.parametrize(("fmt", "family"), [("values", "values"), ("binary", "binary"),
                                             ("multi_hot", "binary"), ("sparse", "categorical"),
                                             ("one_hot", "categorical")])
def test_loss_families_group_formats_by_what_the_loss_expects_of_the_output(fmt, family):
    assert LABEL_FORMATS[fmt].family == family


def test_scores_match_scikit_learn_on_a_known_case():
    y = np.array([[0.0], [1.0], [1.0], [0.0]], np.float32)
    p = np.array([[0.1], [0.8], [0.2], [0.3]], np.float32)
    metrics, figures = LABEL_FORMATS["binary"].score(y, p, LabelCodec(["no", "yes"]))
    log_loss = -np.mean(np.log([0.9, 0.8, 0.2, 0.7]))  # the held-out cross-entropy, by hand
    assert metrics == {"roc_auc": 0.75, "log_loss": pytest.approx(log_loss, rel=1e-6)}
    assert set(figures) == {"confusion_matrix", "roc_curve"}


def test_a_class_format_scores_the_held_out_log_loss_of_its_probabilities():
    y, p = np.array([0, 2, 1]), np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.5, 0.25, 0.25]], np.float32)
    metrics, _ = LABEL_FORMATS["sparse"].score(y, p, LabelCodec(["a", "b", "c"]))
    assert metrics["log_loss"] == pytest.approx(-np.mean(np.log([0.7, 0.8, 0.25])), rel=1e-6)


def test_an_unknown_format_is_refused_with_the_valid_options():
    with pytest.raises(ValueError, match=r"labels='onehot' is not a label format\. Valid options: \['binary'"):
        label_formats.get("onehot")
