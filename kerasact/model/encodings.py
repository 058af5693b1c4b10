"""A table's columns → the network's features, one row per encoding, statistics from the training
rows only. `standard` numbers and `one_hot` categories are the plain table model's (per column:
the median for a gap, z-score, a StringLookup one-hot with a missing level); `robust` numbers and
`compact` categories are RealMLP-TD's (Holzmüller et al., NeurIPS 2024; pytabkit
`tfms=['one_hot', 'median_center', 'robust_scale', 'smooth_clip', 'embedding']`): the numbers as one
block, median-centred, IQR-scaled and smooth-clipped (`RobustScale`), optionally PBLD-embedded
(`PeriodicEmbedding`); categories up to 8 levels one-hot (two → one ±1 feature, missing and unseen →
zeros) and robust-scaled like the numbers, above 8 a learned 8-wide embedding. Either way a number
column with gaps in the training rows adds a 0/1 missing indicator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from kerasact.layers import PeriodicEmbedding, RobustScale, SmallOneHot, category_encoder
from kerasact.model import layers as preprocessing
from kerasact.model.spec import ModelSpec
from kerasact.tabular import MISSING, lookup_layer, scale_layer

Column = tuple[str, Any, np.ndarray]  # (layer-safe name, Keras input, the training rows' values)


def _indicators(columns: list[Column]) -> list[Any]:
    return [keras.ops.cast(keras.ops.isnan(x), "float32") for _, x, values in columns if np.isnan(values).any()]


def _standard_numbers(columns: list[Column], spec: ModelSpec) -> list[Any]:
    features = []
    for name, x, values in columns:
        finite = values[~np.isnan(values)]
        median = float(np.median(finite))
        filled = keras.ops.where(keras.ops.isnan(x), median, x)
        mean, variance = preprocessing.statistics(finite.reshape(-1, 1), arg=f"column {name!r}")
        features.append(keras.layers.Normalization(mean=mean, variance=variance, name=scale_layer(name))(filled))
    return features + _indicators(columns)


def _robust_numbers(columns: list[Column], spec: ModelSpec) -> list[Any]:
    block = (keras.layers.Concatenate(name="numbers")([x for _, x, _ in columns]) if len(columns) > 1
             else columns[0][1])
    scale = RobustScale(name="robust_numbers")
    scale.adapt(np.column_stack([values for _, _, values in columns]))
    z = scale(block)
    if spec.numeric_embedding == "periodic":
        z = PeriodicEmbedding(seed=None if spec.seed is None else spec.seed + 2000, name="periodic_numbers")(z)
    return [z, *_indicators(columns)]


def _one_hot(columns: list[Column], spec: ModelSpec) -> list[Any]:
    features = []
    for name, x, values in columns:
        vocabulary = sorted(set(values.tolist()) - {MISSING}) + ([MISSING] if MISSING in values else [])
        features.append(keras.layers.StringLookup(vocabulary=vocabulary, num_oov_indices=1, output_mode="one_hot",
                                                  name=lookup_layer(name))(x))
    return features


def _compact(columns: list[Column], spec: ModelSpec) -> list[Any]:
    features = []
    for i, (name, x, values) in enumerate(columns):
        # A missing value is left out of the vocabulary: it shares code 0 with unseen values (RealMLP's rule).
        lookup = keras.layers.StringLookup(vocabulary=sorted(set(values.tolist()) - {MISSING}) or [MISSING],
                                           num_oov_indices=1, output_mode="int", name=lookup_layer(name))
        seed = None if spec.seed is None else spec.seed + 3000 + i
        encoder = category_encoder(lookup.vocabulary_size() - 1, seed=seed)
        encoded = encoder(lookup(x))
        if isinstance(encoder, SmallOneHot):  # pytabkit robust-scales the one-hot block like the numbers
            scale = RobustScale()
            scale.adapt(encoder.numpy_call(np.asarray(lookup(values.reshape(-1, 1)))))
            encoded = scale(encoded)
        features.append(encoded)
    return features


NUMBERS: dict[str, Callable[[list[Column], ModelSpec], list[Any]]] = {
    "standard": _standard_numbers, "robust": _robust_numbers}
CATEGORIES: dict[str, Callable[[list[Column], ModelSpec], list[Any]]] = {"one_hot": _one_hot, "compact": _compact}


def features(numeric: list[Column], categorical: list[Column], spec: ModelSpec) -> list[Any]:
    """The encoded features of every column, numbers first, by the spec's encodings.

    Example:
        >>> features([("age", age_input, train_ages)], [], ModelSpec("binary", 1))  # doctest: +SKIP
    """
    return ((NUMBERS[spec.numeric_encoding](numeric, spec) if numeric else [])
            + (CATEGORIES[spec.categorical_encoding](categorical, spec) if categorical else []))
