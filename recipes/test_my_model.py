"""
Title: Checking your model with pytest
Description: An example test file for a kerasact model: copy it next to your code, point
`build` at your model and `data` at a slice of your data, and run `pytest`.

Installing kerasact registers its pytest plugin, so the `kerasact_*` fixtures need no
conftest.py and the assertions import from `kerasact.testing`. Each assertion fails with
what it expected, what it found and the likely cause.

The project's own test run does not collect this file (its testpaths are ["tests"]);
tests/test_testing.py runs a copy of it through a fresh pytest process.
"""

"""
## Setup
"""

import keras
import pytest

import kerasact
from kerasact.testing import (
    assert_can_overfit,
    assert_finite,
    assert_gradients_match,
    assert_initial_loss,
    assert_matches_reference,
    assert_output_contract,
    assert_tensorboard_logged,
    assert_weights_update,
)

PROBLEM = "multiclass"
N_CLASSES = 3
FEATURES = 4
HIDDEN = (16, 8)

"""
## The data and the model under test
"""


@pytest.fixture(scope="module")
def data(kerasact_dataset):
    """A tiny deterministic dataset; use a slice of your own (X, y) here instead."""
    return kerasact_dataset(PROBLEM, n=64, features=FEATURES, count=N_CLASSES)


@pytest.fixture
def model(kerasact_seed, data):
    """A fresh, untrained model for every test (kerasact_seed makes its weights repeatable)."""
    X, _ = data
    return kerasact.build_model(PROBLEM, FEATURES, n_classes=N_CLASSES, hidden=HIDDEN, normalize=X)


"""
## Before training: the model is wired correctly
"""


def test_outputs_are_class_probabilities(model, data):
    X, _ = data
    assert_output_contract(model, X)  # shape (n, 3), in [0, 1], rows sum to 1, softmax head


def test_keras_agrees_with_the_numpy_reference(model, data):
    X, _ = data
    assert_matches_reference(model, X)


def test_gradients_agree_with_finite_differences(model, data):
    X, y = data
    assert_gradients_match(model, X[:8], y[:8])  # float64 central differences: keep the batch small


def test_initial_loss_is_chance_level(model, data):
    X, y = data
    assert_initial_loss(model, X, y)  # about ln 3 for three classes


def test_every_weight_moves_in_one_step(model, data):
    X, y = data
    assert_weights_update(model, X, y)


def test_can_overfit_a_tiny_batch(model, data):
    X, y = data
    assert_can_overfit(model, X[:16], y[:16])


"""
## After training: finite weights, and TensorBoard got the scalars
"""


def test_training_stays_finite_and_logs_to_tensorboard(model, data, kerasact_run_dir):
    X, y = data
    model.fit(X[:48], y[:48], validation_data=(X[48:], y[48:]), epochs=2, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(log_dir=kerasact_run_dir, write_graph=False)])
    assert_finite(model, X)
    assert_tensorboard_logged(kerasact_run_dir, ["epoch_loss", "epoch_accuracy", "validation/epoch_loss"])
