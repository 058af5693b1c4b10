"""Label smoothing for integer labels equals Keras's dense rule on one-hot labels, keeps its head
and its config, and refuses bad smoothing values."""

import keras
import numpy as np
import pytest

from kerasact.model.losses import SmoothedSparseCategoricalCrossentropy
from kerasact.problems.reading import head_of, loss_key

RNG = np.random.default_rng(0)
LABELS = np.array([0, 2, 1, 2, 0])
LOGITS = RNG.normal(size=(5, 3)).astype("float32")
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(axis=1, keepdims=True)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 0.35])
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("shape", [(5,), (5, 1)])
def test_equals_dense_categorical_crossentropy_on_one_hot_labels(label_smoothing, from_logits, shape):
    y_pred = LOGITS if from_logits else PROBS
    weights = np.array([1.0, 0.5, 2.0, 0.0, 1.0])
    dense = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing, from_logits=from_logits)
    sparse = SmoothedSparseCategoricalCrossentropy(label_smoothing, from_logits=from_logits)
    want = float(dense(np.eye(3)[LABELS], y_pred, sample_weight=weights))
    got = float(sparse(LABELS.reshape(shape), y_pred, sample_weight=weights))
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_matches_the_formula_and_plain_sparse_loss_at_zero():
    targets = 0.9 * np.eye(3)[LABELS] + 0.1 / 3  # pytabkit LabelSmoothingLayer: (1 - eps) y + eps / K
    want = -(targets * np.log(PROBS)).sum(axis=1)
    got = SmoothedSparseCategoricalCrossentropy(0.1, reduction=None)(LABELS, PROBS)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5)
    plain = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, LOGITS)
    np.testing.assert_allclose(float(SmoothedSparseCategoricalCrossentropy(0.0, from_logits=True)(LABELS, LOGITS)),
                               float(plain), rtol=1e-6)


def test_config_round_trip_and_the_head_reader():
    loss = SmoothedSparseCategoricalCrossentropy(0.2, from_logits=True)
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(again) is SmoothedSparseCategoricalCrossentropy
    assert again.get_config() == loss.get_config()
    assert loss.get_config()["label_smoothing"] == 0.2
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", SmoothedSparseCategoricalCrossentropy(0.1))
    assert head_of(model).head.name == "multiclass"
    assert loss_key(model) == "sparse_categorical_crossentropy"


@pytest.mark.parametrize("bad", [-0.1, 1.5, "0.1", True, None])
def test_bad_label_smoothing_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="label_smoothing"):
        SmoothedSparseCategoricalCrossentropy(bad)
