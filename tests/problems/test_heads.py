"""The head table: every row builds a model whose output, loss and metrics agree."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kerasact
from kerasact import HEADS, build_model, head_of, predict
from kerasact.problems.heads import get as get_head

N, D = 16, 5
COUNT = {"regression": 2, "binary": 2, "multiclass": 4, "multilabel": 3}


def _model(problem, **kw):
    count = COUNT[problem]
    key = "n_outputs" if HEADS[problem].count in ("targets", "labels") else "n_classes"
    return build_model(problem, D, hidden=[8], seed=1, **{key: count}, **kw)


def _labels(problem, loss_labels, rng):
    """Labels in the format a loss expects, and the same labels as a dense target matrix."""
    units = _model(problem).output_shape[-1]
    if loss_labels == "values":
        y = rng.normal(size=(N, units)).astype("float32")
        return y, y
    if loss_labels in ("binary", "multi_hot"):
        y = rng.integers(0, 2, size=(N, units)).astype("float32")
        return y, y
    idx = rng.integers(0, units, size=N)
    dense = np.eye(units, dtype="float32")[idx]
    return (idx if loss_labels == "sparse" else dense), dense


@pytest.mark.parametrize("problem", sorted(HEADS))
def test_every_row_builds_the_declared_output(problem):
    head = HEADS[problem]
    model = _model(problem)
    out = model.predict(np.random.default_rng(0).normal(size=(N, D)) * 5, verbose=0)
    expected_units = head.fixed_units or COUNT[problem]
    assert out.shape == (N, expected_units)
    assert np.all(np.isfinite(out))
    assert model.layers[-1].activation.__name__ == head.activation
    assert type(model.loss) is head.losses[head.default_loss].cls
    if head.activation == "sigmoid":
        assert out.min() >= 0.0 and out.max() <= 1.0
    if head.activation == "softmax":
        np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)
    labels = head.losses[head.default_loss].labels
    y, _ = _labels(problem, labels, np.random.default_rng(1))
    logs = model.evaluate(np.zeros((N, D)), y, verbose=0, return_dict=True)
    assert set(logs) == {"loss"} | {m.name for m in head.metrics(False, labels)}


@pytest.mark.parametrize("problem", sorted(HEADS))
def test_default_loss_is_the_canonical_pair_of_the_output_activation(problem):
    """The oracle that catches a wrong activation/loss pairing in the table.

    For the matched pairs (linear + squared error, sigmoid + binary cross-entropy,
    softmax + categorical cross-entropy) the gradient of the loss with respect to the
    head's pre-activation z is proportional to (output - target). Any mismatched pair
    (e.g. softmax + binary cross-entropy, sigmoid + MSE) breaks that identity.
    """
    rng = np.random.default_rng(0)
    model = _model(problem)
    head = HEADS[problem]
    y, dense = _labels(problem, head.losses[head.default_loss].labels, rng)
    X = rng.normal(size=(N, D)).astype("float32")
    body = keras.Sequential(model.layers[:-1])
    last = model.layers[-1]
    z = tf.Variable(body(X) @ last.kernel + last.bias)
    with tf.GradientTape() as tape:
        out = last.activation(z)
        loss = model.loss(y, out)
    grad = tape.gradient(loss, z).numpy().ravel()
    residual = (out.numpy() - dense).ravel()
    scale = grad @ residual / (residual @ residual)
    assert scale > 0
    np.testing.assert_allclose(grad, scale * residual, atol=1e-6)


@pytest.mark.parametrize(
    "problem,loss", [(p, loss) for p, row in sorted(HEADS.items()) for loss in row.losses]
)
def test_every_valid_loss_compiles_and_trains_one_step(problem, loss):
    model = _model(problem, loss=loss)
    head = HEADS[problem]
    assert type(model.loss) is head.losses[loss].cls
    y, _ = _labels(problem, head.losses[loss].labels, np.random.default_rng(1))
    X = np.random.default_rng(2).normal(size=(N, D)).astype("float32")
    logs = model.train_on_batch(X, y, return_dict=True)
    assert np.isfinite(logs["loss"])


@pytest.mark.parametrize("problem", sorted(p for p, row in HEADS.items() if row.probabilistic))
def test_logits_form_is_linear_with_from_logits_loss_and_predicts_probabilities(problem):
    plain, stable = _model(problem), _model(problem, logits=True)
    assert stable.layers[-1].activation.__name__ == "linear"
    assert stable.loss.get_config()["from_logits"] is True
    assert head_of(stable).from_logits and not head_of(plain).from_logits
    stable.set_weights(plain.get_weights())
    X = np.random.default_rng(3).normal(size=(N, D)).astype("float32")
    np.testing.assert_allclose(predict(stable, X), predict(plain, X), atol=1e-6)
    yp, _ = _labels(problem, HEADS[problem].losses[HEADS[problem].default_loss].labels, np.random.default_rng(4))
    np.testing.assert_allclose(stable.evaluate(X, yp, verbose=0)[0], plain.evaluate(X, yp, verbose=0)[0], rtol=1e-4)


@pytest.mark.parametrize("problem", sorted(HEADS))
def test_head_of_reads_the_row_back(problem):
    assert head_of(_model(problem)).head is HEADS[problem]


@pytest.mark.parametrize("alias,name", [("Multi-Class", "multiclass"), ("BINARY", "binary"),
                                        (" regression ", "regression"), ("multi_label", "multilabel")])
def test_get_normalises_problem_identifiers(alias, name):
    assert get_head(alias) is HEADS[name]


def test_public_table_is_the_one_the_builder_reads():
    assert kerasact.HEADS is HEADS
    assert set(HEADS) == {"regression", "binary", "multiclass", "multilabel"}
