"""The one reader of built models: head, compiled loss, output activation, built/compiled checks
and the functional view, read the same way whichever form Keras keeps the loss in."""

import doctest

import keras
import numpy as np
import pytest

from kerasact import HEADS, build_model
from kerasact.problems import (
    activation_of,
    compiled_loss,
    functional_view,
    head_of,
    loss_config,
    loss_key,
    reading,
    require_built,
    require_compiled,
)

LOSS_FORMS = {  # how Keras keeps a loss after compile(loss=...)
    "string": lambda option, name: name,
    "object": lambda option, name: option.make(),
    "function": lambda option, name: keras.losses.get(name) if option.labels == "values" else None,
}


def _plain(units: int, activation: str) -> keras.Model:
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(units, activation=activation)], name="plain")


@pytest.mark.parametrize("form", sorted(LOSS_FORMS))
@pytest.mark.parametrize("problem", sorted(HEADS))
def test_every_head_loss_reads_back_whichever_form_keras_keeps_it_in(problem, form):
    head = HEADS[problem]
    units = head.units(head.default_count or 3)
    for name, option in head.losses.items():
        loss = LOSS_FORMS[form](option, name)
        if loss is None:  # probability losses are passed as objects or names, not bare functions
            continue
        model = _plain(units, head.activation)
        model.compile(loss=loss)
        info = head_of(model)
        assert (info.head.name, info.loss, info.units) == (problem, name, units)
        assert loss_key(model) == name and info.labels == option.labels


def test_uncompiled_models_are_read_from_their_output_activation():
    assert head_of(_plain(4, "softmax")).head.name == "multiclass"
    assert head_of(_plain(1, "sigmoid")).head.name == "binary"
    assert head_of(_plain(2, None)).head.name == "regression"
    assert loss_key(_plain(2, None)) is None and loss_config(_plain(2, None)) == {}


def test_logits_models_report_from_logits_and_a_linear_output():
    model = build_model("multiclass", 3, n_classes=4, logits=True)
    info = head_of(model)
    assert info.from_logits and loss_config(model)["from_logits"] is True
    assert activation_of(model.layers[-1]).name == "linear"


def test_unknown_losses_are_a_value_error_naming_the_model():
    model = _plain(1, None)
    model.compile(loss=lambda y, p: (y - p) ** 4)
    with pytest.raises(ValueError, match="Cannot tell the problem type of model 'plain'"):
        head_of(model)
    assert loss_key(model) is None


def test_require_built_and_compiled_name_the_model_and_the_fix():
    unbuilt = keras.Sequential([keras.layers.Dense(1)], name="unbuilt")
    with pytest.raises(ValueError, match=r"'unbuilt'\) must be built: start it with keras.Input"):
        require_built(unbuilt)
    with pytest.raises(ValueError, match=r"'plain'\) must be compiled with a loss.*model.compile\(loss=...\)"):
        require_compiled(_plain(1, None))
    model = _plain(1, None)
    model.compile(loss="mse")
    assert require_compiled(model) == "mse" and compiled_loss(model).__name__ == "mean_squared_error"


def test_functional_view_is_uncompiled_and_shares_the_weights():
    model = build_model("binary", 3, hidden=[4])
    view = functional_view(model)
    assert not view.compiled and view.weights[0] is model.weights[0]
    X = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    np.testing.assert_array_equal(np.asarray(view(X)), np.asarray(model(X)))


def test_custom_activation_functions_have_no_catalog_row():
    def wiggle(x):
        return x + keras.ops.sin(x)

    assert activation_of(keras.layers.Dense(2, activation=wiggle)) is None
    assert activation_of(keras.layers.Dropout(0.1)) is None


def test_doctests():
    assert doctest.testmod(reading, extraglobs={"keras": keras}).failed == 0
