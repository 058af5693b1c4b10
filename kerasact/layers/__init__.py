"""Custom Keras layers for tables, one module each, the RealMLP-TD pieces (Holzmüller et al.,
"Better by Default: Strong Pre-Tuned MLPs and Boosted Trees on Tabular Data", NeurIPS 2024;
ported from pytabkit, each module citing the file and function it follows).

Every layer is registered for `.keras` saving (safe mode loads it), returns its `__init__`
arguments from `get_config`, keeps its statistics as weights, and has a numpy twin
(`layer.numpy_call(x)` and a module-level function on the weights) for the numpy serving path.

Example:
    >>> from kerasact.layers import RobustScale
    >>> layer = RobustScale()
"""

from kerasact.layers.clip_range import ClipRange, clip_range_numpy
from kerasact.layers.feature_scale import FeatureScale, feature_scale_numpy
from kerasact.layers.ntk_dense import DENSE_TYPES, NTKDense, he_plus_bias, ntk_dense_numpy
from kerasact.layers.parametric_activation import ParametricActivation, parametric_activation_numpy
from kerasact.layers.periodic_embedding import PeriodicEmbedding, periodic_embedding_numpy
from kerasact.layers.robust_scale import RobustScale, robust_scale_numpy, robust_statistics
from kerasact.layers.small_one_hot import (
    EMBEDDING_DIM,
    MAX_ONE_HOT_LEVELS,
    CategoryEmbedding,
    SmallOneHot,
    category_encoder,
    embedding_numpy,
    one_hot_table,
    small_one_hot_numpy,
)
from kerasact.layers.temperature import Temperature, fit_temperature, temperature_numpy

__all__ = ["CategoryEmbedding", "ClipRange", "DENSE_TYPES", "EMBEDDING_DIM", "FeatureScale", "MAX_ONE_HOT_LEVELS",
           "NTKDense", "ParametricActivation", "PeriodicEmbedding", "RobustScale", "SmallOneHot", "category_encoder",
           "clip_range_numpy", "embedding_numpy", "feature_scale_numpy", "he_plus_bias", "ntk_dense_numpy",
           "one_hot_table", "parametric_activation_numpy", "periodic_embedding_numpy", "robust_scale_numpy",
           "robust_statistics", "small_one_hot_numpy", "Temperature", "fit_temperature", "temperature_numpy"]
