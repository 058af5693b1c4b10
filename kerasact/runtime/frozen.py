"""`serve(model)`: a frozen numpy copy of a dense model's forward pass, for rows one at a time.

`kerasact.predict` calls the model's compiled TensorFlow function, ~60 µs a call on the
benchmark CPU, nearly all of it TensorFlow's dispatch: the arithmetic of one row through a
64 → 128 → 64 → 10 MLP is ~5 µs of numpy. `serve` copies the weights into numpy once and
runs small batches through them; batches of more than `NUMPY_MAX_ROWS` rows (fewer for a
wide model: `NUMPY_MAX_FLOPS`) go to the
compiled function of a clone holding the same frozen weights, where TensorFlow's
multi-threaded kernels win (`benchmarks/bench.py`, "(d)", measures the crossover).

The copy is a snapshot: it does not follow later training or `set_weights` (reading the
live variables costs ~25 µs each, more than the whole forward pass). Call `serve` again
after changing the model; `kerasact.predict` always reads the live weights.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from kerasact import activations
from kerasact import layers as twins
from kerasact.inputs import validate
from kerasact.problems import head_of
from kerasact.runtime.prediction import outputs

# Where numpy stops beating the compiled function (one 2-core benchmark CPU, float32, µs a
# call, numpy vs kerasact.predict): 64 → 128 → 64 → 10: 1 row 22 vs 111, 64 rows 60 vs 161,
# 128 rows 218 vs 181; 256 → 512 → 512 → 10: 1 row 58 vs 252, 32 rows 551 vs 591, 64 rows
# 812 vs 665. So numpy up to 64 rows and 2.5e7 forward FLOPs a call (~31 rows of the wider).
NUMPY_MAX_ROWS = 64
NUMPY_MAX_FLOPS = 2.5e7
EPSILON = 1e-7  # keras.backend.epsilon(), the floor of Normalization's standard deviation

Step = Callable[[np.ndarray], np.ndarray]


def _activation(identifier: Any, layer: keras.layers.Layer) -> Step | None:
    try:
        row = activations.get(identifier)
    except (ValueError, TypeError):
        raise ValueError(f"serve() cannot run layer {layer.name!r}: its activation {identifier!r} is not in "
                         f"kerasact's catalog ({', '.join(sorted(activations.CATALOG))}).") from None
    if row.name in activations.KERAS_DEVIATIONS:  # numpy would compute the definition, predict Keras's
        raise ValueError(f"serve() cannot run layer {layer.name!r}: Keras computes {row.name} differently from its "
                         f"definition ({activations.KERAS_DEVIATIONS[row.name].split(':')[0]}), so numpy and "
                         "kerasact.predict would disagree. Use kerasact.predict for this model.")
    return None if row.name == "linear" else row.fn


def _dense(layer: keras.layers.Dense, dtype: np.dtype) -> list[Step]:
    weights = [np.asarray(w, dtype) for w in layer.get_weights()]
    if len(weights) != 1 + layer.use_bias:  # LoRA adapters or quantised kernels change the maths
        raise ValueError(f"serve() runs plain float Dense layers; {layer.name!r} has {len(weights)} weight "
                         "arrays (LoRA or quantisation?). Use kerasact.predict for it.")
    kernel, bias = weights[0], (weights[1] if layer.use_bias else np.zeros(weights[0].shape[1], dtype))
    act = _activation(layer.get_config().get("activation"), layer)
    return [lambda x: x @ kernel + bias] + ([_cast(act, dtype)] if act else [])


def _cast(fn: Step, dtype: np.dtype) -> Step:
    # The catalog computes in float64 (no overflow warnings); the model's precision comes back.
    return lambda x: fn(x).astype(dtype, copy=False)


def _affine(scale: np.ndarray, shift: np.ndarray, dtype: np.dtype) -> list[Step]:
    scale, shift = np.asarray(scale, dtype), np.asarray(shift, dtype)
    return [lambda x: x * scale + shift]


def _normalization(layer: keras.layers.Normalization, dtype: np.dtype) -> list[Step]:
    mean, var = (np.asarray(v, np.float64).reshape(-1) for v in (layer.mean, layer.variance))
    std = np.maximum(np.sqrt(var), EPSILON)  # Keras divides by max(sqrt(var), eps)
    if layer.invert:
        return _affine(std, mean, dtype)
    return _affine(1.0 / std, -mean / std, dtype)


def _batch_norm(layer: keras.layers.BatchNormalization, dtype: np.dtype) -> list[Step]:
    mean, var = (np.asarray(v, np.float64) for v in (layer.moving_mean, layer.moving_variance))
    gamma = np.asarray(layer.gamma, np.float64) if layer.scale else np.ones_like(mean)
    beta = np.asarray(layer.beta, np.float64) if layer.center else np.zeros_like(mean)
    scale = gamma / np.sqrt(var + layer.epsilon)
    return _affine(scale, beta - mean * scale, dtype)


def _rescaling(layer: keras.layers.Rescaling, dtype: np.dtype) -> list[Step]:
    return _affine(layer.scale, layer.offset, dtype)


def _activation_layer(layer: keras.layers.Activation, dtype: np.dtype) -> list[Step]:
    fn = _activation(layer.get_config()["activation"], layer)
    return [_cast(fn, dtype)] if fn else []


def _identity(layer: keras.layers.Layer, dtype: np.dtype) -> list[Step]:
    return []  # InputLayer, and dropout/noise layers: identities at inference


def _twin(fn: Callable[..., np.ndarray], dtype: np.dtype, *weights: Any, **options: Any) -> list[Step]:
    """A kerasact layer's numpy twin (`kerasact.layers`) with its weights read once, cast back to `dtype`."""
    frozen = [None if w is None else np.asarray(w, np.float64) for w in weights]
    return [_cast(lambda x: fn(x, *frozen, **options), dtype)]


