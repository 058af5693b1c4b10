"""scikit-learn's own estimator checks on `TableClassifier` / `TableRegressor` with numeric
input (arrays become tables of numbers), at a small epoch budget as scikit-learn's own suite
lowers `max_iter`. Two checks cannot hold for a mini-batch network with a validation split, and
say why; every other check must pass."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from kerasact.sklearn import TableClassifier, TableRegressor

EXPECTED = {
    "check_sample_weight_equivalence_on_dense_data":
        "a weighted row is not a repeated one: the validation split and the mini-batches see rows, not weights",
    "check_methods_sample_order_invariance":
        "a float32 model: a row's output may move by ~1e-7 with its position in the batch's matmul",
}


@parametrize_with_checks([TableClassifier(epochs=12, random_state=0), TableRegressor(epochs=12, random_state=0)],
                         expected_failed_checks=lambda estimator: EXPECTED)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
