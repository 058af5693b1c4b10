"""Shared test set-up: quiet TensorFlow, seed everything, keep runs in tmp dirs."""

import os

# Must be set before TensorFlow is imported anywhere in the session.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _seed_everything():
    """Every test starts from the same global seeds, whatever ran before it."""
    import keras

    keras.utils.set_random_seed(0)
    np.random.seed(0)
    yield
