"""The activation catalog: every Keras 3 activation with its numpy twin, derivative, output
range and advice (`CATALOG`, `get`), and the names a Dense stack takes (`DENSE_NAMES`).

Numpy only on purpose: `kerasact.reference` builds its independent oracle on these rows, so
importing this package never pulls in TensorFlow or Keras.
"""

from kerasact.activations._catalog import (
                                           ALIASES,
                                           CATALOG,
                                           DENSE_NAMES,
                                           INF,
                                           KERAS_DEVIATIONS,
                                           SELU_ALPHA,
                                           SELU_SCALE,
                                           Activation,
                                           get,
                                           names,
)

__all__ = ["ALIASES", "CATALOG", "DENSE_NAMES", "INF", "KERAS_DEVIATIONS", "SELU_ALPHA", "SELU_SCALE",
           "Activation", "get", "names"]
