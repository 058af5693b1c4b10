"""Seeding a whole run: Python, numpy, Keras/TensorFlow, and TensorFlow's op determinism."""

from __future__ import annotations

import keras
import tensorflow as tf


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and TensorFlow and make TF ops deterministic, so a rerun is bit-identical.

    Op determinism cannot be switched off again in the same process, which is why this is a
    separate, explicit call (recipes make it) rather than part of `train`.

    Example:
        >>> seed_everything(0)  # doctest: +SKIP
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
