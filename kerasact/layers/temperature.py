"""`Temperature`: a classifier's probabilities recalibrated by one temperature fitted on the
validation rows after training (temperature scaling, Guo et al., "On Calibration of Modern
Neural Networks", ICML 2017, §4.2): `softmax(log p / T)` (or `sigmoid(logit p / T)` for one unit),
then mixed with the uniform distribution at weight 1/(n + 1) for n validation rows — "ts-mix",
the Laplace-smoothed temperature scaling pytabkit recommends (`probmetrics/calibrators.py`:
`TemperatureScalingCalibrator` inside `MixtureCalibrator(output_constant=1)`; Berta, Holzmüller
et al., "Rethinking Early Stopping: Refine, Then Calibrate", 2025), so a validation set the model
gets all right cannot make it certain.

Label smoothing (RealMLP-TD's 0.1) lowers a network's error but caps its confidence, so its
log-loss suffers most where it is right most (a 32-class table at 100% accuracy scores ≥ 0.10);
without smoothing a small table's network is overconfident instead. One scalar, chosen by the
validation log-loss, fixes either without moving any prediction's argmax: accuracy is unchanged.

T is the MAP estimate under a standard normal prior on log T (`PRIOR_SD`), with the mix inside
the likelihood. When every validation row is classified right the likelihood alone falls for ever
as T → 0, and the plain fit made each probability 0 or 1 up to the mix: then one wrong test row
costs ln(k(n + 1)) nats. On split seed 0 of the development tables (`benchmarks/tables_suite.py`)
that happened on breast_cancer (T = 0.0014), wine, penguins and leaf (T ≈ 0.015), and the prior
took the geometric-mean log-loss from 1.127× HistGradientBoosting's to 1.007× (leaf 0.028 → 0.009,
penguins 0.086 → 0.066, breast_cancer 0.224 → 0.193); on a table of a thousand validation rows the
prior moves T by well under 1%.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from scipy import special
from scipy.optimize import minimize_scalar

from kerasact._errors import check_choice

LINKS = ("sigmoid", "softmax")
EPS = 1e-7                        # probabilities clipped away from 0 and 1 before the log (float32)
BOUNDS = (-8.0, 8.0)  # log T searched in [e^-8, e^8] (probmetrics bisects log 1/T in [-16, 16])
PRIOR_SD = 1.0  # log T ~ N(0, 1): a priori T within a factor e of 1; worth about one validation row


def temperature_numpy(p: np.ndarray, temperature: float, link: str, mix: float = 0.0) -> np.ndarray:
    """`Temperature` in numpy (float64).

    Example:
        >>> temperature_numpy(np.array([[0.2, 0.8]]), 1.0, "softmax").round(6).tolist()
        [[0.2, 0.8]]
    """
    p = np.clip(np.asarray(p, np.float64), EPS, 1.0 - EPS)
    t = float(np.asarray(temperature).reshape(-1)[0])
    m = float(np.asarray(mix).reshape(-1)[0])
    if link == "sigmoid":
        return (1.0 - m) * special.expit((np.log(p) - np.log1p(-p)) / t) + m / 2.0  # no overflow at small T
    z = np.log(p) / t
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return (1.0 - m) * z / z.sum(axis=-1, keepdims=True) + m / p.shape[-1]


def fit_temperature(p: np.ndarray, y: np.ndarray, link: str, sample_weight: np.ndarray | None = None, *,
                    mix: float = 0.0, prior_sd: float | None = PRIOR_SD) -> float:
    """The temperature minimising the (weighted) log-loss of `p`, mixed with the uniform
    distribution at weight `mix`, against the labels `y` (class indices for softmax; a 0/1 column
    per sigmoid unit), plus `(log T)² / (2 prior_sd²)`: the MAP estimate under a normal prior on
    log T (None: no prior, the maximum-likelihood T). The weights are scaled to sum to the row
    count, so the prior weighs the same whatever their unit. Searched on a log scale in [e^-8, e^8].

    Example:
        >>> fit_temperature(np.array([[0.7], [0.3], [0.8], [0.6]]), np.array([1, 0, 1, 0]), "sigmoid") < 1.0
        True
    """
    p = np.asarray(p, np.float64)
    y = np.asarray(y).reshape(len(p), -1).astype(np.int64)  # sigmoid: a 0/1 column per unit; softmax: the class
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64).reshape(-1)
    w = w * (len(w) / w.sum())
    penalty = 0.0 if prior_sd is None else 0.5 / float(prior_sd) ** 2

    def loss(log_t: float) -> float:
        q = temperature_numpy(p, np.exp(log_t), link, mix)
        picked = np.where(y == 1, q, 1.0 - q) if link == "sigmoid" else q[np.arange(len(y)), y[:, 0]][:, None]
        nll = -(w[:, None] * np.log(np.clip(picked, 1e-300, None))).sum()  # T near 0: p rounds to 0
        return float(nll + penalty * log_t ** 2)

    return float(np.exp(minimize_scalar(loss, bounds=BOUNDS, method="bounded").x))


@keras.saving.register_keras_serializable(package="kerasact")
class Temperature(keras.layers.Layer):
    """Probabilities in, probabilities out: `softmax(log p / T)` or `sigmoid(logit p / T)`, mixed
    with the uniform distribution at weight `mix`; T = 1 and mix = 0 (the identity) until `fit`
    sets them. The ranking of the classes never changes.

    Args:
        link: `"softmax"` (several classes) or `"sigmoid"` (one unit per label; one T for all).

    Input shape: (n, k) probabilities. Output shape: (n, k).

    Example:
        >>> layer = Temperature("softmax")
        >>> layer.fit(np.array([[0.9, 0.1], [0.8, 0.2]]), np.array([0, 0]))
        >>> float(layer.temperature.numpy()) < 1.0
        True
    """

    def __init__(self, link: str = "softmax", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.link = check_choice("link", link, LINKS)

    def build(self, input_shape: Any) -> None:
        self.temperature = self.add_weight(name="temperature", shape=(), initializer="ones", trainable=False)
        self.mix = self.add_weight(name="mix", shape=(), initializer="zeros", trainable=False)

    def fit(self, probabilities: Any, labels: Any, sample_weight: Any = None) -> None:
        """Set the uniform mix to 1/(n + 1) for the n validation rows, then T (`fit_temperature`,
        the MAP estimate) from the model's probabilities on them (before this layer) and their labels."""
        if not self.built:
            self.build(np.shape(probabilities))
        mix = 1.0 / (len(probabilities) + 1.0)
        self.temperature.assign(fit_temperature(probabilities, labels, self.link, sample_weight, mix=mix))
        self.mix.assign(mix)

    def call(self, p: Any) -> Any:
        p = keras.ops.clip(keras.ops.cast(p, self.compute_dtype), EPS, 1.0 - EPS)
        t = keras.ops.cast(self.temperature, self.compute_dtype)
        m = keras.ops.cast(self.mix, self.compute_dtype)
        if self.link == "sigmoid":
            return (1.0 - m) * keras.ops.sigmoid((keras.ops.log(p) - keras.ops.log1p(-p)) / t) + m / 2.0
        k = keras.ops.cast(keras.ops.shape(p)[-1], self.compute_dtype)
        return (1.0 - m) * keras.ops.softmax(keras.ops.log(p) / t, axis=-1) + m / k

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "link": self.link}

    def numpy_call(self, p: np.ndarray) -> np.ndarray:
        """`self(p)` in numpy (float64)."""
        return temperature_numpy(p, self.temperature.numpy(), self.link, self.mix.numpy())
