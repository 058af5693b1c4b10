"""Category codes → RealMLP's encodings: `SmallOneHot` up to 8 levels, a learned 8-wide
`CategoryEmbedding` above (Holzmüller et al., "Better by Default", NeurIPS 2024, Table B.1;
pytabkit `tfms=['one_hot', ..., 'embedding']`, `max_one_hot_cat_size=9`, `embedding_size=8`).

The codes are a `StringLookup(num_oov_indices=1)`'s: 0 is out-of-vocabulary, 1..n_levels the
levels, which is pytabkit's convention too (`pytabkit/models/data/conversion.py`: the ordinal code
+ 1, unknown and missing → 0). Keep missing values out of the vocabulary so they map to 0.
Ported from pytabkit `pytabkit/models/nn_models/categorical.py`: `SingleOneHotLayer.forward_tensors`
(with `use_missing_zero=True`, `use_1d_binary_onehot=True`), `SingleOneHotFactory` (≤ 9 codes) and
`SingleEmbeddingFitter._fit` (`emb_init_mode='normal'`).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from kerasact._errors import invalid
from kerasact.layers._checks import positive_int

MAX_ONE_HOT_LEVELS = 8  # pytabkit's max_one_hot_cat_size=9 counts the missing/unknown code 0
EMBEDDING_DIM = 8  # pytabkit's embedding_size


def one_hot_table(n_levels: int) -> np.ndarray:
    """Row c is the encoding of code c (0 = missing or unseen): pytabkit's `SingleOneHotLayer` rule.

    One level: a single ±1 feature (missing −1, the level +1; pytabkit's `cat_size == 2` branch).
    Two levels: a single feature, missing 0, first level +1, second −1. Three or more: one-hot over
    the levels, missing and unseen all zeros.

    Example:
        >>> one_hot_table(2).tolist()
        [[0.0], [1.0], [-1.0]]
    """
    if n_levels == 1:
        return np.array([[-1.0], [1.0]])
    if n_levels == 2:
        return np.array([[0.0], [1.0], [-1.0]])
    return np.eye(n_levels + 1)[:, 1:]


def _check_codes(layer: str, input_shape: Any) -> None:
    shape = tuple(input_shape)
    if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] != 1):
        raise invalid(f"{layer} input_shape", shape, "(n,) or (n, 1): one column of integer codes",
                      "give each category column its own encoder")


def _codes(codes: Any, n_levels: int) -> np.ndarray:
    codes = np.asarray(codes).astype(np.int64).reshape(len(codes), -1)[:, 0]
    return np.where((codes < 0) | (codes > n_levels), 0, codes)


def small_one_hot_numpy(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """The numpy twin of `SmallOneHot.call`: codes (n,) or (n, 1) → (n, width).

    Example:
        >>> small_one_hot_numpy(np.array([[0], [3], [9]]), 3).tolist()  # 9 is out of range: unseen
        [[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    """
    return one_hot_table(n_levels)[_codes(codes, n_levels)]


def embedding_numpy(codes: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """The numpy twin of `CategoryEmbedding.call`: the rows of `embeddings` at the codes.

    Example:
        >>> embedding_numpy(np.array([[1]]), np.arange(6.0).reshape(3, 2)).tolist()
        [[2.0, 3.0]]
    """
    return np.asarray(embeddings, dtype=np.float64)[_codes(codes, embeddings.shape[0] - 1)]


@keras.saving.register_keras_serializable(package="kerasact")
class SmallOneHot(keras.layers.Layer):
    """RealMLP's one-hot of a category with few levels (`one_hot_table`); no weights.

    A code outside 0..n_levels counts as unseen (code 0). RealMLP-TD then passes these features
    through `RobustScale` with the numbers (pytabkit applies 'median_center', 'robust_scale' and
    'smooth_clip' to the one-hot block; the embeddings are concatenated after those).

    Input shape: (n,) or (n, 1) integer codes. Output shape: (n, 1) for 1 or 2 levels, else (n, n_levels).

    Args:
        n_levels: the category's levels, not counting the out-of-vocabulary code 0.
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`).

    Example:
        >>> keras.ops.convert_to_numpy(SmallOneHot(2)(np.array([[0], [1], [2]]))).tolist()
        [[0.0], [1.0], [-1.0]]
    """

    def __init__(self, n_levels: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n_levels = positive_int("n_levels", n_levels, "count the levels without the out-of-vocabulary "
                                     "code; drop a column with no level")

    def build(self, input_shape: Any) -> None:
        _check_codes("SmallOneHot", input_shape)

    def call(self, codes: Any) -> Any:
        ops = keras.ops
        codes = ops.reshape(ops.cast(codes, "int32"), (-1,))
        codes = ops.where((codes < 0) | (codes > self.n_levels), 0, codes)
        table = ops.convert_to_tensor(one_hot_table(self.n_levels), dtype=self.compute_dtype)
        return ops.take(table, codes, axis=0)

    def numpy_call(self, codes: np.ndarray) -> np.ndarray:
        """`self(codes)` in numpy (float64).

        Example:
            >>> SmallOneHot(1).numpy_call(np.array([0, 1])).tolist()
            [[-1.0], [1.0]]
        """
        return small_one_hot_numpy(codes, self.n_levels)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (tuple(input_shape)[0], 1 if self.n_levels <= 2 else self.n_levels)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n_levels": self.n_levels}


@keras.saving.register_keras_serializable(package="kerasact")
class CategoryEmbedding(keras.layers.Embedding):
    """`keras.layers.Embedding` over codes 0..n_levels with RealMLP's init, codes (n, 1) → (n, dim).

    RealMLP-TD: 8 wide, every row ~ N(0, 1) (`emb_init_mode='normal'`), learning-rate factor 1; the
    out-of-vocabulary row 0 is a learned row like the others. Codes outside 0..n_levels are read as 0.

    Input shape: (n,) or (n, 1) integer codes. Output shape: (n, output_dim).

    Example:
        >>> tuple(category_encoder(20)(np.array([[0], [20]])).shape)
        (2, 8)
    """

    def build(self, input_shape: Any = None) -> None:
        if input_shape is not None:
            _check_codes("CategoryEmbedding", input_shape)
        super().build(input_shape)

    def call(self, inputs: Any) -> Any:
        codes = keras.ops.reshape(keras.ops.cast(inputs, "int32"), (-1,))
        codes = keras.ops.where((codes < 0) | (codes >= self.input_dim), 0, codes)
        return super().call(codes)

    def numpy_call(self, codes: np.ndarray) -> np.ndarray:
        """`self(codes)` in numpy (float64), from this layer's weights.

        Example:
            >>> layer = category_encoder(10); layer.build((None, 1))
            >>> layer.numpy_call(np.array([[3]])).shape
            (1, 8)
        """
        return embedding_numpy(codes, self.embeddings.numpy())

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (tuple(input_shape)[0], self.output_dim)


def category_encoder(n_levels: int, embedding_dim: int = EMBEDDING_DIM, seed: int | None = None) -> keras.layers.Layer:
    """RealMLP's encoder for a category of `n_levels` levels: `SmallOneHot` up to `MAX_ONE_HOT_LEVELS`,
    else a `CategoryEmbedding` of `n_levels + 1` rows (code 0 included), `embedding_dim` wide, its
    N(0, 1) init seeded by `seed`.

    Example:
        >>> type(category_encoder(8)).__name__, type(category_encoder(9)).__name__
        ('SmallOneHot', 'CategoryEmbedding')
    """
    n_levels = positive_int("n_levels", n_levels, "count the levels without the out-of-vocabulary code")
    dim = positive_int("embedding_dim", embedding_dim, f"RealMLP-TD uses embedding_dim={EMBEDDING_DIM}")
    if n_levels <= MAX_ONE_HOT_LEVELS:
        return SmallOneHot(n_levels)
    normal = keras.initializers.RandomNormal(stddev=1.0, seed=seed)
    return CategoryEmbedding(n_levels + 1, dim, embeddings_initializer=normal)