# Layer class name -> the numpy steps it freezes into (read once, at `serve` time).
FREEZERS: dict[str, Callable[[Any, np.dtype], list[Step]]] = {
    "InputLayer": _identity, "Dropout": _identity, "AlphaDropout": _identity, "GaussianDropout": _identity,
    "GaussianNoise": _identity, "ActivityRegularization": _identity,
    "Dense": _dense, "Normalization": _normalization, "BatchNormalization": _batch_norm, "Rescaling": _rescaling,
    "Activation": lambda layer, dtype: _activation_layer(layer, dtype),
    # kerasact's own layers (the presets' stack), each through its numpy twin
    "ScheduledDropout": _identity,
    "NTKDense": lambda layer, dtype: _twin(twins.ntk_dense_numpy, dtype, layer.kernel, layer.bias),
    "ParametricActivation": lambda layer, dtype: _twin(twins.parametric_activation_numpy, dtype, layer.alpha,
                                                       activation=layer.activation),
    "FeatureScale": lambda layer, dtype: _twin(twins.feature_scale_numpy, dtype, layer.scale),
    "ClipRange": lambda layer, dtype: _twin(twins.clip_range_numpy, dtype, layer.low, layer.high),
    "Temperature": lambda layer, dtype: _twin(twins.temperature_numpy, dtype, layer.temperature,
                                                       link=layer.link, mix=float(layer.mix.numpy())),
}


def _steps(model: keras.Model, dtype: np.dtype) -> list[Step]:
    steps: list[Step] = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in ("Sequential", "Functional"):  # a nested chain
            steps += _steps(layer, dtype)
        elif kind in FREEZERS:
            steps += FREEZERS[kind](layer, dtype)
        else:
            raise ValueError(f"serve() cannot run layer {layer.name!r} of type {kind}; it runs "
                             f"{', '.join(sorted(FREEZERS))}. Use kerasact.predict for this model.")
    return steps


def _all_layers(model: keras.Model) -> list[keras.layers.Layer]:
    return [inner for layer in model.layers
            for inner in ([layer, *_all_layers(layer)] if isinstance(layer, keras.Model) else [layer])]


