"""infer_problem: the documented rule, case by case."""

import numpy as np
import pytest

from kerasact import HEADS, build_model, infer_problem

rng = np.random.default_rng(0)
CASES = [
    # (y, problem, n_classes, n_outputs, one_hot)
    ([0, 1, 1, 0], "binary", 2, None, False),
    ([-1, 1, 1, -1], "binary", 2, None, False),
    ([True, False, True], "binary", 2, None, False),
    (["cat", "dog", "cat"], "binary", 2, None, False),
    ([0.0, 1.0, 1.0], "binary", 2, None, False),
    (np.array([[0], [1], [1]]), "binary", 2, None, False),
    ([0, 1, 2, 3, 2], "multiclass", 4, None, False),
    (["a", "b", "c"], "multiclass", 3, None, False),
    ([1.0, 2.0, 3.0, 3.0], "multiclass", 3, None, False),
    (np.eye(3)[[0, 1, 2, 1]], "multiclass", 3, None, True),
    (np.array([[1, 0, 1], [0, 1, 1], [0, 0, 0]]), "multilabel", None, 3, False),
    ([0.5, 1.7, 3.2], "regression", None, 1, False),
    (np.arange(100, dtype=float), "regression", None, 1, False),  # many whole-number floats: a count
    (rng.normal(size=(10, 3)), "regression", None, 3, False),
    (np.array([[0.2], [1.5], [3.0]]), "regression", None, 1, False),
    (np.arange(50), "multiclass", 50, None, False),  # integers are labels, as in scikit-learn
]


@pytest.mark.parametrize("y,problem,n_classes,n_outputs,one_hot", CASES, ids=[str(i) for i in range(len(CASES))])
def test_infer_problem(y, problem, n_classes, n_outputs, one_hot):
    target = infer_problem(y)
    assert (target.problem, target.n_classes, target.n_outputs, target.one_hot) == (
        problem, n_classes, n_outputs, one_hot)
    assert target.problem in HEADS


@pytest.mark.parametrize("y,problem,n_classes,n_outputs,one_hot", CASES[:12], ids=[str(i) for i in range(12)])
def test_build_kwargs_build_a_matching_model(y, problem, n_classes, n_outputs, one_hot):
    kwargs = infer_problem(y).build_kwargs()
    model = build_model(input_dim=2, hidden=[4], **kwargs)
    assert model.output_shape[-1] == (1 if problem == "binary" else n_classes or n_outputs)
    if one_hot:
        assert type(model.loss).__name__ == "CategoricalCrossentropy"


def test_diabetes_target_reads_as_regression_not_214_classes():
    from sklearn.datasets import load_diabetes

    assert infer_problem(load_diabetes().target).problem == "regression"


@pytest.mark.parametrize(
    "y,match",
    [([1, 1, 1], "single distinct value"), ([], "non-empty"), (np.zeros((2, 2, 2)), "1-D or 2-D"),
     ([0.5, np.nan], "NaN or inf"), (np.array([[0.1, np.inf], [1, 2]]), "NaN or inf"),
     (np.array([["a", "b"], ["c", "d"]]), "must be numeric")],
)
def test_unlearnable_targets_are_refused(y, match):
    with pytest.raises(ValueError, match=match):
        infer_problem(y)
