"""Data for kerasact demos: bundled datasets, concept generators, stratified splits, label codes.

The face of three private modules: `_datasets` (`load_dataset`, `make_threshold`,
`make_nonlinear`), `_splits` (`split`) and `_labels` (`LabelCodec`, `class_weights`).
Numpy and scikit-learn only — no TensorFlow.

Example:
    >>> from kerasact import data
    >>> data.load_dataset("iris").X.shape
    (150, 4)
"""

from __future__ import annotations

from kerasact.data._datasets import (
    DATASETS,
    GENERATORS,
    Dataset,
    DatasetInfo,
    Problem,
    load_dataset,
    make_nonlinear,
    make_threshold,
)
from kerasact.data._labels import CLASS_WEIGHT_MODES, LabelCodec, class_weights
from kerasact.data._splits import Split, split

__all__ = [
    "CLASS_WEIGHT_MODES", "DATASETS", "GENERATORS", "Dataset", "DatasetInfo", "LabelCodec",
    "Problem", "Split", "class_weights", "load_dataset", "make_nonlinear", "make_threshold",
    "split",
]