def finalize_states(model: keras.Model) -> None:
    """After assigning weights by hand (`set_weights`, `assign`), let layers that cache state derived
    from their variables rebuild it, as Keras's `load_weights` does: an adapted `Normalization`
    computes with `mean`/`variance` copied from its variables only in `finalize_state`.

    Example:
        >>> finalize_states(model)  # doctest: +SKIP
    """
    for layer in _all_layers(model):
        if hasattr(layer, "finalize_state"):
            layer.finalize_state()


class Predictor:
    """The frozen forward pass `serve` returns; call it on rows as `kerasact.predict`.

    Attributes:
        n_features_in_: the columns each row must have.
        dtype: the precision it computes in (the model's: float32, or float64).
    """

    def __init__(self, model: keras.Model) -> None:
        if not isinstance(model, keras.Model):
            raise TypeError(f"model must be a keras.Model (e.g. from kerasact.build_model); "
                            f"got {type(model).__name__}.")
        if not model.built or len(model.inputs) != 1 or len(model.inputs[0].shape) != 2:
            raise ValueError(f"serve() takes a built model with one (batch, features) input; {model.name!r} has "
                             f"{'none' if not model.built else model.inputs}. Use kerasact.predict for table models.")
        self.n_features_in_ = int(model.inputs[0].shape[-1])
        self.dtype = np.dtype("float64" if str(model.inputs[0].dtype) == "float64" else "float32")
        self._steps = _steps(model, self.dtype)  # a layer it cannot run is refused before the head is read
        info = head_of(model)
        if info.from_logits:  # predict's contract: probabilities, whatever the model outputs
            self._steps.append(_cast(activations.get(info.head.activation).fn, self.dtype))
        self._model, self._clone = model, None
        self._weights = [np.array(w) for w in model.get_weights()]
        kernels = [w for w in self._weights if w.ndim == 2]
        self._numpy_rows = max(1, min(NUMPY_MAX_ROWS, int(NUMPY_MAX_FLOPS // max(1, sum(2 * w.size for w in kernels)))))

    def __call__(self, X: Any) -> np.ndarray:
        """Probabilities (classifiers) or values (regression) for `X`, shape `(n, units)`."""
        X = validate(X).X
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features (columns) but the model expects {self.n_features_in_} "
                             "(its input_dim); pass the columns it was built with, in the same order.")
        if len(X) > self._numpy_rows:
            return self._compiled(X)
        x = X.astype(self.dtype, copy=False)
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow gives inf/nan, as Keras's does, silently
            for step in self._steps:
                x = step(x)
        return x

    def _compiled(self, X: np.ndarray) -> np.ndarray:
        if self._clone is None:  # the same frozen weights, in a model nobody trains
            self._clone = keras.models.clone_model(self._model)
            self._clone.set_weights(self._weights)
            finalize_states(self._clone)
            self._info, self._model = head_of(self._model), None  # the snapshot no longer needs the live model
        return outputs(self._clone, X.astype(self.dtype, copy=False), self._info)


def serve(model: keras.Model) -> Predictor:
    """Freeze `model`'s forward pass into numpy for fast small-batch predictions.

    Equal to `kerasact.predict(model, X)` at the time of the call (to 1e-5 in float32): one
    row in ~20 µs where `predict` takes ~110 µs (and scikit-learn's `predict_proba` ~95 µs).
    Batches over `NUMPY_MAX_ROWS` rows (or `NUMPY_MAX_FLOPS` of work) run compiled instead.

    Args:
        model: a built dense model (Dense, Normalization, BatchNormalization, Rescaling,
            Activation and dropout layers, as `kerasact.build_model` makes).

    Returns:
        A `Predictor`: call it on `(n, features)` rows.

    Raises:
        ValueError: the model has a layer or activation it cannot run in numpy (the message
            lists what it can), or table inputs; `kerasact.predict` runs those.

    Example:
        >>> predictor = serve(build_model("binary", 4))
        >>> predictor(np.zeros((1, 4))).shape
        (1, 1)
    """
    return Predictor(model)
